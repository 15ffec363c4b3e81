"""The controlled clock: what every deadline test relies on to make days pass at once."""

from __future__ import annotations

from datetime import date, timedelta

from backend.lib.common import paris_today, utcnow


def test_advancing_the_clock_moves_now_and_today(clock):
    before_now, before_today = utcnow(), paris_today()
    clock.advance(days=45)
    assert timedelta(days=45) <= utcnow() - before_now < timedelta(days=45, minutes=1)
    assert paris_today() - before_today == timedelta(days=45)


def test_the_clock_can_be_set_to_a_day_and_is_reset_after_the_test(clock):
    clock.set_today(date(2024, 2, 29))
    assert paris_today() == date(2024, 2, 29)
    assert utcnow().date() == date(2024, 2, 29)  # noon in Paris: the same day in UTC


def test_the_previous_test_left_the_real_clock():
    from datetime import datetime, timezone

    assert abs(utcnow() - datetime.now(timezone.utc)) < timedelta(seconds=5)
