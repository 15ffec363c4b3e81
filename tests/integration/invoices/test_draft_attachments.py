"""A draft's photos and files are part of the draft: kept on the server as soon as chosen,
or at the latest with the send that carries them, so a refused send, a reload or another
device never loses them; shown when the draft is reopened, removable, sent with the invoice."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from backend.invoices.tables import Attachment, DraftAttachment, Invoice, InvoiceDraft
from tests.integration.invoices.test_capture import JPEG, _complete_profile, _fields, _new_draft

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _attachment_ids(page: str, draft_id: int) -> list[int]:
    return [int(i) for i in re.findall(rf"/capture/{draft_id}/attachments/(\d+)/delete", page)]


async def _attach(client, draft_id: int, token: str, *files: tuple[str, bytes, str]):
    return await client.post(f"/capture/{draft_id}/attachments", data={"_csrf_token": token},
                             files=[("attachment", f) for f in files], headers={"HX-Request": "true"})


async def test_a_photo_chosen_is_kept_with_the_draft_and_shown_when_reopened(client, supplier, recipient):
    draft_id, token = await _new_draft(client)
    answer = await _attach(client, draft_id, token, ("chantier.jpg", JPEG, "image/jpeg"))
    assert answer.status_code == 200 and "chantier.jpg" in answer.text
    reopened = await client.get(f"/capture/{draft_id}")  # a reload, or the draft on another device
    assert "chantier.jpg" in reopened.text and len(_attachment_ids(reopened.text, draft_id)) == 1
    attachment_id = _attachment_ids(reopened.text, draft_id)[0]
    photo = await client.get(f"/capture/{draft_id}/attachments/{attachment_id}?inline=1")
    assert photo.status_code == 200 and photo.content == JPEG and photo.headers["content-type"] == "image/jpeg"
    again = await _attach(client, draft_id, token, ("chantier.jpg", JPEG, "image/jpeg"))  # chosen twice: kept once
    assert again.status_code == 200 and await DraftAttachment.count() == 1


async def test_a_refused_send_keeps_the_photo_it_carried_and_the_next_send_embeds_it(client, supplier, recipient):
    """A send queued offline carries its photo; refused (profile incomplete), the photo stays
    with the draft; the corrected send, with no file in it, still sends the photo."""
    draft_id, token = await _new_draft(client)
    refused = await client.post(f"/capture/{draft_id}/send", data={**_fields(recipient.siret), "_csrf_token": token},
                                files=[("attachment", ("bon-livraison.jpg", JPEG, "image/jpeg"))])
    assert refused.status_code == 422 and await Invoice.count() == 0
    reopened = await client.get(f"/capture/{draft_id}")
    assert "bon-livraison.jpg" in reopened.text
    await _complete_profile()
    sent = await client.post(f"/capture/{draft_id}/send", data={**_fields(recipient.siret), "_csrf_token": token})
    assert sent.status_code == 200, sent.text[:1500]
    invoice = await Invoice.objects().get(Invoice.number == "F2026-0001")
    pdf = (await client.get(f"/invoices/{invoice.id}/original")).content
    assert "bon-livraison.jpg" in PdfReader(io.BytesIO(pdf)).attachments
    assert [a.filename for a in await Attachment.objects()] == ["bon-livraison.jpg"]
    assert not await InvoiceDraft.exists().where(InvoiceDraft.id == draft_id)
    assert await DraftAttachment.count() == 0  # gone with the draft


async def test_a_photo_can_be_removed_and_is_then_not_sent(client, supplier, recipient):
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    await _attach(client, draft_id, token, ("a.jpg", JPEG, "image/jpeg"), ("b.png", PNG, "image/png"))
    page = await client.get(f"/capture/{draft_id}")
    first, second = _attachment_ids(page.text, draft_id)
    removed = await client.post(f"/capture/{draft_id}/attachments/{first}/delete", data={"_csrf_token": token},
                                headers={"HX-Request": "true"})
    assert removed.status_code == 200 and "a.jpg" not in removed.text and "b.png" in removed.text
    assert "a.jpg" not in (await client.get(f"/capture/{draft_id}")).text
    sent = await client.post(f"/capture/{draft_id}/send", data={**_fields(recipient.siret), "_csrf_token": token})
    assert sent.status_code == 200, sent.text[:1500]
    assert [a.filename for a in await Attachment.objects()] == ["b.png"]


async def test_a_file_that_is_no_photo_nor_pdf_is_refused_in_french_and_not_kept(client, supplier, recipient):
    draft_id, token = await _new_draft(client)
    answer = await _attach(client, draft_id, token, ("notes.txt", b"hello", "text/plain"))
    assert answer.status_code == 422
    assert "« notes.txt » n&#39;est ni une photo (JPEG, PNG) ni un PDF" in answer.text or "« notes.txt » n'est ni une photo" in answer.text
    assert await DraftAttachment.count() == 0


async def test_another_structure_neither_sees_nor_removes_a_drafts_photo(client, accounts, supplier, recipient):
    draft_id, token = await _new_draft(client)
    await _attach(client, draft_id, token, ("chantier.jpg", JPEG, "image/jpeg"))
    attachment_id = (await DraftAttachment.select(DraftAttachment.id).first())["id"]
    await accounts.logout()
    await accounts.registered(company="Autre SARL")
    assert (await client.get(f"/capture/{draft_id}/attachments/{attachment_id}")).status_code == 404
    page = await client.get("/capture")
    other_token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    removed = await client.post(f"/capture/{draft_id}/attachments/{attachment_id}/delete", data={"_csrf_token": other_token})
    assert removed.status_code == 404 and await DraftAttachment.count() == 1


async def test_the_same_photo_sent_twice_at_once_is_kept_once(client, supplier, recipient, settings):
    """The field's upload and a send carrying the same photo can arrive together."""
    import anyio

    from backend.invoices import draft_files
    from backend.invoices.deposit import Upload

    draft_id, _ = await _new_draft(client)
    async with anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(draft_files.add, settings, draft_id, [Upload("chantier.jpg", JPEG)])
    assert await DraftAttachment.count().where(DraftAttachment.draft == draft_id) == 1


async def test_an_invoice_started_on_a_phone_with_no_draft_gets_one_with_its_photo(client, supplier, recipient):
    """A second invoice typed offline while the ready draft waits has no draft on the server
    (offline.js): its queued send to /capture/new/send makes one, which keeps the photo when
    the send is refused; without a device's key there is nothing to make it for."""
    draft_id, token = await _new_draft(client)
    page = await client.get(f"/capture/{draft_id}")
    structure = re.search(r'name="structure" value="(\d+)"', page.text).group(1)
    fields = {**_fields(recipient.siret, number="F2026-0002"), "_csrf_token": token, "structure": structure}
    assert (await client.post("/capture/new/send", data=fields)).status_code == 404
    refused = await client.post("/capture/new/send", data={**fields, "idempotency_key": "0f0e0d0c-phone-2"},
                                files=[("attachment", ("devis.jpg", JPEG, "image/jpeg"))])
    assert refused.status_code == 422 and refused.headers["x-facteur-result"] == "invalid"  # no VAT number in the profile
    made = int(re.fullmatch(r"/capture/(\d+)\?check=1", refused.headers["x-facteur-location"]).group(1))
    assert made != draft_id
    reopened = await client.get(f"/capture/{made}")
    assert 'value="F2026-0002"' in reopened.text and "devis.jpg" in reopened.text


async def test_a_phone_only_send_refused_then_sent_again_points_to_the_draft_it_made(client, supplier, recipient):
    """The answer to a phone-only send (draft 0) was lost and the phone sends it again: the
    replayed report points to the draft the first send made, never to draft 0."""
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    page = await client.get(f"/capture/{draft_id}")
    structure = re.search(r'name="structure" value="(\d+)"', page.text).group(1)
    fields = {**_fields(recipient.siret, number="F2026-0003", service_code=""), "_csrf_token": token,
              "structure": structure, "idempotency_key": "0f0e0d0c-phone-3"}
    first = await client.post("/capture/new/send", data=fields)
    assert first.status_code == 422 and first.headers["x-facteur-result"] == "refused"  # FCT-PORTAL-04: no service code
    again = await client.post("/capture/new/send", data=fields)
    assert again.headers["x-facteur-location"] == first.headers["x-facteur-location"]
    made = int(re.fullmatch(r"/deposits/\d+\?draft=(\d+)", again.headers["x-facteur-location"]).group(1))
    assert made != draft_id and f"/capture/{made}" in again.text
    assert 'value="F2026-0003"' in (await client.get(f"/capture/{made}")).text
