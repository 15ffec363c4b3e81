"""An id in a URL that the database's integers cannot hold is a 404, on every route of the app.

The cases are generated from the app's route table: every route with an integer path
parameter, every method it answers, called as a signed-in person (with the CSRF token a
page gives) and, for /api/, with an API key holding every permission. A route added later
is covered without touching this file.
"""

from __future__ import annotations

import re

import pytest
from litestar.routes import HTTPRoute

from backend.api.keys import create_key
from backend.directory.tables import Structure
from tests.support.web import csrf_from

HUGE_IDS = (99999999999999999999, 2**63, 2**31)  # beyond int64, just beyond int64, beyond PostgreSQL's SERIAL
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def _routes_with_int_ids(app) -> list[tuple[str, str]]:
    """(method, path template) of every HTTP route whose path has an int parameter."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not any(p.type is int for p in route.path_parameters.values()):
            continue
        found += [(method, route.path) for method in sorted(route.methods - SKIPPED_METHODS)]
    return found


def _url(template: str, huge: int) -> str:
    """The path with every int parameter replaced by the huge id, and every other one by a plain word."""
    return re.sub(r"\{(\w+):(\w+)\}", lambda m: str(huge) if m.group(2) == "int" else "x", template)


@pytest.fixture
async def signed_in(client, accounts):
    """A supplier signed in, and the CSRF token its pages carry."""
    await accounts.registered()
    return csrf_from((await client.get("/account")).text)


async def _api_key() -> str:
    structure = Structure(siret="21750001600019", siren="217500016", name="Commune de Paris", search_key="commune de paris",
                          is_public=True, active=True)
    await structure.save()
    return (await create_key(structure, "test", ("deposit", "read", "process", "directory"), None)).secret


@pytest.mark.parametrize("huge", HUGE_IDS)
async def test_an_id_too_large_for_the_database_is_not_found(app, client, signed_in, settings, huge):
    routes = _routes_with_int_ids(app)
    assert len(routes) > 30, routes  # the table really was read
    api_key = await _api_key()
    wrong = []
    for method, template in routes:
        path = _url(template, huge)
        headers = {"X-CSRFToken": signed_in}
        if path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {api_key}"
        response = await client.request(method, path, headers=headers, follow_redirects=False)
        if response.status_code != 404:
            wrong.append(f"{method} {path}: {response.status_code} {response.text[:120]!r}")
        elif path.startswith("/api/") and response.json()["code"] != "not_found":
            wrong.append(f"{method} {path}: {response.text[:120]!r}")
        elif method == "GET" and not path.startswith("/api/") and "Page introuvable" not in response.text:
            wrong.append(f"{method} {path}: no French 404 page")
    assert not wrong, f"{len(wrong)} of {len(routes)} routes:\n" + "\n".join(wrong)


@pytest.mark.parametrize("query", [f"party={HUGE_IDS[0]}", f"party={2**63}", f"after=2026-01-01_{2**63}", f"after=2026-01-01_{2**31}"])
async def test_an_id_too_large_in_a_list_filter_is_ignored(client, signed_in, query):
    response = await client.get(f"/invoices?{query}")
    assert response.status_code == 200, response.text[:300]


async def test_an_api_cursor_naming_an_id_too_large_is_refused_as_invalid(client):
    import base64

    headers = {"Authorization": f"Bearer {await _api_key()}"}
    for huge in HUGE_IDS:
        cursor = base64.urlsafe_b64encode(f"2026-01-01T00:00:00+00:00|{huge}".encode()).decode().rstrip("=")
        response = await client.get("/api/v1/received", params={"cursor": cursor}, headers=headers)
        assert response.status_code == 422 and response.json()["code"] == "cursor_invalid", response.text
