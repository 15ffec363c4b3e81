"""Tickets: a request by category and sub-category, routed to a public structure's agents or to
the platform's support team (its operators), with an append-only history of every step.

A ticket's receiver is `receiver_structure` (a public structure) or, when it is null, the
support team. Steps, answers and their files are `TicketEntry` rows: nothing is edited or
deleted once the ticket is sent (a draft's text is the only thing that changes).
Files live in the content-addressed store (backend/invoices/storage.py); rows point at them.
"""

from piccolo.columns import ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.directory.tables import Structure
from backend.invoices.tables import StoredFile


class SupportOperator(Table):
    """A person of the platform's support team (created by `facteur support add-operator`)."""

    user = ForeignKey(references=User, unique=True, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Ticket(Table):
    author = ForeignKey(references=User, null=True, index=True)  # null: opened through the API (a structure's key)
    author_structure = ForeignKey(references=Structure, index=True)  # the structure the author acts for
    author_key = Integer(null=True, default=None)  # the API key that opened it, if any
    category = Varchar(length=40)  # stable codes of backend/tickets/categories.py
    subcategory = Varchar(length=60)
    receiver_structure = ForeignKey(references=Structure, null=True, index=True)  # null: the support team
    subject = Varchar(length=200)
    draft_body = Text(default="")  # the first message while the ticket is a draft
    status = Varchar(length=24, index=True)  # backend/tickets/statuses.py
    assignee = ForeignKey(references=User, null=True)  # the receiver's agent or operator handling it
    assignee_key = Integer(null=True, default=None)  # …or the receiving structure's API key
    version = Integer(default=1)  # raised by every step: two concurrent steps cannot both apply
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class TicketEntry(Table):
    """One step of a ticket (sent, taken, answered…), with its message: the full history."""

    ticket = ForeignKey(references=Ticket, index=True)
    action = Varchar(length=24)
    from_status = Varchar(length=24, default="")
    to_status = Varchar(length=24)
    actor = ForeignKey(references=User, null=True)
    actor_key = Integer(null=True, default=None)
    actor_role = Varchar(length=16)  # "author" | "receiver"
    actor_label = Varchar(length=255, default="")  # who, as shown later (name and structure, or "Support")
    body = Text(default="")
    # A transfer's former receiving structure: its receivers are told the ticket left them.
    transferred_from = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class TicketAttachment(Table):
    ticket = ForeignKey(references=Ticket, index=True)  # downloads check the ticket without a join
    entry = ForeignKey(references=TicketEntry, null=True, index=True)  # null while the ticket is a draft
    file = ForeignKey(references=StoredFile)
    filename = Varchar(length=255)
    media_type = Varchar(length=100)
    size = Integer()
    created_at = Timestamptz(default=TimestamptzNow())
