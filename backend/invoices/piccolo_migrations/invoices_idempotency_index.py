"""The idempotency key of a deposit is unique per structure (raw SQL, the same on SQLite and PostgreSQL).

Several NULLs are allowed by both databases: deposits without a key are unaffected.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T08:31:47:164989"  # just after the migration that adds the column
VERSION = "1.38.0"
DESCRIPTION = "deposit idempotency key unique per structure"

SQL = "CREATE UNIQUE INDEX deposit_structure_idempotency_key ON deposit (structure, idempotency_key)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="invoices", description=DESCRIPTION)

    async def create_index():
        await Table.raw(SQL)

    async def drop_index():
        await Table.raw("DROP INDEX deposit_structure_idempotency_key")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
