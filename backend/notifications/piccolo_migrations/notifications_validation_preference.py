"""The validation circuit's pushes are on by default: « Facture de sous-traitant ou de cotraitant à
valider » (validation.requested) for the titulaire or mandataire, and the two refusals
(REFUSEE_1, REFUSEE_2) for the subcontractor. Lists saved before these options existed never
turned them off: they get them, like the overdue option (notifications_overdue_preference).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T02:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "saved push preferences get the validation circuit's options"

NEW_DEFAULTS = ("validation.requested", "REFUSEE_1", "REFUSEE_2")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def add_the_validation_options():
        rows = await Table.raw("SELECT id, events FROM push_preference")
        for row in rows:
            events = [e for e in (row["events"] or "").split(",") if e]
            missing = [e for e in NEW_DEFAULTS if e not in events]
            if missing:
                await Table.raw("UPDATE push_preference SET events = {} WHERE id = {}", ",".join(sorted([*events, *missing])), row["id"])

    manager.add_raw(add_the_validation_options)
    return manager
