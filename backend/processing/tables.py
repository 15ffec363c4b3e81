"""The outbox: notifications written in the same transaction as the change they announce.

The worker (backend/processing/worker.py) delivers the rows with retries and backoff; a
row is never lost when a process dies between the commit and the delivery. A row is
pending while both `delivered_at` and `failed_at` are empty; `failed_at` is set when the
worker gives up (a permanent refusal, or too many attempts).
"""

from piccolo.columns import JSON, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Outbox(Table):
    event_type = Varchar(length=64)  # e.g. "invoice.status_changed"
    channel = Varchar(length=16)  # "webhook" | "push", and their fan-out channels ("push_delivery"…)
    invoice = Integer(null=True, default=None, index=True)  # no foreign key: the outbox outlives nothing
    payload = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    delivered_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    last_error = Text(default="")
    failed_at = Timestamptz(null=True, default=None)
