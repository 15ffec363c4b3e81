"""The deliveries log's cursor is a delivery id: one too large for the database is an invalid cursor (422), not a 500."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("cursor", ["99999999999999999999", str(2**63), str(2**31)])
async def test_a_cursor_too_large_for_the_database_is_invalid(supplier_api, receiver, cursor):
    webhook = await supplier_api.subscribe(receiver, "/h")
    response = await supplier_api.get(f"/api/v1/webhooks/{webhook['id']}/deliveries", params={"cursor": cursor})
    assert response.status_code == 422 and response.json()["code"] == "cursor_invalid", response.text
    assert (await supplier_api.get(f"/api/v1/webhooks/{webhook['id']}/deliveries")).status_code == 200
