"""« Paiement en retard » (payment.overdue) is on by default, but a person who had saved their
push preferences before that option existed has a saved list without it: they never chose to
turn it off. Their lists get it; lists saved since (when the form offered it) are left alone.
"""

from datetime import datetime, timezone

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T02:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "saved push preferences from before the overdue option get it"

OVERDUE_EVENT = "payment.overdue"
OPTION_OFFERED_AT = datetime(2026, 12, 6, 22, 23, 8, tzinfo=timezone.utc)  # commit 9ba99b0


def _moment(value) -> datetime:
    if isinstance(value, str):  # SQLite gives the stored text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def add_the_overdue_option_to_older_lists():
        rows = await Table.raw("SELECT id, events, updated_at FROM push_preference")
        for row in rows:
            events = [e for e in (row["events"] or "").split(",") if e]
            if OVERDUE_EVENT in events or _moment(row["updated_at"]) >= OPTION_OFFERED_AT:
                continue
            await Table.raw("UPDATE push_preference SET events = {} WHERE id = {}",
                            ",".join(sorted([*events, OVERDUE_EVENT])), row["id"])

    manager.add_raw(add_the_overdue_option_to_older_lists)
    return manager
