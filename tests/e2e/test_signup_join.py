"""At 390×844, in Chromium against the real server: sign up, confirm by mail, log in, join
a structure, and the gestionnaire's decision; plus the page hygiene every page must keep
(no foreign resource, no CSP violation, htmx loaded, nothing wider than the phone)."""

from __future__ import annotations

import re

import pytest

from backend.accounts.tables import Membership, User
from tests.e2e.conftest import PHONE, Person, new_person, save_docs_screenshot

pytestmark = pytest.mark.e2e


def _expect():
    from playwright.async_api import expect

    return expect


async def sign_up(page, person: Person, shots=None, shot_name: str | None = None) -> None:
    expect = _expect()
    await page.goto("/signup")
    await expect(page.get_by_role("heading", name="Créer un compte")).to_be_visible()
    await page.get_by_label("Raison sociale").fill(person.company)
    await page.get_by_label("SIRET (14 chiffres)").fill(person.siret)
    await page.get_by_label("Prénom").fill(person.first_name)
    await page.get_by_label("Nom", exact=True).fill(person.last_name)
    await page.get_by_label("Adresse e-mail").fill(person.email)
    await page.get_by_label("Mot de passe").fill(person.password)
    if shots is not None and shot_name:
        await page.get_by_label("Mot de passe").blur()
        await page.evaluate("window.scrollTo(0, 0)")
        await page.screenshot(path=shots / shot_name, full_page=True)
    await page.get_by_role("button", name="Créer mon compte").click()
    await expect(page.get_by_role("heading", name="Vérifiez votre boîte e-mail")).to_be_visible()
    await expect(page.get_by_text(person.email)).to_be_visible()


async def confirm_by_mail(page, server, person: Person) -> None:
    expect = _expect()
    mail = server.wait_for_mail(person.email, "confirmez votre adresse")
    await page.goto(server.link_in(mail, "/confirm/"))
    await page.get_by_role("button", name="Confirmer mon adresse").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await expect(page.get_by_text("Votre adresse e-mail est confirmée")).to_be_visible()


async def log_in(page, person: Person) -> None:
    expect = _expect()
    if not page.url.endswith("/login"):
        await page.goto("/login")
    await page.get_by_label("Adresse e-mail").fill(person.email)
    await page.get_by_label("Mot de passe").fill(person.password)
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(page.get_by_role("heading", name=f"Bonjour {person.first_name}")).to_be_visible()


async def structure_id_of(page) -> int:
    """The id of the active structure, read from the "Membres" link of /account (managers only)."""
    await page.goto("/account")
    href = await page.get_by_role("link", name="Membres").first.get_attribute("href")
    return int(re.fullmatch(r"/structures/(\d+)/members", href).group(1))


async def assert_fits_phone(page) -> None:
    """Nothing is wider than the phone: no horizontal scrolling at 390 px."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide at {PHONE['width']} px"


async def test_sign_up_confirm_log_in_then_join_request_accepted(phone, server, shots):
    expect = _expect()
    manager = new_person("Camille", "Martin", "Atelier Martin Plomberie")
    joiner = new_person("Lucas", "Bernard", "Plomberie Martin", siret=manager.siret)

    # 1. The first person signs up a new structure and becomes its gestionnaire.
    page_a, watch_a = await phone()
    await sign_up(page_a, manager, shots, "01-signup-form.png")
    await expect(page_a.get_by_text("vous serez gestionnaire de la structure")).to_be_visible()
    await page_a.screenshot(path=shots / "02-signup-done.png")

    # 2. Not confirmed yet: login is refused with a French explanation.
    await page_a.goto("/login")
    await page_a.get_by_label("Adresse e-mail").fill(manager.email)
    await page_a.get_by_label("Mot de passe").fill(manager.password)
    await page_a.get_by_role("button", name="Se connecter").click()
    await expect(page_a.get_by_role("alert")).to_contain_text("Confirmez d'abord votre adresse e-mail")

    # 3. The confirmation link of the mail, then login.
    await confirm_by_mail(page_a, server, manager)
    await page_a.screenshot(path=shots / "03-confirmed-login.png")
    await log_in(page_a, manager)
    await expect(page_a.get_by_text(f"Structure active : {manager.company}")).to_be_visible()
    await expect(page_a.locator(".app-header")).to_contain_text(manager.company)
    structure_id = await structure_id_of(page_a)
    await expect(page_a.locator(".badge", has_text="gestionnaire")).to_be_visible()

    # 4. A second person signs up with the same SIRET: a join request, mailed to the gestionnaire.
    page_b, watch_b = await phone()
    await sign_up(page_b, joiner)
    await expect(page_b.get_by_text("existe déjà : dès que vous aurez confirmé votre adresse, votre demande de rattachement sera transmise")).to_be_visible()
    await expect(page_b.get_by_text(manager.company)).to_be_visible()  # the existing name, not the one typed
    await confirm_by_mail(page_b, server, joiner)
    await log_in(page_b, joiner)
    await expect(page_b.get_by_text("Votre demande de rattachement attend la réponse d'un gestionnaire")).to_be_visible()
    await page_b.goto("/account")
    request_row = page_b.locator("li.list-row", has_text=manager.company)
    await expect(request_row.locator(".badge")).to_have_text("en attente")
    await page_b.screenshot(path=shots / "04-joiner-pending.png", full_page=True)

    # 5. The gestionnaire sees the request on the home page and, from the mail's link, accepts it.
    notice = server.wait_for_mail(manager.email, "demande de rattachement")
    assert joiner.email in notice.get_body(preferencelist=("plain",)).get_content()
    await page_a.goto("/")
    await expect(page_a.get_by_role("link", name="1 demande de rattachement en attente")).to_be_visible()
    await assert_fits_phone(page_a)
    await page_a.screenshot(path=shots / "phone-home.png")
    save_docs_screenshot(shots / "phone-home.png", "phone-home.png")
    save_docs_screenshot(shots / "01-signup-form.png", "phone-signup.png")

    await page_a.goto(server.link_in(notice, f"/structures/{structure_id}/members"))
    await expect(page_a.get_by_role("heading", name=f"Membres de {manager.company}")).to_be_visible()
    pending_row = page_a.locator("li.list-row", has_text=joiner.email)
    await expect(pending_row.get_by_role("button", name="Accepter")).to_be_visible()
    await assert_fits_phone(page_a)
    await page_a.screenshot(path=shots / "05-members-pending.png", full_page=True)
    await pending_row.get_by_role("button", name="Accepter").click()
    await expect(page_a.get_by_text(f"Demande de {joiner.email} acceptée.")).to_be_visible()
    await expect(page_a.get_by_role("button", name="Accepter")).to_have_count(0)
    await expect(page_a.locator("li.member", has_text=joiner.email)).to_be_visible()
    await page_a.screenshot(path=shots / "06-members-accepted.png", full_page=True)

    # The server wrote to the run's database: the test process reads the same rows.
    joined = await Membership.objects().get(
        (Membership.structure == structure_id)
        & (Membership.user == (await User.objects().get(User.email == joiner.email)).id)
    )
    assert (joined.status, joined.can_consult, joined.can_deposit, joined.is_manager) == ("active", True, True, False)

    # 6. The second person is told by mail, and now sees the structure in /account and at home.
    decision = server.wait_for_mail(joiner.email, "demande de rattachement acceptée")
    assert manager.company in decision.get_body(preferencelist=("plain",)).get_content()
    await page_b.goto("/account")
    membership_row = page_b.locator("li.list-row", has_text=manager.company)
    await expect(membership_row.locator(".badge", has_text="saisie et dépôt")).to_be_visible()
    await expect(membership_row.locator(".badge", has_text="consultation")).to_be_visible()
    await expect(membership_row.locator(".badge", has_text="gestionnaire")).to_have_count(0)
    await expect(page_b.get_by_role("link", name="Membres")).to_have_count(0)  # not a gestionnaire
    await page_b.goto("/")
    await expect(page_b.get_by_text(f"Structure active : {manager.company}")).to_be_visible()
    await expect(page_b.locator(".app-header")).to_contain_text(manager.company)
    await assert_fits_phone(page_b)
    await page_b.screenshot(path=shots / "07-joiner-home.png")

    # A plain member cannot open the gestionnaire's page.
    response = await page_b.goto(f"/structures/{structure_id}/members")
    assert response.status == 404
    await expect(page_b.get_by_text("Cette page n'existe pas ou vous n'y avez pas accès.")).to_be_visible()

    for watch in (watch_a, watch_b):
        assert watch.page_errors == []


async def test_existing_user_asks_to_join_from_account_and_is_refused(phone, server, shots):
    expect = _expect()
    manager = new_person("Inès", "Roux", "Roux Électricité")
    other = new_person("Hugo", "Petit", "Petit Peinture")

    page_a, _ = await phone()
    await sign_up(page_a, manager)
    await confirm_by_mail(page_a, server, manager)
    await log_in(page_a, manager)
    structure_id = await structure_id_of(page_a)

    page_b, _ = await phone()
    await sign_up(page_b, other)
    await confirm_by_mail(page_b, server, other)
    await log_in(page_b, other)

    # From "Compte", with the SIRET typed the way it is printed (spaces).
    await page_b.goto("/account")
    spaced = f"{manager.siret[:3]} {manager.siret[3:6]} {manager.siret[6:9]} {manager.siret[9:]}"
    await page_b.get_by_label("SIRET de la structure").fill(spaced)
    await page_b.get_by_role("button", name="Demander le rattachement").click()
    await expect(page_b.get_by_text(f"Votre demande de rattachement à {manager.company} a été envoyée")).to_be_visible()
    await expect(page_b.locator("li.list-row", has_text=manager.company).locator(".badge")).to_have_text("en attente")

    # The same request twice is refused next to the field, in French.
    await page_b.get_by_label("SIRET de la structure").fill(manager.siret)
    await page_b.get_by_role("button", name="Demander le rattachement").click()
    await expect(page_b.get_by_role("alert")).to_have_text("Une demande de rattachement à cette structure est déjà en attente.")
    await page_b.screenshot(path=shots / "08-join-twice.png", full_page=True)

    server.wait_for_mail(manager.email, "demande de rattachement")
    await page_a.goto(f"/structures/{structure_id}/members")
    await page_a.locator("li.list-row", has_text=other.email).get_by_role("button", name="Refuser").click()
    await expect(page_a.get_by_text(f"Demande de {other.email} refusée.")).to_be_visible()
    await expect(page_a.locator("li.list-row", has_text=other.email)).to_have_count(0)

    server.wait_for_mail(other.email, "demande de rattachement refusée")
    await page_b.goto("/account")
    await expect(page_b.locator("li.list-row", has_text=manager.company).locator(".badge")).to_have_text("refusée")
    await expect(page_b.locator(".app-header")).to_contain_text(other.company)  # still only their own


async def test_pages_load_nothing_foreign_and_break_no_csp_rule(phone, server):
    """Every page: same-origin requests only, CSP header present and never violated, htmx loaded."""
    expect = _expect()
    person = new_person("Nora", "Lefèvre", "Lefèvre Menuiserie")
    page, watch = await phone()

    async def visit(path: str) -> None:
        response = await page.goto(path)
        assert response.status == 200, f"{path}: HTTP {response.status}"
        assert "script-src 'self'" in response.headers.get("content-security-policy", ""), path
        await check(path)

    async def check(where: str) -> None:
        await page.wait_for_load_state("load")
        assert await page.evaluate("typeof window.htmx") == "object", f"htmx not loaded on {where}"
        assert await page.evaluate("window.htmx.config.allowEval") is False, where
        violations = await page.evaluate("window.__cspViolations")
        assert violations == [], f"CSP violations on {where}: {violations}"
        await assert_fits_phone(page)

    for path in ("/login", "/signup", "/password/forgot", "/confirm-resend"):
        await visit(path)
    await sign_up(page, person)
    await check("/signup (sent)")
    await confirm_by_mail(page, server, person)
    await log_in(page, person)
    structure_id = await structure_id_of(page)
    for path in ("/", "/invoices", "/capture", "/notifications", "/account", "/directory",
                 f"/structures/{structure_id}/members", f"/structures/{structure_id}/profile"):
        await visit(path)

    # An htmx request under the CSP: the directory search swaps its results in place.
    await page.goto("/directory")
    async with page.expect_request(lambda r: "/directory?q=" in r.url and r.headers.get("hx-request") == "true"):
        await page.get_by_label("Nom, SIRET ou ville").fill("zzqx-introuvable")
    await expect(page.get_by_role("status").filter(has_text="zzqx")).to_have_text(
        "Aucune structure publique ne correspond à « zzqx-introuvable »."
    )
    await expect(page.locator("header.app-header")).to_have_count(1)  # a fragment was swapped, not a page
    await check("/directory (htmx search)")

    foreign = [url for url in watch.requests if not url.startswith((server.base_url + "/", "data:", "blob:"))]
    assert foreign == [], f"external resources loaded: {foreign}"
    assert any("/static/vendor/htmx/htmx.min.js" in url for url in watch.requests)
    assert watch.console_errors == [], watch.console_errors
    assert watch.page_errors == [], watch.page_errors


async def test_csp_watch_catches_an_inline_script(phone):
    """The detector of the test above is not blind: an inline script is reported."""
    page, watch = await phone()
    await page.goto("/login")
    await page.evaluate("""() => {
        const s = document.createElement("script");
        s.textContent = "window.__inlineRan = true";
        document.body.appendChild(s);
    }""")
    await page.wait_for_function("window.__cspViolations.length > 0")
    assert await page.evaluate("window.__inlineRan === undefined")
    violations = await page.evaluate("window.__cspViolations")
    assert any(v.startswith("script-src") for v in violations), violations
    assert any("Content Security Policy" in text for text in watch.console_errors), watch.console_errors


async def test_an_address_accepted_at_sign_up_can_log_in(phone, server):
    expect = _expect()
    person = new_person("Inès", "Roux", "Roux Électricité")
    person.email = "inès." + person.email
    page, _ = await phone()
    await page.goto("/signup")
    await page.get_by_label("Raison sociale").fill(person.company)
    await page.get_by_label("SIRET (14 chiffres)").fill(person.siret)
    await page.get_by_label("Prénom").fill(person.first_name)
    await page.get_by_label("Nom", exact=True).fill(person.last_name)
    await page.get_by_label("Adresse e-mail").fill(person.email)
    await page.get_by_label("Mot de passe").fill(person.password)
    await page.get_by_role("button", name="Créer mon compte").click()
    if await page.locator("#e-email").count():  # refused up front, in French: consistent
        await expect(page.locator("#e-email")).to_contain_text("adresse e-mail")
        return
    await confirm_by_mail(page, server, person)
    await page.get_by_label("Adresse e-mail").fill(person.email)
    await page.get_by_label("Mot de passe").fill(person.password)
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page).to_have_url(re.compile(r"/$"), timeout=3_000)
