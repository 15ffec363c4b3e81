"""Directory pages and the fragments htmx swaps in: login required, page vs fragment, content."""

from __future__ import annotations

import re

import pytest

from backend.accounts.service import create_supplier_structure
from tests.integration.directory.support import MARSEILLE, PARIS, REGIE, import_fixtures

HTMX = {"HX-Request": "true"}
URLS = ["/directory", "/directory?q=paris", "/directory/autocomplete?q=paris", f"/directory/{PARIS}", f"/directory/{PARIS}/services"]


@pytest.fixture
async def signed_in(client, accounts):
    await import_fixtures()
    await accounts.registered()
    return client


@pytest.mark.parametrize("url", URLS)
async def test_pages_and_fragments_require_login(client, url):
    await import_fixtures()
    response = await client.get(url, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login?next=")
    htmx = await client.get(url, headers=HTMX, follow_redirects=False)
    assert htmx.status_code == 401  # htmx is told to navigate to the login page itself
    assert htmx.headers["hx-redirect"].startswith("/login?next=")
    assert PARIS not in htmx.text


async def test_search_page_then_fragment_for_htmx(signed_in):
    page = await signed_in.get("/directory?q=paris")
    assert page.status_code == 200
    assert "<html" in page.text and '<label for="q">' in page.text
    assert '<p id="results-status" class="muted" role="status">1 structure trouvée.</p>' in page.text
    assert f'href="/directory/{PARIS}"' in page.text
    assert "HX-Request" in page.headers.get("vary", "")

    fragment = await signed_in.get("/directory?q=Paris", headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<body" not in fragment.text
    assert f'href="/directory/{PARIS}"' in fragment.text and "Commune de Paris" in fragment.text
    # The status sentence goes out of band into the page's role="status" region.
    assert '<p id="results-status" hx-swap-oob="innerHTML">1 structure trouvée.</p>' in fragment.text
    assert "HX-Request" in fragment.headers.get("vary", "")

    # htmx restoring a page from its history needs the whole page.
    restored = await signed_in.get("/directory?q=paris", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in restored.text


async def test_search_fragment_no_result_and_inactive_flag(signed_in):
    none = await signed_in.get("/directory?q=introuvable", headers=HTMX)
    assert "Aucune structure publique ne correspond à « introuvable »." in none.text
    assert "<li" not in none.text
    inactive = await signed_in.get("/directory?q=etang", headers=HTMX)
    assert f'href="/directory/{REGIE}"' in inactive.text and "Inactive" in inactive.text
    empty = await signed_in.get("/directory", headers=HTMX)
    assert empty.status_code == 200
    assert '<p id="results-status" hx-swap-oob="innerHTML"></p>' in empty.text and "<li" not in empty.text


async def test_autocomplete_returns_datalist_options(signed_in):
    response = await signed_in.get("/directory/autocomplete?q=marseille", headers=HTMX)
    assert response.status_code == 200
    options = re.findall(r'<option value="(\d{14})">([^<]*)</option>', response.text)
    assert options == [(MARSEILLE, "Ville de Marseille — 13002 Marseille")]
    inactive = await signed_in.get("/directory/autocomplete?q=etang")
    assert "(inactive : ne reçoit plus de factures)" in inactive.text
    assert (await signed_in.get("/directory/autocomplete?q=")).text.strip() == ""


async def test_structure_page_lists_requirements_and_active_services_only(signed_in):
    response = await signed_in.get(f"/directory/{PARIS}")
    assert response.status_code == 200
    text = response.text
    assert "<h1 id=\"structure-name\">Commune de Paris</h1>" in text
    assert "217&nbsp;500&nbsp;016&nbsp;00019" in text
    assert "Code service : <strong>obligatoire</strong>" in text
    assert "Numéro d'engagement (bon de commande) : <strong>facultatif</strong>" in text
    assert "Services actifs (2)" in text
    assert "Direction des finances" in text and "Services techniques" in text
    assert "Ancien service" not in text
    assert "Engagement obligatoire" in text


async def test_structure_page_of_an_inactive_structure_says_so(signed_in):
    text = (await signed_in.get(f"/directory/{REGIE}")).text
    assert "Cette structure est inactive : elle ne peut pas recevoir de factures." in text
    assert "Aucun service actif." in text


async def test_services_fragment_is_a_select_of_active_services(signed_in):
    response = await signed_in.get(f"/directory/{PARIS}/services", headers=HTMX)
    assert response.status_code == 200
    text = response.text
    assert "<html" not in text
    assert 'data-requires-service="true"' in text and 'data-requires-engagement="false"' in text
    assert '<label for="service_code">Code service (obligatoire)</label>' in text
    assert '<select id="service_code" name="service_code" required>' in text
    assert re.findall(r'<option value="([^"]*)"', text) == ["", "FIN", "TECH"]
    assert '<option value="TECH" data-requires-engagement="true">' in text

    chosen = await signed_in.get(f"/directory/{PARIS}/services?selected=TECH")
    assert '<option value="TECH" selected data-requires-engagement="true">' in chosen.text

    optional = await signed_in.get(f"/directory/{MARSEILLE}/services")
    assert '<label for="service_code">Code service (facultatif)</label>' in optional.text
    assert "required" not in optional.text
    assert '<option value="">Aucun service</option>' in optional.text


async def test_unknown_and_supplier_sirets_are_not_found(signed_in):
    supplier = await create_supplier_structure("11000201100010", "Entreprise privée")
    for siret in ("00000000000000", supplier.siret):
        assert (await signed_in.get(f"/directory/{siret}")).status_code == 404
        assert (await signed_in.get(f"/directory/{siret}/services")).status_code == 404
