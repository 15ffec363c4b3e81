"""Conformance figures over the shared corpus, the same checks as tests/conformance
but tallied: detection per kind, profiles, verdict agreement with VERIFY.tsv, rule
cases, ground-truth fields.

Usage: .venv/bin/python bench/validation/conformance_summary.py
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "conformance")]

from corpus_support import (
    corpus_available,
    corpus_dir,
    corpus_result,
    ground_truth,
    manifest,
    verify,
)  # noqa: E402
from known_differences import DETECTION_DIFFERENCES, RULE_TOKEN_DIFFERENCES, VERDICT_DIFFERENCES  # noqa: E402
from test_corpus_extraction import extracted_like_ground_truth, normalised_truth  # noqa: E402
from test_corpus_rules import check_token  # noqa: E402
from test_corpus_verdicts import expected_verdict  # noqa: E402


def detection() -> None:
    tally: Counter = Counter()
    for path, row in manifest().items():
        want = "unsupported" if row["kind"] == "other" else row["kind"]
        got = corpus_result(path).format
        tally[
            (
                row["kind"],
                "ok" if got == want else ("documented" if path in DETECTION_DIFFERENCES else "WRONG"),
            )
        ] += 1
    print("Detection (MANIFEST kind):")
    for kind in sorted({k for k, _ in tally}):
        parts = ", ".join(
            f"{status} {tally[(kind, status)]}"
            for status in ("ok", "documented", "WRONG")
            if tally[(kind, status)]
        )
        print(f"  {kind:<12} {sum(v for (k, _), v in tally.items() if k == kind):>5} files: {parts}")


def profiles() -> None:
    tally: Counter = Counter()
    for path, row in manifest().items():
        if row["profile"] in ("MINIMUM", "BASICWL", "BASIC", "EN16931", "EXTENDED"):
            tally[(corpus_result(path).profile or "").upper() == row["profile"]] += 1
    print(f"Profile vs MANIFEST: {tally[True]} agree, {tally[False]} differ")


def verdicts() -> None:
    tally: Counter = Counter()
    for path, row in verify().items():
        if manifest()[path]["profile"] == "rule-fragment" or row["observed"] == "case-ok":
            continue
        agree = corpus_result(path).valid is expected_verdict(row)
        tally["agree" if agree else ("documented" if path in VERDICT_DIFFERENCES else "WRONG")] += 1
    print(f"Verdict vs VERIFY.tsv: {dict(tally)}")


def rules() -> None:
    tally: Counter = Counter()
    for path, row in manifest().items():
        if not row["expected_rules"] or row["kind"] == "other":
            continue
        result = corpus_result(path)
        fatal = Counter(f.rule for f in result.findings if f.severity == "fatal")
        warnings = Counter(f.rule for f in result.findings if f.severity == "warning")
        for token in row["expected_rules"].split(","):
            if (path, token) in RULE_TOKEN_DIFFERENCES:
                tally["documented"] += 1
            elif token:
                kind = (
                    "must-not" if token.startswith("!") else "warn" if token.startswith("warn:") else "must"
                )
                ok = check_token(token, fatal, warnings, fatal + warnings) is None
                tally[(kind, ok)] += 1
    print(f"Rule expectations: {dict(tally)}")


def extraction() -> None:
    fields: Counter = Counter()
    records = 0
    for record in ground_truth():
        records += 1
        mine = extracted_like_ground_truth(record["relative_path"], record)
        truth = normalised_truth(record)
        for key, value in truth.items():
            fields[value == mine.get(key)] += 1
    print(f"Ground truth: {records} records, {fields[True]} fields agree, {fields[False]} differ")


def main() -> int:
    if not corpus_available():
        print(f"corpus not found in {corpus_dir()}")
        return 1
    detection()
    profiles()
    verdicts()
    rules()
    extraction()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
