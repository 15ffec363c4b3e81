"""French display formats that pages show next to amounts and quantities."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backend.lib.formats import money, unit_for


@pytest.mark.parametrize(("label", "quantity", "shown"), [
    ("unité", Decimal("4"), "unités"),
    ("heure", Decimal("1.5"), "heure"),  # the French plural starts at 2
    ("jour", Decimal("2"), "jours"),
    ("unité", Decimal("1"), "unité"),
    ("mois", Decimal("3"), "mois"),
    ("kg", Decimal("12"), "kg"),
    ("m²", Decimal("30"), "m²"),
    ("unité", None, "unité"),
    ("unité", "pas un nombre", "unité"),
])
def test_a_unit_agrees_with_its_quantity(label, quantity, shown):
    assert unit_for(label, quantity) == shown


def test_money_is_french():
    assert money(Decimal("2740")) == "2\u202f740,00\xa0€"
