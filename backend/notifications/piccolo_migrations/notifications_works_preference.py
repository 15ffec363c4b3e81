"""Works pieces have their own push option, « Pièce de travaux à traiter » (works.requested), on by
default. Until now they rode « validation.requested »: a saved list that kept that option kept the
works pushes, so it gets the new one; a list without it had turned them off, and stays so.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T06:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "saved push preferences with validation.requested get works.requested"

VALIDATION_EVENT = "validation.requested"
WORKS_EVENT = "works.requested"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def add_the_works_option_where_validation_was_kept():
        rows = await Table.raw("SELECT id, events FROM push_preference")
        for row in rows:
            events = [e for e in (row["events"] or "").split(",") if e]
            if VALIDATION_EVENT in events and WORKS_EVENT not in events:
                await Table.raw("UPDATE push_preference SET events = {} WHERE id = {}",
                                ",".join(sorted([*events, WORKS_EVENT])), row["id"])

    manager.add_raw(add_the_works_option_where_validation_was_kept)
    return manager
