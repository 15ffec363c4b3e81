"""The supplier's workspace: Factures (filters, search, keyset pages, htmx) and the synthèse."""

from __future__ import annotations

import re
from datetime import date

from backend.invoices import workspace
from tests.integration.workspaces.conftest import make_invoice


def numbers(html: str) -> list[str]:
    return re.findall(r'class="inv-number">(?:Facture|Avoir) ([^<]+)</strong>', html)


async def test_the_list_shows_only_the_structures_invoices_newest_first(client, accounts, world):
    old = await make_invoice(world.s1, world.r1, issue_date=date(2026, 1, 5), number="A-OLD")
    new = await make_invoice(world.s1, world.r2, issue_date=date(2026, 4, 2), number="A-NEW")
    await make_invoice(world.s2, world.r1, number="B-OTHER")  # another supplier's
    await accounts.login(world.supplier)
    page = await client.get("/invoices")
    assert page.status_code == 200
    assert numbers(page.text) == [new.number, old.number]
    assert "B-OTHER" not in page.text
    assert f'hx-trigger="sse:invoice-{new.id}"' in page.text and f'hx-get="/invoices/{new.id}/row"' in page.text


async def test_filters_by_status_recipient_dates_amount_and_number(client, accounts, world):
    await make_invoice(world.s1, world.r1, status="SUSPENDUE", issue_date=date(2026, 2, 1), amount="50.00", number="F-SUSP")
    await make_invoice(world.s1, world.r2, status="MANDATEE", issue_date=date(2026, 3, 1), amount="1500.00", number="F-MAND")
    await make_invoice(world.s1, world.r1, status="MISE_EN_PAIEMENT", issue_date=date(2026, 4, 1), amount="300.00", number="F-PAID")
    await accounts.login(world.supplier)

    async def listed(query: str) -> list[str]:
        response = await client.get(f"/invoices?{query}")
        assert response.status_code == 200, response.text
        return numbers(response.text)

    assert await listed("status=SUSPENDUE") == ["F-SUSP"]
    assert await listed("status=a_traiter") == ["F-SUSP"]
    assert await listed("status=en_cours") == ["F-MAND"]
    assert await listed("status=payees") == ["F-PAID"]
    assert await listed(f"party={world.r2.id}") == ["F-MAND"]
    assert await listed("du=2026-02-15&au=2026-03-31") == ["F-MAND"]
    assert await listed("min=100&max=1000") == ["F-PAID"]
    assert await listed("min=1 000,00") == ["F-MAND"]  # French amount typed on a phone
    assert await listed("q=paid") == ["F-PAID"]  # a part of the number, any case
    assert await listed("q=%25") == []  # LIKE wildcards are searched literally
    assert await listed(f"status=a_traiter&party={world.r2.id}") == []


async def test_unreadable_filters_are_ignored_with_a_french_message(client, accounts, world):
    await make_invoice(world.s1, world.r1, number="F-1")
    await accounts.login(world.supplier)
    response = await client.get("/invoices?du=31/02/2026&min=abc&status=NOPE&after=zzz&party=x")
    assert response.status_code == 200
    assert "n&#39;est pas valide" in response.text or "n'est pas valide" in response.text
    assert numbers(response.text) == ["F-1"]


async def test_keyset_pages_cover_every_invoice_once_in_order(client, accounts, world):
    # Same issue date for many: the id breaks ties, so no row is skipped or repeated.
    for n in range(30):
        await make_invoice(world.s1, world.r1, issue_date=date(2026, 3, 1 + n % 3), number=f"K-{n:02d}")
    await accounts.login(world.supplier)
    first = await client.get("/invoices")
    seen = numbers(first.text)
    assert len(seen) == workspace.PAGE_SIZE
    cursor = re.search(r'href="/invoices\?after=([^"&]+)"', first.text).group(1)
    more = await client.get(f"/invoices?after={cursor}&fragment=rows", headers={"HX-Request": "true"})
    assert "<html" not in more.text and "Factures suivantes" not in more.text
    seen += numbers(more.text)
    assert sorted(seen) == sorted(f"K-{n:02d}" for n in range(30)) and len(set(seen)) == 30
    page = await workspace.list_page(workspace.SUPPLIER, world.s1.id, workspace.Filters())
    keys = [(r["issue_date"], r["id"]) for r in page.rows]
    assert keys == sorted(keys, reverse=True)


async def test_htmx_filter_request_answers_the_results_only(client, accounts, world):
    await make_invoice(world.s1, world.r1, status="SUSPENDUE", number="F-S")
    await make_invoice(world.s1, world.r1, number="F-M")
    await accounts.login(world.supplier)
    response = await client.get("/invoices?status=SUSPENDUE", headers={"HX-Request": "true", "HX-Target": "invoice-results"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="invoice-results"') and "<html" not in response.text
    assert numbers(response.text) == ["F-S"]
    assert "HX-Request" in response.headers.get("vary", "")
    full = await client.get("/invoices?status=SUSPENDUE")  # the pushed URL, reloaded: the whole page
    assert "<html" in full.text and 'hx-push-url="true"' in full.text and 'value="SUSPENDUE" checked' in full.text


async def test_synthese_counts_and_amounts(client, accounts, world):
    await make_invoice(world.s1, world.r1, status="SUSPENDUE", amount="100.00")
    await make_invoice(world.s1, world.r1, status="A_RECYCLER", amount="200.00")
    await make_invoice(world.s1, world.r1, status="REJETEE", amount="400.00")
    await make_invoice(world.s1, world.r1, status="REJETEE", amount="800.00", acknowledged=True)  # already seen: not to do
    await make_invoice(world.s1, world.r1, status="PRISE_EN_CHARGE", amount="1000.00")
    await make_invoice(world.s1, world.r2, status="MANDATEE", amount="2000.50")
    await make_invoice(world.s1, world.r1, status="MISE_EN_PAIEMENT", amount="1234.56")
    await make_invoice(world.s2, world.r1, status="SUSPENDUE", amount="9999.00")  # someone else's

    summary = await workspace.supplier_summary(world.s1.id)
    groups = {g["key"]: (g["count"], g["amount"]) for g in summary["groups"]}
    assert groups["a_traiter"] == (3, 700)
    assert groups["en_cours"] == (2, workspace.Decimal("3000.50"))
    assert groups["payees"] == (1, workspace.Decimal("1234.56"))
    assert [(s["name"], s["count"]) for s in summary["silent_recipients"]] == [("Hôpital de Nantes", 1)]

    await accounts.login(world.supplier)
    home = await client.get("/")
    text = home.text.replace("\u202f", " ").replace("\xa0", " ")
    assert "700,00 €" in text and "3 000,50 €" in text and "1 234,56 €" in text
    assert "ne communique jamais la mise en paiement" in text and "Hôpital de Nantes" in text
    # One invoice: the singular all along the sentence, and each status to do counted in words.
    flat = " ".join(text.split())
    assert "Votre facture passée en service fait ou mandatée chez cette entité ne changera plus de statut" in flat
    assert "1 suspendue · 1 à recycler · 1 rejetée à lire" in flat
    assert 'hx-trigger="sse:changed delay:500ms"' in home.text
    fragment = await client.get("/home/summary")
    assert fragment.status_code == 200 and "<html" not in fragment.text and "Synthèse" in fragment.text


async def test_chips_counts_fragment(client, accounts, world):
    await make_invoice(world.s1, world.r1, status="SUSPENDUE")
    await make_invoice(world.s1, world.r1, status="REJETEE")
    await accounts.login(world.supplier)
    chips = await client.get("/invoices/counters?status=a_traiter")
    assert chips.status_code == 200 and 'id="invoice-chips"' in chips.text and "sse:changed" in chips.text
    assert re.search(r'value="a_traiter" checked><span>À traiter <b class="chip-count" aria-live="polite">2</b>', chips.text)
