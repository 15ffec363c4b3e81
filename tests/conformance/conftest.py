"""Conformance tests: make the repository and this folder importable whatever the
pytest import mode (the corpus helpers live in corpus_support.py)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (HERE.parents[1], HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
