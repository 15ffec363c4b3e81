"""Rattachements and habilitations: join requests (sign-up with a known SIRET, or from
"Compte"), the gestionnaire's decision, rights, the last-manager rule, the active structure."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

import pytest

from backend.accounts.tables import Membership, User
from backend.directory.tables import Structure
from tests.support.accounts import Person, valid_siret
from tests.support.web import mailbox_messages, post_form

LAST_MANAGER = "La structure doit garder au moins un gestionnaire."




def page_text(page: str) -> str:
    """The visible text of a page: tags dropped, entities decoded, blanks collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def mails_to(settings, address: str) -> list:
    return [m for m in mailbox_messages(settings.mailbox_dir) if m["To"] == address]


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


async def structure_of(person: Person) -> Structure:
    return await Structure.objects().get(Structure.siret == person.siret)


async def membership(person: Person, structure_id: int) -> Membership | None:
    user = await User.objects().get(User.email == person.email)
    return await Membership.objects().get((Membership.user == user.id) & (Membership.structure == structure_id))


async def user_id(person: Person) -> int:
    return (await User.objects().get(User.email == person.email)).id


async def as_user(accounts, person: Person) -> None:
    await accounts.logout()
    response = await accounts.login(person)
    assert response.status_code == 200, response.text


async def decide(client, structure_id: int, membership_id: int, decision: str, **kwargs):
    return await post_form(client, f"/structures/{structure_id}/members",
                           f"/structures/{structure_id}/requests/{membership_id}/{decision}", {}, **kwargs)


async def set_rights(client, structure_id: int, membership_id: int, form: dict, **kwargs):
    return await post_form(client, f"/structures/{structure_id}/members",
                           f"/structures/{structure_id}/members/{membership_id}/rights", form, **kwargs)


async def join(client, siret: str, **kwargs):
    return await post_form(client, "/account", "/account/join", {"siret": siret}, **kwargs)


@pytest.fixture
async def manager(accounts) -> Person:
    person = await accounts.registered(company="Boulangerie Dupont")
    await accounts.logout()
    return person


async def accepted_member(client, accounts, manager: Person) -> Person:
    """A second person of the manager's structure, accepted with the default rights; logged out."""
    member = await accounts.registered(siret=manager.siret, company="ignoré")
    sid = (await structure_of(manager)).id
    await as_user(accounts, manager)
    response = await decide(client, sid, (await membership(member, sid)).id, "accept")
    assert response.status_code == 200
    await accounts.logout()
    return member


# --- join requests -------------------------------------------------------------------


async def test_sign_up_with_a_known_siret_is_a_pending_request_mailed_to_the_managers(client, accounts, manager, settings):
    structure = await structure_of(manager)
    joiner = accounts.person(siret=manager.siret, company="Un autre nom")
    response = await accounts.signup(joiner)
    assert response.status_code == 201
    text = page_text(response.text)
    assert ("La structure Boulangerie Dupont existe déjà : dès que vous aurez confirmé votre adresse, "
            "votre demande de rattachement sera transmise") in text
    assert "Un autre nom" not in text
    assert await Structure.count() == 1
    assert (await structure_of(manager)).name == "Boulangerie Dupont"
    # Nothing reaches the gestionnaires from an address nobody has confirmed.
    assert not any("rattachement" in m["Subject"] for m in mails_to(settings, manager.email))

    await accounts.confirm(joiner)
    request = await membership(joiner, structure.id)
    assert (request.status, request.is_manager, request.can_deposit, request.can_process) == ("pending", False, False, False)

    [notice] = mails_to(settings, manager.email)[-1:]
    assert notice["Subject"] == "Facteur — demande de rattachement à Boulangerie Dupont"
    assert joiner.email in body(notice)
    assert f"{settings.base_url}/structures/{structure.id}/members" in body(notice)

    # The requester may log in, and is told to wait; they are not a member yet.
    await accounts.login(joiner)
    home = page_text((await client.get("/")).text)
    assert "Votre demande de rattachement attend la réponse d'un gestionnaire" in home
    assert "Structure active" not in home
    account = page_text((await client.get("/account")).text)
    assert re.search(r"Boulangerie Dupont SIRET \d{14} en attente", account)
    assert (await client.get(f"/structures/{structure.id}/members")).status_code == 404

    # The manager sees the request at home and on the members page, with its two buttons.
    await as_user(accounts, manager)
    assert "1 demande de rattachement en attente" in page_text((await client.get("/")).text)
    members = (await client.get(f"/structures/{structure.id}/members")).text
    assert joiner.email in members
    assert f'action="/structures/{structure.id}/requests/{request.id}/accept"' in members
    assert f'action="/structures/{structure.id}/requests/{request.id}/refuse"' in members


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        (valid_siret(987_654), "Aucune structure n'est enregistrée avec ce SIRET. Pour la créer, inscrivez-la depuis la page d'inscription."),
        ("73282932000075", "Ce SIRET n'est pas valide (clé de contrôle incorrecte) : vérifiez les 14 chiffres."),
        ("1234", "Le SIRET doit comporter exactement 14 chiffres."),
        ("", "Le SIRET est obligatoire."),
    ],
    ids=["unknown", "bad-key", "short", "empty"],
)
async def test_join_from_account_refuses_a_siret_it_cannot_use_in_french(client, accounts, manager, settings, siret, message):
    await accounts.login(manager)
    rows, mails = await Membership.count(), len(mailbox_messages(settings.mailbox_dir))
    response = await join(client, siret)
    assert response.status_code == 422
    page = response.text
    assert message in page_text(page)
    assert 'aria-invalid="true"' in page and 'id="e-siret"' in page  # next to the field
    assert await Membership.count() == rows
    assert len(mailbox_messages(settings.mailbox_dir)) == mails


async def test_join_from_account_when_already_a_member(client, accounts, manager):
    await accounts.login(manager)
    response = await join(client, manager.siret)
    assert response.status_code == 422
    assert "Vous êtes déjà membre de cette structure." in page_text(response.text)
    assert await Membership.count() == 1


async def test_join_from_account_sends_the_request_once(client, accounts, manager, settings):
    other = await accounts.registered(company="Zinguerie Ultra")
    spaced = f"{manager.siret[:3]} {manager.siret[3:6]} {manager.siret[6:9]} {manager.siret[9:]}"
    response = await join(client, spaced, follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"] == "/account"
    account = page_text((await client.get("/account")).text)
    assert "Votre demande de rattachement à Boulangerie Dupont a été envoyée à ses gestionnaires." in account
    assert re.search(r"Mes demandes Boulangerie Dupont SIRET \d{14} en attente", account)

    sid = (await structure_of(manager)).id
    request = await membership(other, sid)
    assert request.status == "pending" and not request.can_deposit and not request.is_manager
    notice = mails_to(settings, manager.email)[-1]
    assert notice["Subject"] == "Facteur — demande de rattachement à Boulangerie Dupont"
    assert f"Alex Test <{other.email}>" in body(notice)

    again = await join(client, manager.siret)
    assert again.status_code == 422
    assert "Une demande de rattachement à cette structure est déjà en attente." in page_text(again.text)
    assert await Membership.count().where(Membership.structure == sid) == 2  # manager + one request


# --- decisions -----------------------------------------------------------------------


async def test_accepting_gives_consult_and_deposit_rights_and_tells_the_member(client, accounts, manager, settings):
    joiner = await accounts.registered(siret=manager.siret, company="ignoré")
    sid = (await structure_of(manager)).id
    request = await membership(joiner, sid)
    await as_user(accounts, manager)

    response = await decide(client, sid, request.id, "accept", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"] == f"/structures/{sid}/members"
    members = page_text((await client.get(response.headers["location"])).text)
    assert f"Demande de {joiner.email} acceptée." in members
    assert "Demandes de rattachement" not in members

    member = await membership(joiner, sid)
    assert member.status == "active"
    assert (member.can_consult, member.can_deposit, member.is_manager, member.can_process) == (True, True, False, False)
    assert member.decided_by == await user_id(manager) and member.decided_at is not None

    mail = mails_to(settings, joiner.email)[-1]
    assert mail["Subject"] == "Facteur — demande de rattachement acceptée"
    assert "Boulangerie Dupont" in body(mail) and settings.base_url in body(mail)

    await as_user(accounts, joiner)
    assert "Structure active : Boulangerie Dupont" in page_text((await client.get("/")).text)
    account = page_text((await client.get("/account")).text)
    assert re.search(r"Mes structures Boulangerie Dupont SIRET \d{14} saisie et dépôt consultation active", account)
    assert "gestionnaire" not in account.split("Rejoindre une structure")[0]


async def test_refusing_tells_the_requester_who_may_ask_again(client, accounts, manager, settings):
    joiner = await accounts.registered(siret=manager.siret, company="ignoré")
    sid = (await structure_of(manager)).id
    request = await membership(joiner, sid)
    await as_user(accounts, manager)

    response = await decide(client, sid, request.id, "refuse")
    assert response.status_code == 200
    assert f"Demande de {joiner.email} refusée." in page_text(response.text)
    refused = await membership(joiner, sid)
    assert refused.status == "refused" and not refused.can_deposit
    mail = mails_to(settings, joiner.email)[-1]
    assert mail["Subject"] == "Facteur — demande de rattachement refusée"
    assert "Boulangerie Dupont" in body(mail)

    await as_user(accounts, joiner)
    account = page_text((await client.get("/account")).text)
    assert re.search(r"Boulangerie Dupont SIRET \d{14} refusée", account)
    assert "Structure active" not in page_text((await client.get("/")).text)
    notices = len(mails_to(settings, manager.email))
    assert (await join(client, manager.siret)).status_code == 200
    again = await membership(joiner, sid)
    assert again.id == request.id and again.status == "pending" and again.decided_at is None
    assert len(mails_to(settings, manager.email)) == notices + 1


async def test_a_request_is_decided_only_once(client, accounts, manager, settings):
    joiner = await accounts.registered(siret=manager.siret, company="ignoré")
    sid = (await structure_of(manager)).id
    request = await membership(joiner, sid)
    await as_user(accounts, manager)
    assert (await decide(client, sid, request.id, "accept")).status_code == 200
    mails = len(mails_to(settings, joiner.email))
    second = await decide(client, sid, request.id, "refuse")
    assert second.status_code == 409
    assert "Cette demande a déjà été traitée." in page_text(second.text)
    assert (await membership(joiner, sid)).status == "active"
    assert len(mails_to(settings, joiner.email)) == mails
    assert (await decide(client, sid, request.id, "maybe")).status_code == 404


# --- rights --------------------------------------------------------------------------


async def test_rights_change_and_a_new_manager_can_manage(client, accounts, manager):
    member = await accepted_member(client, accounts, manager)
    sid = (await structure_of(manager)).id
    mid = (await membership(member, sid)).id
    await accounts.login(manager)

    response = await set_rights(client, sid, mid, {})  # every box unticked
    assert response.status_code == 200
    assert "Habilitations mises à jour." in page_text(response.text)
    row = await membership(member, sid)
    assert (row.can_consult, row.can_deposit, row.is_manager, row.can_process) == (True, False, False, False)

    await set_rights(client, sid, mid, {"can_deposit": "on"})
    row = await membership(member, sid)
    assert (row.can_consult, row.can_deposit, row.is_manager) == (True, True, False)

    await set_rights(client, sid, mid, {"is_manager": "on"})  # managing implies every right
    row = await membership(member, sid)
    assert (row.can_consult, row.can_deposit, row.is_manager, row.can_process) == (True, True, True, True)

    await as_user(accounts, member)
    assert (await client.get(f"/structures/{sid}/members")).status_code == 200
    assert (await client.get(f"/structures/{sid}/profile")).status_code == 200


async def test_the_last_manager_can_be_neither_demoted_nor_removed(client, accounts, manager):
    member = await accepted_member(client, accounts, manager)
    sid = (await structure_of(manager)).id
    own = (await membership(manager, sid)).id
    await accounts.login(manager)
    before = await Membership.select().order_by(Membership.id)

    demoted = await set_rights(client, sid, own, {"can_deposit": "on"})
    assert demoted.status_code == 409
    assert LAST_MANAGER in page_text(demoted.text)
    removed = await post_form(client, f"/structures/{sid}/members", f"/structures/{sid}/members/{own}/remove", {})
    assert removed.status_code == 409
    assert LAST_MANAGER in page_text(removed.text)
    assert await Membership.select().order_by(Membership.id) == before

    # With a second manager, the first may step down; then the second is the last one.
    mid = (await membership(member, sid)).id
    await set_rights(client, sid, mid, {"is_manager": "on"})
    stepped_down = await set_rights(client, sid, own, {"can_deposit": "on"}, follow_redirects=False)
    assert stepped_down.status_code in (302, 303)
    assert not (await membership(manager, sid)).is_manager
    assert (await client.get(f"/structures/{sid}/members")).status_code == 404  # no longer a manager

    await as_user(accounts, member)
    assert (await set_rights(client, sid, mid, {})).status_code == 409
    assert (await membership(member, sid)).is_manager


async def test_removing_a_member(client, accounts, manager, settings):
    member = await accepted_member(client, accounts, manager)
    sid = (await structure_of(manager)).id
    mid = (await membership(member, sid)).id
    await accounts.login(manager)
    response = await post_form(client, f"/structures/{sid}/members", f"/structures/{sid}/members/{mid}/remove", {})
    assert response.status_code == 200
    assert "Le membre a été retiré de la structure." in page_text(response.text)
    assert await membership(member, sid) is None
    assert member.email not in response.text.split("Inviter une personne")[0]

    await as_user(accounts, member)
    assert "Structure active" not in page_text((await client.get("/")).text)


# --- the active structure ------------------------------------------------------------


def header_of(page: str) -> str:
    return page.split('<header class="app-header">', 1)[1].split("</header>", 1)[0]


def selected_in_header(page: str) -> str:
    header = header_of(page)
    options = re.findall(r'<option value="(\d+)"\s*(selected)?>([^<]*)</option>', header)
    chosen = [html.unescape(name) for _, selected, name in options if selected]
    assert len(chosen) == 1, options
    return chosen[0]


async def test_a_user_in_two_structures_switches_the_active_one_and_the_header_shows_it(client, accounts, manager):
    user = await accounts.registered(company="Zinguerie Ultra")
    assert "Zinguerie Ultra" in page_text(header_of((await client.get("/")).text))  # one structure: its name
    assert "<select" not in header_of((await client.get("/")).text)
    sid_a, sid_u = (await structure_of(manager)).id, (await structure_of(user)).id
    assert (await join(client, manager.siret)).status_code == 200
    await as_user(accounts, manager)
    await decide(client, sid_a, (await membership(user, sid_a)).id, "accept")
    await as_user(accounts, user)

    home = (await client.get("/")).text
    names = re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', header_of(home))
    assert names == ["Boulangerie Dupont", "Zinguerie Ultra"]

    response = await post_form(client, "/", "/account/active-structure", {"structure_id": str(sid_u), "next": "/account"},
                               follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"] == "/account"
    assert selected_in_header((await client.get("/account")).text) == "Zinguerie Ultra"
    home = (await client.get("/")).text
    assert selected_in_header(home) == "Zinguerie Ultra"
    assert "Structure active : Zinguerie Ultra" in page_text(home)

    await post_form(client, "/", "/account/active-structure", {"structure_id": str(sid_a), "next": "/"})
    home = (await client.get("/")).text
    assert selected_in_header(home) == "Boulangerie Dupont"
    assert "Structure active : Boulangerie Dupont" in page_text(home)
    # The choice belongs to the session: it survives page loads, and rights follow it.
    account = (await client.get("/account")).text
    assert selected_in_header(account) == "Boulangerie Dupont"
    assert f'href="/structures/{sid_u}/members"' in account  # still manager of their own
    assert f'href="/structures/{sid_a}/members"' not in account  # plain member there


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "evil.example", "/\\evil.example", "/\t/evil.example"])
async def test_switching_never_redirects_off_site(client, accounts, manager, target):
    await accounts.login(manager)
    sid = (await structure_of(manager)).id
    response = await post_form(client, "/", "/account/active-structure", {"structure_id": str(sid), "next": target},
                               follow_redirects=False)
    assert response.status_code in (302, 303)
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert urlsplit(urljoin("http://127.0.0.1:8000/account", location)).netloc == "127.0.0.1:8000"
    assert not any(c in location for c in "\t\n\r\\")  # nothing a browser would strip or turn into "/"
