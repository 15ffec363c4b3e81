"""The worker's index on the outbox (raw SQL, the same on SQLite and PostgreSQL)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T07:18:05:857526"
VERSION = "1.38.0"
DESCRIPTION = "outbox pending deliveries index"

INDEXES = {
    # The worker's query: undelivered rows whose next attempt is due, oldest first.
    "outbox_pending": "CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL",
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
