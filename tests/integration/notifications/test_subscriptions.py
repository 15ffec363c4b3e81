"""Subscribing a device: strict checks, French problem+json, idempotent; each person removes only their own."""

from __future__ import annotations

import pytest

from backend.notifications.tables import PushSubscription
from tests.integration.notifications.conftest import subscribe
from tests.support.push_service import b64url
from tests.support.web import csrf_from


async def post_json(client, body, *, token=None):
    token = token if token is not None else csrf_from((await client.get("/account")).text)
    return await client.post("/push/subscriptions", json=body, headers={"X-CSRFToken": token, "Accept": "application/json"})


async def test_the_public_key_is_served(client, settings):
    response = await client.get("/push/key")
    assert response.status_code == 200 and response.json() == {"publicKey": settings.vapid_public_key}


async def test_a_device_is_stored_once_and_listed_on_the_account_page(client, accounts, push_service):
    await accounts.registered()
    sub = push_service.subscriber()
    first = await subscribe(client, sub)
    again = await subscribe(client, sub)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and await PushSubscription.count() == 1
    page = await client.get("/account", headers={"User-Agent": "x"})
    assert "Activer les notifications" in page.text and f"/push/subscriptions/{first.json()['id']}/delete" in page.text


GOOD_KEY = b64url(b"\x04" + b"\x01" * 64)
GOOD_AUTH = b64url(b"\x02" * 16)


@pytest.mark.parametrize("body, field", [
    ({"endpoint": "http://push.example.com/x", "keys": {"p256dh": GOOD_KEY, "auth": GOOD_AUTH}}, "endpoint"),
    ({"endpoint": "https://10.0.0.5/x", "keys": {"p256dh": GOOD_KEY, "auth": GOOD_AUTH}}, "endpoint"),
    ({"endpoint": "https://localhost/x", "keys": {"p256dh": GOOD_KEY, "auth": GOOD_AUTH}}, "endpoint"),
    ({"endpoint": "https://user:pw@push.example.com/x", "keys": {"p256dh": GOOD_KEY, "auth": GOOD_AUTH}}, "endpoint"),
    ({"endpoint": "javascript:alert(1)", "keys": {"p256dh": GOOD_KEY, "auth": GOOD_AUTH}}, "endpoint"),
    ({"keys": {"p256dh": GOOD_KEY, "auth": GOOD_AUTH}}, "endpoint"),
    ({"endpoint": "https://push.example.com/x"}, "keys"),
    ({"endpoint": "https://push.example.com/x", "keys": {"p256dh": GOOD_KEY[:-4], "auth": GOOD_AUTH}}, "keys.p256dh"),
    ({"endpoint": "https://push.example.com/x", "keys": {"p256dh": b64url(b"\x05" + b"\x01" * 64), "auth": GOOD_AUTH}}, "keys.p256dh"),
    ({"endpoint": "https://push.example.com/x", "keys": {"p256dh": GOOD_KEY, "auth": "pas du base64!"}}, "keys.auth"),
    ({"endpoint": "https://push.example.com/x", "keys": {"p256dh": GOOD_KEY, "auth": b64url(b"\x02" * 8)}}, "keys.auth"),
])
async def test_bad_subscriptions_are_refused_in_french(client, accounts, body, field):
    await accounts.registered()
    response = await post_json(client, body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["field"] == field and problem["detail"] and problem["status"] == 422
    assert await PushSubscription.count() == 0


async def test_not_json_and_not_an_object_are_422(client, accounts):
    await accounts.registered()
    token = csrf_from((await client.get("/account")).text)
    bad = await client.post("/push/subscriptions", content=b"{nope", headers={"X-CSRFToken": token, "Content-Type": "application/json"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_json"
    assert (await post_json(client, [1, 2])).status_code == 422


async def test_an_https_push_service_is_accepted(client, accounts):
    await accounts.registered()
    body = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc:def", "keys": {"p256dh": GOOD_KEY, "auth": GOOD_AUTH}}
    assert (await post_json(client, body)).status_code == 201


async def test_subscribing_needs_a_session_and_the_csrf_header(client, accounts, push_service):
    sub = push_service.subscriber()
    anonymous = await client.post("/push/subscriptions", json=sub.subscription_json(), headers={"Accept": "application/json"})
    assert anonymous.status_code in (401, 403)
    await accounts.registered()
    no_token = await client.post("/push/subscriptions", json=sub.subscription_json(), headers={"Accept": "application/json"})
    assert no_token.status_code == 403
    assert await PushSubscription.count() == 0


async def test_people_remove_only_their_own_devices(client, accounts, push_service):
    await accounts.registered()
    mine = (await subscribe(client, push_service.subscriber())).json()["id"]
    await accounts.logout()
    await accounts.registered()
    theirs = (await subscribe(client, push_service.subscriber())).json()["id"]
    token = csrf_from((await client.get("/account")).text)
    refused = await client.delete(f"/push/subscriptions/{mine}", headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert refused.status_code == 404
    refused_form = await client.post(f"/push/subscriptions/{mine}/delete", data={"_csrf_token": token}, follow_redirects=False)
    assert refused_form.status_code == 404
    assert await PushSubscription.count() == 2
    removed = await client.delete(f"/push/subscriptions/{theirs}", headers={"X-CSRFToken": token})
    assert removed.status_code == 204
    assert [r["id"] for r in await PushSubscription.select(PushSubscription.id)] == [mine]


async def test_the_no_script_form_removes_a_device(client, accounts, push_service):
    await accounts.registered()
    sid = (await subscribe(client, push_service.subscriber())).json()["id"]
    token = csrf_from((await client.get("/account")).text)
    response = await client.post(f"/push/subscriptions/{sid}/delete", data={"_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and await PushSubscription.count() == 0
    page = await client.get("/account")
    assert "ne recevra plus de notifications" in page.text and "Aucun appareil" in page.text
