"""Throughput of validate_bytes from worker threads (the web app calls it through
asyncio.to_thread): files per second with 1, 2 and 4 threads on the Factur-X PDFs
of the corpus.

Usage: .venv/bin/python bench/validation/threads.py
"""

from __future__ import annotations

import csv
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from backend.invoices.validation import validate_bytes, warm_up  # noqa: E402


def main() -> int:
    corpus = Path(os.environ.get("FACTEUR_CORPUS_DIR", REPO.parent / "shared" / "corpus"))
    rows = csv.DictReader(open(corpus / "MANIFEST.tsv", encoding="utf-8"), delimiter="\t")
    files = [(corpus / r["relative_path"]).read_bytes() for r in rows if r["kind"] == "facturx-pdf"]
    warm_up()
    for data in files:  # one pass so that every thread count starts warm
        validate_bytes(data)
    rounds = 4
    for workers in (1, 2, 4):
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(validate_bytes, files))  # per-thread clones created here
            start = time.perf_counter()
            cpu = time.process_time()
            for _ in range(rounds):
                list(pool.map(validate_bytes, files))
            wall = time.perf_counter() - start
            cpu = time.process_time() - cpu
        count = rounds * len(files)
        print(f"{workers} thread(s): {count / wall:6.1f} files/s, {1000 * cpu / count:5.1f} ms CPU per file")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
