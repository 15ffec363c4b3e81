"""A password reset ends the account's other sessions; account links never reach the access log."""

from __future__ import annotations

import logging

from litestar.testing import AsyncTestClient

from backend.lib.security import RedactSecretsFilter
from tests.support.accounts import AccountFactory
from tests.support.web import last_mail_to, link_in, post_form


async def test_a_password_reset_ends_the_accounts_other_sessions(app, client, accounts, settings):
    person = await accounts.registered()
    async with AsyncTestClient(app=app, base_url="http://127.0.0.1:8000") as thief:
        other = AccountFactory(thief, settings)
        assert (await other.login(person)).status_code == 200
        assert (await thief.get("/account")).status_code == 200

        await accounts.logout()
        await post_form(client, "/password/forgot", "/password/forgot", {"email": person.email})
        link = link_in(last_mail_to(settings.mailbox_dir, person.email), "/password/reset/")
        done = await post_form(client, link, link, {"password": "un-nouveau-mot-de-passe"})
        assert done.status_code == 200 and "mot de passe a été changé" in done.text

        # The session opened before the reset is over: its next page asks to log in again.
        after = await thief.get("/account", follow_redirects=False)
        assert after.status_code in (302, 303) and after.headers["location"].startswith("/login")
        # and the old password no longer opens a new one.
        assert (await other.login(person)).status_code != 200

    person.password = "un-nouveau-mot-de-passe"
    assert (await accounts.login(person)).status_code == 200
    assert (await client.get("/account")).status_code == 200


async def test_a_login_after_the_reset_is_not_ended_by_it(client, accounts, settings):
    person = await accounts.registered()
    await accounts.logout()
    await post_form(client, "/password/forgot", "/password/forgot", {"email": person.email})
    link = link_in(last_mail_to(settings.mailbox_dir, person.email), "/password/reset/")
    await post_form(client, link, link, {"password": "un-nouveau-mot-de-passe"})
    person.password = "un-nouveau-mot-de-passe"
    await accounts.login(person)
    for _ in range(2):  # the new session stays open from one page to the next
        assert (await client.get("/account", follow_redirects=False)).status_code == 200


def _access_line(path: str) -> str:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", path, "1.1", 200), None)
    RedactSecretsFilter().filter(record)
    return record.getMessage()


def test_account_link_tokens_never_reach_the_access_log():
    token = "k8Jd0_secret-token-value"
    for path in (f"/confirm/{token}", f"/password/reset/{token}", f"/password/reset/{token}?x=1"):
        line = _access_line(path)
        assert token not in line and "…" in line
    assert "/invoices/42" in _access_line("/invoices/42")


def test_the_served_app_filters_its_access_log(app):
    # create_app installs the filter on uvicorn's access logger, the one `facteur serve` writes to.
    assert any(isinstance(f, RedactSecretsFilter) for f in logging.getLogger("uvicorn.access").filters)
