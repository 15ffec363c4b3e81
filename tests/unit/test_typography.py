"""French typography of the pages: a number after « n° » never goes to the next line alone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The PDF documents are laid out by their own renderer (backend/invoices/generation/pdf.py).
PAGES = [p for p in sorted((ROOT / "frontend/templates").rglob("*.html")) if "pdf" not in p.parts]


def test_n_degree_is_tied_to_its_number_by_a_non_breaking_space():
    loose = [f"{p.relative_to(ROOT)}:{i}" for p in PAGES
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
             if re.search(r"[nN]° \{\{", line)]
    assert loose == [], "write n°&nbsp;{{ … }}"
