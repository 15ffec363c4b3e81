"""Web Push in the page at 390×844: the "Activer les notifications" button is offered where the
browser can subscribe, and on an iPhone's Safari (no push outside the home screen) the guide
is shown instead. Subscribing itself needs the browser vendor's push service (network), so it
is tested against the loopback push service in tests/integration/notifications."""

from __future__ import annotations

import pytest

from tests.e2e.test_pwa import _supplier
from tests.e2e.test_signup_join import log_in

pytestmark = pytest.mark.e2e

IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")


async def test_the_button_is_offered_on_the_account_page_and_the_summary(phone, server):
    page, watch, _person = await _supplier(phone, server)
    await page.goto("/account")
    button = page.get_by_role("button", name="Activer les notifications")
    await button.wait_for(state="visible")
    assert await page.locator("[data-push-ios-guide]").is_hidden()
    await page.goto("/")
    await page.locator("[data-push-offer-card]").get_by_role("button", name="Activer les notifications").wait_for(state="visible")
    assert await page.evaluate("window.__cspViolations || []") == []
    assert watch.page_errors == []


async def test_an_iphone_in_safari_gets_the_home_screen_guide(phone, browser, server):
    _page, _watch, person = await _supplier(phone, server)
    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                        user_agent=IPHONE_SAFARI, locale="fr-FR", base_url=server.base_url)
    try:
        # Safari on iOS has no PushManager in a tab (only in an app added to the home screen).
        await context.add_init_script("delete window.PushManager;")
        page = await context.new_page()
        await log_in(page, person)
        await page.goto("/account")
        guide = page.locator("#notifications [data-push-ios-guide]")
        await guide.wait_for(state="visible")
        assert "écran d'accueil" in await guide.inner_text()
        assert await page.get_by_role("button", name="Activer les notifications").is_hidden()
    finally:
        await context.close()


# --- every outcome of « Activer les notifications » is said in French ----------------------

ENGLISH = ("Registration failed", "permission denied", "AbortError", "NotAllowedError", "push service", "DOMException")


async def _click_enable(page):
    await page.goto("/account")
    button = page.locator("#notifications").get_by_role("button", name="Activer les notifications")
    await button.wait_for(state="visible")
    await button.click()
    return page.locator("#notifications [data-push-state]")


async def _said(state, words: str, timeout: float = 5_000) -> str:
    await state.filter(has_text=words).wait_for(state="visible", timeout=timeout)
    text = await state.inner_text()
    assert "Activation" not in text and not any(word in text for word in ENGLISH), text
    return text


async def test_a_refused_permission_is_explained_in_french(phone, browser, server):
    page, watch, _person = await _supplier(phone, server)
    await page.goto("/account")
    # What a person does in the browser's prompt or settings: "Bloquer".
    cdp = await browser.new_browser_cdp_session()
    await cdp.send("Browser.setPermission", {"permission": {"name": "notifications"}, "setting": "denied", "origin": server.base_url})
    state = await _click_enable(page)
    await _said(state, "bloquées pour Facteur")
    assert await page.get_by_role("button", name="Activer les notifications").is_hidden()
    await page.reload()  # and the next visit says so at once, without a button
    await _said(page.locator("#notifications [data-push-state]"), "bloquées pour Facteur")
    assert watch.page_errors == []


async def test_an_unreachable_push_service_is_explained_in_french(phone, server):
    # Permission granted, but the browser vendor's push service cannot be reached (no network here).
    page, _watch, _person = await _supplier(phone, server)
    await page.context.grant_permissions(["notifications"], origin=server.base_url)
    state = await _click_enable(page)
    await _said(state, "service de notifications du navigateur n'a pas pu être joint", timeout=15_000)


async def test_an_unsupported_browser_is_told_so_in_french(phone, server):
    page, _watch, _person = await _supplier(phone, server)
    await page.context.add_init_script("delete window.PushManager;")
    await page.goto("/account")
    await _said(page.locator("#notifications [data-push-state]"), "Ce navigateur ne sait pas recevoir de notifications")
    assert await page.get_by_role("button", name="Activer les notifications").is_hidden()


async def test_a_window_without_service_worker_is_told_so_in_french(phone, server):
    # A private window (or a worker that failed to install): navigator.serviceWorker.ready never resolves.
    page, _watch, _person = await _supplier(phone, server)
    await page.context.add_init_script(
        "Object.defineProperty(ServiceWorkerContainer.prototype, 'ready', {get: function () { return new Promise(function () {}); }});")
    await page.goto("/account")
    await _said(page.locator("#notifications [data-push-state]"), "navigation privée", timeout=15_000)


async def test_no_answer_within_ten_seconds_is_said_in_french(phone, server):
    page, _watch, _person = await _supplier(phone, server)
    await page.context.grant_permissions(["notifications"], origin=server.base_url)
    await page.context.add_init_script("PushManager.prototype.subscribe = function () { return new Promise(function () {}); };")
    state = await _click_enable(page)
    await _said(state, "n'a pas répondu au bout de 10 secondes", timeout=15_000)
    assert await page.locator("#notifications").get_by_role("button", name="Activer les notifications").is_enabled()
