"""Mémoires de frais de justice (A3, issue #15) through the HTTP app: an expert captures and sends a
mémoire to a juridiction, whose agents process it in the JUSTICE circuit; the one-year limit; a
refused mémoire duplicated (new number, linked both ways) or abandoned; no edit once sent."""

from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta

import pytest
from facturx import get_facturx_xml_from_pdf

from backend.directory import juridictions
from backend.directory.tables import Structure
from backend.invoices import storage
from backend.invoices.tables import Attachment, Invoice, InvoiceHistory, StoredFile
from backend.justice.tables import Memoire, MemoireDraft, MemoireDraftAttachment
from backend.lib.common import fold
from backend.processing.tables import Outbox
from backend.tracking.tables import Event
from backend.processing.lifecycle import Actor, RECIPIENT, SUPPLIER, TransitionError, Routing, allowed_actions, change_status
from tests.integration.invoices.conftest import recipient  # noqa: F401  (fixture)
from tests.integration.invoices.test_deposit import post_files
from tests.integration.processing.conftest import make_user
from tests.support.accounts import valid_siret
from tests.e2e.test_capture import _vat_of
from tests.support.clock import clock  # noqa: F401  (fixture)
from tests.support.web import csrf_from
from tests.unit.validation.invoice_builders import cii_bytes, facturx_pdf, invoice_data

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000105a2b5f00000000049454e44ae426082")
TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
async def empty_database(clean_db):
    """Every test starts from empty tables."""


@pytest.fixture
async def court() -> Structure:
    siret = valid_siret()
    structure = Structure(siret=siret, siren=siret[:9], name="Tribunal judiciaire de Villebourg", search_key=fold("Tribunal judiciaire"),
                          is_public=True, active=True, address_line1="1 place du Palais", postal_code="69003", city="Lyon")
    await structure.save()
    await juridictions.register(structure.id, "tribunal_judiciaire", "TJ6901")
    return structure


@pytest.fixture
async def expert(accounts, court, clock):
    clock.set_today(TODAY)
    person = await accounts.registered(company="Cabinet d'expertise Martin")
    await Structure.update({Structure.address_line1: "3 rue des Experts", Structure.postal_code: "69002", Structure.city: "Lyon",
                            Structure.vat_number: _vat_of(person.siret[:9]), Structure.iban: "FR7630006000011234567890189"}).where(Structure.siret == person.siret)
    return person


def memoire_fields(court: Structure, **overrides: str) -> dict[str, str]:
    fields = {
        "juridiction_siret": court.siret, "number": "MJ2026-0001", "decision_kind": "ordonnance",
        "decision_reference": "ORD-2026-118", "decision_date": "2026-03-02", "decision_author": "Mme Leroy, juge d'instruction",
        "mission_start": "2026-03-10", "mission_end": "2026-04-20", "mission_place": "Lyon",
        "line-0-kind": "honoraires", "line-0-description": "Expertise comptable", "line-0-quantity": "10",
        "line-0-unit_code": "HUR", "line-0-unit_price": "90", "line-0-vat_rate": "20",
        "line-1-kind": "deplacement", "line-1-description": "Lyon - Villebourg", "line-1-quantity": "120",
        "line-1-unit_code": "KMT", "line-1-unit_price": "0.5", "line-1-vat_rate": "20",
    }
    return fields | overrides


async def new_draft(client) -> int:
    token = csrf_from((await client.get("/justice")).text)
    response = await client.post("/justice/drafts", data={"_csrf_token": token}, follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    return int(re.search(r"/justice/drafts/(\d+)", response.headers["location"]).group(1))


async def send(client, draft_id: int, fields: dict[str, str], photo: bool = True):
    token = csrf_from((await client.get(f"/justice/drafts/{draft_id}")).text)
    files = [("decision_file", ("ordonnance.png", PNG, "image/png"))] if photo else []
    return await client.post(f"/justice/drafts/{draft_id}/send", data={**fields, "_csrf_token": token},
                             files=files or None, follow_redirects=False)


async def sent_memoire(client, court, **overrides) -> Invoice:
    response = await send(client, await new_draft(client), memoire_fields(court, **overrides))
    assert response.status_code in (302, 303), response.text
    invoice_id = int(response.headers["location"].rsplit("/", 1)[1])
    return await Invoice.objects().get(Invoice.id == invoice_id)


async def test_an_expert_sends_a_memoire_and_the_court_processes_it(client, expert, court, settings):
    memoire = await sent_memoire(client, court)
    assert (memoire.billing_framework, memoire.status, memoire.recipient) == ("A3", "MISE_A_DISPOSITION", court.id)
    assert memoire.service_code == "SCFJ"  # the juridiction's service centralisateur
    row = await Memoire.objects().get(Memoire.invoice == memoire.id)
    assert (row.decision_kind, row.decision_reference, row.mission_end) == ("ordonnance", "ORD-2026-118", date(2026, 4, 20))
    # The same generated PDF/A-3 with its structured data: BT-23 = A3, the decision in the note.
    original = await StoredFile.objects().get(StoredFile.id == memoire.original_file)
    _, xml = get_facturx_xml_from_pdf(await storage.read_blob(settings, original.sha256))
    text = xml.decode()
    assert "<ram:ID>A3</ram:ID>" in text and "ORD-2026-118" in text and "Mme Leroy" in text
    assert [a["filename"] for a in await Attachment.select(Attachment.filename).where(Attachment.invoice == memoire.id)] == ["ordonnance.png"]
    # Its page says what a mémoire adds.
    page = (await client.get(f"/invoices/{memoire.id}")).text
    assert "Mémoire de frais de justice" in page and "Ordonnance n°&nbsp;ORD-2026-118" in page, page[page.find("<main"):][:3000]
    assert "MJ2026-0001" in (await client.get("/justice")).text

    agent = Actor(RECIPIENT, await make_user(court.id, can_process=True))
    assert await allowed_actions(memoire, agent) == ["PRISE_EN_CHARGE", "SUSPENDUE", "REJETEE", "SERVICE_FAIT", "MISE_EN_PAIEMENT"]
    memoire = await change_status(memoire.id, agent, "PRISE_EN_CHARGE", expected_version=memoire.version)
    memoire = await change_status(memoire.id, agent, "SUSPENDUE", expected_version=memoire.version,
                                  reason_code="JUSTIF_ABS", comment="Joignez le ticket de péage.")
    # As any invoice: the expert's push (outbox) and the live pages' event.
    pushes = [json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]
              for r in await Outbox.select(Outbox.payload).where((Outbox.channel == "push") & (Outbox.invoice == memoire.id))]
    assert "Mémoire n°\u00a0MJ2026-0001 suspendu" in [p["title"] for p in pushes]
    assert await Event.exists().where((Event.invoice == memoire.id) & (Event.supplier == memoire.supplier))
    supplier = Actor(SUPPLIER, await _user_of(expert.email))
    memoire = await change_status(memoire.id, supplier, "COMPLETEE", expected_version=memoire.version, comment="Ticket joint.")
    memoire = await change_status(memoire.id, agent, "SERVICE_FAIT", expected_version=memoire.version)
    with pytest.raises(TransitionError):  # no mandate step in this circuit
        await change_status(memoire.id, agent, "MANDATEE", expected_version=memoire.version, mandate_number="M-1")
    from backend.processing.lifecycle import Payment
    memoire = await change_status(memoire.id, agent, "MISE_EN_PAIEMENT", expected_version=memoire.version,
                                  payment=Payment(TODAY, memoire.amount_due))
    assert memoire.status == "MISE_EN_PAIEMENT" and memoire.status_code == "211"


async def _user_of(email: str) -> int:
    from backend.accounts.tables import User

    return (await User.objects().get(User.email == email)).id


async def test_a_memoire_is_sent_within_one_year_of_the_end_of_the_mission(client, expert, court, clock):
    draft_id = await new_draft(client)
    form = (await client.get(f"/justice/drafts/{draft_id}")).text
    assert "dans l'année qui suit la fin de la mission" in html.unescape(form)  # the form says so
    late = memoire_fields(court, decision_date="2025-05-01", mission_start="2025-05-02", mission_end="2025-06-14")
    response = await send(client, draft_id, late)
    assert response.status_code == 422
    said = html.unescape(response.text)
    assert "au plus tard le 14 juin 2026" in said and "Ce délai est dépassé" in said
    assert await Invoice.count() == 0  # nothing half-written
    # The last day (one year after the end) is still in time.
    response = await send(client, draft_id, memoire_fields(court, decision_date="2025-05-01", mission_start="2025-05-02",
                                                           mission_end="2025-06-15"))
    assert response.status_code in (302, 303), response.text
    assert await Invoice.count() == 1


async def test_the_photos_chosen_stay_with_the_draft_after_a_refused_send(client, expert, court):
    draft_id = await new_draft(client)
    late = memoire_fields(court, decision_date="2025-05-01", mission_start="2025-05-02", mission_end="2025-06-14")
    token = csrf_from((await client.get(f"/justice/drafts/{draft_id}")).text)
    refused = await client.post(f"/justice/drafts/{draft_id}/send", data={**late, "_csrf_token": token}, follow_redirects=False,
                                files=[("decision_file", ("ordonnance.png", PNG, "image/png")),
                                       ("attachment", ("peage.pdf", b"not a pdf nor a photo", "application/pdf"))])
    assert refused.status_code == 422
    said = html.unescape(refused.text)
    assert "« peage.pdf » n'est ni une photo (JPEG, PNG) ni un PDF" in said  # a file that cannot be kept is said
    await send(client, draft_id, late)  # its first refusal: the one-year limit, once the receipt is left out
    page = html.unescape((await client.get(f"/justice/drafts/{draft_id}")).text)
    assert "ordonnance.png" in page and "gardée avec le brouillon" in page
    assert await Invoice.count() == 0
    # Corrected, sent without choosing the photo again: the mémoire carries it; the draft is gone with its files.
    response = await send(client, draft_id, memoire_fields(court), photo=False)
    assert response.status_code in (302, 303), response.text
    invoice_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert [a["filename"] for a in await Attachment.select(Attachment.filename).where(Attachment.invoice == invoice_id)] == ["ordonnance.png"]
    assert await MemoireDraftAttachment.count() == 0


async def test_a_photo_saved_with_the_draft_can_be_taken_off(client, expert, court):
    draft_id = await new_draft(client)
    token = csrf_from((await client.get(f"/justice/drafts/{draft_id}")).text)
    saved = await client.post(f"/justice/drafts/{draft_id}", data={**memoire_fields(court), "_csrf_token": token},
                              files=[("attachment", ("ticket.png", PNG, "image/png"))], follow_redirects=False)
    assert saved.status_code in (302, 303), saved.text
    kept = await MemoireDraftAttachment.select().where(MemoireDraftAttachment.draft == draft_id)
    assert [k["filename"] for k in kept] == ["ticket.png"]
    token = csrf_from((await client.get(f"/justice/drafts/{draft_id}")).text)
    removed = await client.post(f"/justice/drafts/{draft_id}/attachments/{kept[0]['id']}/delete",
                                data={**memoire_fields(court, number="MJ2026-0042"), "_csrf_token": token}, follow_redirects=False)
    assert removed.status_code in (302, 303)
    page = html.unescape((await client.get(f"/justice/drafts/{draft_id}")).text)
    assert "ticket.png" not in page and "MJ2026-0042" in page  # what was typed stays


async def test_a_refused_memoire_is_duplicated_under_a_new_number_linked_both_ways(client, expert, court):
    refused = await sent_memoire(client, court)
    agent = Actor(RECIPIENT, await make_user(court.id, can_process=True))
    refused = await change_status(refused.id, agent, "REJETEE", expected_version=refused.version,
                                  reason_code="NON_CONFORME", comment="Ordonnance illisible.")
    supplier = Actor(SUPPLIER, await _user_of(expert.email))
    assert await allowed_actions(refused, supplier) == ["DUPLIQUEE", "ABANDONNEE"]
    with pytest.raises(TransitionError) as elsewhere:  # never without its new mémoire
        await change_status(refused.id, supplier, "DUPLIQUEE", expected_version=refused.version)
    assert elsewhere.value.code == "justice_duplicate_elsewhere"

    token = csrf_from((await client.get(f"/invoices/{refused.id}")).text)
    response = await client.post(f"/justice/memoires/{refused.id}/duplicate", data={"_csrf_token": token, "version": str(refused.version)},
                                 follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    draft_id = int(response.headers["location"].rsplit("/", 1)[1])
    old = await Invoice.objects().get(Invoice.id == refused.id)
    assert old.status == "DUPLIQUEE" and old.status_code == "210"
    page = (await client.get(f"/justice/drafts/{draft_id}")).text
    assert "ORD-2026-118" in page and "MJ2026-0002" in page and "Duplicata du mémoire" in page  # prefilled, new number

    fields = memoire_fields(court, number="MJ2026-0002")
    response = await send(client, draft_id, fields)
    assert response.status_code in (302, 303), response.text
    new = await Invoice.objects().get(Invoice.number == "MJ2026-0002")
    assert (await Memoire.objects().get(Memoire.invoice == new.id)).duplicated_from == old.id
    assert (await Memoire.objects().get(Memoire.invoice == old.id)).duplicate == new.id
    assert "Dupliqué après refus" in (await client.get(f"/invoices/{old.id}")).text
    assert "MJ2026-0002" in (await client.get(f"/invoices/{old.id}")).text
    assert "MJ2026-0001" in (await client.get(f"/invoices/{new.id}")).text
    with pytest.raises(TransitionError):  # its circuit is over
        await change_status(old.id, supplier, "ABANDONNEE", expected_version=None)


async def test_a_refused_memoire_may_be_abandoned(client, expert, court):
    refused = await sent_memoire(client, court)
    agent = Actor(RECIPIENT, await make_user(court.id, can_process=True))
    refused = await change_status(refused.id, agent, "REJETEE", expected_version=refused.version,
                                  reason_code="AUTRE", comment="Hors mission.")
    token = csrf_from((await client.get(f"/invoices/{refused.id}")).text)
    response = await client.post(f"/invoices/{refused.id}/status", data={"_csrf_token": token, "target": "ABANDONNEE",
                                                                         "version": str(refused.version)}, follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    abandoned = await Invoice.objects().get(Invoice.id == refused.id)
    assert abandoned.status == "ABANDONNEE"
    assert await allowed_actions(abandoned, Actor(SUPPLIER, await _user_of(expert.email))) == []
    assert [r["status"] for r in await InvoiceHistory.select(InvoiceHistory.status).where(
        InvoiceHistory.invoice == refused.id).order_by(InvoiceHistory.id)][-2:] == ["REJETEE", "ABANDONNEE"]


async def test_a_sent_memoire_cannot_be_edited(client, expert, court):
    draft_id = await new_draft(client)
    response = await send(client, draft_id, memoire_fields(court))
    assert response.status_code in (302, 303)
    memoire = await Invoice.objects().first()
    assert await MemoireDraft.count() == 0
    assert (await client.get(f"/justice/drafts/{draft_id}")).status_code == 404  # its draft is gone
    # No recycling in the JUSTICE circuit: neither side may change its routing.
    agent = Actor(RECIPIENT, await make_user(court.id, can_process=True))
    with pytest.raises(TransitionError) as refused:
        await change_status(memoire.id, agent, "A_RECYCLER", expected_version=memoire.version, comment="Autre service")
    assert refused.value.http_status == 403
    with pytest.raises(TransitionError):
        await change_status(memoire.id, Actor(SUPPLIER, await _user_of(expert.email)), "DEPOSEE", expected_version=memoire.version,
                            routing=Routing(court.siret))


async def test_a_memoire_goes_only_to_a_juridiction_and_never_as_a_plain_file(client, expert, court, recipient):
    town = await Structure.objects().get(Structure.id == recipient.id)
    response = await send(client, await new_draft(client), memoire_fields(court, juridiction_siret=town.siret))
    assert response.status_code == 422 and "Choisissez la juridiction" in response.text
    # A file whose BT-23 says A3 is refused at deposit, with where to send it.
    response = await post_files(client, [("memoire.pdf", facturx_pdf(cii_bytes(invoice_data(**{"BT-23": "A3"}))))])
    assert "FCT-PORTAL-JUS-01" in response.text
    assert await Invoice.count() == 0
