"""The default policy, FACTEUR_TWO_FACTOR=managers: a gestionnaire cannot use Facteur before
setting up a second factor, nor remove the last one; other members may; API keys are unaffected.

The rest of the suite runs with "optional" (tests/conftest.py): these tests build an app with
the default setting, as `facteur serve` does when the variable is unset.
"""

from __future__ import annotations

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from backend.accounts.tables import Membership, User
from backend.api.keys import create_key
from backend.app import create_app
from backend.directory.tables import Structure
from backend.settings import load_settings
from tests.support.accounts import AccountFactory
from tests.support.two_factor import enrol_totp, second_step
from tests.support.web import post_form


def test_the_default_policy_is_managers(monkeypatch):
    monkeypatch.delenv("FACTEUR_TWO_FACTOR", raising=False)
    assert load_settings().two_factor == "managers"
    monkeypatch.setenv("FACTEUR_TWO_FACTOR", "tout le monde")
    with pytest.raises(ValueError, match="FACTEUR_TWO_FACTOR"):
        load_settings()


@pytest.fixture
async def managers_client(clean_db, settings):
    app = create_app(msgspec.structs.replace(settings, two_factor="managers"), connection_pool=False)
    async with AsyncTestClient(app=app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture
def people(managers_client, settings) -> AccountFactory:
    return AccountFactory(managers_client, settings)


async def test_a_gestionnaire_without_second_factor_reaches_only_the_enrolment_page(managers_client, people):
    client = managers_client
    person = people.person()
    await people.signup(person)
    await people.confirm(person)  # first member of a new structure: its gestionnaire
    login = await people.login(person)
    assert str(login.url).endswith("/account/security") and "vous devez activer la double authentification" in login.text
    assert 'class="bottom-nav"' not in login.text  # nowhere else to go
    for path in ("/", "/invoices", "/capture", "/account", "/notifications"):
        answer = await client.get(path, follow_redirects=False)
        assert answer.status_code in (302, 303) and answer.headers["location"] == "/account/security", path
    assert (await client.get("/invoices", headers={"hx-request": "true"})).headers.get("hx-redirect") == "/account/security"
    problem = await client.get("/invoices", headers={"accept": "application/json"})
    assert problem.status_code == 403 and problem.json()["code"] == "two_factor_enrolment_required"
    assert (await client.get("/events")).status_code == 401  # no live events either

    await enrol_totp(client)
    assert (await client.get("/invoices")).status_code == 200
    await people.logout()
    assert str((await people.login(person)).url).endswith("/login/second-factor")


async def test_a_gestionnaire_cannot_remove_the_last_factor_nor_disable(managers_client, people):
    client = managers_client
    person = people.person()
    await people.signup(person)
    await people.confirm(person)
    await people.login(person)
    await enrol_totp(client)
    removed = await post_form(client, "/account/security", "/account/security/totp/remove", {})
    assert removed.status_code == 409 and "garder au moins une double authentification" in removed.text
    disabled = await post_form(client, "/account/security", "/account/security/disable", {"password": person.password})
    assert disabled.status_code == 409
    assert "Désactiver la double authentification" not in (await client.get("/account/security")).text


async def test_a_member_who_is_not_gestionnaire_is_not_asked(managers_client, people):
    client = managers_client
    manager = people.person()
    await people.signup(manager)
    await people.confirm(manager)
    await people.login(manager)
    await enrol_totp(client)
    await people.logout()
    member = people.person(siret=manager.siret)
    await people.signup(member)
    await people.confirm(member)  # a join request, accepted below without the "gestion" right
    await Membership.update({Membership.status: "active"}).where(Membership.user.email == member.email)
    signed_in = await people.login(member)
    assert str(signed_in.url).endswith("/") and signed_in.status_code == 200


async def test_a_member_promoted_to_gestionnaire_must_enrol_at_once(managers_client, people):
    client = managers_client
    person = people.person()
    await people.signup(person)
    await people.confirm(person)
    await Membership.update({Membership.is_manager: False}).where(Membership.user.email == person.email)
    assert str((await people.login(person)).url).endswith("/")
    await Membership.update({Membership.is_manager: True}).where(Membership.user.email == person.email)
    answer = await client.get("/invoices", follow_redirects=False)
    assert answer.headers["location"] == "/account/security"


async def test_api_keys_need_no_second_factor(managers_client, people):
    """A gestionnaire without a second factor is held at the enrolment page, but the key of
    their structure's ERP works as before: a Bearer key has no session and no second step."""
    client = managers_client
    person = people.person()
    await people.signup(person)
    await people.confirm(person)
    await people.login(person)
    user = await User.objects().get(User.email == person.email)
    structure = await Structure.objects().get(Structure.siret == person.siret)
    key = await create_key(structure, "ERP", ("read",), user.id)
    assert (await client.get("/invoices", follow_redirects=False)).headers["location"] == "/account/security"
    client.cookies.clear()
    listed = await client.get("/api/v1/invoices", headers={"Authorization": f"Bearer {key.secret}"})
    assert listed.status_code == 200, listed.text
    assert "set-cookie" not in listed.headers


async def test_after_a_reset_by_another_gestionnaire_the_member_enrols_again(managers_client, people):
    client = managers_client
    first = people.person()
    await people.signup(first)
    await people.confirm(first)
    await people.login(first)
    first_app, _ = await enrol_totp(client)
    await people.logout()
    second = people.person(siret=first.siret)
    await people.signup(second)
    await people.confirm(second)
    await Membership.update({Membership.status: "active", Membership.is_manager: True}).where(Membership.user.email == second.email)
    await people.login(second)
    await enrol_totp(client)
    await people.logout()

    await people.login(first)
    await second_step(client, {"method": "totp", "code": first_app.next_code()})
    structure = await Structure.objects().get(Structure.siret == first.siret)
    membership = await Membership.objects().get(Membership.user.email == second.email)
    await post_form(client, f"/structures/{structure.id}/members", f"/structures/{structure.id}/members/{membership.id}/two-factor-reset", {})
    await people.logout()
    assert str((await people.login(second)).url).endswith("/account/security")
