"""At 390×844 in Chromium against the real server: the agent rejects an invoice and the
supplier's open pages (the invoice and the list) show it without a reload."""

from __future__ import annotations

import asyncio
import time

import pytest

from backend.accounts.tables import Membership, User
from backend.lib.common import fold
from backend.directory.tables import Structure
from tests.e2e.conftest import new_person
from tests.e2e.test_messages import _invoice_between, _person_in
from tests.e2e.test_signup_join import _expect, assert_fits_phone, confirm_by_mail, log_in, sign_up
from tests.support.accounts import valid_siret

pytestmark = pytest.mark.e2e


async def _live(page) -> None:
    """Wait until the page's event stream is open (a change before that is only seen on reload)."""
    await _expect()(page.locator("body")).to_have_attribute("data-live", "open", timeout=10_000)


async def test_the_supplier_sees_the_rejection_live_on_the_invoice_and_the_list(phone, server, shots):
    expect = _expect()
    siret = valid_siret()
    name = f"Mairie de Directville {siret[:4]}"
    town = Structure(siret=siret, siren=siret[:9], name=name, search_key=fold(name), is_public=True, active=True)
    await town.save()
    supplier = new_person("Inès", "Moreau", "Moreau Peinture")
    agent = new_person("Marc", "Lefèvre", name, siret=siret)

    supplier_page, supplier_watch = await _person_in(phone, server, supplier)
    invoice = await _invoice_between(supplier.siret, town)
    agent_page, agent_watch = await _person_in(phone, server, agent)
    agent_user = await User.objects().get(User.email == agent.email)
    await Membership.update({Membership.can_process: True}).where(Membership.user == agent_user.id)

    # The supplier keeps its invoice page open, and the list in a second tab.
    await supplier_page.goto(f"/invoices/{invoice.id}")
    await expect(supplier_page.locator("#invoice-live-status")).to_contain_text("Mise à disposition")
    list_page = await supplier_page.context.new_page()
    await list_page.goto("/invoices")
    row = list_page.locator(f"#invoice-row-{invoice.id}")
    await expect(row).to_contain_text("Mise à disposition")
    await _live(supplier_page)
    await _live(list_page)
    await supplier_page.evaluate("window.__notReloaded = true")
    await list_page.evaluate("window.__notReloaded = true")

    # The agent rejects it from the invoice page (with the confirmation the page asks for).
    await agent_page.goto(f"/invoices/{invoice.id}")
    agent_page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await agent_page.locator("summary", has_text="Rejeter").click()
    reject = agent_page.locator("form", has=agent_page.locator("input[name=target][value=REJETEE]"))
    await reject.get_by_label("Motif").select_option("DOUBLON")
    await reject.get_by_label("Commentaire").fill("Facture déjà reçue sous un autre numéro.")
    await reject.get_by_role("button", name="Rejeter").click()
    await expect(agent_page.locator("#invoice-live-status .status")).to_have_text("Rejetée")
    rejected_at = time.monotonic()

    # The supplier's pages follow without a reload.
    await expect(supplier_page.locator("#invoice-live-status .status")).to_have_text("Rejetée", timeout=5_000)
    await expect(row).to_contain_text("Rejetée", timeout=5_000)
    live_delay = time.monotonic() - rejected_at
    assert await supplier_page.evaluate("window.__notReloaded === true")
    assert await list_page.evaluate("window.__notReloaded === true")
    await expect(supplier_page.locator("#invoice-live-status")).to_contain_text("Facture déjà reçue sous un autre numéro.")
    await assert_fits_phone(supplier_page)
    await supplier_page.screenshot(path=shots / "realtime-rejected.png", full_page=False)
    assert live_delay < 3, live_delay

    for watch in (supplier_watch, agent_watch):
        assert watch.page_errors == [], watch.page_errors
        assert not [e for e in watch.console_errors if "Content Security Policy" in e]
    assert await supplier_page.evaluate("window.__cspViolations") == []


async def test_the_page_says_when_the_live_connection_is_lost_and_back(browser, migrated_db, settings, tmp_path):
    """A server of its own, stopped under the open page, then started again on the same port."""
    from tests.e2e.conftest import PHONE, _free_port
    from tests.integration.tracking.servers import start_server, stop

    expect = _expect()
    port = _free_port()
    data_dir = tmp_path / "server"  # the same folder after the restart: the session survives
    server = start_server(settings, data_dir, port=port)
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR", base_url=server.base_url)
    try:
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        person = new_person("Zoé", "Garnier", "Garnier Menuiserie")
        await sign_up(page, person)
        await confirm_by_mail(page, server, person)
        await log_in(page, person)
        await _live(page)
        status = page.locator("[data-connection-status]")
        await expect(status).to_be_hidden()

        stop(server)
        await expect(status).to_have_text("Connexion perdue — reconnexion…", timeout=15_000)
        await expect(status).to_be_visible()
        await assert_fits_phone(page)
        server = start_server(settings, data_dir, port=port)
        await expect(status).to_have_text("Connexion rétablie", timeout=30_000)
        await expect(page.locator("body")).to_have_attribute("data-live", "open")
        await expect(status).to_be_hidden(timeout=10_000)
        assert errors == []
    finally:
        await context.close()
        stop(server)



async def _until(check, timeout: float = 20.0) -> None:
    """Wait for `check()` (a coroutine function) to be true, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "waited too long"
        await asyncio.sleep(0.05)


async def test_on_a_slow_network_the_open_invoice_shows_the_last_of_two_quick_changes(phone, server):
    """The second change's event reaches the page while the block's redraw for the first is on
    its way; the block must end on the second (htmx had queued that redraw on the block being
    replaced, and dropped it with the block)."""
    from backend.lib.common import utcnow
    from backend.processing.lifecycle import Actor, change_status

    expect = _expect()
    siret = valid_siret()
    name = f"Mairie de Lenteville {siret[:4]}"
    town = Structure(siret=siret, siren=siret[:9], name=name, search_key=fold(name), is_public=True, active=True)
    await town.save()
    agent = User(email=f"agent-{siret}@lenteville.fr", password_hash="x", first_name="Agent", last_name="Lent",
                 email_confirmed_at=utcnow())
    await agent.save()
    await Membership.insert(Membership(user=agent.id, structure=town.id, status="active", can_process=True))
    supplier = new_person("Rémi", "Faure", "Faure Couverture")
    page, watch = await _person_in(phone, server, supplier)
    invoice = await _invoice_between(supplier.siret, town)
    await page.goto(f"/invoices/{invoice.id}")
    await _live(page)
    await page.evaluate("""window.__statusEvents = 0;
        document.addEventListener('htmx:sseMessage', function (e) {
          if (e.target.id === 'invoice-live-status') window.__statusEvents += 1; });""")

    async def second_event_arrived() -> bool:
        return await page.evaluate("window.__statusEvents") >= 2

    # A slow network: the redraw asked after the first change comes back only once the
    # second change's event has reached the page.
    redraws = []

    async def slow_first_redraw(route):
        redraws.append(route.request.url)
        if len(redraws) > 1:
            await route.continue_()
            return
        first_state = await route.fetch()
        await _until(second_event_arrived)
        try:
            await route.fulfill(response=first_state)
        except Exception:  # noqa: BLE001 — the page gave up this answer for a newer one
            pass

    async def first_redraw_asked() -> bool:
        return bool(redraws)

    await page.route(f"**/invoices/{invoice.id}/live/status*", slow_first_redraw)
    by_agent = Actor("recipient", agent.id)
    await change_status(invoice.id, by_agent, "PRISE_EN_CHARGE", expected_version=None)
    await _until(first_redraw_asked)
    await change_status(invoice.id, by_agent, "SUSPENDUE", expected_version=None, reason_code="JUSTIF_ABS",
                        comment="Bon de commande manquant")
    await expect(page.locator("#invoice-live-status .status")).to_have_text("Suspendue", timeout=10_000)
    assert watch.page_errors == [], watch.page_errors
