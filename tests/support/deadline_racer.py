"""A process that runs due deadlines of a test kind until none is left (the racing test starts two).

Its handler writes one outbox row per run: the test counts them to prove each deadline ran once.
"""

from __future__ import annotations

import asyncio
import json
import os

from backend.lib import db
from backend.processing import deadlines
from backend.processing.tables import Outbox

KIND = "test_race"


async def record_run(row: dict) -> None:
    await Outbox.insert(Outbox(event_type="test.race", channel="test_race", invoice=row["invoice"],
                               payload=json.dumps({"pid": os.getpid()})))


async def main() -> None:
    deadlines.register_kind(KIND, record_run)
    await db.start_pool()
    try:
        while await deadlines.run_due(limit=5):
            pass
    finally:
        await db.close_pool()


if __name__ == "__main__":
    asyncio.run(main())
