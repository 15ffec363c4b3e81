"""The audience resume query's index (raw SQL, the same on SQLite and PostgreSQL); after the
table's own migration, since a migration's raw steps run before its tables are created."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T02:09:36:813851"
VERSION = "1.38.0"
DESCRIPTION = "event_audience index per person"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracking", description=DESCRIPTION)

    async def create_index():
        # Last-Event-ID resume: a person's events after an id.
        await Table.raw("CREATE INDEX event_audience_person_event ON event_audience (person, event)")

    async def drop_index():
        await Table.raw("DROP INDEX event_audience_person_event")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
