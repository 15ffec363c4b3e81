"""The "Travaux" pages of the monthly circuit, through the test client: the titulaire files on its
phone, the MOE corrects one amount, the titulaire reads the correction, the MOA validates, and the
payer finds the validated état d'acompte in its "Factures reçues"."""

from __future__ import annotations

from datetime import date

from backend.invoices.tables import Invoice
from backend.messages.tables import Message
from backend.processing.lifecycle import Actor, change_status
from backend.works import markets, pieces
from backend.works.pieces import StatementIn
from tests.integration.processing.conftest import make_user
from tests.integration.works.test_market_pages_and_api import member_of
from tests.support.web import csrf_from, post_form

STATEMENT = {"number": "DM-09", "period_start": "2026-09-01", "period_end": "2026-09-30", "works": "10 000,00",
             "supplies": "2000", "price_revision": "", "bonuses": "", "expenses": "150", "penalties": "", "advance_repaid": "",
             "vat_rate": "0.20"}


async def test_monthly_statement_pages(client, accounts, cast):
    market_id = await markets.declare(cast.declaration(), cast.as_moa())
    await member_of(accounts, cast.titulaire)
    market = await client.get(f"/works/markets/{market_id}")
    assert "Déposer un projet de décompte mensuel" in market.text
    new = f"/works/markets/{market_id}/statements/new"
    refused = await post_form(client, new, f"/works/markets/{market_id}/statements", STATEMENT | {"works": "douze"})
    assert refused.status_code == 422 and "n&#39;est pas un montant" in refused.text and 'value="DM-09"' in refused.text
    not_pdf = await client.post(f"/works/markets/{market_id}/statements", data={**STATEMENT, "_csrf_token": csrf_from((await client.get(new)).text)},
                                files=[("attachment", ("notes.txt", b"hello", "text/plain"))])
    assert not_pdf.status_code == 422 and "ni un PDF" in not_pdf.text
    filed = await client.post(f"/works/markets/{market_id}/statements", data={**STATEMENT, "_csrf_token": csrf_from((await client.get(new)).text)},
                              files=[("attachment", ("attachement-09.pdf", b"%PDF-1.7 attachement", "application/pdf"))],
                              follow_redirects=False)
    assert filed.status_code == 303, filed.text
    url = filed.headers["location"]
    page = await client.get(url)
    assert "À vérifier par le maître d&#39;œuvre" in page.text and 'data-days-left="7"' in page.text
    assert "Accepter" not in page.text  # the titulaire waits
    await accounts.logout()

    await member_of(accounts, cast.moe)
    workspace = await client.get("/works")
    assert "À traiter" in workspace.text and "7&nbsp;j" in workspace.text
    page = await client.get(url)
    assert "Accepter" in page.text and 'name="works" value="10000.00"' in page.text
    link = page.text.split('href="' + url + "/attachments/", 1)[1].split('"', 1)[0]
    download = await client.get(f"{url}/attachments/{link}")  # the MOE opens the titulaire's attachement
    assert download.status_code == 200 and download.content == b"%PDF-1.7 attachement"
    a4 = await Invoice.objects().where(Invoice.billing_framework == "A4").first()
    no_comment = await post_form(client, url, f"{url}/actions", {"action": "PRISE_EN_COMPTE_MOE", "version": str(a4.version),
                                                                 "works": "9000,00"})
    assert no_comment.status_code == 422 and "Expliquez la correction" in no_comment.text
    corrected = await post_form(client, url, f"{url}/actions", {"action": "PRISE_EN_COMPTE_MOE", "version": str(a4.version),
                                                                "works": "9000,00", "supplies": "2000.00", "comment": "9 000 € constatés"},
                                follow_redirects=False)
    assert corrected.status_code == 303
    await accounts.logout()

    await member_of(accounts, cast.titulaire)
    page = await client.get(url)
    assert "Acceptée par le maître d&#39;œuvre" in page.text and 'data-corrected="works"' in page.text and "9 000 € constatés" in page.text
    assert "Vous pouvez contester la correction jusqu'au" in page.text
    contested = await post_form(client, url, f"{url}/messages", {"body": "Nous contestons : l'attachement n° 4 montre 10 000 €."},
                                follow_redirects=False)
    assert contested.status_code == 303
    await accounts.logout()

    await member_of(accounts, cast.moe)
    assert "l&#39;attachement n° 4 montre 10 000 €" in (await client.get(url)).text  # the MOE reads it on the piece
    await accounts.logout()

    await member_of(accounts, cast.moa)
    a15 = await Invoice.objects().where(Invoice.billing_framework == "A15").first()
    a15_page = (await client.get(f"/works/pieces/{a15.id}")).text
    assert "attachement-09.pdf" in a15_page  # the statement's files follow it
    assert f'action="/works/pieces/{a15.id}/actions"' in a15_page
    validated = await post_form(client, f"/works/pieces/{a15.id}", f"/works/pieces/{a15.id}/actions",
                                {"action": "PRISE_EN_COMPTE_MOA", "version": str(a15.version)}, follow_redirects=False)
    assert validated.status_code == 303
    await accounts.logout()

    await member_of(accounts, cast.payer)
    a19 = await Invoice.objects().where(Invoice.billing_framework == "A19").first()
    received = await client.get("/invoices/" + str(a19.id))
    assert received.status_code == 200 and "DM-09-EAV" in received.text
    assert (await client.get(f"/works/pieces/{a4.id}")).status_code == 200  # every actor of the market reads the pieces
    await accounts.logout()
    await member_of(accounts, cast.stranger)
    assert (await client.get(f"/works/pieces/{a4.id}")).status_code == 404
    await accounts.logout()

    # The titulaire's own invoice pages and lists show its works pieces too (no error on their data).
    await member_of(accounts, cast.titulaire)
    for piece in (a4, a15, a19):
        assert (await client.get(f"/invoices/{piece.id}")).status_code == 200
    assert (await client.get("/")).status_code == 200
    assert (await client.get("/invoices")).status_code == 200


async def test_the_titulaire_contests_a_correction_within_30_days_only(client, accounts, cast, clock):
    """30 days after the MOE's correction the titulaire may no longer write in the statement's
    messages (on the piece's page nor its invoice page): a French message, a stable code, what was
    typed kept; the thread stays readable, and the MOE still writes."""
    market_id = await markets.declare(cast.declaration(), cast.as_moa())
    titulaire, moe = await make_user(cast.titulaire.id, can_deposit=True), await make_user(cast.moe.id, can_process=True)
    clock.set_today(date(2026, 10, 1))
    amounts = {"works": "10000.00", "supplies": "2000.00"}
    a4 = await pieces.file_statement(market_id, cast.titulaire.id, Actor("supplier", titulaire),
                                     StatementIn(number="DM-09", period_start="2026-09-01", period_end="2026-09-30", amounts=amounts))
    await change_status(a4.id, Actor("moe", moe), "PRISE_EN_COMPTE_MOE", expected_version=a4.version,
                        comment="9 000 € constatés", correction={"works": "9000.00"})
    await member_of(accounts, cast.titulaire)
    url = f"/works/pieces/{a4.id}"
    clock.set_today(date(2026, 10, 31))  # the 30th day: still open
    assert "Vous pouvez contester la correction jusqu'au 31 oct. 2026" in (await client.get(url)).text
    assert (await post_form(client, url, f"{url}/messages", {"body": "Nous contestons."}, follow_redirects=False)).status_code == 303
    clock.set_today(date(2026, 11, 1))
    page = await client.get(url)
    assert "Le délai pour la contester a pris fin le 31 oct. 2026" in page.text and "Nous contestons." in page.text
    for thread_url in (f"{url}/messages", f"/invoices/{a4.id}/messages"):
        late = await post_form(client, url, thread_url, {"body": "Nous contestons encore."})
        assert late.status_code == 422
        assert 'data-code="works_contest_closed"' in late.text and "a pris fin le 31 oct. 2026" in late.text
        assert "Nous contestons encore." in late.text  # what was typed stays in the form
    assert await Message.count().where(Message.invoice == a4.id) == 1
    assert (await client.get(f"{url}/messages")).status_code == 200  # still readable
    await accounts.logout()
    await member_of(accounts, cast.moe)
    assert (await post_form(client, url, f"{url}/messages", {"body": "Bien reçu."}, follow_redirects=False)).status_code == 303
