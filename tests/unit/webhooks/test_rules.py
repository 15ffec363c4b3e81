"""Webhook rules without a database: URL checks, retry policy, Retry-After, sealing, signature, audience."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from email.utils import format_datetime

import pytest

from backend.lib.common import utcnow
from backend.webhooks import signing
from backend.processing.worker import retry_after_seconds
from backend.webhooks.delivery import CLIENT_ERROR_TRIES, concerned_structures, decide
from backend.webhooks.service import WebhookError, validate_events, validate_url


@pytest.mark.parametrize("url", ["https://erp.exemple.fr/h", "https://10.1.2.3:8443/facteur?jeton=abc", "https://[2001:db8::1]/h"])
def test_public_and_private_network_https_urls_are_accepted(url):
    assert validate_url(url) == url


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9000/h", "https://localhost/h", "https://[::1]/h", "https://0.0.0.0/h", "https://169.254.169.254/",
    "https://224.0.0.1/h", "https://a@erp.exemple.fr/h", "https://erp.exemple.fr/h#x", "javascript:alert(1)", "https://",
])
def test_local_internal_and_odd_urls_are_refused(url):
    with pytest.raises(WebhookError) as refused:
        validate_url(url)
    assert refused.value.http_status == 422 and refused.value.code == "url_invalid"


def test_http_to_this_machine_only_when_allowed():
    assert validate_url("http://127.0.0.1:9000/h", allow_local=True)
    assert validate_url("http://localhost/h", allow_local=True)
    with pytest.raises(WebhookError):
        validate_url("http://192.168.1.10/h", allow_local=True)


def test_events_are_checked_deduplicated_and_sorted():
    assert validate_events(["message.created", "invoice.received", "message.created"]) == ["invoice.received", "message.created"]
    with pytest.raises(WebhookError):
        validate_events(["invoice.*"])


@pytest.mark.parametrize(("code", "attempts", "expected"), [
    (200, 1, "delivered"), (204, 9, "delivered"),
    (None, 9, "retry"), (500, 9, "retry"), (503, 9, "retry"), (429, 9, "retry"), (408, 9, "retry"),
    (400, 1, "retry"), (404, CLIENT_ERROR_TRIES - 1, "retry"), (404, CLIENT_ERROR_TRIES, "drop"), (301, CLIENT_ERROR_TRIES, "drop"),
])
def test_retry_policy(code, attempts, expected):
    assert decide(code, attempts, None)[0] == expected


def test_retry_after_seconds_or_date_bounded():
    assert decide(429, 1, 30.0) == ("retry", 30.0)
    assert retry_after_seconds("30") == 30
    assert retry_after_seconds("0") == 1
    assert retry_after_seconds("999999") == 3600
    assert 110 < retry_after_seconds(format_datetime(utcnow() + timedelta(seconds=120), usegmt=True)) <= 120
    assert retry_after_seconds("demain") is None and retry_after_seconds(None) is None


def test_a_sealed_secret_opens_only_with_its_key_and_structure():
    secret = signing.new_secret()
    sealed = signing.seal(secret, app_secret="k" * 40, structure_id=7)
    assert secret not in sealed
    assert signing.unseal(sealed, app_secret="k" * 40, structure_id=7) == secret
    with pytest.raises(signing.SealError):
        signing.unseal(sealed, app_secret="z" * 40, structure_id=7)
    with pytest.raises(signing.SealError):
        signing.unseal(sealed, app_secret="k" * 40, structure_id=8)


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"d1"}'
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signing.sign("whsec_x", 1700000000, body) == f"v1={expected}"


def test_who_hears_of_an_event():
    payload = {"supplier_id": 1, "recipient_id": 2, "audience": {"structure_id": 2}}
    assert concerned_structures("invoice.received", payload) == {2}
    assert concerned_structures("invoice.status_changed", payload) == {1, 2}
    assert concerned_structures("message.created", payload) == {1, 2}
    recycled = {"supplier_id": 1, "recipient_id": 3, "details": {"recycled": {"before": {"recipient": 2}, "after": {"recipient": 3}}}}
    assert concerned_structures("invoice.status_changed", recycled) == {1, 2, 3}
    # A validation step (A9/A12) is between the subcontractor and its validator: the recipient has not received it.
    validating = {"supplier_id": 1, "recipient_id": 2, "validator_id": 4}
    assert concerned_structures("invoice.status_changed", validating) == {1, 4}
