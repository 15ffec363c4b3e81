"""Indexes of the questions (threads without an invoice); raw SQL, the same on SQLite and PostgreSQL.

The invoice indexes of messages_indexes.py stay as they are: a question's rows have a null
invoice, and NULLs never collide in a unique index on either database.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-06T18:18:53:566750"
VERSION = "1.38.0"
DESCRIPTION = "question thread order, unread counts, one read marker per question and structure, lists per side"

INDEXES = {
    # A question in order, and its newest message (lists, mark_read).
    "message_thread_id": "CREATE INDEX message_thread_id ON message (thread, id)",
    # Unread counts: the messages addressed to a structure in one question, after its read marker.
    "message_audience_thread_id": "CREATE INDEX message_audience_thread_id ON message (audience, thread, id)",
    # One marker per (question, structure): concurrent writers and readers upsert the same row.
    "message_read_thread_structure": "CREATE UNIQUE INDEX message_read_thread_structure ON message_read (thread, structure)",
    # The questions of a structure, on either side.
    "message_thread_supplier_id": "CREATE INDEX message_thread_supplier_id ON message_thread (supplier, id)",
    "message_thread_recipient_id": "CREATE INDEX message_thread_recipient_id ON message_thread (recipient, id)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="messages", description=DESCRIPTION)

    async def create_indexes():
        for sql in INDEXES.values():
            await Table.raw(sql)

    async def drop_indexes():
        for name in INDEXES:
            await Table.raw(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
