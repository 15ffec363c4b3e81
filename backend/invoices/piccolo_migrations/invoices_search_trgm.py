"""Trigram indexes for the workspaces' search (`number ILIKE '%…%'`, supplier name), PostgreSQL only.

A search for a part of a number cannot use a b-tree: without these, it reads all of a
supplier's invoices (~200 ms for 100,000, bench/dashboard/RESULTS.md); with them, ~20 ms.
pg_trgm ships with PostgreSQL but creating an extension needs the right to: when the
role may not (and it is not installed), the indexes are skipped and search stays correct,
only slower. SQLite: nothing to do (its LIKE scans the structure's rows).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from backend.lib.db import engine

ID = "2026-11-24T08:53:26:137587"
VERSION = "1.38.0"
DESCRIPTION = "trigram indexes for invoice search (PostgreSQL)"

INDEXES = {
    "invoice_number_trgm": "CREATE INDEX IF NOT EXISTS invoice_number_trgm ON invoice USING gin (number gin_trgm_ops)",
    "invoice_seller_name_trgm": "CREATE INDEX IF NOT EXISTS invoice_seller_name_trgm ON invoice USING gin (seller_name gin_trgm_ops)",
}


async def _trigrams_available() -> bool:
    rows = await Table.raw(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') AS installed, "
        "EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') AS available, "
        "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser")
    row = rows[0]
    if row["installed"]:
        return True
    if row["available"] and row["superuser"]:
        await Table.raw("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        return True
    return False


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="invoices", description=DESCRIPTION)

    async def create():
        if isinstance(engine(), PostgresEngine) and await _trigrams_available():
            for sql in INDEXES.values():
                await Table.raw(sql)

    async def drop():
        if isinstance(engine(), PostgresEngine):
            for name in INDEXES:
                await Table.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
