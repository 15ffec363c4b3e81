"""A mémoire draft holds each content once, as an invoice draft (raw SQL, SQLite and PostgreSQL)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T06:10:01:000000"  # right after the memoire_draft_attachment table
VERSION = "1.38.0"
DESCRIPTION = "mémoire draft attachments: one row per content in a draft"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="justice", description=DESCRIPTION)

    async def create_index():
        await Table.raw("CREATE UNIQUE INDEX memoire_draft_attachment_draft_file ON memoire_draft_attachment (draft, file)")

    async def drop_index():
        await Table.raw("DROP INDEX memoire_draft_attachment_draft_file")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
