"""The webhooks API: create (secret once), list, detail, delete; French 422s; 404 across structures; scope."""

from __future__ import annotations

import pytest

from backend.webhooks.tables import Webhook
from tests.integration.webhooks.conftest import ALL_EVENTS, api_for


async def test_create_shows_the_secret_once_then_list_detail_delete(supplier_api):
    created = await supplier_api.post("/api/v1/webhooks", json={
        "url": "https://erp.exemple.fr/facteur", "events": ["invoice.status_changed", "message.created"]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["url"] == "https://erp.exemple.fr/facteur"
    assert body["events"] == ["invoice.status_changed", "message.created"]
    assert body["secret"].startswith(body["secret_hint"])

    stored = await Webhook.objects().get(Webhook.id == body["id"])
    assert body["secret"] not in stored.secret_sealed  # sealed at rest, not in clear

    listed = await supplier_api.get("/api/v1/webhooks")
    assert listed.status_code == 200
    assert [w["id"] for w in listed.json()["items"]] == [body["id"]]
    assert "secret" not in listed.text.replace("secret_hint", "")

    detail = await supplier_api.get(f"/api/v1/webhooks/{body['id']}")
    assert detail.status_code == 200 and detail.json()["recent_deliveries"] == []
    assert "secret\"" not in detail.text

    gone = await supplier_api.delete(f"/api/v1/webhooks/{body['id']}")
    assert gone.status_code == 204
    assert (await supplier_api.get(f"/api/v1/webhooks/{body['id']}")).status_code == 404
    assert await Webhook.count() == 0


@pytest.mark.parametrize(("url", "code", "words"), [
    ("http://erp.exemple.fr/hook", "url_invalid", "https://"),
    ("https://jean:motdepasse@erp.exemple.fr/hook", "url_invalid", "identifiants"),
    ("ftp://erp.exemple.fr/hook", "url_invalid", "https://"),
    ("https://169.254.169.254/latest/meta-data", "url_invalid", "adresse interne"),
    ("https://127.0.0.2/hook", "url_invalid", "adresse interne"),
    ("https://erp.exemple.fr/" + "a" * 1000, "url_invalid", "1000 caractères"),
    ("pas une adresse", "url_invalid", "espace"),
    ("", "url_invalid", "Indiquez l'adresse"),
    ("https://erp.exemple.fr:99999/hook", "url_invalid", "pas une URL valide"),
])
async def test_bad_urls_are_422_in_french(supplier_api, url, code, words):
    response = await supplier_api.post("/api/v1/webhooks", json={"url": url, "events": ["invoice.status_changed"]})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code and words in problem["detail"]
    assert await Webhook.count() == 0


@pytest.mark.parametrize(("events", "words"), [
    ([], "Choisissez au moins un événement"),
    (["invoice.paid"], "L'événement « invoice.paid » n'existe pas"),
])
async def test_bad_events_are_422_in_french(supplier_api, events, words):
    response = await supplier_api.post("/api/v1/webhooks", json={"url": "https://erp.exemple.fr/h", "events": events})
    assert response.status_code == 422
    assert response.json()["code"] == "events_invalid" and words in response.json()["detail"]


async def test_http_to_this_machine_is_allowed_only_by_the_setting(supplier_api, receiver):
    # The test app sets FACTEUR_WEBHOOK_ALLOW_LOCAL; http to another host stays refused.
    ok = await supplier_api.post("/api/v1/webhooks", json={"url": receiver.url("/h"), "events": ALL_EVENTS})
    assert ok.status_code == 201
    refused = await supplier_api.post("/api/v1/webhooks", json={"url": "http://10.0.0.5/h", "events": ALL_EVENTS})
    assert refused.status_code == 422


async def test_another_structures_webhook_is_404_and_untouched(client, supplier_api, recipient_api):
    mine = (await supplier_api.post("/api/v1/webhooks", json={"url": "https://erp.exemple.fr/h", "events": ALL_EVENTS})).json()
    path = f"/api/v1/webhooks/{mine['id']}"
    for response in (
        await recipient_api.get(path),
        await recipient_api.get(path + "/deliveries"),
        await recipient_api.post(path + "/deliveries/00000000-0000-0000-0000-000000000000/redeliver"),
        await recipient_api.delete(path),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not_found"
    assert (await recipient_api.get("/api/v1/webhooks")).json()["items"] == []
    assert (await supplier_api.get(path)).status_code == 200


async def test_the_read_scope_is_required(client, supplier_api):
    directory_only = await api_for(client, supplier_api.structure_id, scopes=("directory",))
    response = await directory_only.post("/api/v1/webhooks", json={"url": "https://erp.exemple.fr/h", "events": ALL_EVENTS})
    assert response.status_code == 403 and response.json()["code"] == "missing_scope"
    assert (await directory_only.get("/api/v1/webhooks")).status_code == 403
    anonymous = await client.get("/api/v1/webhooks")
    assert anonymous.status_code == 401


async def test_a_retried_creation_returns_the_same_webhook_and_secret_never_stored_in_clear(supplier_api):
    from backend.api.tables import IdempotencyRecord

    request = {"url": "https://erp.exemple.fr/h", "events": ALL_EVENTS}
    first = await supplier_api.post("/api/v1/webhooks", json=request, headers={"Idempotency-Key": "wh-1"})
    again = await supplier_api.post("/api/v1/webhooks", json=request, headers={"Idempotency-Key": "wh-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()  # the lost answer can be had again, secret included
    assert await Webhook.count() == 1
    record = await IdempotencyRecord.objects().first()
    assert first.json()["secret"] not in (record.response_body or "")
