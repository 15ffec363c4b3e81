"""A dossier's timeline read from its pieces' frameworks (pure: no database)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal as D

from backend.works.dossiers import SUMMARY_LABELS, summary_of, timeline_of

AT = datetime(2026, 11, 30, 9, tzinfo=timezone.utc)


def piece(ident: int, framework: str, amount: str) -> dict:
    return {"id": ident, "number": f"P-{ident}", "billing_framework": framework, "total_excl_vat": D(amount),
            "total_incl_vat": D(amount) * D("1.2"), "deposited_at": AT}


def test_accepted_as_asked_then_validated_and_paid():
    steps = timeline_of([piece(1, "A4", "1000.00"), piece(2, "A15", "1000.00"), piece(3, "A19", "1000.00"), piece(4, "A1", "5.00")],
                        [{"invoice": 3, "amount": "1200.00", "date": "2026-12-20", "at": AT}])
    assert [s.step for s in steps] == ["asked", "accepted", "validated", "paid"]  # an A1 invoice is no step of a dossier
    assert steps[-1].amount_incl_vat == D("1200.00") and steps[-1].at == date(2026, 12, 20) and steps[-1].invoice_number == "P-3"
    assert SUMMARY_LABELS[summary_of(steps)] == "Payée"


def test_a_different_amount_is_a_correction_with_its_difference():
    steps = timeline_of([piece(1, "A4", "1000.00"), piece(2, "A15", "850.50")], [])
    assert steps[1].step == "corrected" and steps[1].label == "Corrigé par le maître d'œuvre"
    assert steps[1].difference_excl_vat == D("-149.50")
    assert summary_of(steps) == "corrected" and summary_of([]) is None
