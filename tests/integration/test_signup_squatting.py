"""A SIRET cannot be squatted: the structure exists only once its first gestionnaire has
confirmed their address, and an unconfirmed sign-up expires without blocking anyone."""

from __future__ import annotations

from datetime import timedelta

from backend.accounts.tables import AccountToken, Membership, SignupRequest, User
from backend.directory.tables import Structure
from backend.lib.common import utcnow


async def _user(person) -> User:
    return await User.objects().get(User.email == person.email)


async def test_an_unconfirmed_sign_up_holds_no_structure(client, accounts):
    stranger = accounts.person(company="Usurpateur SARL")
    response = await accounts.signup(stranger)
    assert response.status_code == 201
    assert "vous serez gestionnaire de la structure" in response.text and "qu'à ce moment-là" in response.text
    assert await Structure.count() == 0 and await Membership.count() == 0

    # The real company signs up with the same SIRET and confirms first: it manages its
    # structure under its own name; the stranger's later confirmation is only a request.
    company = accounts.person(siret=stranger.siret, company="Menuiserie Véritable")
    await accounts.signup(company)
    await accounts.confirm(company)
    structure = await Structure.objects().get(Structure.siret == stranger.siret)
    assert structure.name == "Menuiserie Véritable"
    owner = await Membership.objects().get(Membership.user == (await _user(company)).id)
    assert owner.is_manager and owner.status == "active"

    confirmed = await accounts.confirm(stranger)
    assert "attend la réponse de ses gestionnaires" in confirmed.text
    request = await Membership.objects().get(Membership.user == (await _user(stranger)).id)
    assert request.status == "pending" and not request.is_manager
    assert await SignupRequest.count() == 0


async def test_confirming_creates_the_structure_and_makes_its_gestionnaire(client, accounts):
    person = accounts.person(company="Plomberie Durand")
    await accounts.signup(person)
    assert await Structure.count() == 0
    await accounts.confirm(person)
    structure = await Structure.objects().get(Structure.siret == person.siret)
    membership = await Membership.objects().get(Membership.structure == structure.id)
    assert structure.name == "Plomberie Durand" and membership.is_manager and membership.status == "active"
    assert (await accounts.login(person)).status_code == 200


async def test_an_expired_sign_up_does_not_block_its_address(client, accounts):
    first = accounts.person()
    await accounts.signup(first)
    # Still within its 48 hours: the address is taken.
    again = await accounts.signup(accounts.person())
    assert again.status_code == 201  # another address: fine
    twin = accounts.person(siret=first.siret)
    twin.email = first.email
    assert (await accounts.signup(twin)).status_code == 422

    # Its link expired: the address is free again, and the old sign-up is gone with its link.
    await AccountToken.update({AccountToken.expires_at: utcnow() - timedelta(minutes=1)}).where(
        AccountToken.user == (await _user(first)).id)
    retry = await accounts.signup(twin)
    assert retry.status_code == 201
    assert await User.count().where(User.email == first.email) == 1
    await accounts.confirm(twin)
    assert (await accounts.login(twin)).status_code == 200
