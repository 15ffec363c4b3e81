"""Unread-message counts at scale (PostgreSQL): the bottom-nav badge and the list badges.

    .venv/bin/python bench/messages/bench_unread.py --database-url postgresql://postgres@127.0.0.1:5432/msg_test

The database's public schema is wiped first (its name must end in "bench" or "test"), then
migrated and seeded with SQL: one supplier with 100,000 invoices to 200 public structures,
20,000 of them with a thread of 5 messages (alternating sides, 100,000 messages), every
thread read by both sides except 300 threads where the supplier has not read its last
incoming message. Measured: `unread_count_for_structure` (supplier, and a recipient with
500 invoices) and `unread_by_invoice` for a page of 25 invoices, server-side, 200 calls each
with the connection pool the app uses.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

SEED = """
INSERT INTO structure (siret, siren, name, search_key, is_public, active)
SELECT lpad(g::text, 14, '0'), lpad(g::text, 9, '0'), 'S' || g, 's' || g, g > 1, true FROM generate_series(1, 201) g;
INSERT INTO app_user (email, password_hash, first_name, last_name) VALUES ('bench@exemple.fr', 'x', 'A', 'B');
INSERT INTO stored_file (sha256, size, media_type) VALUES (repeat('a', 64), 1, 'application/pdf');
INSERT INTO invoice (supplier, recipient, original_file, original_name, format, number, number_year, type_code, currency,
  seller_siret, buyer_siret, total_excl_vat, total_vat, total_incl_vat, amount_due, data, status, status_code, certificate_number)
SELECT 1, 2 + (g % 200), 1, 'f.pdf', 'facturx-pdf', 'N' || g, 2026, '380', 'EUR', '1', '2', 1, 0, 1, 1, '{}',
       'MISE_A_DISPOSITION', '203', 'C' || g
FROM generate_series(1, 100000) g;
INSERT INTO message (invoice, author, author_structure, side, audience, body, created_at)
SELECT i, 1, CASE WHEN k % 2 = 0 THEN 1 ELSE 2 + (i % 200) END, CASE WHEN k % 2 = 0 THEN 'supplier' ELSE 'recipient' END,
       CASE WHEN k % 2 = 0 THEN 2 + (i % 200) ELSE 1 END, 'message ' || k, now()
FROM generate_series(1, 100000, 5) i, generate_series(0, 4) k ORDER BY i, k;
INSERT INTO message_read (invoice, structure, last_read_message, latest_incoming, read_at)
SELECT invoice, audience, max(id), max(id), now() FROM message GROUP BY invoice, audience;
UPDATE message_read SET last_read_message = last_read_message - 2
WHERE structure = 1 AND invoice IN (SELECT DISTINCT invoice FROM message ORDER BY invoice LIMIT 300);
ANALYZE;
"""


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def _timed(label: str, call, runs: int = 200) -> None:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - start) * 1000)
    shown = len(result) if isinstance(result, dict) else result
    print(f"| {label} | {shown} | {statistics.median(times):.2f} | {_percentile(times, 95):.2f} |")


async def main(url: str) -> None:
    if not url.rstrip("/").rsplit("/", 1)[-1].endswith(("bench", "test")):
        raise SystemExit("the database name must end in 'bench' or 'test': its schema is wiped")
    os.environ["FACTEUR_DATABASE_URL"] = url
    os.environ.setdefault("FACTEUR_DATA_DIR", tempfile.mkdtemp(prefix="facteur-bench-"))
    from backend.lib import db
    from backend.messages.service import unread_by_invoice, unread_count_for_structure

    await db.engine().run_ddl("DROP SCHEMA public CASCADE")
    await db.engine().run_ddl("CREATE SCHEMA public")
    await db.run_migrations()
    start = time.perf_counter()
    for statement in (s.strip() for s in SEED.split(";")):
        if statement:
            await db.engine().run_ddl(statement)
    print(f"seeded in {time.perf_counter() - start:.1f} s on {platform.node()} ({os.cpu_count()} CPU, {platform.processor() or platform.machine()})")
    await db.start_pool()
    print("| call | result | p50 ms | p95 ms |\n|---|---|---|---|")
    await _timed("unread_count_for_structure(supplier: 100,000 invoices, 20,000 threads)", lambda: unread_count_for_structure(1))
    await _timed("unread_count_for_structure(recipient: 500 invoices)", lambda: unread_count_for_structure(5))
    page = list(range(1, 126, 5))
    await _timed("unread_by_invoice(supplier, 25 invoices of a list page)", lambda: unread_by_invoice(1, page))
    await db.close_pool()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    asyncio.run(main(parser.parse_args().database_url))
