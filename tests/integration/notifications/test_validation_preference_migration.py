"""Saved push preferences get the validation circuit's options at migration: they did not exist
when the lists were saved, and they are on by default."""

from __future__ import annotations

import importlib

from backend.accounts.tables import User
from backend.notifications import service
from backend.notifications.tables import PushPreference

migration = importlib.import_module("backend.notifications.piccolo_migrations.notifications_validation_preference")


async def test_saved_preferences_get_the_validation_options(clean_db):
    user = User(email="titulaire@exemple.fr", password_hash="x", first_name="A", last_name="B")
    await user.save()
    await PushPreference.insert(PushPreference(user=user.id, events="REJETEE"))
    assert service.VALIDATION_EVENT not in await service.preferences(user.id)

    manager = await migration.forwards()
    for step in manager.raw:
        await step()

    assert await service.preferences(user.id) == {"REJETEE", service.VALIDATION_EVENT, "REFUSEE_1", "REFUSEE_2"}
