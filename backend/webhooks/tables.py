"""Webhooks of structures, and the log of their deliveries (one row per event and webhook, one per attempt).

The queue itself is the outbox: each delivery is an Outbox row on channel
"webhook_delivery" whose payload names the `WebhookDelivery.delivery_id`; the worker
retries it. These tables keep what a gestionnaire and an API client look at: what was
sent, when, how many times, and what the receiver answered.
"""

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.directory.tables import Structure

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


class Webhook(Table):
    structure = ForeignKey(references=Structure, index=True)
    url = Varchar(length=1000)
    events = Varchar(length=200)  # comma-separated, sorted (like API key scopes)
    # The signing secret must be readable to sign, so it is not hashed: it is sealed with
    # AES-GCM under a key derived from FACTEUR_SECRET_KEY (backend/webhooks/signing.py).
    secret_sealed = Text()
    secret_hint = Varchar(length=16)  # the first characters, to recognise it in lists
    active = Boolean(default=True)
    created_by = Integer(null=True, default=None)  # user id; None through the API
    created_api_key = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookDelivery(Table):
    """One event for one webhook. `delivery_id` is the id the receiver sees (stable across retries)."""

    webhook = ForeignKey(references=Webhook)  # composite indexes in the raw migration
    delivery_id = Varchar(length=40, unique=True, index=True)
    outbox = Integer(null=True, default=None)  # the Outbox row that carries it
    event = Varchar(length=64)
    invoice = Integer(null=True, default=None)
    # Order of the events of one invoice: the id of the outbox row of the event (written
    # in the same transaction as the change, so increasing with the changes of an invoice).
    sequence = Integer()
    body = Text()  # the exact JSON sent, the same bytes at every attempt
    status = Varchar(length=16, default=PENDING)
    attempts = Integer(default=0)  # HTTP attempts made (waiting for order is not one)
    last_status_code = Integer(null=True, default=None)
    last_error = Text(default="")
    redelivery_of = Varchar(length=40, default="")  # the delivery id this one resends
    created_at = Timestamptz(default=TimestamptzNow())
    last_attempt_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)


class WebhookAttempt(Table):
    delivery = ForeignKey(references=WebhookDelivery, index=True)
    attempted_at = Timestamptz(default=TimestamptzNow())
    status_code = Integer(null=True, default=None)  # None: no answer (network error, timeout)
    error = Text(default="")
    duration_ms = Integer(default=0)
