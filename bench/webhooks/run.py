"""Webhook benchmark: status-change events written to the outbox, delivered by the worker
(in this process, real time, no time travel) to a receiver on 127.0.0.1 that checks every
signature, until all are received.

    .venv/bin/python bench/webhooks/run.py [--invoices 50] [--changes 4] [--webhooks 2] [--database-url URL]

Each invoice gets `--changes` status changes written at once (a burst: the worst case for
per-invoice ordering, since each change must wait for the previous one to be delivered);
each change goes to `--webhooks` webhooks of the invoice's parties. Reports deliveries per
second and the latency from the event's commit to its reception (p50 / p95 / max), and
checks that every receiver saw each invoice's changes once and in order.

SQLite in a temporary folder by default; a PostgreSQL URL must name a database ending in
"test" or "bench" (it is emptied). Prints a Markdown block for RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

STATUSES = [("PRISE_EN_CHARGE", "204"), ("SERVICE_FAIT", "205"), ("MANDATEE", "205"), ("MISE_EN_PAIEMENT", "211")]


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=50)
    parser.add_argument("--changes", type=int, default=4)
    parser.add_argument("--webhooks", type=int, default=2)
    parser.add_argument("--database-url", default="")
    return parser.parse_args()


async def main() -> None:
    args = parse()
    os.environ["FACTEUR_DATA_DIR"] = tempfile.mkdtemp(prefix="facteur-whbench-")
    os.environ.setdefault("FACTEUR_SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
    os.environ["FACTEUR_WEBHOOK_ALLOW_LOCAL"] = "1"  # the bench's receiver is on 127.0.0.1
    if args.database_url:
        name = args.database_url.rstrip("/").rsplit("/", 1)[-1]
        if not name.endswith(("test", "bench")):
            raise SystemExit("la base PostgreSQL doit finir par « test » ou « bench » : elle est vidée")
        os.environ["FACTEUR_DATABASE_URL"] = args.database_url

    from backend.lib import db
    from backend.lib.common import fold, utcnow
    from backend.directory.tables import Structure
    from backend.processing import worker
    from backend.processing.tables import Outbox
    from backend.settings import get_settings
    from backend.webhooks import delivery  # noqa: F401  (registers the channels)
    from backend.webhooks.service import create_webhook
    from tests.support.webhook_receiver import Receiver

    settings = get_settings()
    if settings.is_postgres:
        await db.engine().run_ddl("DROP SCHEMA public CASCADE")
        await db.engine().run_ddl("CREATE SCHEMA public")
        await db.start_pool()
    await db.run_migrations()

    supplier = Structure(siret="73282932000074", siren="732829320", name="Fournisseur", search_key=fold("Fournisseur"))
    recipient = Structure(siret="21750001600019", siren="217500016", name="Mairie", search_key=fold("Mairie"), is_public=True)
    await supplier.save()
    await recipient.save()
    receiver = Receiver().start()
    for n in range(args.webhooks):
        owner = (supplier, recipient)[n % 2]
        new = await create_webhook(owner.id, receiver.url(f"/h{n}"), ["invoice.status_changed"],
                                   app_secret=settings.secret_key, allow_local=True)
        receiver.secrets[f"/h{n}"] = new.secret

    loop_task = asyncio.get_running_loop().create_task(worker.run_forever(poll_interval=1.0))
    sent_at: dict[tuple[int, int], float] = {}
    start = time.monotonic()
    rows = []
    now = utcnow()
    for invoice in range(1, args.invoices + 1):
        for step in range(args.changes):
            status, code = STATUSES[step % len(STATUSES)]
            payload = {"event": "invoice.status_changed", "invoice_id": invoice, "number": f"F-{invoice}", "status": status,
                       "status_code": code, "supplier_id": supplier.id, "recipient_id": recipient.id, "version": step + 2,
                       "occurred_at": now.isoformat()}
            rows.append(Outbox(event_type="invoice.status_changed", channel="webhook", invoice=invoice,
                               payload=json.dumps(payload), created_at=now, next_attempt_at=now))
            sent_at[(invoice, step + 2)] = start
    await Outbox.insert(*rows)
    worker.wake()

    expected = args.invoices * args.changes * args.webhooks
    last, progress_at = 0, time.monotonic()
    while len(receiver.seen()) < expected:
        await asyncio.sleep(0.05)
        if len(receiver.seen()) != last:
            last, progress_at = len(receiver.seen()), time.monotonic()
        elif time.monotonic() - progress_at > 90:  # stalled: show where every task waits
            for task in asyncio.all_tasks():
                task.print_stack(limit=6)
            break
    elapsed = time.monotonic() - start
    loop_task.cancel()
    receiver.stop()

    seen = receiver.seen()
    latencies = sorted(r.received_at - sent_at[(r.body["invoice"]["id"], r.body["data"]["version"])] for r in seen)
    in_order = all(
        [r.body["data"]["version"] for r in seen if r.headers[":path"] == f"/h{n}" and r.body["invoice"]["id"] == i]
        == list(range(2, args.changes + 2))
        for n in range(args.webhooks) for i in range(1, args.invoices + 1)
    )
    engine = "PostgreSQL" if settings.is_postgres else "SQLite"
    print(f"### {engine}: {args.invoices} factures × {args.changes} changements × {args.webhooks} webhooks\n")
    print(f"- machine : {platform.machine()}, {os.cpu_count()} cœurs, Python {platform.python_version()}")
    print(f"- reçues : {len(seen)} / {expected}, doublons {receiver.duplicates}, refus de signature {len(receiver.refused)}, "
          f"ordre par facture respecté : {'oui' if in_order else 'NON'}")
    print(f"- durée : {elapsed:.2f} s, soit {len(seen) / elapsed:.0f} livraisons/s")
    if latencies:
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(f"- latence écriture → réception : p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s, max {latencies[-1]:.2f} s")
    if settings.is_postgres:
        await db.close_pool()


if __name__ == "__main__":
    asyncio.run(main())
