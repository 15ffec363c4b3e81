"""Works pieces' pushes have their own preference (works.requested). Saved lists that kept
validation.requested, which carried the works pushes until then, get it at migration; a list
that had turned validation.requested off stays without it."""

from __future__ import annotations

import importlib

from backend.accounts.tables import User
from backend.notifications import service
from backend.notifications.tables import PushPreference

migration = importlib.import_module("backend.notifications.piccolo_migrations.notifications_works_preference")


async def test_saved_lists_with_validation_requested_get_works_requested(clean_db):
    kept, off = User(email="moe@exemple.fr", password_hash="x", first_name="A", last_name="B"), \
        User(email="moa@exemple.fr", password_hash="x", first_name="C", last_name="D")
    await kept.save()
    await off.save()
    await PushPreference.insert(PushPreference(user=kept.id, events="REJETEE,validation.requested"),
                                PushPreference(user=off.id, events="REJETEE"))

    manager = await migration.forwards()
    for step in manager.raw:
        await step()
    for step in manager.raw:  # run again (a retried migration): nothing doubles
        await step()

    assert await service.preferences(kept.id) == {"REJETEE", service.VALIDATION_EVENT, service.WORKS_EVENT}
    assert (await PushPreference.select(PushPreference.events).where(PushPreference.user == kept.id).first())["events"] == \
        "REJETEE,validation.requested,works.requested"
    assert await service.preferences(off.id) == {"REJETEE"}
