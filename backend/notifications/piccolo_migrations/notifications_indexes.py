"""A push event is fanned out once per subscription (raw SQL, the same on SQLite and PostgreSQL)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T08:42:53:505796"  # just after the migration that creates the tables
VERSION = "1.38.0"
DESCRIPTION = "push delivery unique per (event, subscription)"

SQL = "CREATE UNIQUE INDEX push_delivery_event_subscription ON push_delivery (event, subscription)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def create_index():
        await Table.raw(SQL)

    async def drop_index():
        await Table.raw("DROP INDEX push_delivery_event_subscription")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
