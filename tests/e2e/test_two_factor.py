"""Two-factor login at 390×844 in Chromium, against a real server with the default policy
(FACTEUR_TWO_FACTOR=managers): a new gestionnaire is held at enrolment, sets up an
authenticator app or a passkey, then logs in with it.

Passkeys use Chromium's own WebAuthn stack with a virtual authenticator added over CDP
(WebAuthn.enable, WebAuthn.addVirtualAuthenticator): the browser signs for real and the
server verifies with py_webauthn. WebAuthn refuses an IP address as relying party, so this
server's address is http://localhost:<port>.
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from tests.e2e.conftest import PHONE, new_person, start_server, stop_server
from tests.e2e.test_signup_join import confirm_by_mail, sign_up

pytestmark = pytest.mark.e2e


def _expect():
    from playwright.async_api import expect

    return expect


@pytest.fixture(scope="module")
def managers_server(chromium_ready, migrated_db, settings, tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("e2e-two-factor"), settings.database_url,
                           host="localhost", env={"FACTEUR_TWO_FACTOR": "managers"})
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture
async def phone_page(browser, managers_server):
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                        locale="fr-FR", timezone_id="Europe/Paris", base_url=managers_server.base_url)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    errors: list[str] = []
    # Script errors and CSP refusals (a live stream cut by a navigation only logs a console line).
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page, errors
    await context.close()


async def _password_step(page, person) -> None:
    await page.goto("/login")
    await page.get_by_label("Adresse e-mail").fill(person.email)
    await page.get_by_label("Mot de passe").fill(person.password)
    await page.get_by_role("button", name="Se connecter").click()


async def _log_out(page) -> None:
    await page.goto("/account")
    await page.get_by_role("button", name="Se déconnecter").click()
    await _expect()(page).to_have_url(re.compile(r"/login$"))


async def _fits_the_phone(page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


async def test_a_new_gestionnaire_enrols_an_app_then_logs_in_with_its_code(phone_page, managers_server, shots):
    expect = _expect()
    page, errors = phone_page
    person = new_person("Inès", "Lefort", "Plomberie Lefort")
    await sign_up(page, person)
    await confirm_by_mail(page, managers_server, person)

    await _password_step(page, person)
    await expect(page).to_have_url(re.compile(r"/account/security$"))
    await expect(page.get_by_text("vous devez activer la double authentification")).to_be_visible()
    await page.goto("/invoices")  # nothing else is open
    await expect(page).to_have_url(re.compile(r"/account/security$"))

    await page.get_by_role("button", name="Configurer une application").click()
    await expect(page.locator(".qr-code svg")).to_be_visible()
    await _fits_the_phone(page)
    await page.screenshot(path=shots / "two-factor-enrol.png", full_page=True)
    secret = (await page.locator("[data-manual-key]").inner_text()).replace(" ", "")
    app = pyotp.TOTP(secret)
    step = int(time.time()) // 30
    await page.get_by_label("Code à 6 chiffres").fill(app.generate_otp(step))
    await page.get_by_role("button", name="Activer").click()

    await expect(page.get_by_role("heading", name="Vos codes de secours")).to_be_visible()
    assert await page.locator("[data-recovery-codes] li").count() == 10
    href = await page.locator("[data-download-codes]").get_attribute("href")
    assert href.startswith("data:text/plain") and await page.locator("[data-download-codes]").get_attribute("download")
    await _fits_the_phone(page)
    await page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    await expect(page.get_by_role("heading", name=f"Bonjour {person.first_name}")).to_be_visible()

    await _log_out(page)
    await _password_step(page, person)
    await expect(page.get_by_role("heading", name="Vérification en deux étapes")).to_be_visible()
    await _fits_the_phone(page)
    await page.screenshot(path=shots / "two-factor-login.png", full_page=True)
    await page.get_by_label("Code de votre application d'authentification").fill(app.generate_otp(step + 1))
    await page.get_by_label("Se souvenir de cet appareil pendant 30 jours").first.check()
    await page.get_by_role("button", name="Vérifier", exact=True).click()
    await expect(page.get_by_role("heading", name=f"Bonjour {person.first_name}")).to_be_visible()

    await _log_out(page)
    await _password_step(page, person)  # a remembered device: no second step
    await expect(page.get_by_role("heading", name=f"Bonjour {person.first_name}")).to_be_visible()
    await page.goto("/account/security")
    await expect(page.locator("[data-device-row]")).to_have_count(1)
    await expect(page.locator("[data-device-row]")).to_contain_text("Chrome")
    await _fits_the_phone(page)
    await page.screenshot(path=shots / "two-factor-security.png", full_page=True)
    assert errors == []


async def test_a_passkey_is_registered_and_then_logs_in(phone_page, managers_server):
    expect = _expect()
    page, errors = phone_page
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    authenticator = await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    person = new_person("Marc", "Girard", "Électricité Girard")
    await sign_up(page, person)
    await confirm_by_mail(page, managers_server, person)

    await _password_step(page, person)
    await expect(page).to_have_url(re.compile(r"/account/security$"))
    await page.get_by_label("Nom de la clé").fill("Mon téléphone")
    await page.get_by_role("button", name="Ajouter une clé d'accès").click()
    # The first factor comes with the recovery codes, shown once.
    await expect(page.get_by_role("heading", name="Vos codes de secours")).to_be_visible()
    await page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    await expect(page.get_by_role("heading", name=f"Bonjour {person.first_name}")).to_be_visible()
    await page.goto("/account/security")
    await expect(page.locator("[data-passkey-row]")).to_have_count(1)
    await expect(page.locator("[data-passkey-row]")).to_contain_text("Mon téléphone")

    await _log_out(page)
    await _password_step(page, person)
    await expect(page.get_by_role("heading", name="Vérification en deux étapes")).to_be_visible()
    await page.get_by_role("button", name="Utiliser ma clé d'accès").click()
    await expect(page.get_by_role("heading", name=f"Bonjour {person.first_name}")).to_be_visible()
    await page.goto("/account/security")
    await expect(page.locator("[data-passkey-row]")).to_contain_text("utilisée le")

    credentials = (await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator["authenticatorId"]}))["credentials"]
    assert len(credentials) == 1 and credentials[0]["signCount"] >= 2  # signed at registration and at login
    assert errors == []

