"""The reform's lifecycle through API v1: status events with their codes and CDAR messages, the
supplier's collection (212), and a recipient's software changing a status with a CDAR message."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from backend.invoices.tables import Invoice
from backend.lib.common import paris_today
from backend.processing import cdar
from backend.processing.tables import Outbox
from backend.tracking.tables import Event
from tests.integration.api.conftest import invoice_file
from tests.support import cdar_check


async def _status(api, invoice_id: int, **body):
    response = await api.post(f"/api/v1/received/{invoice_id}/status", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def _paid(recipient_api, invoice: Invoice, amount: str) -> None:
    await _status(recipient_api, invoice.id, status="MISE_EN_PAIEMENT", payment={"date": paris_today().isoformat(), "amount": amount})


async def _lifecycle(api, side: str, invoice_id: int) -> list[dict]:
    response = await api.get(f"/api/v1/{side}/{invoice_id}/lifecycle")
    assert response.status_code == 200, response.text
    return response.json()


async def _every_message_is_valid(api, events: list[dict]) -> list[bytes]:
    messages = []
    for item in events:
        if item["cdar_url"] is None:
            continue
        response = await api.get(item["cdar_url"])
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
        root, problems = cdar.validate(response.content)
        assert root is not None and cdar.fatal(problems) == [], (item["status"], problems)
        assert cdar.read_posted(root).code == item["code"]
        messages.append(response.content)
    return messages


async def test_the_whole_cycle_is_listed_in_order_with_valid_messages(supplier_api, recipient_api, invoice):
    await _status(recipient_api, invoice.id, status="PRISE_EN_CHARGE")
    await _status(recipient_api, invoice.id, status="SUSPENDUE", reason_code="JUSTIF_ABS", comment="Bon de livraison ?")
    answer = await supplier_api.post(f"/api/v1/invoices/{invoice.id}/completion", json={"comment": "Le voici."})
    assert answer.status_code == 200, answer.text
    await _status(recipient_api, invoice.id, status="SERVICE_FAIT")
    await _status(recipient_api, invoice.id, status="MANDATEE", mandate_number="M-1")
    await _paid(recipient_api, invoice, str(invoice.amount_due))
    collected = await supplier_api.post(f"/api/v1/invoices/{invoice.id}/collection",
                                        json={"date": paris_today().isoformat(), "amount": f"{invoice.amount_due:.2f}"})
    assert collected.status_code == 200, collected.text
    assert collected.json()["status"] == "ENCAISSEE" and collected.json()["status_code_2026"] == "212"

    events = await _lifecycle(supplier_api, "invoices", invoice.id)
    assert [(e["status"], e["code"]) for e in events] == [
        ("DEPOSEE", "200"), ("MISE_A_DISPOSITION", "203"), ("PRISE_EN_CHARGE", "204"), ("SUSPENDUE", "208"),
        ("COMPLETEE", "209"), ("SERVICE_FAIT", "205"), ("MANDATEE", None), ("MISE_EN_PAIEMENT", "211"), ("ENCAISSEE", "212"),
    ]
    assert events[3]["reason_code"] == "JUSTIF_ABS" and events[3]["label"] == "Suspendue"
    assert events[6]["cdar_url"] is None  # the mandate has no reform status: no message
    assert events[8]["payment"] == {"date": paris_today().isoformat(), "amount": f"{invoice.amount_due:.2f}"}
    assert [e["date"] for e in events] == sorted(e["date"] for e in events)
    before = len(cdar_check.checked)
    messages = await _every_message_is_valid(supplier_api, events)
    assert len(messages) == 8
    assert cdar_check.checked[before:] == messages  # the suite-wide check saw each message the product made
    # The recipient sees the same cycle, the collection included, at its own addresses.
    seen = await _lifecycle(recipient_api, "received", invoice.id)
    assert [e["status"] for e in seen] == [e["status"] for e in events] and seen[-1]["cdar_url"].startswith("/api/v1/received/")
    assert (await recipient_api.get(f"/api/v1/invoices/{invoice.id}/lifecycle")).status_code == 404  # not its sent invoice


async def test_refusal_recycling_and_acknowledgement_give_valid_messages(supplier_api, recipient_api, invoice):
    await _status(recipient_api, invoice.id, status="A_RECYCLER", reason_code="CODE_ROUTAGE_ERR", comment="Mauvais service")
    recycled = await supplier_api.post(f"/api/v1/invoices/{invoice.id}/recycling",
                                       json={"recipient_siret": recipient_api.structure.siret, "service_code": "SERVICE-COMPTA"})
    assert recycled.status_code == 200, recycled.text
    await _status(recipient_api, invoice.id, status="REJETEE", reason_code="DOUBLON", comment="Déjà reçue")
    assert (await supplier_api.post(f"/api/v1/invoices/{invoice.id}/acknowledgement", json={})).status_code == 200
    events = await _lifecycle(supplier_api, "invoices", invoice.id)
    assert [e["code"] for e in events] == ["200", "203", "221", "200", "203", "210"]  # the acknowledgement is no status
    assert events[2]["reform_reason_code"] == "ROUTAGE_ERR" and events[5]["reform_reason_code"] == "DOUBLON"
    messages = await _every_message_is_valid(supplier_api, events)
    assert b"<ram:ReasonCode>ROUTAGE_ERR</ram:ReasonCode>" in messages[2]


async def test_partial_collections_add_up_and_never_exceed_the_amount_due(supplier_api, recipient_api, invoice):
    due = invoice.amount_due
    url = f"/api/v1/invoices/{invoice.id}/collection"
    today = paris_today().isoformat()
    early = await supplier_api.post(url, json={"date": today, "amount": "1"})
    assert early.status_code == 409 and early.json()["code"] == "transition_refused"  # nothing paid yet
    await _paid(recipient_api, invoice, str(due))
    assert (await supplier_api.post(url, json={"date": today, "amount": "100.00"})).status_code == 200
    too_much = await supplier_api.post(url, json={"date": today, "amount": str(due)})
    assert too_much.status_code == 422 and too_much.json()["code"] == "collection_exceeds"
    assert "reste à encaisser" in too_much.json()["detail"]
    future = await supplier_api.post(url, json={"date": (paris_today() + timedelta(days=1)).isoformat(), "amount": "1"})
    assert future.status_code == 422 and future.json()["code"] == "collection_date_future"
    assert (await supplier_api.post(url, json={"date": today, "amount": str(due - 100)})).status_code == 200
    done = await supplier_api.post(url, json={"date": today, "amount": "0.01"})
    assert done.status_code == 409 and done.json()["code"] == "fully_collected"
    events = [e for e in await _lifecycle(recipient_api, "received", invoice.id) if e["status"] == "ENCAISSEE"]
    assert [e["payment"]["amount"] for e in events] == ["100.00", f"{due - 100:.2f}"]
    # As every status: a webhook row and a live event for both sides.
    hooks = [json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]
             for r in await Outbox.select(Outbox.payload).where((Outbox.invoice == invoice.id) & (Outbox.channel == "webhook"))]
    assert [h["status_code"] for h in hooks if h["status"] == "ENCAISSEE"] == ["212", "212"]
    live = await Event.select(Event.payload, Event.recipient).where(Event.invoice == invoice.id).output(load_json=True)
    assert [e["recipient"] for e in live if e["payload"]["status"] == "ENCAISSEE"] == [recipient_api.structure.id] * 2
    # The recipient may not record a collection, nor the supplier before the payment.
    assert (await recipient_api.post(url, json={"date": today, "amount": "1"})).status_code in (403, 404)


def _message(invoice: Invoice, code: str, **overrides) -> bytes:
    buyer, seller = cdar.Party(invoice.buyer_siret[:9], "Acheteur", "BY"), cdar.Party(invoice.seller_siret[:9], "Vendeur", "SE")
    values = dict(message_id=f"ERP-{code}", code=code, set_at=invoice.deposited_at, invoice_number=invoice.number,
                  invoice_type="380", invoice_date=invoice.issue_date, received_at=invoice.deposited_at, currency="EUR",
                  issuer=buyer, recipient=seller, seller_siren=seller.siren)
    return cdar.build(cdar.LifecycleEvent(**(values | overrides)))


async def _post_cdar(api, invoice_id: int, data: bytes):
    return await api.post(f"/api/v1/received/{invoice_id}/lifecycle", content=data, headers={"Content-Type": "application/xml"})


async def test_a_recipient_software_changes_the_status_with_cdar_messages(recipient_api, invoice):
    taken = await _post_cdar(recipient_api, invoice.id, _message(invoice, "204"))
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "PRISE_EN_CHARGE"
    part = [cdar.Collection(Decimal("100.00"), Decimal("20"))]
    paid = await _post_cdar(recipient_api, invoice.id, _message(invoice, "211", amounts=part, amount_type="MPA", amounts_date=paris_today()))
    assert paid.status_code == 200, paid.text
    events = await _lifecycle(recipient_api, "received", invoice.id)
    assert (events[-1]["status"], events[-1]["payment"]) == ("MISE_EN_PAIEMENT", {"date": paris_today().isoformat(), "amount": "100.00"})
    again = await _post_cdar(recipient_api, invoice.id, _message(invoice, "204"))
    assert again.status_code == 409 and again.json()["code"] == "transition_refused"  # the same checks as the JSON route


async def test_invalid_or_foreign_cdar_messages_are_refused_with_their_findings(recipient_api, supplier_api, invoice):
    no_reason = await _post_cdar(recipient_api, invoice.id, _message(invoice, "210"))
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "cdar_invalid"
    assert ("BR-FR-CDV-15_MDT-113", "schematron") in {(f["rule"], f["stage"]) for f in no_reason.json()["findings"]}
    broken = await _post_cdar(recipient_api, invoice.id, b"<rsm:CrossDomainAcknowledgementAndResponse xmlns:rsm="
                              b"'urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100'/>")
    assert broken.status_code == 422 and broken.json()["findings"][0]["rule"] == "CDAR-XSD"
    assert broken.json()["findings"][0]["stage"] == "xsd"  # the same finding shape as every other API answer
    xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    hostile = await _post_cdar(recipient_api, invoice.id, xxe)
    assert hostile.status_code == 422 and hostile.json()["findings"][0]["rule"] == "CDAR-XML"
    other = await _post_cdar(recipient_api, invoice.id, _message(invoice, "204", invoice_number="AUTRE-1"))
    assert other.status_code == 422 and other.json()["code"] == "cdar_mismatch"
    unsupported = await _post_cdar(recipient_api, invoice.id, _message(invoice, "212", amounts=[cdar.Collection(invoice.amount_due, 20)],
                                                                       amount_type="MEN"))
    assert unsupported.status_code == 422 and unsupported.json()["code"] == "cdar_status_unsupported"
    assert (await _post_cdar(supplier_api, invoice.id, _message(invoice, "204"))).status_code in (403, 404)
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).status == "MISE_A_DISPOSITION"  # nothing half-written
    refused = await _post_cdar(recipient_api, invoice.id, _message(invoice, "210", reason_code="DOUBLON", reason_text="Déjà reçue"))
    assert refused.status_code == 200, refused.text
    saved = await Invoice.objects().get(Invoice.id == invoice.id)
    assert (saved.status, saved.status_code) == ("REJETEE", "210")
