"""The event log behind the live stream: one row per change a user may see, kept for resumes.

Integer columns, no foreign keys: an event is a record of what happened and outlives nothing.
The composite indexes (supplier, id) and (recipient, id) serve the Last-Event-ID resume
query; they live in a raw migration (tracking_indexes.py).
"""

from piccolo.columns import JSON, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Event(Table):
    id = Serial(primary_key=True)  # the SSE id, echoed back by browsers as Last-Event-ID
    kind = Varchar(length=32)  # invoice.status_changed | invoice.received | message.created | ticket.updated
    invoice = Integer()  # 0 for a message of a question (backend/messages/questions.py): no invoice
    supplier = Integer()  # structure ids: both sides see the event (PEOPLE_ONLY: only its EventAudience)
    recipient = Integer()
    payload = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())


class EventAudience(Table):
    """The people an event is for, when it is not for whole structures (a ticket's author and
    receivers, not their colleagues). The (person, event) index serves the resume query."""

    event = Integer()  # no foreign key, like the event's own columns
    person = Integer()
