"""Shared corpus access for the conformance tests (imported by the test modules).

The corpus lives outside the repository, in ``<repo>/../shared/corpus`` (override
with FACTEUR_CORPUS_DIR). A fresh clone may not have it: the tests then skip with a
clear message, except under CI=true where a missing corpus is a failure.

Each corpus file is validated once per session (``corpus_result``) and the result is
shared by all the checks made on it.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from backend.invoices.validation import ValidationResult, validate_bytes, validate_rule_fragment  # noqa: E402

MISSING = "corpus-absent"


def corpus_dir() -> Path:
    return Path(os.environ.get("FACTEUR_CORPUS_DIR") or REPO.parent / "shared" / "corpus")


def corpus_available() -> bool:
    return (corpus_dir() / "MANIFEST.tsv").is_file()


def require_corpus() -> Path:
    """Skip (or fail under CI) when the shared corpus is not there."""
    if corpus_available():
        return corpus_dir()
    message = (
        f"Corpus de conformité introuvable dans {corpus_dir()} "
        "(définir FACTEUR_CORPUS_DIR ou placer shared/corpus à côté du dépôt)."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " Sous CI=true, son absence est une erreur.")
    pytest.skip(message)


@functools.cache
def _tsv(name: str) -> dict[str, dict[str, str]]:
    if not corpus_available():
        return {}
    with open(corpus_dir() / name, encoding="utf-8") as handle:
        return {row["relative_path"]: row for row in csv.DictReader(handle, delimiter="\t")}


def manifest() -> dict[str, dict[str, str]]:
    return _tsv("MANIFEST.tsv")


def verify() -> dict[str, dict[str, str]]:
    return _tsv("VERIFY.tsv")


@functools.cache
def ground_truth() -> list[dict]:
    if not corpus_available():
        return []
    with open(corpus_dir() / "GROUND_TRUTH.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def params(paths: list[str]) -> list[str]:
    """Parametrize over corpus paths; one placeholder when the corpus is absent so
    that the skip/fail message is reported instead of an empty parameter set."""
    return paths if corpus_available() else [MISSING]


@functools.cache
def corpus_result(relative_path: str) -> ValidationResult:
    row = manifest()[relative_path]
    data = (corpus_dir() / relative_path).read_bytes()
    name = Path(relative_path).name
    if row["profile"] == "rule-fragment":
        return validate_rule_fragment(data, name)
    return validate_bytes(data, name)
