"""Setting up and passing two-factor login the way a person does, through the pages."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pyotp
from litestar.testing import AsyncTestClient

from tests.support.web import csrf_from, post_form

_MANUAL_KEY = re.compile(r"data-manual-key>([A-Z2-7 ]+)<")
_CODE = re.compile(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>")


@dataclass
class Authenticator:
    """The phone's app: the secret read from the page, and the last step it showed a code for."""

    totp: pyotp.TOTP
    last_step: int

    def next_code(self) -> str:
        """A code the server has not seen yet: the next time step, inside the ±1 window."""
        self.last_step = max(self.last_step + 1, int(time.time()) // 30)
        if self.last_step > int(time.time()) // 30 + 1:
            time.sleep(30)  # never reached by the tests: they use at most two codes a step
        return self.totp.generate_otp(self.last_step)


async def enrol_totp(client: AsyncTestClient) -> tuple[Authenticator, list[str]]:
    """Set up an authenticator app from "Sécurité"; returns it and the recovery codes shown."""
    started = await post_form(client, "/account/security", "/account/security/totp", {})
    assert started.status_code == 200, started.text
    secret = _MANUAL_KEY.search(started.text).group(1).replace(" ", "")
    app = Authenticator(pyotp.TOTP(secret), int(time.time()) // 30 - 2)
    confirmed = await client.post("/account/security/totp/confirm",
                                  data={"code": app.next_code(), "_csrf_token": csrf_from(started.text)})
    assert confirmed.status_code == 200, confirmed.text
    return app, recovery_codes_in(confirmed.text)


def recovery_codes_in(html: str) -> list[str]:
    return _CODE.findall(html)


async def second_step(client: AsyncTestClient, data: dict[str, str], **kwargs):
    return await post_form(client, "/login/second-factor", "/login/second-factor", data, **kwargs)
