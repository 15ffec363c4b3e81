"""The API documentation page renders in Chromium from this server alone: no CDN, no CSP violation."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


async def test_api_docs_render_offline(phone, server):
    page, watch = await phone()
    response = await page.goto("/api/v1/docs")
    assert response.status == 200
    await page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "Facteur API" in await page.inner_text(".swagger-ui .info .title")
    await page.wait_for_selector('[data-path="/api/v1/received/{invoice_id}/status"]')
    foreign = [url for url in watch.requests if not url.startswith(server.base_url) and not url.startswith("data:")]
    assert foreign == []  # works without Internet
    assert await page.evaluate("window.__cspViolations") == []
    assert watch.page_errors == []
