"""POST /api/v1/received/bulk: several received invoices moved in one call, each through the
lifecycle; another structure's invoice among them makes the whole call 404 with nothing changed."""

from __future__ import annotations

from backend.invoices.tables import Invoice, InvoiceHistory
from backend.lib.common import fold
from backend.directory.tables import Structure
from tests.integration.api.conftest import invoice_file, key_for
from tests.support.accounts import valid_siret


async def _deposited(supplier_api, count: int) -> list[Invoice]:
    response = await supplier_api.deposit(*(invoice_file() for _ in range(count)))
    assert response.status_code == 201, response.text
    return [await Invoice.objects().get(Invoice.id == i["id"]) for i in response.json()["invoices"]]


async def test_an_erp_takes_several_invoices_in_charge_then_mandates_them(supplier_api, recipient_api):
    first, second, third = await _deposited(supplier_api, 3)
    await recipient_api.post(f"/api/v1/received/{third.id}/status", json={"status": "REJETEE", "reason_code": "DOUBLON",
                                                                          "comment": "Déjà reçue."})
    response = await recipient_api.post("/api/v1/received/bulk", json={
        "status": "PRISE_EN_CHARGE", "invoices": [{"id": first.id, "version": 1}, {"id": second.id}, {"id": third.id}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["done"], body["refused"]) == (2, 1)
    assert body["summary"].startswith(f"2 factures prises en charge, 1 refusée : n° {third.number} — ")
    assert body["results"][2] == {"id": third.id, "number": third.number, "done": False, "code": "transition_refused",
                                  "detail": "Cette facture a été rejetée : son traitement est terminé."}
    rows = await InvoiceHistory.select().where(InvoiceHistory.status == "PRISE_EN_CHARGE").output(load_json=True)
    assert sorted(r["invoice"] for r in rows) == [first.id, second.id]
    assert all(r["details"]["api_key"]["name"] == "test" for r in rows)  # the key is named, as for one invoice

    mandated = await recipient_api.post("/api/v1/received/bulk", json={
        "status": "MANDATEE", "mandate_number": "M-COMMUN", "invoices": [{"id": first.id}, {"id": second.id, "mandate_number": "M-2"}]})
    assert mandated.json()["summary"] == "2 factures mandatées."
    assert [(await Invoice.objects().get(Invoice.id == i.id)).mandate_number for i in (first, second)] == ["M-COMMUN", "M-2"]


async def test_another_structures_invoice_is_404_and_nothing_changes(client, supplier_api, recipient_api):
    ours = (await _deposited(supplier_api, 1))[0]
    siret = valid_siret()
    other = Structure(siret=siret, siren=siret[:9], name="Autre commune", search_key=fold("Autre commune"), is_public=True, active=True)
    await other.save()
    other_api = await key_for(client, other)
    for api, ids in ((other_api, [ours.id]), (recipient_api, [ours.id, 2**31 - 1])):
        response = await api.post("/api/v1/received/bulk", json={"status": "PRISE_EN_CHARGE", "invoices": [{"id": i} for i in ids]})
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert (await supplier_api.post("/api/v1/received/bulk", json={"status": "PRISE_EN_CHARGE", "invoices": [{"id": ours.id}]})
            ).status_code in (403, 404)  # the supplier's own key: no "process" right on received invoices
    assert (await Invoice.objects().get(Invoice.id == ours.id)).status == "MISE_A_DISPOSITION"
    assert await InvoiceHistory.count().where(InvoiceHistory.status == "PRISE_EN_CHARGE") == 0


async def test_unusable_bodies_get_a_422(recipient_api):
    for body in ({"status": "REJETEE", "invoices": [{"id": 1}]}, {"status": "PRISE_EN_CHARGE", "invoices": []},
                 {"status": "PRISE_EN_CHARGE", "invoices": [{"id": i} for i in range(1, 102)]},
                 {"status": "PRISE_EN_CHARGE", "invoices": [{"id": 2**40}]}):
        response = await recipient_api.post("/api/v1/received/bulk", json=body)
        assert response.status_code == 422, (body, response.text)
