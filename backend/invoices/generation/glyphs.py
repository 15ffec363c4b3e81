"""Which characters the invoice PDF can print: the glyphs of the fonts it embeds.

The PDF embeds DejaVu Sans (pdf.py). A character none of its faces draws would print as
an empty box (tofu), or in whatever other font one machine happens to have. So the names
and addresses that print on every invoice (a structure's profile, the sign-up's company
name) are refused at entry when they hold such a character, with the characters named:
the same answer on every machine, and never a box on an invoice.

Reads only the fonts' character maps (fontTools, which WeasyPrint depends on): no renderer
is loaded; the coverage is read once per process.
"""

from __future__ import annotations

import os
import unicodedata
from functools import lru_cache
from pathlib import Path

# Debian package fonts-dejavu-core; FACTEUR_PDF_FONT_DIR may point elsewhere.
FONT_DIR = Path(os.environ.get("FACTEUR_PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT_FILES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSansCondensed.ttf",
    "DejaVuSansCondensed-Bold.ttf",
)
# The faces a structure's name and address print in (invoice.css: the seller's name in
# bold, the address and the page footer in the regular face).
PARTY_FACES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")


@lru_cache(maxsize=1)
def printable_code_points() -> frozenset[int]:
    """The code points every face of PARTY_FACES draws (empty if the fonts are missing)."""
    from fontTools.ttLib import TTFont

    covered: frozenset[int] | None = None
    for name in PARTY_FACES:
        path = FONT_DIR / name
        if not path.is_file():
            return frozenset()
        with TTFont(path, lazy=True) as font:
            cmap = frozenset(font.getBestCmap())
        covered = cmap if covered is None else covered & cmap
    return covered or frozenset()


def unprintable(text: str) -> list[str]:
    """The characters of `text` the PDF cannot print, each once, in order of appearance.
    Nothing is refused when the fonts are not installed (pdf.py then refuses to render)."""
    covered = printable_code_points()
    if not covered:
        return []
    found: list[str] = []
    for char in text:  # as stored, as the PDF receives it
        if ord(char) not in covered and char not in found:
            found.append(char)
    return found


def _shown(char: str) -> str:
    """A refused character as a person can read it: itself, or its code when invisible."""
    if unicodedata.category(char)[0] in "CZM" or char.isspace():
        return f"U+{ord(char):04X}"
    return char


def unprintable_error(label: str, text: str) -> str | None:
    """The French message for a field holding characters the PDF cannot print, or None."""
    refused = unprintable(text)
    if not refused:
        return None
    shown = " ".join(_shown(c) for c in refused[:5]) + (" …" if len(refused) > 5 else "")
    plural = len(refused) > 1
    return (f"{label} contient {'des caractères' if plural else 'un caractère'} que la facture PDF ne peut pas "
            f"imprimer : {shown}. Retirez-{'les' if plural else 'le'} (lettres, accents, chiffres et signes usuels "
            "sont acceptés ; pas d'émoji ni de symbole décoratif).")
