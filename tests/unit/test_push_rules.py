"""Push subscription checks and device names, without a database."""

from __future__ import annotations

import pytest

from backend.notifications.service import PushInputError, device_summary, validate_subscription
from backend.notifications.vapid import b64url

KEYS = {"p256dh": b64url(b"\x04" + b"\x07" * 64), "auth": b64url(b"\x01" * 16)}


def test_loopback_http_only_when_allowed():
    body = {"endpoint": "http://127.0.0.1:9999/push/x", "keys": KEYS}
    assert validate_subscription(body, allow_local=True)[0] == body["endpoint"]
    with pytest.raises(PushInputError):
        validate_subscription(body, allow_local=False)
    with pytest.raises(PushInputError):  # https to a private address is no push service either
        validate_subscription({**body, "endpoint": "https://192.168.1.10/x"}, allow_local=True)


def test_padded_keys_are_stored_unpadded():
    padded = {"p256dh": KEYS["p256dh"] + "=", "auth": KEYS["auth"] + "=="}
    _, p256dh, auth = validate_subscription({"endpoint": "https://web.push.apple.com/abc", "keys": padded}, allow_local=False)
    assert (p256dh, auth) == (KEYS["p256dh"], KEYS["auth"])


@pytest.mark.parametrize("agent, expected", [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", "Safari sur iPhone"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36", "Chrome sur Android"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox sur Windows"),
    ("", "Navigateur"),
])
def test_device_names(agent, expected):
    assert device_summary(agent) == expected
