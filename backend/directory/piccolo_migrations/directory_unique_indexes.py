"""Composite unique indexes (raw SQL: SQLite cannot add constraints to existing tables)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T05:56:54:735035"
VERSION = "1.38.0"
DESCRIPTION = "unique index service_structure_code"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="directory", description=DESCRIPTION)

    async def create_index():
        await Table.raw('CREATE UNIQUE INDEX service_structure_code ON service (structure, code)')

    async def drop_index():
        await Table.raw("DROP INDEX service_structure_code")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
