"""The agent's workspace: Factures reçues (filters, search, counts of what waits) and their Accueil."""

from __future__ import annotations

import re
from datetime import date

from backend.invoices import workspace
from tests.integration.workspaces.conftest import make_invoice
from tests.integration.workspaces.test_supplier_workspace import numbers


async def test_agent_sees_invoices_addressed_to_the_structure_only(client, accounts, world):
    await make_invoice(world.s1, world.r1, number="TO-R1", issue_date=date(2026, 3, 2))
    await make_invoice(world.s2, world.r1, number="TO-R1-B", issue_date=date(2026, 3, 1))
    await make_invoice(world.s1, world.r2, number="TO-R2")
    await accounts.login(world.agent)
    page = await client.get("/invoices")
    assert "Factures reçues" in page.text
    assert numbers(page.text) == ["TO-R1", "TO-R1-B"]


async def test_filters_by_service_supplier_and_search(client, accounts, world):
    await make_invoice(world.s1, world.r1, number="V-1", service_code="VOIRIE", amount="10.00")
    await make_invoice(world.s2, world.r1, number="E-1", service_code="ECOLES", amount="20.00")
    await accounts.login(world.agent)

    async def listed(query: str) -> list[str]:
        response = await client.get(f"/invoices?{query}")
        assert response.status_code == 200
        return numbers(response.text)

    assert await listed("service=VOIRIE") == ["V-1"]
    assert await listed(f"party={world.s2.id}") == ["E-1"]
    assert await listed("q=plomberie") == ["E-1"]  # supplier name, any case
    assert await listed(f"q={world.s1.siret}") == ["V-1"]  # supplier SIRET
    assert await listed(f"q={world.s1.siret[:9]}") == ["V-1"]  # or its SIREN
    assert await listed("q=E-1") == ["E-1"]  # number
    page = await client.get("/invoices")
    assert "Plomberie Martin" in page.text and '<option value="VOIRIE"' in page.text  # the filter's choices


async def test_counts_of_what_waits_for_the_structure(client, accounts, world):
    for status in ("MISE_A_DISPOSITION", "MISE_A_DISPOSITION", "COMPLETEE", "PRISE_EN_CHARGE", "SERVICE_FAIT", "MANDATEE"):
        await make_invoice(world.s1, world.r1, status=status)
    for status in ("SUSPENDUE", "REJETEE", "MISE_EN_PAIEMENT", "A_RECYCLER"):  # waiting for the supplier, or done
        await make_invoice(world.s1, world.r1, status=status)
    await make_invoice(world.s1, world.r2, status="MISE_A_DISPOSITION")  # another structure's
    summary = await workspace.recipient_summary(world.r1.id)
    assert summary["waiting_total"] == 6
    assert {w["status"]: w["count"] for w in summary["waiting"]} == {
        "MISE_A_DISPOSITION": 2, "COMPLETEE": 1, "PRISE_EN_CHARGE": 1, "SERVICE_FAIT": 1, "MANDATEE": 1}

    await accounts.login(world.agent)
    listing = await client.get("/invoices")
    assert re.search(r'value="a_traiter" ><span>À traiter <b class="chip-count" aria-live="polite">6</b>', listing.text)
    assert re.search(r'Nouvelles <b class="chip-count" aria-live="polite">2</b>', listing.text)
    assert len(numbers((await client.get("/invoices?status=a_traiter")).text)) == 6
    assert len(numbers((await client.get("/invoices?status=COMPLETEE")).text)) == 1
    home = await client.get("/")
    assert "Ce qui vous attend" in home.text and "Nouvelles" in home.text and "Toutes les factures à traiter (6)" in home.text
