"""(namespace, name) unique, and the expiry indexed for the clean-up (raw SQL: SQLite cannot
add constraints to existing tables)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-06T18:29:00:075407"
VERSION = "1.38.0"
DESCRIPTION = "unique index store_entry_namespace_name, index store_entry_expires_at"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="lib", description=DESCRIPTION)

    async def create_indexes():
        await Table.raw("CREATE UNIQUE INDEX store_entry_namespace_name ON store_entry (namespace, name)")
        await Table.raw("CREATE INDEX store_entry_expires_at ON store_entry (expires_at)")

    async def drop_indexes():
        await Table.raw("DROP INDEX store_entry_expires_at")
        await Table.raw("DROP INDEX store_entry_namespace_name")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
