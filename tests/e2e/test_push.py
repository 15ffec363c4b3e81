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
