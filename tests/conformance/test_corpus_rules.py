"""Rule test cases (MANIFEST expected_rules): must fire, must fire N times, must not
fire, fire as a warning.

Rows of kind "other" (the raw vefa test sets, one XML holding several cases) are only
checked for detection: their cases are also present one per file as rule fragments
(profile "rule-fragment"), which are fed to the business-rule stage only.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from corpus_support import corpus_result, manifest, params, require_corpus
from known_differences import RULE_TOKEN_DIFFERENCES

_TIMES = re.compile(r"^(?P<rule>.+)x(?P<count>\d+)$")


def _rule_rows() -> list[str]:
    return sorted(p for p, r in manifest().items() if r["expected_rules"] and r["kind"] != "other")


def check_token(token: str, fatal: Counter, warnings: Counter, fired: Counter) -> str | None:
    """None when the expectation holds, else a readable reason."""
    if token.startswith("!"):
        rule = token[1:]
        return None if fired[rule] == 0 else f"{rule} fired {fired[rule]} time(s) but must not"
    if token.startswith("warn:"):
        rule = token[5:]
        return None if warnings[rule] > 0 else f"{rule} did not fire as a warning"
    times = _TIMES.match(token)
    if times:
        rule, count = times.group("rule"), int(times.group("count"))
        return None if fatal[rule] == count else f"{rule} fired {fatal[rule]} time(s), expected {count}"
    return None if fatal[token] > 0 else f"{token} did not fire as fatal"


@pytest.mark.parametrize("path", params(_rule_rows()))
def test_expected_rules(path: str) -> None:
    require_corpus()
    result = corpus_result(path)
    assert result.format in ("cii-xml", "ubl-xml", "facturx-pdf"), result.findings
    fatal = Counter(f.rule for f in result.findings if f.severity == "fatal")
    warnings = Counter(f.rule for f in result.findings if f.severity == "warning")
    fired = fatal + warnings
    problems = []
    for token in manifest()[path]["expected_rules"].split(","):
        if not token or (path, token) in RULE_TOKEN_DIFFERENCES:
            continue
        problem = check_token(token, fatal, warnings, fired)
        if problem:
            problems.append(problem)
    assert not problems, f"{problems}; fired: {dict(fired)}"


@pytest.mark.parametrize(
    "path", params(sorted(p for p, r in manifest().items() if r["profile"] == "rule-fragment"))
)
def test_rule_fragments_skip_xsd(path: str) -> None:
    """Fragments fail XSD by design: only the business-rule stage runs on them."""
    require_corpus()
    result = corpus_result(path)
    assert not [f for f in result.findings if f.stage == "xsd"]
    assert any(check.startswith("sch:") for check in result.checks)
