"""Every message that prints a count agrees with it the French way (0 and 1 singular, 2 plural).

The messages come from backend/lib/count_messages.py: each is rendered with the app's real Jinja
filters (templates) or evaluated (Python) for 0, 1 and 2, and must still be in its file. Any
plural()/agree() call not listed there, and any hand-made agreement ("s" if n > 1, "facture(s)"),
fails the scan tests below."""

from __future__ import annotations

import html

import io
import re
import tokenize
from decimal import Decimal
from pathlib import Path

import pytest
from jinja2 import Environment

from backend.lib.count_messages import COUNT_MESSAGES, CountMessage
from backend.lib.formats import JINJA_FILTERS, agree, plural

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "frontend/templates").rglob("*.html"))
MODULES = sorted(p for p in (ROOT / "backend").rglob("*.py") if "piccolo_migrations" not in p.parts)
SCRIPTS = sorted(p for p in (ROOT / "frontend/static").rglob("*.js") if "node_modules" not in p.parts)
LISTS_THEM = {ROOT / "backend/lib/formats.py", ROOT / "backend/lib/count_messages.py"}


def _render(message: CountMessage, n: int) -> str:
    if message.file.endswith(".html"):
        env = Environment(autoescape=True)
        env.filters.update(JINJA_FILTERS)
        return html.unescape(env.from_string(message.source).render(**message.names(n)))  # what the person reads
    return eval(message.source, {"plural": plural, "agree": agree, "len": len}, message.names(n))  # noqa: S307 - our own list


@pytest.mark.parametrize("message", COUNT_MESSAGES, ids=lambda m: f"{m.file}:{m.source[:40]}")
def test_each_count_message_agrees_for_0_1_and_2(message):
    assert message.source in (ROOT / message.file).read_text(encoding="utf-8"), (
        "this message changed in its file: update backend/lib/count_messages.py")
    assert tuple(_render(message, n) for n in (0, 1, 2)) == message.shown


def _jinja_blocks(text: str) -> list[str]:
    return re.findall(r"\{\{.*?\}\}|\{%.*?%\}", text, re.S)


def _strings(source: str) -> list[tokenize.TokenInfo]:
    return [t for t in tokenize.generate_tokens(io.StringIO(source).readline)]


def _hand_made_in_python(path: Path) -> list[str]:
    tokens = _strings(path.read_text(encoding="utf-8"))
    found = []
    for token, following in zip(tokens, tokens[1:]):
        if token.type != tokenize.STRING:
            continue
        if token.string in ('"s"', "'s'", '"x"', "'x'") and following.string == "if":
            found.append(f"{path.name}:{token.start[0]}: {token.line.strip()}")
        elif re.search(r"""['"][sx]['"] if|\w\((s|e|es)\)""", token.string):
            found.append(f"{path.name}:{token.start[0]}: {token.line.strip()}")
    return found


def _hand_made_in_template(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    code = " ".join(_jinja_blocks(text))
    prose = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", text, flags=re.S)
    found = re.findall(r"""["'](?:s|x)["']\s+if[^}]*""", code)
    found += re.findall(r"\w+\((?:s|e|es)\)", prose)
    return [f"{path.name}: {f}" for f in found]


def _hand_made_in_script(path: Path) -> list[str]:
    """A script has no plural(): it may choose between two whole texts, never write « facture(s) »."""
    return [f"{path.name}:{i}" for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
            if re.search(r"""["'][^"'\n]*[a-zé]\((?:s|e|es)\)""", line)]


def test_no_hand_made_agreement_is_left():
    found = [f for p in TEMPLATES for f in _hand_made_in_template(p)]
    found += [f for p in SCRIPTS for f in _hand_made_in_script(p)]
    found += [f for p in MODULES if p not in LISTS_THEM for f in _hand_made_in_python(p)]
    assert found == [], "use plural()/agree() from backend/lib/formats.py and list the message in count_messages.py"


def test_every_count_message_is_listed():
    unlisted = []
    for path in TEMPLATES + [p for p in MODULES if p not in LISTS_THEM]:
        text = path.read_text(encoding="utf-8")
        for message in COUNT_MESSAGES:
            if ROOT / message.file == path:
                text = text.replace(message.source, "")
        call = r"\|\s*(?:plural|agree)\(" if path.suffix == ".html" else r"(?<![\w.])(?:plural|agree)\("
        unlisted += [f"{path.relative_to(ROOT)}: …{text[m.start():m.start() + 60]}" for m in re.finditer(call, text)]
    assert unlisted == [], "add these messages to backend/lib/count_messages.py"


# --- the helper ----------------------------------------------------------------------


@pytest.mark.parametrize(("count", "shown"), [
    (0, "0 facture"), (1, "1 facture"), (2, "2 factures"), (Decimal("1.5"), "1,5 facture"),
    (1234, "1\u202f234 factures"), (None, "0 facture"),
])
def test_plural_puts_the_count_before_the_agreeing_word(count, shown):
    assert plural(count, "facture") == shown


def test_plural_of_a_phrase_and_of_words_ending_in_s_or_x():
    assert plural(2, "facture intégrée", "factures intégrées") == "2 factures intégrées"
    assert plural(1, "facture intégrée", "factures intégrées") == "1 facture intégrée"
    assert plural(3, "mois") == "3 mois" and plural(2, "taux") == "2 taux"


def test_plural_can_place_the_number_inside_the_sentence():
    assert plural(1, "votre facture", "vos {n} factures") == "votre facture"
    assert plural(3, "votre facture", "vos {n} factures") == "vos 3 factures"


def test_agree_gives_the_words_only_and_needs_the_plural_of_a_phrase():
    assert [agree(n, "message non lu", "messages non lus") for n in (0, 1, 2)] == [
        "message non lu", "message non lu", "messages non lus"]
    with pytest.raises(ValueError):
        agree(2, "nouveau message")


def test_templates_get_the_helpers_as_filters():
    env = Environment(autoescape=True)
    env.filters.update(JINJA_FILTERS)
    assert env.from_string('{{ n | plural("facture") }} · {{ n | agree("lu") }}').render(n=2) == "2 factures · lus"
