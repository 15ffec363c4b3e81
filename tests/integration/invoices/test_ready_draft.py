""""Nouvelle facture" with no network: the ready draft the capture page prepares, and a send
queued on the phone whose draft has gone in the meantime."""

from __future__ import annotations

import re
import uuid

from backend.directory.tables import Structure
from backend.invoices.tables import Invoice, InvoiceDraft
from tests.integration.invoices.test_capture import JPEG, _complete_profile, _fields, _new_draft
from tests.support.web import csrf_from, post_form
from tests.unit.validation.invoice_builders import SELLER_SIRET


async def _ready(client) -> tuple[int, str]:
    page = await client.get("/capture")
    assert page.status_code == 200
    found = re.search(r'data-ready-draft="/capture/(\d+)"', page.text)
    assert found, "the capture page names no ready draft"
    return int(found.group(1)), page.text


async def test_the_capture_page_keeps_one_ready_draft_up_to_date_and_unlisted(client, supplier, recipient):
    await _complete_profile()
    ready, text = await _ready(client)
    assert "Aucun brouillon." in text  # blank: nothing to resume, so not listed
    assert (await _ready(client))[0] == ready and await InvoiceDraft.count() == 1  # the same one at each visit

    # Another invoice takes the number the ready draft suggested: the next visit suggests the next one.
    draft_id, token = await _new_draft(client)
    sent = await client.post(f"/capture/{draft_id}/send", data={**_fields(recipient.siret, number="FAC-0041"), "_csrf_token": token})
    assert sent.status_code == 200 and await Invoice.count() == 1
    assert (await _ready(client))[0] == ready
    assert 'value="FAC-0042"' in (await client.get(f"/capture/{ready}")).text

    # Typed into (here online), it is an ordinary draft, listed; another one is made ready.
    saved = await client.post(f"/capture/{ready}", data={**_fields(recipient.siret, number="FAC-0042"), "_csrf_token": token},
                              headers={"HX-Request": "true"})
    assert saved.status_code == 200
    following, text = await _ready(client)
    assert following != ready and f'href="/capture/{ready}"' in text and f'href="/capture/{following}"' not in text


async def test_a_queued_send_whose_draft_has_gone_still_makes_the_invoice(client, supplier, recipient):
    await _complete_profile()
    structure = await Structure.objects().get(Structure.siret == SELLER_SIRET)
    draft_id, token = await _new_draft(client)
    assert (await post_form(client, f"/capture/{draft_id}", f"/capture/{draft_id}/delete", {})).status_code == 200  # from another device

    async def send(**extra: str):
        data = {**_fields(recipient.siret, number="HORS-1"), "_csrf_token": token, **extra}
        return await client.post(f"/capture/{draft_id}/send", data=data, files=[("attachment", ("photo.jpg", JPEG, "image/jpeg"))],
                                 follow_redirects=False)

    # Not from the device's queue (no key), or typed for another structure: the draft is simply not found.
    assert (await send(structure=str(structure.id))).status_code == 404
    assert (await send(structure=str(structure.id + 1), idempotency_key=str(uuid.uuid4()))).status_code == 404
    assert await Invoice.count() == 0

    # From the queue: what the phone holds becomes the invoice.
    key = str(uuid.uuid4())
    answer = await send(structure=str(structure.id), idempotency_key=key)
    assert answer.status_code in (302, 303) and answer.headers["x-facteur-result"] == "accepted"
    invoice = await Invoice.objects().get(Invoice.number == "HORS-1")
    assert answer.headers["location"] == f"/invoices/{invoice.id}" and invoice.supplier == structure.id
    again = await send(structure=str(structure.id), idempotency_key=key)  # its answer lost: the same invoice
    assert again.headers["location"] == answer.headers["location"] and await Invoice.count() == 1


async def test_the_form_names_the_structure_it_is_typed_for(client, supplier, recipient):
    draft_id, _ = await _new_draft(client)
    structure = await Structure.objects().get(Structure.siret == SELLER_SIRET)
    page = await client.get(f"/capture/{draft_id}")
    assert f'name="structure" value="{structure.id}"' in page.text and csrf_from(page.text)


async def test_a_refused_send_reports_with_a_way_back_to_its_draft(client, supplier, recipient):
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    refused = await client.post(f"/capture/{draft_id}/send", data={**_fields(recipient.siret, service_code=""), "_csrf_token": token,
                                                                    "idempotency_key": str(uuid.uuid4())})
    assert refused.status_code == 422 and refused.headers["x-facteur-result"] == "refused"
    report = refused.headers["x-facteur-location"]
    assert report.endswith(f"?draft={draft_id}")
    assert f'href="/capture/{draft_id}">Corriger le brouillon' in (await client.get(report)).text
    # Another draft id (not ours, or gone) offers nothing; a malformed one is a 400, not a 500.
    deposit_page = report.split("?")[0]
    assert "Corriger le brouillon" not in (await client.get(f"{deposit_page}?draft={draft_id + 1000}")).text
    assert (await client.get(f"{deposit_page}?draft=abc")).status_code == 400
