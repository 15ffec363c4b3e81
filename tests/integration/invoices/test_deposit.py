"""Deposits through the web: validation report, portal rules, archive, and hostile input."""

from __future__ import annotations

import hashlib
import io
import zipfile
from decimal import Decimal

from backend.invoices.tables import Attachment, Deposit, DepositItem, Invoice, InvoiceHistory
from tests.support.web import csrf_from
from tests.unit.validation.invoice_builders import (
    BASE_INVOICE,
    blank_pdf,
    cii_bytes,
    facturx_pdf,
    invoice_data,
    ubl_bytes,
)


async def post_files(client, files: list[tuple[str, bytes]], attachments: list[tuple[str, bytes]] = ()):
    token = csrf_from((await client.get("/deposits")).text)
    parts = [("file", (name, data, "application/octet-stream")) for name, data in files]
    parts += [("attachment", (name, data, "application/octet-stream")) for name, data in attachments]
    return await client.post("/deposits", files=parts, data={"_csrf_token": token})


def with_number(number: str, **overrides) -> dict:
    return invoice_data(**{"BT-1": number, **overrides})


async def test_facturx_deposit_creates_an_invoice_with_certificate_and_archive(client, supplier, settings):
    pdf = facturx_pdf()
    response = await post_files(client, [("facture.pdf", pdf)])
    assert response.status_code == 201, response.text
    assert "Intégré" in response.text and "Déposée (200)" in response.text

    invoice = await Invoice.objects().get(Invoice.number == BASE_INVOICE["BT-1"])
    assert invoice.status == "MISE_A_DISPOSITION" and invoice.status_code == "203"
    assert invoice.amount_due == Decimal("468.00") and invoice.service_code == "SERVICE-COMPTA"
    assert invoice.engagement == "EJ-2026-000123" and invoice.billing_framework == "A1"
    history = await InvoiceHistory.select(InvoiceHistory.status).where(InvoiceHistory.invoice == invoice.id).order_by(InvoiceHistory.id)
    assert [h["status"] for h in history] == ["DEPOSEE", "MISE_A_DISPOSITION"]

    page = await client.get(f"/invoices/{invoice.id}")
    assert page.status_code == 200 and invoice.certificate_number in page.text
    original = await client.get(f"/invoices/{invoice.id}/original")
    assert original.content == pdf
    assert original.headers["x-content-sha256"] == hashlib.sha256(pdf).hexdigest()
    stored = settings.files_dir / hashlib.sha256(pdf).hexdigest()[:2]
    assert stored.exists()


async def test_cii_and_ubl_in_one_deposit(client, supplier):
    response = await post_files(client, [
        ("a.xml", cii_bytes(with_number("CII-1"))), ("b.xml", ubl_bytes(with_number("UBL-1"))),
    ])
    assert response.status_code == 201
    deposit = await Deposit.objects().first()
    assert deposit.state == "IN_INTEGRE" and deposit.accepted_count == 2
    assert {i["format"] for i in await Invoice.select(Invoice.format)} == {"cii-xml", "ubl-xml"}


async def test_duplicate_number_in_the_same_year_is_refused(client, supplier):
    assert (await post_files(client, [("a.xml", cii_bytes())])).status_code == 201
    again = await post_files(client, [("b.pdf", facturx_pdf())])
    assert again.status_code == 422
    assert "FCT-PORTAL-10" in again.text and "déjà été déposée" in again.text
    assert await Invoice.count() == 1
    refused = await DepositItem.objects().where(DepositItem.accepted == False).first()  # noqa: E712
    assert refused.status_code == "213" and refused.invoice is None


async def test_same_number_twice_in_one_flux_keeps_only_the_first(client, supplier):
    response = await post_files(client, [("a.xml", cii_bytes()), ("b.xml", ubl_bytes())])
    assert response.status_code == 201
    assert (await Deposit.objects().first()).state == "IN_INTEGRE_PARTIEL"
    assert await Invoice.count() == 1


async def test_routing_rules(client, supplier):
    cases = {
        "FCT-PORTAL-02": with_number("R1", **{"BG-7": {**BASE_INVOICE["BG-7"], "identifiers": {"0009": "35600000000048"}, "einvoicing_addr": "35600000000048"}}),
        "FCT-PORTAL-04": with_number("R2", **{"BT-10": None}),
        "FCT-PORTAL-05": with_number("R3", **{"BT-10": "ANCIEN"}),
    }
    for rule, data in cases.items():
        data = {k: v for k, v in data.items() if v is not None}
        response = await post_files(client, [(f"{rule}.xml", cii_bytes(data))])
        assert response.status_code == 422, rule
        assert rule in response.text, rule
    assert await Invoice.count() == 0


async def test_seller_must_be_the_depositing_structure(client, accounts, recipient):
    await accounts.registered()  # another SIRET than the invoice's seller
    response = await post_files(client, [("a.xml", cii_bytes())])
    assert response.status_code == 422 and "FCT-PORTAL-09" in response.text
    assert await Invoice.count() == 0


async def test_plain_pdf_is_refused_with_a_clear_message_and_kept_in_history(client, supplier):
    response = await post_files(client, [("scan.pdf", blank_pdf())])
    assert response.status_code == 422
    assert "FCT-DETECT-01" in response.text and "Irrecevable (501)" in response.text  # a plain PDF is no e-invoice at all
    deposit = await Deposit.objects().first()
    assert deposit.state == "IN_REJETE"
    assert (await client.get(f"/deposits/{deposit.id}")).status_code == 200
    assert "Rejeté" in (await client.get("/deposits")).text
    assert await Invoice.count() == 0


async def test_basic_wl_profile_is_refused_by_the_portal_with_an_explanation(client, supplier):
    data = with_number("WL-1", **{"BT-24": "urn:factur-x.eu:1p0:basicwl"})
    del data["BG-25"]  # BASIC WL carries no lines
    response = await post_files(client, [("wl.pdf", facturx_pdf(cii_bytes(data)))])
    assert response.status_code == 422
    assert "FCT-PROFILE-01" in response.text and "EN 16931" in response.text
    assert await Invoice.count() == 0


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def test_zip_flux_gets_a_per_invoice_report(client, supplier):
    flux = _zip({
        "f1.xml": cii_bytes(with_number("Z-1")),
        "dossier/f2.pdf": facturx_pdf(cii_bytes(with_number("Z-2"))),
        "notes.txt": b"pas une facture",
        "../../etc/passwd": b"root",
    })
    response = await post_files(client, [("flux.zip", flux)])
    assert response.status_code == 201
    assert "FCT-ZIP-05" in response.text
    deposit = await Deposit.objects().first()
    assert deposit.state == "IN_INTEGRE_PARTIEL" and deposit.file_count == 4 and deposit.accepted_count == 2
    assert sorted(i["number"] for i in await Invoice.select(Invoice.number)) == ["Z-1", "Z-2"]


async def test_zip_bomb_is_refused_whole(client, supplier):
    bomb = _zip({"f1.xml": cii_bytes(with_number("B-1")), "bomb.xml": b"\0" * (30 * 1024 * 1024)})
    assert len(bomb) < 200_000
    response = await post_files(client, [("flux.zip", bomb)])
    assert response.status_code == 422
    assert "FCT-ZIP-04" in response.text or "FCT-ZIP-06" in response.text
    assert await Invoice.count() == 0


async def test_corrupt_zip_and_truncated_pdf(client, supplier):
    pdf = facturx_pdf()
    response = await post_files(client, [("flux.zip", b"PK\x03\x04garbage"), ("cut.pdf", pdf[: len(pdf) // 2])])
    assert response.status_code == 422
    assert "FCT-ZIP-01" in response.text
    assert await Invoice.count() == 0


async def test_xxe_is_refused(client, supplier):
    evil = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    response = await post_files(client, [("evil.xml", evil)])
    assert response.status_code == 422
    assert "root:" not in response.text
    assert "FCT-XML-02" in response.text


async def test_attachments_are_stored_and_downloadable(client, supplier):
    photo = b"\xff\xd8\xff\xe0" + b"\x00" * 100
    response = await post_files(client, [("f.xml", cii_bytes())], [("bon-livraison.jpg", photo)])
    assert response.status_code == 201
    invoice = await Invoice.objects().first()
    attachment = await Attachment.objects().first()
    download = await client.get(f"/invoices/{invoice.id}/attachments/{attachment.id}")
    assert download.content == photo and download.headers["content-type"] == "image/jpeg"


async def test_attachment_of_unknown_type_refuses_the_invoice(client, supplier):
    response = await post_files(client, [("f.xml", cii_bytes())], [("virus.exe", b"MZ\x90\x00")])
    assert response.status_code == 422 and "FCT-PORTAL-14" in response.text
    assert await Invoice.count() == 0 and await Attachment.count() == 0


async def test_attachment_name_longer_than_chorus_pro_accepts_refuses_the_invoice(client, supplier):
    photo = b"\xff\xd8\xff\xe0" + b"\x00" * 100
    name = "photo-du-chantier-avant-travaux-facade-nord-2026.jpg"  # 52 characters
    response = await post_files(client, [("f.xml", cii_bytes())], [(name, photo)])
    assert response.status_code == 422 and "FCT-PORTAL-20" in response.text
    assert "52 caractères" in response.text
    assert await Invoice.count() == 0 and await Attachment.count() == 0


async def test_no_file_is_a_400(client, supplier):
    token = csrf_from((await client.get("/deposits")).text)
    response = await client.post("/deposits", files=[("other", ("x", b"", "text/plain"))], data={"_csrf_token": token})
    assert response.status_code == 400 and "Aucun fichier" in response.text


async def test_body_over_the_flux_limit_is_a_413(client, supplier, settings):
    token = csrf_from((await client.get("/deposits")).text)
    huge = b"0" * (settings.max_flux_size + 1)
    response = await client.post("/deposits", files=[("file", ("big.xml", huge, "application/xml"))], headers={"X-CSRFToken": token})
    assert response.status_code == 413
    assert await Deposit.count() == 0


async def test_french_rules_warn_by_default_and_block_in_strict_mode(client, supplier):
    # The test invoice lacks the reform's mentions (BR-FR-05): a warning unless strict.
    plain = await post_files(client, [("a.xml", cii_bytes(with_number("FR-1")))])
    assert plain.status_code == 201 and "BR-FR-05_BT-22_PMT" in plain.text
    assert "Règles françaises de la réforme (BR-FR)" in plain.text
    assert await Invoice.count() == 1
    token = csrf_from((await client.get("/deposits")).text)
    strict = await client.post("/deposits", files=[("file", ("b.xml", cii_bytes(with_number("FR-2")), "application/xml"))],
                               data={"_csrf_token": token, "strict_fr": "on"})
    assert strict.status_code == 422 and "BR-FR-05_BT-22_PMT" in strict.text
    assert await Invoice.count() == 1


async def test_certificate_shows_the_file_digest_and_recipient(client, supplier):
    xml = cii_bytes(with_number("C-1"))
    await post_files(client, [("c.xml", xml)])
    invoice = await Invoice.objects().first()
    page = await client.get(f"/invoices/{invoice.id}")
    assert hashlib.sha256(xml).hexdigest() in page.text and "Commune de Paris" in page.text
