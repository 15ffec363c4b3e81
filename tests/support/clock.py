"""A controlled clock: `utcnow()` and `paris_today()` follow an offset the tests move.

Deadlines days or months away fall due by moving the clock, never by sleeping. The offset
lives in this process only: a server or worker started as a subprocess keeps real time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from backend.lib import common


class Clock:
    def now(self) -> datetime:
        return common.utcnow()

    def today(self) -> date:
        return common.paris_today()

    def advance(self, *, days: float = 0, seconds: float = 0) -> None:
        common.set_clock_offset(common.clock_offset() + timedelta(days=days, seconds=seconds))

    def set_today(self, day: date, hour: int = 12) -> None:
        """Move the clock to noon (Paris) on this day: the date is then the same in Paris and in UTC."""
        real = common.utcnow() - common.clock_offset()
        wanted = datetime(day.year, day.month, day.day, hour, tzinfo=common.PARIS)
        common.set_clock_offset(wanted - real)

    def reset(self) -> None:
        common.set_clock_offset(timedelta(0))


@pytest.fixture
def clock():
    controlled = Clock()
    try:
        yield controlled
    finally:
        controlled.reset()
