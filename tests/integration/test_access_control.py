"""Every signed-in page and action refuses whoever has no business there.

The world: structure A (manager A, plain member P, pending requester C) and structure B
(manager B). A user of another structure, a plain member or a requester gets 404 — the
same answer as for a structure that does not exist, so existence does not leak — and the
database and the mailbox are left exactly as they were. Anonymous visitors go to /login.
Each refusal has a positive control: the rightful manager gets through the same route,
so a 404 cannot come from a route that merely does not exist.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from litestar.testing import AsyncTestClient

from backend.accounts import passwords
from backend.accounts.tables import AccountToken, Membership, User
from backend.directory.tables import Service, Structure
from backend.api.tables import ApiKey
from backend.webhooks.tables import Webhook
from tests.integration.conftest import CHEAP_HASHER, _forget_sessions_and_counters
from tests.support.accounts import AccountFactory, Person
from tests.support.apps import app_for
from tests.support.database import Snapshot, restore_rows, snapshot_rows, truncate_all
from tests.support.web import csrf_from, post_form

NOT_FOUND_TEXT = "Cette page n'existe pas ou vous n'y avez pas accès."




def page_text(page: str) -> str:
    """The visible text of a page: tags dropped, entities decoded, blanks collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@dataclass
class World:
    manager_a: Person
    member_p: Person
    requester_c: Person
    manager_b: Person
    sa: int  # structure A
    sb: int  # structure B
    a_mid: int  # membership ids
    p_mid: int
    c_mid: int
    b_mid: int


async def _membership_id(email: str, structure_id: int) -> int:
    user = await User.objects().get(User.email == email)
    membership = await Membership.objects().get((Membership.user == user.id) & (Membership.structure == structure_id))
    return membership.id


@pytest.fixture(scope="module")
async def built_world(migrated_db, settings) -> tuple[World, Snapshot, dict[str, bytes]]:
    """The world, built once for the module through the forms, as a person would; its rows
    and mails are kept, and `world` puts them back for each test."""
    await truncate_all()
    await _forget_sessions_and_counters(settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", CHEAP_HASHER)  # as `fast_password_hashing` does for each test
        async with AsyncTestClient(app=app_for(settings), base_url="http://127.0.0.1:8000") as client:
            world = await _build_world(client, AccountFactory(client, settings))
    mails = {p.name: p.read_bytes() for p in settings.mailbox_dir.glob("*.eml")}
    return world, await snapshot_rows(), mails


@pytest.fixture
async def world(client, built_world, settings) -> World:
    """The world, exactly as built (every row, ids included, and the mailbox), in the test's emptied database."""
    world, rows, mails = built_world
    await restore_rows(rows)
    settings.mailbox_dir.mkdir(parents=True, exist_ok=True)
    for name, content in mails.items():
        (settings.mailbox_dir / name).write_bytes(content)
    statuses = {m.id: m.status for m in await Membership.objects()}
    assert statuses == {world.a_mid: "active", world.p_mid: "active", world.c_mid: "pending", world.b_mid: "active"}
    return world


async def _build_world(client, accounts: AccountFactory) -> World:
    a = await accounts.registered(company="Structure Alpha")
    await accounts.logout()
    p = await accounts.registered(siret=a.siret, company="peu importe")
    await accounts.logout()
    sa = (await Structure.objects().get(Structure.siret == a.siret)).id
    p_mid = await _membership_id(p.email, sa)
    await accounts.login(a)
    accepted = await post_form(client, f"/structures/{sa}/members", f"/structures/{sa}/requests/{p_mid}/accept", {})
    assert accepted.status_code == 200, accepted.text
    await accounts.logout()
    c = await accounts.registered(siret=a.siret, company="peu importe")
    await accounts.logout()
    b = await accounts.registered(company="Structure Bravo")
    await accounts.logout()
    sb = (await Structure.objects().get(Structure.siret == b.siret)).id
    return World(
        a, p, c, b, sa, sb,
        a_mid=await _membership_id(a.email, sa),
        p_mid=p_mid,
        c_mid=await _membership_id(c.email, sa),
        b_mid=await _membership_id(b.email, sb),
    )


async def snapshot(settings) -> dict:
    """Everything an action could change: rows of every accounts/directory table, keys, webhooks, and the mailbox."""
    mailbox = settings.mailbox_dir
    return {
        "structures": await Structure.select().order_by(Structure.id),
        "services": await Service.select().order_by(Service.id),
        "users": await User.select().order_by(User.id),
        "memberships": await Membership.select().order_by(Membership.id),
        "tokens": await AccountToken.select().order_by(AccountToken.id),
        "api keys": await ApiKey.select().order_by(ApiKey.id),
        "webhooks": await Webhook.select().order_by(Webhook.id),
        "mails": sorted(p.name for p in mailbox.glob("*.eml")) if mailbox.exists() else [],
    }


# name -> (method, path, form) with {sa}, {sb}, {a_mid}, {p_mid}, {c_mid}, {b_mid} filled from the world.
MANAGER_ROUTES = {
    "members page": ("GET", "/structures/{sa}/members", None),
    "profile page": ("GET", "/structures/{sa}/profile", None),
    "profile save": ("POST", "/structures/{sa}/profile", {"name": "Structure piratée", "iban": "FR7630006000011234567890189"}),
    "accept a request": ("POST", "/structures/{sa}/requests/{c_mid}/accept", {}),
    "refuse a request": ("POST", "/structures/{sa}/requests/{c_mid}/refuse", {}),
    "rights of a member": ("POST", "/structures/{sa}/members/{p_mid}/rights", {"is_manager": "on", "can_deposit": "on"}),
    "rights of the manager": ("POST", "/structures/{sa}/members/{a_mid}/rights", {"can_deposit": "on"}),
    "remove a member": ("POST", "/structures/{sa}/members/{p_mid}/remove", {}),
    "remove the manager": ("POST", "/structures/{sa}/members/{a_mid}/remove", {}),
    "invite someone": ("POST", "/structures/{sa}/invitations", {"email": "intrus@exemple.fr", "first_name": "In", "last_name": "Trus", "is_manager": "on"}),
    "API keys page": ("GET", "/structures/{sa}/api-keys", None),
    "create an API key": ("POST", "/structures/{sa}/api-keys", {"name": "ERP", "scopes": "read"}),
    "webhooks page": ("GET", "/structures/{sa}/webhooks", None),
    "create a webhook": ("POST", "/structures/{sa}/webhooks", {"url": "https://erp.exemple.fr/facteur", "events": "invoice.status_changed"}),
}

# B manages B, but these point B's structure at A's memberships.
CROSSED_ROUTES = {
    "accept A's request under B": ("POST", "/structures/{sb}/requests/{c_mid}/accept", {}),
    "refuse A's request under B": ("POST", "/structures/{sb}/requests/{c_mid}/refuse", {}),
    "rights of A's member under B": ("POST", "/structures/{sb}/members/{p_mid}/rights", {"is_manager": "on"}),
    "remove A's member under B": ("POST", "/structures/{sb}/members/{p_mid}/remove", {}),
    "remove A's manager under B": ("POST", "/structures/{sb}/members/{a_mid}/remove", {}),
}

SIGNED_IN_PAGES = [
    "/", "/invoices", "/capture", "/notifications", "/account", "/directory", "/directory?q=mairie",
    "/directory/21690123100011", "/structures/{sa}/members", "/structures/{sa}/profile",
]
SIGNED_IN_ACTIONS = {
    "join": ("/account/join", {"siret": "{siret_a}"}),
    "switch": ("/account/active-structure", {"structure_id": "{sa}"}),
    **{name: (path, form) for name, (method, path, form) in MANAGER_ROUTES.items() if method == "POST"},
}


def _fill(template: str, world: World) -> str:
    return template.format(
        sa=world.sa, sb=world.sb, a_mid=world.a_mid, p_mid=world.p_mid, c_mid=world.c_mid, b_mid=world.b_mid,
        siret_a=world.manager_a.siret,
    )


async def _send(client, world: World, method: str, path: str, form: dict | None):
    url = _fill(path, world)
    if method == "GET":
        return await client.get(url, follow_redirects=False)
    data = {k: _fill(v, world) for k, v in (form or {}).items()}
    return await post_form(client, "/account", url, data, follow_redirects=False)


def _assert_not_found(response, world: World, outsider: bool = True) -> None:
    assert response.status_code == 404, (response.status_code, response.headers.get("location"), response.text[:300])
    text = html.unescape(response.text)
    assert NOT_FOUND_TEXT in text
    assert world.manager_a.email not in text
    if outsider:  # nothing about A leaks into the refusal (a member of A sees A's name in the header)
        assert "Structure Alpha" not in text


ACTORS = {"manager of B": "manager_b", "plain member of A": "member_p", "pending requester of A": "requester_c"}


@pytest.mark.parametrize("actor", list(ACTORS))
@pytest.mark.parametrize("route", list(MANAGER_ROUTES))
async def test_manager_routes_of_a_answer_404_to_anyone_but_its_managers(client, accounts, world, settings, actor, route):
    await accounts.login(getattr(world, ACTORS[actor]))
    before = await snapshot(settings)
    response = await _send(client, world, *MANAGER_ROUTES[route])
    _assert_not_found(response, world, outsider=actor != "plain member of A")
    assert await snapshot(settings) == before


@pytest.mark.parametrize("route", list(CROSSED_ROUTES))
async def test_a_manager_cannot_reach_another_structures_members_through_their_own(client, accounts, world, settings, route):
    await accounts.login(world.manager_b)
    before = await snapshot(settings)
    response = await _send(client, world, *CROSSED_ROUTES[route])
    _assert_not_found(response, world)
    assert await snapshot(settings) == before


@pytest.mark.parametrize("route", list(MANAGER_ROUTES))
async def test_positive_control_the_manager_of_a_gets_through(client, accounts, world, route):
    """The same requests by A are not 404: the refusals above come from the access checks."""
    await accounts.login(world.manager_a)
    response = await _send(client, world, *MANAGER_ROUTES[route])
    assert response.status_code not in (404, 405), (response.status_code, response.text[:300])
    if route in ("remove the manager", "rights of the manager"):  # A is the only manager: refused, not hidden
        assert response.status_code == 409
    elif route in ("create an API key", "create a webhook"):  # the secret is shown once, on the answer
        assert response.status_code == 201
    else:
        assert response.status_code in (200, 302, 303)


async def test_switching_to_a_structure_one_does_not_belong_to_is_404_and_changes_nothing(client, accounts, world, settings):
    await accounts.login(world.manager_b)
    before = await snapshot(settings)
    response = await post_form(client, "/account", "/account/active-structure",
                               {"structure_id": str(world.sa), "next": "/"}, follow_redirects=False)
    _assert_not_found(response, world)
    assert await snapshot(settings) == before
    home = page_text((await client.get("/")).text)
    assert "Structure active : Structure Bravo" in home
    assert "Structure Alpha" not in home


async def test_a_pending_requester_cannot_make_the_structure_active(client, accounts, world):
    await accounts.login(world.requester_c)
    response = await post_form(client, "/account", "/account/active-structure",
                               {"structure_id": str(world.sa)}, follow_redirects=False)
    _assert_not_found(response, world)
    assert "Structure active" not in page_text((await client.get("/")).text)


async def test_positive_control_a_member_may_switch_to_their_structure(client, accounts, world):
    await accounts.login(world.member_p)
    response = await post_form(client, "/account", "/account/active-structure",
                               {"structure_id": str(world.sa), "next": "/account"}, follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"] == "/account"


async def test_a_foreign_structure_and_a_missing_one_look_the_same(client, accounts, world):
    await accounts.login(world.manager_b)
    foreign = await client.get(f"/structures/{world.sa}/members")
    missing = await client.get(f"/structures/{world.sa + world.sb + 1000}/members")
    assert foreign.status_code == missing.status_code == 404
    assert _without_csrf(foreign.text) == _without_csrf(missing.text)
    foreign_post = await _send(client, world, "POST", "/structures/{sa}/members/{p_mid}/remove", {})
    missing_post = await _send(client, world, "POST", "/structures/{sa}/members/999999/remove", {})
    assert foreign_post.status_code == missing_post.status_code == 404
    assert _without_csrf(foreign_post.text) == _without_csrf(missing_post.text)


def _without_csrf(page: str) -> str:
    return re.sub(r'(X-CSRFToken&#34;: &#34;|X-CSRFToken": "|value=")[^"&]{20,}', r"\1…", page)


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
async def test_anonymous_visitors_are_sent_to_login_from_every_signed_in_page(client, world, path):
    url = _fill(path, world)
    response = await client.get(url, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == f"/login?next={quote(url)}"


@pytest.mark.parametrize("action", list(SIGNED_IN_ACTIONS))
async def test_anonymous_posts_are_sent_to_login_and_change_nothing(client, world, settings, action):
    path, form = SIGNED_IN_ACTIONS[action]
    url = _fill(path, world)
    before = await snapshot(settings)
    page = await client.get("/login")
    data = {k: _fill(v, world) for k, v in (form or {}).items()}
    response = await client.post(url, data={**data, "_csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login")
    assert await snapshot(settings) == before


async def test_logged_out_session_is_anonymous_again(client, accounts, world):
    await accounts.login(world.manager_a)
    assert (await client.get(f"/structures/{world.sa}/members", follow_redirects=False)).status_code == 200
    await accounts.logout()
    response = await client.get(f"/structures/{world.sa}/members", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"].startswith("/login?next=")
