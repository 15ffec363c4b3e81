"""Saved push preferences from before « Paiement en retard » existed get it at migration; a
list saved since, without it, was a choice and stays as it is."""

from __future__ import annotations

import importlib
from datetime import datetime, timezone

from piccolo.table import Table

from backend.accounts.tables import User
from backend.notifications import service
from backend.notifications.tables import PushPreference

migration = importlib.import_module("backend.notifications.piccolo_migrations.notifications_overdue_preference")


async def person(email: str) -> int:
    user = User(email=email, password_hash="x", first_name="A", last_name="B")
    await user.save()
    return user.id


async def test_older_saved_preferences_get_the_overdue_option(clean_db):
    before, after = await person("avant@exemple.fr"), await person("apres@exemple.fr")
    await PushPreference.insert(
        PushPreference(user=before, events="REJETEE,SUSPENDUE", updated_at=datetime(2026, 12, 1, tzinfo=timezone.utc)),
        PushPreference(user=after, events="REJETEE", updated_at=datetime(2026, 12, 6, 23, 0, tzinfo=timezone.utc)),
    )
    assert service.OVERDUE_EVENT not in await service.preferences(before)

    manager = await migration.forwards()
    for step in manager.raw:
        await step()

    assert await service.preferences(before) == {"REJETEE", "SUSPENDUE", service.OVERDUE_EVENT}
    assert await service.preferences(after) == {"REJETEE"}  # unticked when the form offered it
    assert (await Table.raw("SELECT count(*) AS n FROM push_preference"))[0]["n"] == 2
