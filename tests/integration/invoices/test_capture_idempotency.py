"""A capture queued on the phone while offline may reach the server twice: it is deposited once."""

from __future__ import annotations

import uuid

import anyio

from backend.invoices.tables import Deposit, Invoice, InvoiceDraft
from tests.integration.invoices.test_capture import JPEG, _complete_profile, _fields, _new_draft


async def _send(client, draft_id: int, token: str, fields: dict, key: str):
    return await client.post(f"/capture/{draft_id}/send", data={**fields, "_csrf_token": token, "idempotency_key": key},
                             files=[("attachment", ("photo.jpg", JPEG, "image/jpeg"))], follow_redirects=False)


async def test_a_replayed_send_returns_the_first_invoice(client, supplier, recipient):
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    key = str(uuid.uuid4())
    first = await _send(client, draft_id, token, _fields(recipient.siret), key)
    assert first.status_code in (302, 303) and first.headers["x-facteur-result"] == "accepted"
    # The answer was lost on the way back (network gone): the device sends the same draft again,
    # although the draft no longer exists on the server.
    again = await _send(client, draft_id, token, _fields(recipient.siret), key)
    assert again.status_code == first.status_code and again.headers["location"] == first.headers["location"]
    assert await Invoice.count() == 1 and await Deposit.count() == 1
    assert not await InvoiceDraft.exists().where(InvoiceDraft.id == draft_id)
    assert (await Deposit.objects().first()).idempotency_key == key


async def test_concurrent_copies_of_one_send_make_one_invoice(client, supplier, recipient):
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    key = str(uuid.uuid4())
    answers = []

    async def send() -> None:
        answers.append(await _send(client, draft_id, token, _fields(recipient.siret), key))

    async with anyio.create_task_group() as group:  # the page and Background Sync at the same moment
        group.start_soon(send)
        group.start_soon(send)
    assert await Invoice.count() == 1 and await Deposit.count() == 1
    invoice = await Invoice.objects().first()
    assert [a.headers.get("location") for a in answers] == [f"/invoices/{invoice.id}"] * 2


async def test_a_refused_send_replays_its_report_and_a_new_key_sends_the_correction(client, supplier, recipient):
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    key = str(uuid.uuid4())
    refused = await _send(client, draft_id, token, _fields(recipient.siret, service_code=""), key)
    assert refused.status_code == 422 and refused.headers["x-facteur-result"] == "refused"
    report = refused.headers["x-facteur-location"]
    assert (await client.get(report)).status_code == 200
    again = await _send(client, draft_id, token, _fields(recipient.siret, service_code=""), key)
    assert again.status_code == 422 and again.headers["x-facteur-location"] == report
    assert await Deposit.count() == 1
    corrected = await _send(client, draft_id, token, _fields(recipient.siret), str(uuid.uuid4()))
    assert corrected.headers["x-facteur-result"] == "accepted" and await Invoice.count() == 1


async def test_an_incomplete_draft_points_to_its_check_page(client, supplier, recipient):
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    response = await _send(client, draft_id, token, _fields(recipient.siret, recipient_siret=""), str(uuid.uuid4()))
    assert response.status_code == 422 and response.headers["x-facteur-result"] == "invalid"
    check = await client.get(response.headers["x-facteur-location"])
    assert "ne peut pas encore être envoyée" in check.text and "entité publique destinataire" in check.text


async def test_a_malformed_key_is_refused(client, supplier, recipient):
    draft_id, token = await _new_draft(client)
    response = await _send(client, draft_id, token, _fields(recipient.siret), "x' or 1=1")
    assert response.status_code == 400 and await Deposit.count() == 0
