"""The "Travaux" pages and /api/v1/works/markets, through the test client, as their users do."""

from __future__ import annotations

import msgspec

from backend.accounts.tables import Membership, User

from backend.works import markets
from backend.works.tables import Market, MarketActor
from tests.integration.api.conftest import key_for
from tests.integration.works.conftest import structure
from tests.support.web import post_form


async def member_of(accounts, structure) -> None:
    """A gestionnaire of `structure`, logged in (an agent of a public structure is accepted by hand, as an operator does)."""
    person = await accounts.registered(structure.siret, structure.name)
    await Membership.update({Membership.status: "active", Membership.is_manager: True, Membership.can_deposit: True,
                             Membership.can_process: True}).where(Membership.user == (await User.objects().get(User.email == person.email)).id)


def form_of(cast, **changes) -> dict:
    fields = {
        "number": "2026-TX-001", "title": "Réfection de la toiture", "moa_siret": cast.moa.siret, "moa_service": "TRAVAUX",
        "moe_siret": cast.moe.siret, "moe_service": "", "payer_siret": cast.payer.siret, "payer_service": "FIN",
        "engagement": "EJ-42", "titulaire_siret": cast.titulaire.siret, "cotraitants": cast.cotraitant.siret,
        "mandataire_siret": "", "sous_traitants": cast.sous_traitant.siret, "start_date": "2026-09-01", "amount_excl_vat": "250 000,00",
    }
    return fields | changes


async def test_titulaire_declares_on_the_phone_and_the_moa_confirms(client, accounts, cast):
    await member_of(accounts, cast.titulaire)
    home = await client.get("/")
    assert 'href="/works"' not in home.text  # a company that acts in no market yet: no "Travaux" entry
    refused = await post_form(client, "/works/markets/new", "/works/markets", form_of(cast, engagement="", moa_service=""))
    assert refused.status_code == 422
    assert "Commune de Montrevel exige un code service." in refused.text
    assert "Communauté de communes exige un numéro d&#39;engagement" in refused.text
    assert 'value="2026-TX-001"' in refused.text  # what was typed stays
    assert await Market.count() == 0
    declared = await post_form(client, "/works/markets/new", "/works/markets", form_of(cast), follow_redirects=False)
    assert declared.status_code == 303
    market_id = int(declared.headers["location"].rsplit("/", 1)[1])
    page = await client.get(f"/works/markets/{market_id}")
    assert "À confirmer par le maître d&#39;ouvrage" in page.text and "Plomberie Morel" in page.text
    assert "Confirmer le marché" not in page.text and 'href="/works"' in page.text  # now an actor: "Travaux" in the nav
    await accounts.logout()

    await member_of(accounts, cast.moa)
    workspace = await client.get("/works")
    assert "À confirmer" in workspace.text and f'href="/works/markets/{market_id}"' in workspace.text
    confirmed = await post_form(client, f"/works/markets/{market_id}", f"/works/markets/{market_id}/confirm", {},
                                follow_redirects=False)
    assert confirmed.status_code == 303
    assert (await Market.objects().get(Market.id == market_id)).status == "active"
    assert "Marché confirmé" in (await client.get(f"/works/markets/{market_id}")).text


async def test_strangers_get_404_and_lists_page_by_keyset(client, accounts, cast):
    ids = [await markets.declare(cast.declaration(f"M-{n:02d}"), cast.as_moa()) for n in range(markets.PAGE_SIZE + 2)]
    await member_of(accounts, cast.stranger)
    assert (await client.get(f"/works/markets/{ids[0]}")).status_code == 404
    token_page = await client.get("/works/markets/new")
    assert token_page.status_code == 200
    from tests.support.web import csrf_from

    confirm = await client.post(f"/works/markets/{ids[0]}/confirm", data={"_csrf_token": csrf_from(token_page.text)})
    assert confirm.status_code == 404
    await accounts.logout()
    await member_of(accounts, cast.cotraitant)
    first = await client.get("/works")
    assert first.text.count("data-market=") == markets.PAGE_SIZE and "Marchés plus anciens" in first.text
    cursor = markets.encode_cursor(ids[2])
    rest = await client.get("/works", params={"cursor": cursor})
    assert rest.text.count("data-market=") == 2 and "M-00" in rest.text and "Marchés plus anciens" not in rest.text
    assert (await client.get("/works", params={"cursor": "%%%"})).status_code == 422


async def test_api_declare_list_read_confirm(client, cast):
    titulaire = await key_for(client, cast.titulaire, ("deposit", "read"))
    moa = await key_for(client, cast.moa)
    stranger = await key_for(client, cast.stranger)
    body = {"number": "API-1", "title": "Voirie", "moa_siret": cast.moa.siret, "moa_service": "TRAVAUX",
            "moe_siret": cast.moe.siret, "payer_siret": cast.payer.siret, "payer_service": "FIN", "engagement": "EJ-1",
            "titulaire_siret": cast.titulaire.siret, "sous_traitants": [cast.sous_traitant.siret], "amount_excl_vat": "1200.50"}
    created = await titulaire.post("/api/v1/works/markets", json=body)
    assert created.status_code == 201, created.text
    market = created.json()
    assert market["status"] == "pending" and market["amount_excl_vat"] == "1200.50" and market["roles"] == ["titulaire"]
    assert {a["role"] for a in market["actors"]} == {"moa", "moe", "payer", "titulaire", "sous_traitant"}
    duplicate = await titulaire.post("/api/v1/works/markets", json=body)
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate"
    invalid = await titulaire.post("/api/v1/works/markets", json=body | {"number": "API-2", "engagement": "", "moe_siret": "123"})
    assert invalid.status_code == 422 and invalid.headers["content-type"].startswith("application/problem+json")
    assert {f["location"] for f in invalid.json()["findings"]} == {"engagement", "moe_siret"}
    assert (await stranger.get(f"/api/v1/works/markets/{market['id']}")).status_code == 404
    other_commune = await key_for(client, await structure("Autre commune", public=True))
    assert (await other_commune.post(f"/api/v1/works/markets/{market['id']}/confirm")).status_code == 404
    payer = await key_for(client, cast.payer)
    assert (await payer.post(f"/api/v1/works/markets/{market['id']}/confirm")).json()["code"] == "not_moa"
    assert (await titulaire.post(f"/api/v1/works/markets/{market['id']}/confirm")).status_code == 403  # no "process" scope
    confirmed = await moa.post(f"/api/v1/works/markets/{market['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "active"
    await moa.post("/api/v1/works/markets", json=body | {"number": "API-3"})
    page = (await moa.get("/api/v1/works/markets", params={"limit": 1})).json()
    assert [m["number"] for m in page["items"]] == ["API-3"] and page["next_cursor"]
    rest = (await moa.get("/api/v1/works/markets", params={"limit": 1, "cursor": page["next_cursor"]})).json()
    assert [m["number"] for m in rest["items"]] == ["API-1"] and rest["next_cursor"] is None
    assert (await stranger.get("/api/v1/works/markets")).json() == {"items": [], "next_cursor": None}
    assert await MarketActor.count() == 10


async def test_openapi_documents_the_works_routes_with_an_example(client):
    document = msgspec.json.decode((await client.get("/api/v1/openapi.json")).content)
    post = document["paths"]["/api/v1/works/markets"]["post"]
    assert post["requestBody"]["content"]["application/json"]["examples"]["exemple"]["value"]["number"]
    assert {"201", "422"} <= set(post["responses"])
    assert "/api/v1/works/markets/{market_id}/confirm" in document["paths"]
