"""The deadline table's indexes (raw SQL, the same on SQLite and PostgreSQL)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-06T22:13:45:317753"  # right after the table
VERSION = "1.38.0"
DESCRIPTION = "deadline indexes"

INDEXES = {
    # One row per kind and invoice: scheduling twice updates the row, never adds one.
    "deadline_kind_invoice": "CREATE UNIQUE INDEX deadline_kind_invoice ON deadline (kind, invoice)",
    # The worker's query: pending rows whose due time has come, soonest first.
    "deadline_pending": "CREATE INDEX deadline_pending ON deadline (due_at, id) WHERE done_at IS NULL",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="processing", description=DESCRIPTION)

    async def create_indexes():
        for sql in INDEXES.values():
            await Table.raw(sql)

    async def drop_indexes():
        for name in INDEXES:
            await Table.raw(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
