"""The installable app's files: manifest, service worker at the root, offline page."""

from __future__ import annotations

import re

from backend.pwa import STATIC


async def test_manifest_describes_an_installable_french_app(client):
    response = await client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["display"] == "standalone" and manifest["lang"] == "fr" and manifest["scope"] == "/"
    assert manifest["start_url"].startswith("/") and manifest["short_name"] == "Facteur"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"]) and re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        fetched = await client.get(icon["src"])
        assert fetched.status_code == 200 and fetched.content.startswith(b"\x89PNG")


async def test_service_worker_is_served_at_the_root_never_stale(client):
    response = await client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert "__STATIC_VERSION__" not in response.text and "__CACHE_VERSION__" not in response.text
    assert "worker-src 'self'" in response.headers["content-security-policy"]
    page = await client.get("/login")
    version = re.search(r"app\.css\?v=(\w+)", page.text).group(1)
    assert f'STATIC_VERSION = "{version}"' in response.text  # the worker precaches what pages ask for
    assert (STATIC / "sw.js").exists()


async def test_offline_page_shows_no_personal_data(client, accounts):
    await accounts.registered(company="Atelier Hors Ligne")
    response = await client.get("/offline")
    assert response.status_code == 200 and "hors ligne" in response.text.lower()
    assert "Atelier Hors Ligne" not in response.text and "bottom-nav" not in response.text


async def test_pages_link_the_manifest(client):
    page = await client.get("/login")
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page.text
