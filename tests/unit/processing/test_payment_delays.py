"""Payment deadline arithmetic on worked examples (délai global de paiement)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from backend.processing.payment_delays import after_suspension, days_late, days_left, due_by, overdue_at, paris_day, state


def test_the_delay_runs_from_the_reception_day():
    assert due_by(date(2026, 3, 1), 30) == date(2026, 3, 31)
    assert due_by(date(2026, 1, 15), 50) == date(2026, 3, 6)  # 16 days of January + 28 of February + 6
    assert due_by(date(2026, 11, 2), 60) == date(2027, 1, 1)


def test_a_leap_february_counts_its_29th():
    assert due_by(date(2024, 2, 1), 30) == date(2024, 3, 2)
    assert due_by(date(2025, 2, 1), 30) == date(2025, 3, 3)


def test_days_spent_suspended_push_the_deadline_back():
    # Received 1 March (due 31 March), suspended 10 March, completed 25 March: 15 days more.
    assert after_suspension(date(2026, 3, 31), date(2026, 3, 10), date(2026, 3, 25)) == date(2026, 4, 15)
    assert after_suspension(date(2026, 3, 31), date(2026, 3, 10), date(2026, 3, 10)) == date(2026, 3, 31)


def test_days_late_stop_at_the_payment_date():
    due = date(2026, 3, 31)
    assert days_late(due, None, date(2026, 3, 31)) == 0  # the last day is still on time
    assert days_late(due, None, date(2026, 4, 1)) == 1
    assert days_late(due, date(2026, 4, 10), date(2026, 6, 1)) == 10
    assert days_late(due, date(2026, 3, 20), date(2026, 6, 1)) == 0
    assert days_left(due, date(2026, 3, 20)) == 11


def test_the_overdue_notice_runs_the_morning_after_the_last_day_in_paris():
    moment = overdue_at(date(2026, 3, 31))
    assert moment.astimezone(timezone.utc) == datetime(2026, 4, 1, 7, 0, tzinfo=timezone.utc)  # 9:00 summer time
    assert paris_day(datetime(2026, 3, 31, 22, 30, tzinfo=timezone.utc)) == date(2026, 4, 1)


def test_a_suspended_invoice_is_neither_late_nor_counting_down():
    shown = state({"payment_due_by": date(2026, 3, 31), "paid_in_full_on": None, "status": "SUSPENDUE"}, date(2026, 5, 1))
    assert shown["suspended"] and shown["days_late"] == 0 and shown["days_left"] is None and not shown["late"]
    late = state({"payment_due_by": date(2026, 3, 31), "paid_in_full_on": None, "status": "MANDATEE"}, date(2026, 5, 1))
    assert late["late"] and late["days_late"] == 31
