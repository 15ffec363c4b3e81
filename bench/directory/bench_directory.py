"""Directory benchmark: import 150,000 structures, re-import, partial update, then search latency.

    # SQLite (a fresh file in a temporary data folder)
    .venv/bin/python bench/directory/bench_directory.py
    # PostgreSQL: a database whose name ends in "bench"; its public schema is wiped first
    .venv/bin/python bench/directory/bench_directory.py --database-url postgresql://postgres@127.0.0.1:5432/facteur_bench

Search latency is measured server-side: the time of `search_structures()` (query building,
database round trip, ranking), with the engine set up as the app does (connection pool on
PostgreSQL, one connection per query with Piccolo on SQLite). Queries imitate the
autocomplete: every prefix of a name as typed, city names, two-word queries, mid-word
fragments, SIRET prefixes, accents and case changed, no-match strings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _queries(info: dict, rng: random.Random, count: int) -> list[tuple[str, str]]:
    from backend.lib.common import fold

    names, sirets, cities = info["names"], info["sirets"], info["cities"]
    queries: list[tuple[str, str]] = []
    per = max(1, count // 8)
    # Typing a name: every prefix from 1 to 14 characters (debounced autocomplete requests).
    while len([q for q in queries if q[0] == "typing"]) < per * 3:
        name = rng.choice(names)
        if rng.random() < 0.5:
            name = name.lower()
        for n in range(1, min(len(name), 14) + 1):
            queries.append(("typing", name[:n]))
    for _ in range(per):
        city = rng.choice(cities)
        queries.append(("city", city if rng.random() < 0.5 else fold(city)))
    for _ in range(per):
        name_words = fold(rng.choice(names)).split()
        first = rng.choice([w for w in name_words if len(w) > 2] or name_words)
        queries.append(("two words", f"{first} {rng.choice(cities).split('-')[0]}"))
        queries.append(("two words", " ".join(rng.sample(name_words, min(2, len(name_words))))))
    for _ in range(per):
        word = max(fold(rng.choice(names)).split(), key=len)
        start = rng.randint(0, max(0, len(word) - 4))
        queries.append(("fragment", word[start:start + rng.randint(3, 6)]))
    for _ in range(per):
        siret = rng.choice(sirets)
        queries.append(("siret", siret[: rng.randint(3, 14)]))
    for _ in range(per // 2):
        queries.append(("no match", "".join(rng.choice("qwxzkjy") for _ in range(rng.randint(3, 8)))))
    queries += [("common", w) for w in ("commune", "ecole", "saint", "de", "c", "college jean", "ccas", "syndicat intercommunal", "lycee", "sur mer")]
    rng.shuffle(queries)
    return queries


async def _run(args: argparse.Namespace) -> None:
    from backend.lib import db
    from backend.directory.importer import import_directory
    from backend.directory.search import search_structures
    from backend.settings import get_settings
    from generate import generate

    settings = get_settings()
    if settings.is_postgres:
        name = settings.database_url.rstrip("/").rsplit("/", 1)[-1]
        if not name.endswith("bench"):
            raise SystemExit("Le banc n'efface qu'une base PostgreSQL dont le nom finit par « bench ».")
        await db.engine().run_ddl("DROP SCHEMA public CASCADE")
        await db.engine().run_ddl("CREATE SCHEMA public")
    await db.run_migrations()

    work = Path(tempfile.mkdtemp(prefix="csv-", dir=settings.data_dir))  # removed with the data folder
    structures, services = work / "structures.csv", work / "services.csv"
    started = time.perf_counter()
    info = generate(args.rows, structures, services)
    print(f"generated {args.rows} structures, {info['services']} services in {time.perf_counter() - started:.1f}s "
          f"({structures.stat().st_size / 1e6:.1f} MB + {services.stat().st_size / 1e6:.1f} MB, cp1252)")

    async def timed_import(label: str, a: Path, b: Path) -> None:
        started = time.perf_counter()
        report = await import_directory(a, b)
        elapsed = time.perf_counter() - started
        assert report.imported, (report.refused, report.bad[:5])
        phases = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())
        print(f"import {label}: {elapsed:.1f}s ({phases}); structures {report.structures}; services {report.services}")

    await timed_import("first (empty database)", structures, services)
    await timed_import("again (identical file)", structures, services)
    # 1% of the lines changed (flags, names), 1% new structures appended.
    changed = work / "structures_changed.csv"
    rng = random.Random(7)
    lines = structures.read_text(encoding="cp1252").splitlines()
    for i in rng.sample(range(1, len(lines)), len(lines) // 100):
        fields = lines[i].split(";")
        fields[2] = fields[2] + " (modifié)"
        fields[7] = "false" if fields[7] in ("true", "1") else "true"
        lines[i] = ";".join(fields)
    extra = work / "extra.csv"
    generate(len(lines) // 100, extra, work / "extra_services.csv", seed=99)
    from generate import siret_of

    for n, line in enumerate(extra.read_text(encoding="cp1252").splitlines()[1:]):
        fields = line.split(";")
        if fields[0] == "SIRET":
            fields[1] = siret_of(90_000_000 + n)
            lines.append(";".join(fields))
    changed.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")
    await timed_import("1% changed + 1% new", changed, services)
    # Every structure changed (one flag toggled on every line): the update path at full size.
    toggled = work / "structures_toggled.csv"
    out = [lines[0]]
    for line in lines[1:]:
        fields = line.split(";")
        fields[8] = "false" if fields[8] in ("true", "1") else "true"
        out.append(";".join(fields))
    toggled.write_text("\r\n".join(out) + "\r\n", encoding="cp1252")
    await timed_import("every structure changed", toggled, services)

    await db.start_pool()
    try:
        queries = _queries(info, random.Random(2026), args.queries)
        for _, q in queries[:50]:  # warm-up
            await search_structures(q)
        timings: dict[str, list[float]] = {}
        measured: list[tuple[float, str, str]] = []
        empty = 0
        for kind, q in queries:
            started = time.perf_counter()
            results = await search_structures(q)
            elapsed = (time.perf_counter() - started) * 1000
            timings.setdefault(kind, []).append(elapsed)
            measured.append((elapsed, kind, q))
            empty += not results
        every = [t for values in timings.values() for t in values]
        print(f"search: {len(every)} queries ({empty} without result)")
        print(f"  {'kind':<12} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for kind, values in sorted(timings.items()) + [("ALL", every)]:
            print(f"  {kind:<12} {len(values):>6} {statistics.median(values):>8.1f} {_percentile(values, 95):>8.1f} "
                  f"{_percentile(values, 99):>8.1f} {max(values):>8.1f}")
        print("  slowest: " + "; ".join(f"{q!r} ({kind}) {t:.1f} ms" for t, kind, q in sorted(measured, reverse=True)[:8]))
    finally:
        await db.close_pool()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--queries", type=int, default=2400)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (database name ending in 'bench'); SQLite when absent")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="facteur-bench-data-")
    os.environ["FACTEUR_DATA_DIR"] = data_dir
    os.environ.setdefault("FACTEUR_SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
    if args.database_url:
        os.environ["FACTEUR_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("FACTEUR_DATABASE_URL", None)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}")
    try:
        asyncio.run(_run(args))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
