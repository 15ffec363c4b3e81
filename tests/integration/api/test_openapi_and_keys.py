"""The OpenAPI document and the offline docs page; the gestionnaire's key pages; the CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from backend.api.tables import ApiKey
from backend.directory.tables import Structure
from tests.support.web import csrf_from


async def test_openapi_31_has_only_api_routes_and_examples(client):
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and "set-cookie" not in response.headers
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["paths"] and all(p.startswith("/api/v1/") for p in document["paths"])
    assert "/api/v1/received/{invoice_id}/status" in document["paths"]
    assert "multipart/form-data" in document["paths"]["/api/v1/deposits"]["post"]["requestBody"]["content"]
    assert any(p["name"] == "Idempotency-Key" for p in document["paths"]["/api/v1/invoices"]["post"]["parameters"])
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert '"examples"' in response.text or '"example"' in response.text


async def test_docs_page_loads_its_renderer_from_this_server(client):
    page = await client.get("/api/v1/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="(/[^"]+)"', page.text)
    assert sources and not re.search(r'(?:src|href)="https?://', page.text)
    for source in sources:
        if source.startswith("/static/") or source.startswith("/api/"):
            assert (await client.get(source)).status_code == 200, source
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_gestionnaire_creates_sees_once_and_revokes_a_key(client, accounts):
    person = await accounts.registered(siret=None, company="Menuiserie Clés")
    structure = await Structure.objects().get(Structure.name == "Menuiserie Clés")
    account = await client.get("/account")
    assert f"/structures/{structure.id}/api-keys" in account.text
    page = await client.get(f"/structures/{structure.id}/api-keys")
    assert page.status_code == 200 and 'value="process"' not in page.text  # a company cannot process
    token = csrf_from(page.text)
    created = await client.post(f"/structures/{structure.id}/api-keys",
                                data={"_csrf_token": token, "name": "ERP", "scopes": ["deposit", "read"]})
    assert created.status_code == 201
    secret = re.search(r"data-new-api-key>([^<]+)<", created.text).group(1)
    assert (await client.get("/api/v1/invoices", headers={"Authorization": f"Bearer {secret}"})).status_code == 200
    listing = await client.get(f"/structures/{structure.id}/api-keys")
    assert secret not in listing.text and secret[:12] in listing.text
    key = await ApiKey.objects().first()
    revoked = await client.post(f"/structures/{structure.id}/api-keys/{key.id}/revoke", data={"_csrf_token": token})
    assert revoked.status_code in (302, 303, 200)
    assert (await client.get("/api/v1/invoices", headers={"Authorization": f"Bearer {secret}"})).status_code == 401
    refused = await client.post(f"/structures/{structure.id}/api-keys", data={"_csrf_token": token, "name": "x", "scopes": ["process"]})
    assert refused.status_code == 422 and "entités publiques" in refused.text
    assert person


async def test_non_manager_gets_404_on_key_pages(client, accounts, recipient):
    await accounts.registered(siret=None, company="Une Autre")
    assert (await client.get(f"/structures/{recipient.id}/api-keys")).status_code == 404


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backend.cli", "apikey", "create", *args],
                          capture_output=True, text=True, timeout=120, env=os.environ.copy(), check=False)


async def test_cli_prints_the_key_alone_on_its_last_line(client, recipient):
    done = _cli("--structure", recipient.siret, "--scopes", "read,process", "--name", "GF")
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("fct_") and " " not in last
    response = await client.get("/api/v1/received", headers={"Authorization": f"Bearer {last}"})
    assert response.status_code == 200
    refused = _cli("--structure", recipient.siret, "--scopes", "nope")
    assert refused.returncode == 1 and "Permission inconnue" in refused.stderr
    assert (await ApiKey.objects().first()).name == "GF"
