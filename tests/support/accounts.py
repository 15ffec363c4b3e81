"""Creating users the way a person does: sign-up form, mailbox link, login form."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from litestar.testing import AsyncTestClient
from stdnum import luhn

from backend.settings import Settings
from tests.support.web import last_mail_to, link_in, post_form

_counter = itertools.count(1)


def valid_siret(seed: int | None = None) -> str:
    """A Luhn-valid SIREN and SIRET built from a number."""
    n = next(_counter) if seed is None else seed
    siren = f"{(30000000 + n * 7919) % 100000000:08d}"
    siren += luhn.calc_check_digit(siren)
    siret = siren + "0001"
    return siret + luhn.calc_check_digit(siret)


@dataclass
class Person:
    email: str
    password: str
    siret: str
    company: str


class AccountFactory:
    def __init__(self, client: AsyncTestClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def person(self, siret: str | None = None, company: str = "Menuiserie Test") -> Person:
        n = next(_counter)
        return Person(f"user{n}@exemple.fr", "mot-de-passe-solide", siret or valid_siret(), company)

    async def signup(self, person: Person):
        return await post_form(self.client, "/signup", "/signup", {
            "company_name": person.company, "siret": person.siret, "first_name": "Alex",
            "last_name": "Test", "email": person.email, "password": person.password,
        })

    async def confirm(self, person: Person):
        link = link_in(last_mail_to(self.settings.mailbox_dir, person.email), "/confirm/")
        return await post_form(self.client, link, link, {})

    async def login(self, person: Person):
        return await post_form(self.client, "/login", "/login", {"email": person.email, "password": person.password})

    async def logout(self):
        return await post_form(self.client, "/account", "/logout", {})

    async def registered(self, siret: str | None = None, company: str = "Menuiserie Test") -> Person:
        """A confirmed account, logged in."""
        person = self.person(siret, company)
        assert (await self.signup(person)).status_code == 201
        assert (await self.confirm(person)).status_code in (200, 302)
        response = await self.login(person)
        assert response.status_code in (200, 302), response.text
        return person
