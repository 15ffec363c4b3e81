"""Indexes of the messages app (raw SQL, the same on SQLite and PostgreSQL)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T08:47:48:438683"
VERSION = "1.38.0"
DESCRIPTION = "thread order, unread counts and one read marker per invoice and structure"

INDEXES = {
    # A thread in order, and "the newest message of this invoice" for mark_read.
    "message_invoice_id": "CREATE INDEX message_invoice_id ON message (invoice, id)",
    # Unread counts: the messages addressed to a structure in one thread, after its read marker.
    "message_audience_invoice_id": "CREATE INDEX message_audience_invoice_id ON message (audience, invoice, id)",
    # One marker per (invoice, structure): concurrent writers and readers upsert the same row.
    "message_read_invoice_structure": "CREATE UNIQUE INDEX message_read_invoice_structure ON message_read (invoice, structure)",
    # The badge: a structure's unread threads only (few), however many threads it has read.
    "message_read_unread": (
        "CREATE INDEX message_read_unread ON message_read (structure, invoice) WHERE latest_incoming > last_read_message"
    ),
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
