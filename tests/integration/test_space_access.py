"""Spaces and rights per space on every route (the access matrix generated from the route table),
the gestionnaire's pages (activation, rights grid, copy, roles, Approbations) and the migration
that maps older rights onto spaces.

The matrix reads the app's route table: a route added later is covered without touching this file,
and a route that declares no space fails `test_every_route_declares_its_space`.
"""

from __future__ import annotations

import html
import importlib
import re

import pytest
from litestar import get
from litestar.routes import HTTPRoute

from backend.accounts import spaces
from backend.accounts.space_guard import declared_space, is_framework_handler
from backend.accounts.tables import Membership, SpaceRequest, StructureSpaces, User
from backend.directory.tables import Structure
from backend.app import create_app
from backend.invoices.tables import Deposit, Invoice
from backend.tickets.tables import Ticket
from tests.support.accounts import Person
from tests.support.web import csrf_from, post_form

NOT_FOUND_TEXT = "Cette page n'existe pas ou vous n'y avez pas accès."
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def page_text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _handlers(app):
    """(method, path, handler) of every route a person or program can call."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if is_framework_handler(handler):
                continue
            for method in sorted(handler.http_methods - SKIPPED_METHODS):
                yield method, route.path, handler


def test_every_route_declares_its_space(settings):
    app = create_app(settings, connection_pool=False)
    routes = list(_handlers(app))
    assert len(routes) > 150, len(routes)  # the table really was read
    undeclared = [f"{method} {path}" for method, path, handler in routes if declared_space(handler) not in spaces.DECLARATIONS]
    assert not undeclared, "routes without opt=space(...):\n" + "\n".join(undeclared)
    declared = {declared_space(handler) for _, _, handler in routes}
    # Every space of the data governs routes (directly, or through the side's invoice space).
    assert {"travaux", "a_valider", "justice", "recues", "emises", "tickets_emis", "tickets_recus", spaces.INVOICES,
            spaces.TICKETS} <= declared


async def test_a_route_that_declares_no_space_is_closed(app, client, accounts):
    @get("/sans-espace")
    async def undeclared() -> str:
        return "ouvert"

    app.register(undeclared)
    await accounts.registered()
    response = await client.get("/sans-espace")
    assert response.status_code == 404
    assert "ouvert" not in response.text


# --- The generated matrix ---------------------------------------------------------------------

def _url(template: str) -> str:
    return re.sub(r"\{(\w+):(\w+)\}", lambda m: "999999" if m.group(2) == "int" else "x", template)


async def _user_id(person: Person) -> int:
    return (await User.objects().get(User.email == person.email)).id


async def _structure_id(person: Person) -> int:
    return (await Structure.objects().get(Structure.siret == person.siret)).id


async def _plain_member(person: Person, rights: str, public: bool = False) -> int:
    """The person's structure made public or not, and the person a plain member with these rights."""
    structure_id = await _structure_id(person)
    await Structure.update({Structure.is_public: public}).where(Structure.id == structure_id)
    await Membership.update({Membership.is_manager: False, Membership.is_principal: False, Membership.space_rights: rights}).where(
        Membership.user == await _user_id(person))
    return structure_id


async def _activate(structure_id: int, codes) -> None:
    await StructureSpaces.delete().where(StructureSpaces.structure == structure_id)
    await StructureSpaces.insert(StructureSpaces(structure=structure_id, spaces=spaces.format_active(codes)))


async def _snapshot() -> dict:
    return {
        "memberships": await Membership.select().order_by(Membership.id),
        "invoices": await Invoice.count(), "deposits": await Deposit.count(), "tickets": await Ticket.count(),
        "space requests": await SpaceRequest.count(),
    }


async def _call(client, method: str, path: str, token: str):
    return await client.request(method, path, headers={"X-CSRFToken": token}, follow_redirects=False)


def _space_routes(app):
    return [(m, p, h) for m, p, h in _handlers(app) if declared_space(h) not in spaces.NOT_SPACES]


async def test_every_space_route_refuses_a_member_without_the_right_and_changes_nothing(app, client, accounts):
    """A member of a company and an agent of a public structure, every space active, no right at all:
    every route of every space answers 404 and nothing is written. With consultation everywhere, every
    write still answers 404 (it needs modification), except the few writes declared as reads."""
    company = await accounts.registered(company="Menuiserie Sans Droit")
    await accounts.logout()
    agent = await accounts.registered(company="Mairie Sans Droit")
    await accounts.logout()
    company_sid = await _plain_member(company, "")
    agent_sid = await _plain_member(agent, "", public=True)
    await _activate(company_sid, spaces.CODES)
    await _activate(agent_sid, spaces.CODES)
    routes = _space_routes(app)
    assert len(routes) > 50, len(routes)
    wrong = []
    for person in (company, agent):
        await accounts.login(person)
        token = csrf_from((await client.get("/account")).text)
        before = await _snapshot()
        for method, path, handler in routes:
            response = await _call(client, method, _url(path), token)
            if response.status_code != 404 or NOT_FOUND_TEXT not in html.unescape(response.text):
                wrong.append(f"no right: {person.company} {method} {path}: {response.status_code}")
        assert await _snapshot() == before
        await accounts.logout()
    # Consultation everywhere: reads pass the guard, writes do not.
    everywhere = spaces.format_rights({code: spaces.CONSULTATION for code in spaces.CODES})
    await Membership.update({Membership.space_rights: everywhere}).where(Membership.structure.is_in([company_sid, agent_sid]))
    for person in (company, agent):
        await accounts.login(person)
        token = csrf_from((await client.get("/account")).text)
        before = await _snapshot()
        for method, path, handler in routes:
            if spaces.required_level(method, handler.opt) != spaces.MODIFICATION:
                continue
            response = await _call(client, method, _url(path), token)
            if response.status_code != 404:
                wrong.append(f"consultation only: {person.company} {method} {path}: {response.status_code}")
        assert await _snapshot() == before
        await accounts.logout()
    assert not wrong, f"{len(wrong)} refusals missing:\n" + "\n".join(wrong)


async def test_every_space_page_opens_with_its_right_and_closes_when_the_space_is_off(app, client, accounts):
    """Positive control and activation: every GET page of a space without an id opens for someone holding
    the right there (company member or public agent, whichever side the page is for), and the same
    request is 404 once the gestionnaire switched the space off."""
    company = await accounts.registered(company="Menuiserie Lecture")
    await accounts.logout()
    agent = await accounts.registered(company="Mairie Lecture")
    await accounts.logout()
    everywhere = spaces.format_rights({code: spaces.MODIFICATION for code in spaces.CODES})
    sids = {company.email: await _plain_member(company, everywhere), agent.email: await _plain_member(agent, everywhere, public=True)}
    pages = [(path, h) for m, path, h in _space_routes(app) if m == "GET" and "{" not in path]
    assert len(pages) >= 10, pages
    opened, closed_wrong = {}, []
    for on in (True, False):
        for person in (company, agent):
            await _activate(sids[person.email], spaces.CODES if on else ())
            await accounts.login(person)
            for path, handler in pages:
                response = await client.get(path, follow_redirects=False)
                if on and response.status_code != 404:
                    assert response.status_code < 500, (path, response.text[:300])
                    opened.setdefault(path, person.company)
                if not on and response.status_code != 404:
                    closed_wrong.append(f"{person.company} {path}: {response.status_code}")
            await accounts.logout()
    assert set(opened) == {path for path, _ in pages}, f"never opened: {sorted({p for p, _ in pages} - set(opened))}"
    assert not closed_wrong, closed_wrong


# --- The gestionnaire's pages -----------------------------------------------------------------

async def _join(client, accounts, manager: Person) -> tuple[Person, int]:
    """Someone asks to join the manager's structure; the manager accepts from "Approbations"."""
    await accounts.logout()
    member = await accounts.registered(siret=manager.siret, company="peu importe")
    await accounts.logout()
    await accounts.login(manager)
    sid = await _structure_id(manager)
    approvals = await client.get(f"/structures/{sid}/approvals")
    assert approvals.status_code == 200
    assert member.email in page_text(approvals.text)
    mid = (await Membership.objects().get((Membership.user == await _user_id(member)) & (Membership.structure == sid))).id
    accepted = await post_form(client, f"/structures/{sid}/approvals", f"/structures/{sid}/requests/{mid}/accept", {})
    assert accepted.status_code == 200, accepted.text[:300]
    return member, mid


def _nav(page: str) -> str:
    return page_text(page.split('class="bottom-nav"', 1)[1])


async def test_rights_grid_activation_copy_and_navigation(client, accounts):
    manager = await accounts.registered(company="Menuiserie Grille")
    sid = await _structure_id(manager)
    p, p_mid = await _join(client, accounts, manager)
    q, q_mid = await _join(client, accounts, manager)
    grid_page = await client.get(f"/structures/{sid}/spaces")
    assert grid_page.status_code == 200
    assert "Factures émises" in page_text(grid_page.text) and "gestionnaire principal" in page_text(grid_page.text)

    # P: consultation only in "Factures émises" — may read invoices, may not capture.
    saved = await post_form(client, f"/structures/{sid}/spaces", f"/structures/{sid}/members/{p_mid}/spaces",
                            {"space_emises": "consultation", "space_a_valider": "", "space_travaux": "",
                             "space_justice": "", "space_tickets_emis": ""}, follow_redirects=False)
    assert saved.status_code in (302, 303)
    p_row = await Membership.objects().get(Membership.id == p_mid)
    active = spaces.default_spaces(False)  # a company's spaces, none chosen yet
    assert spaces.effective(p_row.to_dict(), active) == {"emises": "consultation"}
    assert not p_row.can_deposit  # the flags the lifecycle reads follow
    # A level that does not exist: 422, nothing written.
    bad = await post_form(client, f"/structures/{sid}/spaces", f"/structures/{sid}/members/{p_mid}/spaces",
                          {"space_emises": "tout"})
    assert bad.status_code == 422
    assert (await Membership.objects().get(Membership.id == p_mid)).space_rights == p_row.space_rights

    # Copy P's rights onto Q.
    copied = await post_form(client, f"/structures/{sid}/spaces", f"/structures/{sid}/rights/copy",
                             {"from": str(p_mid), "to": str(q_mid)}, follow_redirects=False)
    assert copied.status_code in (302, 303)
    assert spaces.effective((await Membership.objects().get(Membership.id == q_mid)).to_dict(), active) == {"emises": "consultation"}

    await accounts.logout()
    await accounts.login(q)
    home = await client.get("/")
    assert "Factures" in _nav(home.text) and "Saisir" not in _nav(home.text)
    assert (await client.get("/invoices")).status_code == 200
    assert (await client.get("/capture", follow_redirects=False)).status_code == 404

    # Q asks for modification in "Factures émises"; it waits in Approbations; the manager accepts.
    asked = await post_form(client, "/account", "/account/space-requests", {"space": "emises", "level": "modification"},
                            follow_redirects=False)
    assert asked.status_code in (302, 303)
    await accounts.logout()
    await accounts.login(manager)
    approvals = page_text((await client.get(f"/structures/{sid}/approvals")).text)
    assert "demande la modification dans « Factures émises »" in approvals
    request_id = (await SpaceRequest.select(SpaceRequest.id).first())["id"]
    decided = await post_form(client, f"/structures/{sid}/approvals", f"/structures/{sid}/space-requests/{request_id}/accept", {},
                              follow_redirects=False)
    assert decided.status_code in (302, 303)

    # The gestionnaire switches "Factures émises" off: nobody sees invoices any more, not even Q.
    off = await post_form(client, f"/structures/{sid}/spaces", f"/structures/{sid}/spaces",
                          {"active_travaux": "on", "active_tickets_emis": "on"}, follow_redirects=False)
    assert off.status_code in (302, 303)
    await accounts.logout()
    await accounts.login(q)
    assert (await client.get("/capture", follow_redirects=False)).status_code == 404
    assert "Factures" not in _nav((await client.get("/")).text)
    await accounts.logout()
    await accounts.login(manager)
    await post_form(client, f"/structures/{sid}/spaces", f"/structures/{sid}/spaces",
                    {f"active_{code}": "on" for code in spaces.default_spaces(False)})
    await accounts.logout()
    await accounts.login(q)
    assert (await client.get("/capture", follow_redirects=False)).status_code == 200  # the accepted request counts
    assert "Saisir" in _nav((await client.get("/")).text)


async def test_only_the_principal_gestionnaire_names_gestionnaires(client, accounts):
    manager = await accounts.registered(company="Menuiserie Rôles")
    sid = await _structure_id(manager)
    p, p_mid = await _join(client, accounts, manager)
    a_mid = (await Membership.objects().get((Membership.user == await _user_id(manager)) & (Membership.structure == sid))).id
    named = await post_form(client, f"/structures/{sid}/spaces", f"/structures/{sid}/members/{p_mid}/role",
                            {"role": "secondary"}, follow_redirects=False)
    assert named.status_code in (302, 303)
    # The principal cannot be demoted: they hand the role over first.
    kept = await post_form(client, f"/structures/{sid}/spaces", f"/structures/{sid}/members/{a_mid}/role", {"role": "member"})
    assert kept.status_code == 409
    await accounts.logout()
    await accounts.login(p)  # a secondary gestionnaire manages rights, not gestionnaires
    refused = await post_form(client, f"/structures/{sid}/spaces", f"/structures/{sid}/members/{a_mid}/role", {"role": "member"})
    assert refused.status_code == 409
    assert "Seul le gestionnaire principal" in page_text(refused.text)
    assert (await Membership.objects().get(Membership.id == a_mid)).is_manager
    await accounts.logout()
    await accounts.login(manager)
    handed = await post_form(client, f"/structures/{sid}/spaces", f"/structures/{sid}/members/{p_mid}/role",
                             {"role": "principal"}, follow_redirects=False)
    assert handed.status_code in (302, 303)
    rows = {m.id: m for m in await Membership.objects().where(Membership.structure == sid)}
    assert rows[p_mid].is_principal and rows[p_mid].is_manager
    assert not rows[a_mid].is_principal and rows[a_mid].is_manager


# --- The migration ----------------------------------------------------------------------------

async def test_migration_maps_existing_rights_and_names_the_first_gestionnaire_principal(client, accounts):
    """Rows as they were before spaces (space_rights NULL, no principal) get the rights their flags
    meant, and each structure's first gestionnaire becomes its principal gestionnaire."""
    migration = importlib.import_module("backend.accounts.piccolo_migrations.accounts_spaces_rights_data")
    first = await accounts.registered(company="Ancienne Structure")
    sid = await _structure_id(first)
    others = []
    for flags in ({"can_deposit": True}, {"can_process": True}, {"is_manager": True}, {"can_consult": True}):
        await accounts.logout()
        person = await accounts.registered(siret=first.siret, company="peu importe")
        others.append((person, flags))
    await Membership.update({Membership.status: "active", Membership.space_rights: None, Membership.is_principal: False,
                             Membership.can_deposit: False, Membership.can_process: False, Membership.can_consult: True,
                             Membership.is_manager: False}).where(Membership.structure == sid)
    await Membership.update({Membership.is_manager: True, Membership.can_deposit: True, Membership.can_process: True}).where(
        Membership.user == await _user_id(first))
    for person, flags in others:
        await Membership.update({getattr(Membership, k): v for k, v in flags.items()}).where(Membership.user == await _user_id(person))

    await migration.map_rights()
    await migration.name_principals()

    rows = {r["user"]: r for r in await Membership.select().where(Membership.structure == sid)}
    first_row = rows[await _user_id(first)]
    assert first_row["is_principal"]
    assert spaces.parse_rights(first_row["space_rights"]) == {code: "modification" for code in spaces.CODES}
    expected = {
        "can_deposit": {"emises": "modification", "a_valider": "modification"},
        "can_process": {"recues": "modification"},
        "can_consult": {"emises": "consultation", "recues": "consultation"},
    }
    for person, flags in others:
        row = rows[await _user_id(person)]
        mapped = spaces.parse_rights(row["space_rights"])
        assert not row["is_principal"]
        if "is_manager" in flags:
            assert mapped == {code: "modification" for code in spaces.CODES}
            continue
        key = next(iter(flags))
        for code, level in expected[key].items():
            assert mapped[code] == level, (key, mapped)
        # Same answer as the rule applied to rows that still have no space rights.
        assert mapped == spaces.stored_rights({**row, "space_rights": None})

    # What the member sees through the app after the migration: the supplier with saisie + dépôt still captures.
    await accounts.logout()
    depositor = next(person for person, flags in others if "can_deposit" in flags)
    await accounts.login(depositor)
    assert (await client.get("/capture", follow_redirects=False)).status_code == 200


# --- API keys ---------------------------------------------------------------------------------

async def test_api_keys_keep_their_scopes_within_the_spaces_the_structure_uses(client):
    """Until the gestionnaire chooses spaces, a key works as before; once "Factures émises" and
    "Factures reçues" are off, its `read` and `deposit` scopes stop, with a stable code."""
    from backend.api.keys import create_key

    structure = Structure(siret="21750001600019", siren="217500016", name="Commune de Paris", search_key="commune de paris",
                          is_public=True, active=True)
    await structure.save()
    secret = (await create_key(structure, "ERP", ("deposit", "read", "process"), None)).secret
    headers = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/v1/received", headers=headers)).status_code == 200
    await _activate(structure.id, ("travaux", "tickets_recus"))
    refused = await client.get("/api/v1/received", headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "space_inactive", refused.text
    deposit = await client.post("/api/v1/deposits", headers=headers, files={"file": ("f.xml", b"<x/>", "application/xml")})
    assert deposit.status_code == 403 and deposit.json()["code"] == "space_inactive", deposit.text
    assert await Deposit.count() == 0
    await _activate(structure.id, ("recues",))
    assert (await client.get("/api/v1/received", headers=headers)).status_code == 200
