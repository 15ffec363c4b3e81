"""User-given addresses (webhooks, push services) never lead Facteur to itself or its cloud."""

from __future__ import annotations

import pytest

from backend.lib import outbound
from backend.notifications.service import PushInputError, validate_subscription
from backend.webhooks.service import WebhookError, validate_url

# Spellings of 127.0.0.1 and 169.254.169.254 that resolvers accept and `ipaddress` does not.
DISGUISED = ["127.1", "2130706433", "0x7f.1", "0177.0.0.1", "0x7f000001", "2852039166", "[::ffff:127.0.0.1]", "[::ffff:a9fe:a9fe]"]


@pytest.mark.parametrize("host", DISGUISED)
def test_disguised_internal_addresses_are_read_as_such(host):
    assert outbound.literal_is_forbidden(host)


@pytest.mark.parametrize("host", ["10.1.2.3", "192.168.1.20", "erp.exemple.fr", "deadbeef.fr", "cafe.be"])
def test_private_networks_and_names_are_not_refused_on_sight(host):
    assert not outbound.literal_is_forbidden(host)


@pytest.mark.parametrize("host", DISGUISED)
def test_a_webhook_to_a_disguised_internal_address_is_refused(host):
    with pytest.raises(WebhookError):
        validate_url(f"https://{host}/facteur")


@pytest.mark.parametrize("host", DISGUISED)
def test_a_push_endpoint_at_a_disguised_internal_address_is_refused(host):
    keys = {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM", "auth": "tBHItJI5svbpez7KI4CCXg"}
    with pytest.raises(PushInputError) as refused:
        validate_subscription({"endpoint": f"https://{host}/push/abc", "keys": keys}, allow_local=False)
    assert refused.value.field == "endpoint"
    assert validate_subscription({"endpoint": "https://push.exemple.fr/push/abc", "keys": keys}, allow_local=False)


async def test_at_send_time_a_name_that_resolves_inside_is_refused():
    # localhost resolves from /etc/hosts, without any network: the case of a name whose DNS
    # record was changed to 127.0.0.1 after the webhook was accepted.
    refusal = await outbound.refusal_at_send("https://localhost:8443/facteur")
    assert refusal and "adresse interne" in refusal
    assert await outbound.refusal_at_send("https://2130706433/facteur")
    assert await outbound.refusal_at_send("https://10.1.2.3/facteur") is None
    assert await outbound.refusal_at_send("https://nom-inconnu.invalid/facteur") is None  # the HTTP client reports it
