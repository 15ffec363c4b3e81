"""Keys: bearer only, hashed, revocable, scoped, last use recorded; 401/403 as problem+json."""

from __future__ import annotations

import pytest

from backend.api.auth import hash_key
from backend.api.tables import ApiKey
from tests.integration.api.conftest import key_for

PROBLEM = "application/problem+json"


async def test_no_key_or_bad_key_is_401_problem(client, supplier_api):
    for headers in ({}, {"Authorization": "Bearer fct_nope"}, {"Authorization": "Basic abc"}):
        response = await client.get("/api/v1/invoices", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith(PROBLEM)
        body = response.json()
        assert body["code"] == "unauthenticated" and body["status"] == 401 and "Authorization" in body["detail"]
        assert "set-cookie" not in response.headers


async def test_key_is_stored_hashed_and_last_use_recorded(supplier_api):
    row = await ApiKey.objects().first()
    assert row.key_hash == hash_key(supplier_api.secret) and supplier_api.secret not in row.key_hash
    assert supplier_api.secret.startswith(row.prefix) and row.last_used_at is None
    assert (await supplier_api.get("/api/v1/invoices")).status_code == 200
    used = (await ApiKey.objects().first()).last_used_at
    assert used is not None
    assert (await supplier_api.get("/api/v1/invoices")).status_code == 200
    assert (await ApiKey.objects().first()).last_used_at == used  # at most one write a minute


async def test_api_sets_no_cookie_and_ignores_sessions(client, supplier_api):
    response = await supplier_api.get("/api/v1/invoices")
    assert response.status_code == 200 and "set-cookie" not in response.headers


async def test_revoked_key_is_refused(supplier_api):
    await ApiKey.update({ApiKey.revoked_at: ApiKey.created_at}).where(ApiKey.id > 0)
    assert (await supplier_api.get("/api/v1/invoices")).status_code == 401


@pytest.mark.parametrize("scope, method, path", [
    ("read", "get", "/api/v1/invoices"),
    ("read", "get", "/api/v1/received"),
    ("deposit", "post", "/api/v1/deposits"),
    ("directory", "get", "/api/v1/structures?q=paris"),
])
async def test_missing_scope_is_403(client, recipient, scope, method, path):
    others = tuple(s for s in ("deposit", "read", "process", "directory") if s != scope)
    api = await key_for(client, recipient, others)
    kwargs = {"files": [("file", ("a.pdf", b"%PDF-1.4", "application/pdf"))]} if method == "post" else {}
    response = await getattr(api, method)(path, **kwargs)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "missing_scope" and scope in response.json()["detail"]


async def test_process_scope_is_403_on_a_company_key(client, invoice, supplier_api):
    api = await key_for(client, supplier_api.structure, ("read", "deposit"))
    response = await api.post(f"/api/v1/received/{invoice.id}/status", json={"status": "PRISE_EN_CHARGE"})
    assert response.status_code == 403


async def test_rate_limit_is_429_with_retry_after(app, supplier_api):
    app.state.api_rate_limit = 3
    statuses = [(await supplier_api.get("/api/v1/invoices")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = await supplier_api.get("/api/v1/invoices")
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= 60


async def test_the_rate_counter_gives_each_concurrent_request_its_own_number(clean_db, settings):
    """Atomic on the app's store (Redis INCR, or the file store under a lock): fifty requests
    counted at once get 1 to 50, so a burst cannot all read the same count and all pass."""
    import asyncio

    from backend.api.auth import _count
    from backend.app import _stores

    store = _stores(settings)["throttle"]  # built in this loop (the test client's app runs in another)
    try:
        await store.delete("api:burst-test:1")
        numbers = await asyncio.gather(*(_count(store, "api:burst-test:1") for _ in range(50)))
    finally:
        await store.__aexit__(None, None, None)
    assert sorted(numbers) == list(range(1, 51))
