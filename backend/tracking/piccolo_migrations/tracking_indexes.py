"""The resume query's indexes (raw SQL, the same on SQLite and PostgreSQL)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T08:30:49:680549"
VERSION = "1.38.0"
DESCRIPTION = "event indexes per structure side"

INDEXES = {
    # Last-Event-ID resume: events after an id for the structures of a user, on either side.
    "event_supplier_id": "CREATE INDEX event_supplier_id ON event (supplier, id)",
    "event_recipient_id": "CREATE INDEX event_recipient_id ON event (recipient, id)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracking", description=DESCRIPTION)

    async def create_indexes():
        for sql in INDEXES.values():
            await Table.raw(sql)

    async def drop_indexes():
        for name in INDEXES:
            await Table.raw(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
