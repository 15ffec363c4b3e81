"""Mail delivery: a real SMTP server on 127.0.0.1 (aiosmtpd), and the development mailbox."""

from __future__ import annotations

import email
import socket
from email import policy

import msgspec
import pytest
from aiosmtpd.controller import Controller
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.lib.mail import send_mail
from tests.support.accounts import AccountFactory


class Collector:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, collector
    controller.stop()


async def test_mail_goes_through_smtp_when_configured(settings, smtp_server):
    controller, collector = smtp_server
    smtp_settings = msgspec.structs.replace(settings, smtp_host="127.0.0.1", smtp_port=controller.port)
    in_folder = set(settings.mailbox_dir.glob("*.eml"))  # what earlier tests left there (this test empties nothing)
    await send_mail(smtp_settings, "agent@exemple.fr", "Sujet é", "Corps du message")
    assert len(collector.messages) == 1
    received = collector.messages[0]
    assert received["To"] == "agent@exemple.fr"
    assert received["Subject"] == "Sujet é"
    assert "Corps du message" in received.get_body(preferencelist=("plain",)).get_content()
    assert set(settings.mailbox_dir.glob("*.eml")) == in_folder  # nothing written to the folder


async def test_signup_confirmation_travels_by_smtp(app, settings, smtp_server):
    controller, collector = smtp_server
    smtp_settings = msgspec.structs.replace(settings, smtp_host="127.0.0.1", smtp_port=controller.port)
    async with AsyncTestClient(app=create_app(smtp_settings, connection_pool=False)) as client:
        person = AccountFactory(client, smtp_settings).person()
        response = await AccountFactory(client, smtp_settings).signup(person)
    assert response.status_code == 201
    assert [m["To"] for m in collector.messages] == [person.email]
    assert "/confirm/" in collector.messages[0].get_body(preferencelist=("plain",)).get_content()


async def test_smtp_outage_does_not_lose_the_account(app, settings):
    down = msgspec.structs.replace(settings, smtp_host="127.0.0.1", smtp_port=_free_port())
    async with AsyncTestClient(app=create_app(down, connection_pool=False)) as client:
        factory = AccountFactory(client, down)
        response = await factory.signup(factory.person())
    assert response.status_code == 201
    assert "n'a pas pu être envoyé" in response.text or "n&#39;a pas pu être envoyé" in response.text


async def test_dev_mailbox_lists_messages_only_in_debug(app, settings, clean_db):
    debug = msgspec.structs.replace(settings, debug=True)
    async with AsyncTestClient(app=create_app(debug, connection_pool=False)) as client:
        factory = AccountFactory(client, debug)
        person = factory.person()
        await factory.signup(person)
        listing = await client.get("/dev/mailbox")
    assert listing.status_code == 200
    assert person.email in listing.text and "/confirm/" in listing.text
    async with AsyncTestClient(app=create_app(settings, connection_pool=False)) as client:
        assert (await client.get("/dev/mailbox")).status_code == 404


async def test_manager_invites_a_new_person_who_chooses_a_password(client, accounts, settings):
    from tests.support.web import last_mail_to, link_in, post_form
    from backend.accounts.tables import Membership, User

    await accounts.registered()
    structure_id = (await Membership.select(Membership.structure).first())["structure"]
    response = await post_form(client, f"/structures/{structure_id}/members", f"/structures/{structure_id}/invitations",
                               {"email": "Invitee@Exemple.fr", "first_name": "Ines", "last_name": "Invitee", "can_deposit": "on"})
    assert response.status_code == 200 and "prévenu par e-mail" in response.text
    link = link_in(last_mail_to(settings.mailbox_dir, "invitee@exemple.fr"), "/password/reset/")
    await accounts.logout()
    # Before choosing a password, no password opens the account.
    refused = await post_form(client, "/login", "/login", {"email": "invitee@exemple.fr", "password": "!"})
    assert refused.status_code == 401
    await post_form(client, link, link, {"password": "mot-de-passe-choisi"})
    logged = await post_form(client, "/login", "/login", {"email": "invitee@exemple.fr", "password": "mot-de-passe-choisi"})
    assert logged.status_code == 200
    user = await User.objects().get(User.email == "invitee@exemple.fr")
    membership = await Membership.objects().get((Membership.user == user.id) & (Membership.structure == structure_id))
    assert membership.status == "active" and membership.can_deposit and not membership.is_manager
