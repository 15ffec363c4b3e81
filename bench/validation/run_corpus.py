"""Run the validation pipeline over the shared corpus and time it.

Usage: .venv/bin/python bench/validation/run_corpus.py [--out results.jsonl] [--strict-fr]

Prints CPU time per file (after warm-up) by format, and writes one JSON line per
file (path, format, profile, valid, rules fired) for offline comparison.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from backend.invoices.validation import validate_bytes, validate_rule_fragment, warm_up  # noqa: E402


def corpus_dir() -> Path:
    return Path(os.environ.get("FACTEUR_CORPUS_DIR", REPO.parent / "shared" / "corpus"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None)
    parser.add_argument("--strict-fr", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="runs per file (timing)")
    args = parser.parse_args()
    corpus = corpus_dir()
    rows = list(csv.DictReader(open(corpus / "MANIFEST.tsv", encoding="utf-8"), delimiter="\t"))
    t0 = time.process_time()
    warm_up(strict_fr=args.strict_fr)
    print(f"warm_up: {time.process_time() - t0:.2f} s CPU")
    timings: dict[str, list[float]] = {}
    out = open(args.out, "w", encoding="utf-8") if args.out else None
    for row in rows:
        data = (corpus / row["relative_path"]).read_bytes()
        name = Path(row["relative_path"]).name
        fragment = row["profile"] == "rule-fragment"
        for _ in range(args.repeat):
            start = time.process_time()
            if fragment:
                result = validate_rule_fragment(data, name, strict_fr=args.strict_fr)
            else:
                result = validate_bytes(data, name, strict_fr=args.strict_fr)
            spent = time.process_time() - start
        bucket = "rule-fragment" if fragment else result.format
        timings.setdefault(bucket, []).append(spent * 1000)
        if out:
            record = {
                "path": row["relative_path"],
                "format": result.format,
                "profile": result.profile,
                "valid": result.valid,
                "checks": result.checks,
                "findings": [[f.rule, f.severity, f.stage] for f in result.findings],
            }
            out.write(json.dumps(record) + "\n")
    print(f"{'bucket':<15}{'files':>6}{'mean ms':>9}{'median':>8}{'p95':>8}{'max':>8}")
    for bucket, values in sorted(timings.items()):
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(
            f"{bucket:<15}{len(values):>6}{statistics.mean(values):>9.1f}"
            f"{statistics.median(values):>8.1f}{p95:>8.1f}{values[-1]:>8.1f}"
        )
    total = sum(sum(v) for v in timings.values())
    print(f"total: {total / 1000:.1f} s CPU for {sum(len(v) for v in timings.values())} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
