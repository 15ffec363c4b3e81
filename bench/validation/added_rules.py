"""Cost of the rule sets added by issue 14 (French rules and profiles), per file.

For every CII, UBL and Factur-X file of the corpus, the CPU time of each rule set the
pipeline now runs besides today's (the CEN EN 16931 CII stylesheet, BR-FR "Flux 2" for
CII or UBL), measured on its own after warm-up, and the whole pipeline's time.

Usage: .venv/bin/python bench/validation/added_rules.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from backend.invoices.validation import validate_bytes, warm_up  # noqa: E402
from backend.invoices.validation.detect import detect  # noqa: E402
from backend.invoices.validation.schematron import check  # noqa: E402

ADDED = ("cen-cii", "br-fr-cii", "br-fr-ubl")


def corpus_dir() -> Path:
    return Path(os.environ.get("FACTEUR_CORPUS_DIR", REPO.parent / "shared" / "corpus"))


def cpu_ms(action, repeat: int) -> float:
    """CPU milliseconds of the last of `repeat` runs (the earlier ones warm caches)."""
    for _ in range(repeat):
        start = time.process_time()
        action()
        spent = time.process_time() - start
    return spent * 1000


def line(label: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"{label:<24}{len(values):>6}{statistics.mean(values):>9.1f}{statistics.median(values):>8.1f}{p95:>8.1f}{values[-1]:>8.1f}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    corpus = corpus_dir()
    rows = list(csv.DictReader(open(corpus / "MANIFEST.tsv", encoding="utf-8"), delimiter="\t"))
    warm_up()
    per_set: dict[tuple[str, str], list[float]] = {}
    whole: dict[str, list[float]] = {}
    for row in rows:
        if row["profile"] == "rule-fragment":
            continue
        data = (corpus / row["relative_path"]).read_bytes()
        result = validate_bytes(data, Path(row["relative_path"]).name)
        if result.format == "unsupported":
            continue
        whole.setdefault(result.format, []).append(cpu_ms(lambda: validate_bytes(data, "f"), args.repeat))
        root = detect(data).root
        for key in (c.removeprefix("sch:") for c in result.checks):
            if key in ADDED:
                per_set.setdefault((result.format, key), []).append(cpu_ms(lambda: check(root, key), args.repeat))
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'format / added rule set':<24}{'files':>6}{'mean ms':>9}{'median':>8}{'p95':>8}{'max':>8}")
    for (fmt, key), values in sorted(per_set.items()):
        print(line(f"{fmt} {key}", values))
    print(f"{'whole pipeline':<24}")
    for fmt, values in sorted(whole.items()):
        print(line(fmt, values))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
