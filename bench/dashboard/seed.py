"""Seed the dashboard benchmark database: 1,000,000 invoices, 100,000 of them for one supplier.

    createdb -h 127.0.0.1 -U postgres dashbench
    .venv/bin/python bench/dashboard/seed.py --database-url postgresql://postgres@127.0.0.1:5432/dashbench

The schema is the application's (its migrations are applied first, so the indexes are the
real ones); rows go in with COPY through asyncpg, not the ORM. Deterministic (seeded
random). The measured supplier is the structure with SIRET `MEASURED_SIRET`; its invoices
are spread over 300 recipients (10 % of all public structures never report payment),
every status (mostly paid, as in real life) and three years of issue dates. The other
900,000 invoices belong to 999 other suppliers and share the same recipients.
Only the history rows the workspaces read are written (rejections and their
acknowledgements), not the full history of every invoice.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

TOTAL = 1_000_000
MEASURED = 100_000
SUPPLIERS = 1_000
RECIPIENTS = 2_000
MEASURED_RECIPIENTS = 300
MEASURED_SIRET = "90000000000001"
STATUS_WEIGHTS = {
    "MISE_EN_PAIEMENT": 45, "MANDATEE": 10, "SERVICE_FAIT": 8, "PRISE_EN_CHARGE": 8, "MISE_A_DISPOSITION": 12,
    "SUSPENDUE": 4, "COMPLETEE": 2, "A_RECYCLER": 1, "REJETEE": 9, "DEPOSEE": 1,
}
START = date(2024, 1, 1)
DAYS = 3 * 365


def _siret(n: int, prefix: str) -> str:
    return f"{prefix}{n:0{14 - len(prefix)}d}"


async def seed(database_url: str, total: int, measured: int) -> None:
    os.environ["FACTEUR_DATABASE_URL"] = database_url
    os.environ.setdefault("FACTEUR_DATA_DIR", "/tmp/dashbench-data")
    import asyncpg

    from backend.lib import db
    from backend.invoices.statuses import STATUSES

    dsn = database_url
    conn = await asyncpg.connect(dsn)
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await db.run_migrations()
    rng = random.Random(42)
    now = datetime.now(timezone.utc)
    t0 = time.perf_counter()

    structures = []  # (id, siret, siren, name, search_key, is_public, reports_payment)
    for n in range(1, RECIPIENTS + 1):
        siret = _siret(n, "2")
        name = f"Commune n° {n}"
        structures.append((n, siret, siret[:9], name, name.lower(), True, n % 10 != 0))
    for n in range(1, SUPPLIERS + 1):
        siret = MEASURED_SIRET if n == 1 else _siret(n, "5")
        name = "Entreprise mesurée" if n == 1 else f"Entreprise {n}"
        structures.append((RECIPIENTS + n, siret, siret[:9], name, name.lower(), False, True))
    await conn.copy_records_to_table(
        "structure", records=[(*s, True, now, now, "", "", "", "", "", "FR", "", "", "", "", False, False, False) for s in structures],
        columns=["id", "siret", "siren", "name", "search_key", "is_public", "reports_payment", "active", "created_at",
                 "updated_at", "address_line1", "address_line2", "address_line3", "postal_code", "city", "country",
                 "vat_number", "iban", "bic", "contact_email", "requires_service", "requires_engagement",
                 "requires_service_or_engagement"])
    await conn.execute("SELECT setval('structure_id_seq', (SELECT max(id) FROM structure))")
    await conn.execute("INSERT INTO stored_file (sha256, size, media_type, created_at) VALUES ($1, 1, 'application/pdf', now())", "0" * 64)

    measured_id = RECIPIENTS + 1
    measured_recipients = rng.sample(range(1, RECIPIENTS + 1), MEASURED_RECIPIENTS)
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    names = {s[0]: s[3] for s in structures}
    sirets = {s[0]: s[1] for s in structures}
    columns = ["id", "supplier", "recipient", "original_file", "original_name", "format", "profile", "number", "number_year",
               "type_code", "issue_date", "currency", "service_code", "engagement", "billing_framework", "seller_siret",
               "buyer_siret", "seller_name", "buyer_name", "total_excl_vat", "total_vat", "total_incl_vat", "amount_due",
               "data", "status", "status_code", "version", "certificate_number", "deposited_at", "updated_at"]
    rejected: list[int] = []
    batch: list[tuple] = []
    counters: dict[int, int] = {}
    for invoice_id in range(1, total + 1):
        if invoice_id <= measured:
            supplier = measured_id
            recipient = measured_recipients[rng.randrange(MEASURED_RECIPIENTS)]
        else:
            supplier = RECIPIENTS + 2 + rng.randrange(SUPPLIERS - 1)
            recipient = 1 + rng.randrange(RECIPIENTS)
        status = rng.choices(statuses, weights)[0]
        issued = START + timedelta(days=rng.randrange(DAYS))
        seq = counters[supplier] = counters.get(supplier, 0) + 1
        ht = Decimal(rng.randrange(1_000, 5_000_000)) / 100
        vat = (ht * Decimal("0.2")).quantize(Decimal("0.01"))
        deposited = datetime(issued.year, issued.month, issued.day, 12, tzinfo=timezone.utc)
        if status == "REJETEE" and supplier == measured_id:
            rejected.append(invoice_id)
        batch.append((invoice_id, supplier, recipient, 1, f"F-{seq}.pdf", "facturx-pdf", "EN16931", f"F{issued.year}-{seq:07d}",
                      issued.year, "380", issued, "EUR", "", "", "A1", sirets[supplier], sirets[recipient], names[supplier],
                      names[recipient], ht, vat, ht + vat, ht + vat, "{}", status, STATUSES[status].code_2026, 1,
                      f"AD-{invoice_id:010d}", deposited, deposited))
        if len(batch) == 50_000:
            await conn.copy_records_to_table("invoice", records=batch, columns=columns)
            batch.clear()
            print(f"{invoice_id:>9} invoices, {time.perf_counter() - t0:.0f} s", flush=True)
    if batch:
        await conn.copy_records_to_table("invoice", records=batch, columns=columns)
    await conn.execute("SELECT setval('invoice_id_seq', (SELECT max(id) FROM invoice))")
    history = []
    for invoice_id in rejected:
        history.append((invoice_id, "REJETEE", "210", "recipient", "DOUBLON", "", "{}", now))
        if invoice_id % 2:  # half of the rejections are acknowledged already
            history.append((invoice_id, "REJETEE", "210", "supplier", "", "", '{"acknowledged": true}', now))
    await conn.copy_records_to_table("invoice_history", records=history, columns=[
        "invoice", "status", "status_code", "actor_kind", "reason_code", "comment", "details", "created_at"])
    await conn.execute("VACUUM ANALYZE")
    print(f"seeded {total} invoices ({measured} for the measured supplier id {measured_id}), "
          f"{len(history)} history rows in {time.perf_counter() - t0:.0f} s")
    await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/dashbench")
    parser.add_argument("--total", type=int, default=TOTAL)
    parser.add_argument("--measured", type=int, default=MEASURED)
    args = parser.parse_args()
    if not args.database_url.rstrip("/").endswith("bench"):
        raise SystemExit("Refus : la base de mesure doit avoir un nom qui finit par « bench » (son schéma est effacé).")
    asyncio.run(seed(args.database_url, args.total, args.measured))


if __name__ == "__main__":
    main()
