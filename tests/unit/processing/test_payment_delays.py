"""Payment deadline arithmetic on worked examples (délai global de paiement)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from backend.processing.payment_delays import after_interruption, days_late, days_left, due_by, overdue_at, paris_day, state


def test_the_delay_runs_from_the_reception_day():
    assert due_by(date(2026, 3, 1), 30) == date(2026, 3, 31)
    assert due_by(date(2026, 1, 15), 50) == date(2026, 3, 6)  # 16 days of January + 28 of February + 6
    assert due_by(date(2026, 11, 2), 60) == date(2027, 1, 1)


def test_a_leap_february_counts_its_29th():
    assert due_by(date(2024, 2, 1), 30) == date(2024, 3, 2)
    assert due_by(date(2025, 2, 1), 30) == date(2025, 3, 3)


def test_completing_an_interrupted_invoice_opens_a_new_thirty_day_delay():
    # R.2192-29 CCP. Received 1 March (due 31 March), interrupted 10 March with 21 days left,
    # completed 25 March: 30 days from the completion, not the 21 left nor 15 days added.
    assert after_interruption(date(2026, 3, 31), date(2026, 3, 10), date(2026, 3, 25)) == date(2026, 4, 24)
    # Completed the same day: still thirty days.
    assert after_interruption(date(2026, 3, 31), date(2026, 3, 10), date(2026, 3, 10)) == date(2026, 4, 9)
    # Interrupted after the due date had passed: thirty days from the completion all the same.
    assert after_interruption(date(2026, 3, 31), date(2026, 4, 5), date(2026, 4, 8)) == date(2026, 5, 8)


def test_a_longer_balance_is_kept_after_the_interruption():
    # A public company (60 days): received 1 March, due 30 April; interrupted 10 March with 51
    # days left, completed 20 March: the new delay is those 51 days, to 10 May.
    assert after_interruption(date(2026, 4, 30), date(2026, 3, 10), date(2026, 3, 20)) == date(2026, 5, 10)


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


def test_an_interrupted_invoice_is_neither_late_nor_counting_down():
    shown = state({"payment_due_by": date(2026, 3, 31), "paid_in_full_on": None, "status": "SUSPENDUE",
                   "payment_clock_stopped": True}, date(2026, 5, 1))
    assert shown["suspended"] and shown["days_late"] == 0 and shown["days_left"] is None and not shown["late"]
    assert "interrompu" in shown["sentence"]


def test_a_second_suspension_leaves_the_clock_running():
    # The delay is interrupted once only (R.2192-27): suspended again, the invoice falls late.
    shown = state({"payment_due_by": date(2026, 3, 31), "paid_in_full_on": None, "status": "SUSPENDUE",
                   "payment_clock_stopped": False}, date(2026, 4, 3))
    assert shown["late"] and shown["days_late"] == 3 and shown["sentence"].startswith("En retard de 3 jours")
    late = state({"payment_due_by": date(2026, 3, 31), "paid_in_full_on": None, "status": "MANDATEE"}, date(2026, 5, 1))
    assert late["late"] and late["days_late"] == 31
