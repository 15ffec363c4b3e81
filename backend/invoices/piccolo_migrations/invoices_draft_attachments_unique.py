"""A draft holds each content once: two uploads of the same photo at the same moment (the
field's upload and a send carrying it) cannot both add it (raw SQL, SQLite and PostgreSQL)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-06T18:20:27:000000"  # right after the draft_attachment table
VERSION = "1.38.0"
DESCRIPTION = "draft attachments: one row per content in a draft"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="invoices", description=DESCRIPTION)

    async def create_index():
        await Table.raw("CREATE UNIQUE INDEX draft_attachment_draft_file ON draft_attachment (draft, file)")

    async def drop_index():
        await Table.raw("DROP INDEX draft_attachment_draft_file")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
