"""The statements written once per process (backend/lib/db.py) give the rows Piccolo's own
queries give, on SQLite and PostgreSQL: the deposit and the worker rely on them for every
invoice. Also the stored file's single INSERT and the live event sent as recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.directory.tables import Structure
from backend.invoices import storage
from backend.invoices.tables import StoredFile
from backend.lib.common import utcnow
from backend.lib.db import get_object, insert_rows, select_rows, transaction
from backend.processing.tables import Deadline, Outbox
from backend.tracking import events

pytestmark = pytest.mark.usefixtures("clean_db")


def _without(row: dict, *keys: str) -> dict:
    return {k: v for k, v in row.items() if k not in keys}


async def test_insert_rows_writes_the_row_piccolo_writes():
    now = utcnow()
    values = dict(event_type="invoice.received", channel="webhook", invoice=7, payload='{"a": 1}',
                  created_at=now, next_attempt_at=now)
    await Outbox.insert(Outbox(**values))
    [new_id] = await insert_rows(Outbox, values)
    old, new = await Outbox.select().order_by(Outbox.id)
    assert new["id"] == new_id and new_id != old["id"]
    assert _without(new, "id") == _without(old, "id")  # defaults too: attempts 0, delivered_at None, last_error ""


async def test_insert_rows_applies_piccolo_defaults_and_conversions():
    due = utcnow() + timedelta(days=3)
    ids = await insert_rows(Deadline, dict(kind="k1", invoice=1, due_at=due, payload={"due_by": "2027-01-01"}),
                            dict(kind="k2", invoice=1, due_at=due))
    rows = await Deadline.select().order_by(Deadline.id).output(load_json=True)
    assert [r["id"] for r in rows] == ids
    assert rows[0]["payload"] == {"due_by": "2027-01-01"} and rows[1]["payload"] == {}  # a dict is stored as JSON
    assert rows[0]["due_at"] == due and rows[0]["attempts"] == 0 and rows[0]["done_at"] is None
    assert abs(rows[1]["created_at"] - utcnow()) < timedelta(minutes=1)  # TimestamptzNow()


async def test_insert_rows_refuses_unknown_columns():
    with pytest.raises(ValueError, match="no column"):
        await insert_rows(Outbox, dict(event_type="x", channel="webhook", colour="blue"))
    assert await Outbox.count() == 0


async def test_insert_rows_joins_the_callers_transaction():
    with pytest.raises(RuntimeError):
        async with transaction():
            await insert_rows(Outbox, dict(event_type="x", channel="webhook"))
            raise RuntimeError("rolled back")
    assert await Outbox.count() == 0


async def test_get_object_is_objects_get():
    structure = Structure(siret="21690123100011", siren="216901231", name="Commune", search_key="commune",
                          is_public=True, payment_delay_days=30)
    await structure.save()
    mine = await get_object(Structure, "siret = {} AND is_public = {}", "21690123100011", True)
    piccolos = await Structure.objects().get(Structure.siret == "21690123100011")
    assert isinstance(mine, Structure) and mine.to_dict() == piccolos.to_dict()
    assert mine.is_public is True and mine.active is True  # booleans, not SQLite's 1
    assert await get_object(Structure, "siret = {} AND is_public = {}", "21690123100011", False) is None


async def test_select_rows_is_select_where():
    now = utcnow()
    await insert_rows(Outbox, *[dict(event_type="e", channel=c, next_attempt_at=now - timedelta(seconds=i))
                                for i, c in enumerate(("webhook", "push", "webhook"))])
    mine = await select_rows(Outbox, "channel IN ({}) AND next_attempt_at <= {} ORDER BY next_attempt_at, id",
                             "webhook", now)
    piccolos = await Outbox.select().where((Outbox.channel == "webhook") & (Outbox.next_attempt_at <= now)).order_by(
        Outbox.next_attempt_at).order_by(Outbox.id)
    assert mine == piccolos and len(mine) == 2


async def test_the_same_file_twice_is_one_stored_file_and_a_new_one_another():
    async with transaction():
        first = await storage.file_row("a" * 64, 10, "application/pdf")
        again = await storage.file_row("a" * 64, 10, "application/pdf")
        other = await storage.file_row("b" * 64, 11, "application/xml")
    assert first == again != other
    rows = await StoredFile.select(StoredFile.sha256, StoredFile.size).order_by(StoredFile.id)
    assert rows == [{"sha256": "a" * 64, "size": 10}, {"sha256": "b" * 64, "size": 11}]


async def test_an_event_is_published_as_the_table_has_it():
    """What the live streams receive right after the commit is the message a resume reads back."""
    async with transaction():
        event_id = await events.record_event("invoice.received", invoice_id=3, supplier_id=1, recipient_id=2,
                                             payload={"number": "F-1", "status": "MISE_A_DISPOSITION", "é": "à"})
    sent = events._recorded.get()[event_id]
    assert [sent] == await events.events_by_id([event_id])
