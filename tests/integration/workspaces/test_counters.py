"""The per-structure counts kept by triggers agree with the invoices, whatever wrote them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from backend.accounts.tables import User
from backend.invoices import workspace
from backend.invoices.tables import Invoice
from backend.processing import lifecycle
from backend.processing.lifecycle import Actor, Payment, Routing
from tests.integration.workspaces.conftest import make_invoice


async def _user_id(person) -> int:
    return (await User.objects().get(User.email == person.email)).id


async def _assert_counts_match(world) -> None:
    for structure in (world.s1, world.s2, world.r1, world.r2):
        for side in (workspace.SUPPLIER, workspace.RECIPIENT):
            assert await workspace.status_totals(side, structure.id) == await workspace.status_totals_slow(side, structure.id), (structure.name, side)


async def test_counts_follow_inserts_status_changes_recycling_and_acknowledgements(world):
    a = await make_invoice(world.s1, world.r1, amount="100.10")
    b = await make_invoice(world.s1, world.r1, amount="200.20")
    c = await make_invoice(world.s2, world.r1, amount="0.05")
    await _assert_counts_match(world)
    agent, supplier = Actor("recipient", await _user_id(world.agent)), Actor("supplier", await _user_id(world.supplier))

    await lifecycle.change_status(a.id, agent, "REJETEE", expected_version=1, reason_code="DOUBLON", comment="déjà reçue")
    await lifecycle.change_status(a.id, supplier, lifecycle.ACKNOWLEDGE, expected_version=None)
    await lifecycle.change_status(b.id, agent, "A_RECYCLER", expected_version=1, comment="mauvais destinataire")
    await lifecycle.change_status(b.id, supplier, "DEPOSEE", expected_version=None, routing=Routing(world.r2.siret))
    await lifecycle.change_status(c.id, agent, "MISE_EN_PAIEMENT", expected_version=1, payment=Payment(date(2026, 5, 1), Decimal("0.05")))
    await _assert_counts_match(world)

    summary = await workspace.supplier_summary(world.s1.id)
    groups = {g["key"]: g["count"] for g in summary["groups"]}
    assert groups == {"a_traiter": 0, "en_cours": 1, "payees": 0}  # a: acknowledged; b: with the hospital now
    assert (await workspace.recipient_summary(world.r2.id))["waiting_total"] == 1
    assert (await workspace.recipient_summary(world.r1.id))["waiting_total"] == 0
    await Invoice.delete().where(Invoice.id == c.id)
    await _assert_counts_match(world)
