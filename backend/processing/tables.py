"""The outbox: notifications written in the same transaction as the change they announce.

The worker (backend/processing/worker.py) delivers the rows with retries and backoff; a
row is never lost when a process dies between the commit and the delivery. A row is
pending while both `delivered_at` and `failed_at` are empty; `failed_at` is set when the
worker gives up (a permanent refusal, or too many attempts).
"""

from piccolo.columns import JSON, Date, Integer, Numeric, Text, Timestamptz, Varchar
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


class Deadline(Table):
    """A due date the worker acts on (backend/processing/deadlines.py): one row per kind and invoice.

    Pending while `done_at` is empty; `claimed_until` is the lease of the worker running it
    (a crashed run is taken again once it passes). A unique index on (kind, invoice) makes
    scheduling idempotent (migration processing_deadline_indexes).
    """

    kind = Varchar(length=32)  # e.g. "payment_overdue"; its handler is registered under this name
    invoice = Integer()  # no foreign key, like the outbox: a deadline names what it is about
    due_at = Timestamptz()
    payload = JSON(default="{}")
    attempts = Integer(default=0)
    claimed_until = Timestamptz(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=16, default="")  # "done" | "cancelled" | "failed"
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class EcbRate(Table):
    """The ECB main refinancing rate from a date on, added by an operator (`facteur ecb-rate set`).

    The rates known when the product was released ship in backend/processing/ecb_rates.csv;
    a row here adds a newer rate (or corrects one: a row wins over the shipped line of its date).
    """

    effective_on = Date(unique=True)
    rate = Numeric(digits=(6, 3))  # percent, e.g. 2.150
    created_at = Timestamptz(default=TimestamptzNow())
