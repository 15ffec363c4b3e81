"""Composite indexes of the api app (raw SQL, the same on SQLite and PostgreSQL)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T08:30:54:440705"
VERSION = "1.38.0"
DESCRIPTION = "one idempotency record per key and Idempotency-Key"

INDEXES = {
    # Two concurrent requests with the same Idempotency-Key: only one insert wins, so only
    # one executes.
    "idempotency_key_unique": "CREATE UNIQUE INDEX idempotency_key_unique ON idempotency_record (api_key, key)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="api", description=DESCRIPTION)

    async def create_indexes():
        for sql in INDEXES.values():
            await Table.raw(sql)

    async def drop_indexes():
        for name in INDEXES:
            await Table.raw(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
