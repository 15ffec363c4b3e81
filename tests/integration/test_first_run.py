"""A new supplier's first run: the home page and the profile's guide say what is needed to
invoice, in order, with progress; the capture page says what is missing before anything is
typed, and says nothing once the profile is complete."""

from __future__ import annotations

import html
import re

import pytest

from backend.directory.tables import Structure
from tests.support.accounts import Person
from tests.support.web import post_form

IBAN = "FR7630006000011234567890189"


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def vat_of(siren: str) -> str:
    return "FR%02d%s" % ((12 + 3 * (int(siren) % 97)) % 97, siren)


@pytest.fixture
async def newcomer(accounts) -> Person:
    return await accounts.registered(company="Plomberie Neuve")


@pytest.fixture
async def structure(newcomer) -> Structure:
    return await Structure.objects().get(Structure.siret == newcomer.siret)


async def test_home_and_capture_say_what_the_profile_lacks_before_anything_is_typed(client, newcomer, structure):
    home = text_of((await client.get("/")).text)
    assert "Premiers pas : votre profil pour facturer" in home
    assert "1 étape sur 4 pour pouvoir facturer" in home  # the name came with the sign-up
    assert f'href="/structures/{structure.id}/profile?guide=1"' in (await client.get("/")).text
    capture = text_of((await client.get("/capture")).text)
    assert "Il manque : Adresse — obligatoire sur toute facture" in capture
    assert "N° de TVA intracommunautaire" in capture and "Coordonnées bancaires" in capture
    new = await post_form(client, "/capture", "/capture/drafts", {})  # a blank draft: nothing typed yet
    assert "Compléter le profil" in new.text and "Il manque" in text_of(new.text)


async def test_the_guide_takes_the_steps_in_order_then_leads_to_capture(client, newcomer, structure):
    url = f"/structures/{structure.id}/profile?guide=1"
    guide = await client.get(url)
    assert "Premiers pas : ce qu'il faut pour facturer" in text_of(guide.text)
    assert 'name="guide" value="1"' in guide.text
    order = [guide.text.index(f'id="etape-{key}"') for key in ("name", "address", "vat", "bank")]
    assert order == sorted(order)

    form = {"guide": "1", "name": "Plomberie Neuve", "address_line1": "3 rue Neuve", "address_line2": "",
            "postal_code": "44000", "city": "Nantes", "vat_number": "", "iban": "", "bic": "", "contact_email": ""}
    step = await post_form(client, url, f"/structures/{structure.id}/profile", form, follow_redirects=False)
    assert step.headers["location"] == f"{url}#etape-vat"
    after = text_of((await client.get(url)).text)
    assert "Enregistré. Il reste 2 étapes : N° de TVA intracommunautaire, coordonnées bancaires." in after
    assert "2 étapes sur 4 pour pouvoir facturer" in after

    done = await post_form(client, url, f"/structures/{structure.id}/profile",
                           form | {"vat_number": vat_of(structure.siren), "iban": IBAN}, follow_redirects=False)
    assert done.headers["location"] == "/capture"
    capture = await client.get("/capture")
    assert "Profil complet : vous pouvez saisir votre première facture." in text_of(capture.text)
    assert "data-profile-missing" not in capture.text and "Il manque" not in text_of(capture.text)
    assert "Premiers pas" not in text_of((await client.get("/")).text)


async def test_a_member_who_is_not_gestionnaire_is_told_who_can_complete_it(client, accounts, newcomer, structure):
    from backend.accounts.tables import Membership

    await Membership.update({Membership.is_manager: False}).where(Membership.structure == structure.id)
    capture = text_of((await client.get("/capture")).text)
    assert "Seul un gestionnaire de la structure peut compléter son profil" in capture
    assert "?guide=1" not in (await client.get("/capture")).text
