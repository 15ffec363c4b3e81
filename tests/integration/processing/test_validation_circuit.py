"""The validation circuit (issue #11): a subcontractor's (A9) or co-contractor's (A12) invoice goes
to its validator (titulaire or mandataire) before the public recipient, who receives it only once
validated, explicitly or tacitly after 15 days (the worker's deadline pass, with the clock fixture)."""

from __future__ import annotations

import json

import pytest

from backend.accounts import spaces
from backend.accounts.tables import Membership, User
from backend.directory.tables import Structure
from backend.invoices.tables import Invoice, InvoiceHistory
from backend.lib.common import fold
from backend.processing import deadlines, worker
from backend.processing.lifecycle import Actor, TransitionError, allowed_actions, change_status
from backend.processing.tables import Deadline, Outbox
from backend.tracking.tables import Event
from tests.integration.processing.conftest import make_user
from tests.support.accounts import valid_siret
from tests.support.web import csrf_from
from tests.unit.validation.invoice_builders import SELLER_SIRET, cii_bytes, facturx_pdf, invoice_data


async def company(name: str) -> Structure:
    siret = valid_siret()
    structure = Structure(siret=siret, siren=siret[:9], name=name, search_key=fold(name), is_public=False, active=True)
    await structure.save()
    return structure


async def deposit_subcontracted(client, framework: str = "A9", **fields: str):
    """The subcontractor deposits a Factur-X whose BT-23 says A9 (or A12), naming its validator(s)."""
    token = csrf_from((await client.get("/deposits")).text)
    pdf = facturx_pdf(cii_bytes(invoice_data(**{"BT-23": framework})))
    return await client.post("/deposits", files=[("file", ("facture.pdf", pdf, "application/pdf"))],
                             data={"_csrf_token": token, **fields})


async def statuses(invoice_id: int) -> list[str]:
    rows = await InvoiceHistory.select(InvoiceHistory.status).where(InvoiceHistory.invoice == invoice_id).order_by(InvoiceHistory.id)
    return [r["status"] for r in rows]


async def outbox_rows(channel: str, event: str | None = None) -> list[dict]:
    query = Outbox.select().where(Outbox.channel == channel)
    if event:
        query = query.where(Outbox.event_type == event)
    return [json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"] for r in await query.order_by(Outbox.id)]


@pytest.fixture
async def titulaire():
    structure = await company("Bâtiment Général SA")
    return structure, await make_user(structure.id, can_deposit=True)


@pytest.fixture
async def pending(client, supplier, recipient, titulaire) -> Invoice:
    response = await deposit_subcontracted(client, validator_siret=titulaire[0].siret)
    assert response.status_code == 201, response.text
    return await Invoice.objects().first()


async def test_a_subcontractor_invoice_waits_for_its_validator_not_the_recipient(pending, titulaire, recipient):
    assert (pending.status, pending.billing_framework, pending.validator_1) == ("A_VALIDER_1", "A9", titulaire[0].id)
    assert pending.payment_due_by is None  # the payment delay runs from the recipient's reception
    assert pending.validation_due_at is not None
    assert await statuses(pending.id) == ["DEPOSEE", "A_VALIDER_1"]
    # The validator's people get a push; the recipient gets no "invoice.received" yet.
    [push] = await outbox_rows("push", "validation.requested")
    assert push["audience"] == {"structure_id": titulaire[0].id} and "à valider" in push["title"]
    assert await outbox_rows("webhook", "invoice.received") == []
    [webhook] = await outbox_rows("webhook", "invoice.status_changed")
    assert webhook["validator_id"] == titulaire[0].id  # heard by the validator's webhooks, not the recipient's
    # Live pages: the event goes to the supplier's and the validator's streams, not the recipient's.
    events = await Event.select(Event.supplier, Event.recipient).where(Event.invoice == pending.id)
    assert events and all(e["recipient"] == titulaire[0].id for e in events)
    # The recipient cannot act on it, nor even see it.
    agent = await make_user(recipient.id, can_process=True)
    with pytest.raises(TransitionError) as hidden:
        await change_status(pending.id, Actor("recipient", agent), "PRISE_EN_CHARGE", expected_version=None)
    assert hidden.value.http_status == 404
    assert await allowed_actions(pending, Actor("validator", titulaire[1])) == ["VALIDEE_1", "REFUSEE_1"]
    assert await deadlines.pending("validation_tacit_1", pending.id) is not None


async def test_validator_accepts_then_the_recipient_receives_and_processes_it(pending, titulaire, recipient):
    validator = Actor("validator", titulaire[1])
    saved = await change_status(pending.id, validator, "VALIDEE_1", expected_version=pending.version)
    assert saved.status == "MISE_A_DISPOSITION" and saved.validation_due_at is None
    assert saved.payment_due_by is not None  # the payment delay starts at reception
    assert await statuses(pending.id) == ["DEPOSEE", "A_VALIDER_1", "VALIDEE_1", "MISE_A_DISPOSITION"]
    [received] = await outbox_rows("webhook", "invoice.received")
    assert received["recipient_id"] == recipient.id
    assert (await Deadline.select(Deadline.outcome).where(Deadline.kind == "validation_tacit_1").first())["outcome"] == "cancelled"
    agent = Actor("recipient", await make_user(recipient.id, can_process=True))
    assert "PRISE_EN_CHARGE" in await allowed_actions(saved, agent)
    taken = await change_status(pending.id, agent, "PRISE_EN_CHARGE", expected_version=saved.version)
    assert taken.status == "PRISE_EN_CHARGE"
    # The titulaire still sees it, read-only.
    assert await allowed_actions(taken, validator) == []


async def test_a_refusal_needs_a_reason_and_ends_the_circuit(pending, titulaire, recipient, client):
    validator = Actor("validator", titulaire[1])
    with pytest.raises(TransitionError) as no_reason:
        await change_status(pending.id, validator, "REFUSEE_1", expected_version=None)
    assert (no_reason.value.http_status, no_reason.value.code) == (422, "comment_required")
    assert (await Invoice.objects().get(Invoice.id == pending.id)).status == "A_VALIDER_1"  # nothing written
    saved = await change_status(pending.id, validator, "REFUSEE_1", expected_version=None, comment="Travaux non réalisés")
    assert saved.status == "REFUSEE_1"
    refusal = await InvoiceHistory.select().where(InvoiceHistory.status == "REFUSEE_1").first()
    assert (refusal["actor_kind"], refusal["comment"]) == ("validator", "Travaux non réalisés")
    supplier_push = [p for p in await outbox_rows("push") if p.get("status") == "REFUSEE_1"]
    assert supplier_push and supplier_push[0]["audience"] == {"structure_id": pending.supplier}
    with pytest.raises(TransitionError) as over:
        await change_status(pending.id, validator, "VALIDEE_1", expected_version=None)
    assert over.value.http_status == 409 and "refusée" in over.value.message_fr
    assert await outbox_rows("webhook", "invoice.received") == []  # the recipient never received it
    page = await client.get(f"/invoices/{pending.id}")  # the subcontractor reads why
    assert "Travaux non réalisés" in page.text and "Refusée par le titulaire" in page.text


async def test_fifteen_days_of_silence_validate_tacitly_through_the_worker(pending, titulaire, recipient, clock):
    clock.advance(days=11)
    await worker.run_pass()
    assert (await Invoice.objects().get(Invoice.id == pending.id)).status == "A_VALIDER_1"
    assert len(await outbox_rows("push", "validation.requested")) == 1  # the deposit's push, no reminder yet
    clock.advance(days=1)  # three days before the end: the reminder (push and e-mail)
    await deadlines.run_due()
    pushes = await outbox_rows("push", "validation.requested")
    assert [p.get("reminder", False) for p in pushes] == [False, True]
    mails = await outbox_rows("validation_email")
    assert len(mails) == 1 and "avant le" in mails[0]["subject"]
    clock.advance(days=3)
    await deadlines.run_due()
    saved = await Invoice.objects().get(Invoice.id == pending.id)
    assert saved.status == "MISE_A_DISPOSITION"
    assert await statuses(pending.id) == ["DEPOSEE", "A_VALIDER_1", "ABSENCE_VALIDATION_1_HORS_DELAI", "MISE_A_DISPOSITION"]
    tacit = await InvoiceHistory.select().where(InvoiceHistory.status == "ABSENCE_VALIDATION_1_HORS_DELAI").first()
    assert tacit["actor_kind"] == "platform"
    assert len(await outbox_rows("webhook", "invoice.received")) == 1
    assert await deadlines.run_due() == 0  # once


async def test_a_co_contractor_subcontractor_goes_through_two_levels(client, supplier, recipient, clock):
    cotraitant, mandataire = await company("Plomberie Associée"), await company("Mandataire SA")
    cotraitant_user = await make_user(cotraitant.id, can_deposit=True)
    mandataire_user = await make_user(mandataire.id, can_deposit=True)
    response = await deposit_subcontracted(client, validator_siret=cotraitant.siret, validator_2_siret=mandataire.siret)
    assert response.status_code == 201, response.text
    invoice = await Invoice.objects().first()
    with pytest.raises(TransitionError) as not_yet:  # the mandataire waits for the co-contractor
        await change_status(invoice.id, Actor("validator", mandataire_user), "VALIDEE_1", expected_version=None)
    assert not_yet.value.http_status in (403, 404)
    first = await change_status(invoice.id, Actor("validator", cotraitant_user), "VALIDEE_1", expected_version=None)
    assert first.status == "A_VALIDER_2"
    assert await allowed_actions(first, Actor("validator", mandataire_user)) == ["VALIDEE_2", "REFUSEE_2"]
    assert await outbox_rows("webhook", "invoice.received") == []
    clock.advance(days=15, seconds=60)  # the mandataire stays silent: level 2 is validated tacitly
    await deadlines.run_due()
    saved = await Invoice.objects().get(Invoice.id == invoice.id)
    assert saved.status == "MISE_A_DISPOSITION"
    assert await statuses(invoice.id) == ["DEPOSEE", "A_VALIDER_1", "VALIDEE_1", "A_VALIDER_2",
                                          "ABSENCE_VALIDATION_2_HORS_DELAI", "MISE_A_DISPOSITION"]


@pytest.mark.parametrize(("fields", "rule"), [
    ({}, "FCT-PORTAL-21"),  # A9 without its validator
    ({"validator_siret": valid_siret(987654)}, "FCT-PORTAL-22"),  # nobody registered under that SIRET
    ({"validator_siret": SELLER_SIRET}, "FCT-PORTAL-23"),  # the subcontractor cannot validate itself
])
async def test_a_subcontractor_invoice_without_a_usable_validator_is_refused(client, supplier, recipient, fields, rule):
    response = await deposit_subcontracted(client, **fields)
    assert response.status_code == 422 and rule in response.text
    assert await Invoice.count() == 0


async def test_a_validator_for_a_simple_invoice_is_refused(client, supplier, recipient, titulaire):
    response = await deposit_subcontracted(client, "A1", validator_siret=titulaire[0].siret)
    assert response.status_code == 422 and "FCT-PORTAL-24" in response.text


async def test_the_titulaire_validates_from_its_phone_page(client, accounts, supplier, recipient):
    """The validator's « Factures à valider » page: days left, accept; the invoice page shows the step."""
    person = accounts.person(company="Bâtiment Général SA")
    assert (await accounts.signup(person)).status_code == 201 and (await accounts.confirm(person)).status_code in (200, 302)
    response = await deposit_subcontracted(client, validator_siret=person.siret)  # still signed in as the subcontractor
    assert response.status_code == 201, response.text
    invoice = await Invoice.objects().first()
    assert (await accounts.login(person)).status_code in (200, 302)
    home = await client.get("/")
    assert "Une facture attend votre validation" in home.text
    page = await client.get("/validations")
    assert page.status_code == 200 and f"Facture n°&nbsp;{invoice.number}" in page.text
    assert "Encore 15 jours" in page.text and "Menuiserie Dupont SARL" in page.text
    token = csrf_from(page.text)
    done = await client.post(f"/invoices/{invoice.id}/status",
                             data={"_csrf_token": token, "target": "VALIDEE_1", "version": str(invoice.version)})
    assert done.status_code in (200, 302, 303), done.text
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).status == "MISE_A_DISPOSITION"
    shown = await client.get(f"/invoices/{invoice.id}")  # read-only for the titulaire afterwards
    assert shown.status_code == 200 and "Validée par le titulaire" in shown.text and "Bâtiment Général SA" in shown.text
    assert 'name="target"' not in shown.text
    assert "Aucune facture n'attend votre validation" in (await client.get("/validations")).text


async def test_a_validator_with_only_factures_a_valider_reads_and_decides_its_invoice(client, accounts, supplier, recipient):
    """A member of the titulaire with « Factures à valider » and no right in « Factures émises »:
    consultation opens the invoice it validates (no action), modification decides it; the side's
    invoice pages stay closed, and a right in « Factures émises » alone does not decide it."""
    person = accounts.person(company="Bâtiment Général SA")
    assert (await accounts.signup(person)).status_code == 201 and (await accounts.confirm(person)).status_code in (200, 302)
    response = await deposit_subcontracted(client, validator_siret=person.siret)  # signed in as the subcontractor
    assert response.status_code == 201, response.text
    invoice = await Invoice.objects().first()
    await accounts.logout()
    member = await User.objects().get(User.email == person.email)

    async def rights(stored: str) -> str:
        await Membership.update({Membership.is_manager: False, Membership.is_principal: False,
                                 Membership.space_rights: stored, **spaces.legacy_flags(spaces.parse_rights(stored))}).where(
            Membership.user == member.id)
        await accounts.logout()
        assert (await accounts.login(person)).status_code in (200, 302)
        return csrf_from((await client.get("/account")).text)

    async def decide(token: str):
        return await client.post(f"/invoices/{invoice.id}/status", follow_redirects=False,
                                 data={"_csrf_token": token, "target": "VALIDEE_1", "version": str(invoice.version)})

    token = await rights("a_valider:consultation")
    shown = await client.get(f"/invoices/{invoice.id}")
    assert shown.status_code == 200 and f"{invoice.number}" in shown.text
    assert 'name="target"' not in shown.text
    assert (await client.get(f"/invoices/{invoice.id}/original")).headers["content-type"] == "application/pdf"
    listed = await client.get("/validations")  # its list, without the buttons to decide
    assert f"Facture n°&nbsp;{invoice.number}" in listed.text and "Refuser la facture" not in listed.text
    assert (await client.get("/invoices")).status_code == 404  # nothing more: the list is the side's
    assert (await decide(token)).status_code == 404
    token = await rights("emises:modification,a_valider:consultation")
    assert (await decide(token)).status_code == 404  # « Factures émises » does not decide a validation
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).status == "A_VALIDER_1"
    token = await rights("a_valider:modification")
    assert "Refuser la facture" in (await client.get("/validations")).text
    assert 'name="target"' in (await client.get(f"/invoices/{invoice.id}")).text
    assert (await decide(token)).status_code in (302, 303)
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).status == "MISE_A_DISPOSITION"
    # Another company's invoice that the titulaire does not validate stays closed.
    other = await company("Autre Entreprise")
    await Invoice.update({Invoice.validator_1: other.id}).where(Invoice.id == invoice.id)
    assert (await client.get(f"/invoices/{invoice.id}")).status_code == 404
