"""The "Travaux" pages of the final circuit, through the test client: the titulaire files its projet
de décompte final from the market page, the MOE accepts it, the MOA reads its 30 days and notifies the
décompte général, the titulaire signs it on its phone (the DGD reaches the payer's "Factures reçues");
the réclamation form offers its reasons; a projet replaced in the tacit procedure says by which piece."""

from __future__ import annotations

from backend.invoices.tables import Invoice
from backend.processing import deadlines
from backend.works import markets
from tests.integration.works.test_market_pages_and_api import member_of
from tests.support.web import post_form

FINAL = {"kind": "final", "number": "DF-01", "period_start": "2026-09-01", "period_end": "2027-01-31", "works": "40 000,00",
         "supplies": "", "price_revision": "", "bonuses": "", "expenses": "", "penalties": "", "advance_repaid": "", "vat_rate": "0.20"}


async def act(client, piece: Invoice, action: str, **fields):
    url = f"/works/pieces/{piece.id}"
    return await post_form(client, url, f"{url}/actions", {"action": action, "version": str(piece.version), **fields}, follow_redirects=False)


async def latest(framework: str) -> Invoice:
    return await Invoice.objects().where(Invoice.billing_framework == framework).order_by(Invoice.id, ascending=False).first()


async def test_final_statement_pages_to_the_signature(client, accounts, cast):
    market_id = await markets.declare(cast.declaration(), cast.as_moa())
    await member_of(accounts, cast.titulaire)
    assert "Déposer un projet de décompte final" in (await client.get(f"/works/markets/{market_id}")).text
    new = f"/works/markets/{market_id}/statements/new?kind=final"
    form = await client.get(new)
    assert "<h1 id=\"statement-title\">Projet de décompte final</h1>" in form.text and 'name="kind" value="final"' in form.text
    filed = await post_form(client, new, f"/works/markets/{market_id}/statements", FINAL, follow_redirects=False)
    assert filed.status_code == 303, filed.text
    a7 = await latest("A7")
    assert filed.headers["location"] == f"/works/pieces/{a7.id}" and a7.status == "MISE_A_DISPOSITION_MOE"
    assert "Projet de décompte final n°" in (await client.get(f"/works/pieces/{a7.id}")).text
    market_page = (await client.get(f"/works/markets/{market_id}")).text
    assert "Déposer un projet de décompte final" not in market_page  # one per market until it is refused
    assert "data-final-filed" in market_page and f'href="/works/pieces/{a7.id}"' in market_page
    again = await post_form(client, new, f"/works/markets/{market_id}/statements", dict(FINAL, number="DF-BIS"), follow_redirects=False)
    assert again.status_code == 409 and "déjà déposé pour ce marché" in again.text
    await accounts.logout()

    await member_of(accounts, cast.moe)
    assert (await act(client, a7, "PRISE_EN_COMPTE_MOE", works="40000.00")).status_code == 303
    await accounts.logout()

    await member_of(accounts, cast.moa)
    a17 = await latest("A17")
    page = (await client.get(f"/works/pieces/{a17.id}")).text
    assert "Projet de décompte général n°" in page and 'data-days-left="30"' in page and "Le maître d&#39;ouvrage a encore 30 jours" in page
    assert "Valider : notifier le décompte général" in page
    assert (await act(client, a17, "PRISE_EN_COMPTE_MOA")).status_code == 303
    await accounts.logout()

    await member_of(accounts, cast.titulaire)
    a20 = await latest("A20")
    page = (await client.get(f"/works/pieces/{a20.id}")).text
    assert "À signer par l&#39;entreprise" in page and "Signer le décompte général" in page
    assert 'value="PENALITES_CONTESTEES"' in page  # the réclamation's reasons
    refused = await act(client, a20, "RECLAMATION_TITULAIRE", reason_code="AUTRE")
    assert refused.status_code == 422 and "Exposez votre réclamation" in refused.text
    assert (await act(client, a20, "SIGNEE_TITULAIRE")).status_code == 303
    await accounts.logout()

    await member_of(accounts, cast.payer)
    a8 = await latest("A8")
    page = (await client.get(f"/works/pieces/{a8.id}")).text
    assert "Décompte général et définitif n°" in page and "Traiter dans les factures reçues" in page
    assert (await client.get(f"/invoices/{a8.id}")).status_code == 200
    assert (await client.get(f"/works/dossiers/{a8.dossier}")).status_code == 200  # the dossier's timeline reads final pieces
    await accounts.logout()
    await member_of(accounts, cast.titulaire)
    for url in ("/works", "/", "/invoices", f"/invoices/{a20.id}"):
        assert (await client.get(url)).status_code == 200, url


async def test_replaced_projet_says_so(client, accounts, cast, clock):
    market_id = await markets.declare(cast.declaration(), cast.as_moa())
    await member_of(accounts, cast.titulaire)
    new = f"/works/markets/{market_id}/statements/new?kind=final"
    assert (await post_form(client, new, f"/works/markets/{market_id}/statements", FINAL, follow_redirects=False)).status_code == 303
    await accounts.logout()
    await member_of(accounts, cast.moe)
    assert (await act(client, await latest("A7"), "PRISE_EN_COMPTE_MOE", works="40000.00")).status_code == 303
    await accounts.logout()
    clock.advance(days=30, seconds=1)
    await deadlines.run_due()

    await member_of(accounts, cast.titulaire)
    a17 = await latest("A17")
    page = (await client.get(f"/works/pieces/{a17.id}")).text
    assert "art. 12.4.2" in page and "Déposer le projet de décompte général tacite" in page
    assert (await act(client, a17, "REMPLACEE_A22")).status_code == 303
    a22 = await latest("A22")
    page = (await client.get(f"/works/pieces/{a17.id}")).text
    assert f'data-replaced-by="{a22.id}"' in page and "Remplacé par le projet de décompte général tacite (A22)" in page
