"""Composite unique indexes (raw SQL: SQLite cannot add constraints to existing tables)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T05:56:55:072517"
VERSION = "1.38.0"
DESCRIPTION = "unique index membership_user_structure"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def create_index():
        await Table.raw('CREATE UNIQUE INDEX membership_user_structure ON membership ("user", structure)')

    async def drop_index():
        await Table.raw("DROP INDEX membership_user_structure")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
