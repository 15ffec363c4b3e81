"""Push subscriptions (one per browser/device of a user), preferences, and the fan-out ledger."""

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User


class PushSubscription(Table):
    user = ForeignKey(references=User, index=True)
    endpoint = Text(unique=True)  # the push service URL: a device subscribes once, whoever is signed in
    p256dh = Varchar(length=100)  # base64url, 65-byte P-256 point
    auth = Varchar(length=32)  # base64url, 16-byte secret
    user_agent = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_success_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")


class PushPreference(Table):
    """What a user wants pushed; no row = the defaults (the statuses a supplier must act on or hear of)."""

    user = ForeignKey(references=User, unique=True)
    events = Text(default="")  # comma-separated: status names and "message.created"
    updated_at = Timestamptz(default=TimestamptzNow())


class PushDelivery(Table):
    """One row per (event outbox row, subscription): the unique index makes a second fan-out fail."""

    event = Integer()  # the "push" outbox row
    subscription = Integer()  # no foreign key: the ledger outlives a removed device
    created_at = Timestamptz(default=TimestamptzNow())
    sent = Boolean(default=False)
