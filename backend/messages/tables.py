"""Messages (sollicitations) on an invoice between its supplier and its recipient structure.

A message is append-only: the thread is part of the invoice's history. Files live in the
content-addressed store (backend/invoices/storage.py); rows only point at them.
"""

from piccolo.columns import ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.directory.tables import Structure
from backend.invoices.tables import Invoice, StoredFile


class Message(Table):
    invoice = ForeignKey(references=Invoice)  # indexed with id, see messages_indexes.py
    author = ForeignKey(references=User)
    author_structure = ForeignKey(references=Structure)
    side = Varchar(length=16)  # "supplier" | "recipient": the side the author wrote for
    # The other side's structure when the message was written: whose unread count it raises.
    audience = ForeignKey(references=Structure)
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class MessageAttachment(Table):
    message = ForeignKey(references=Message, index=True)
    invoice = ForeignKey(references=Invoice, index=True)  # downloads check the invoice without a join
    file = ForeignKey(references=StoredFile)
    filename = Varchar(length=255)
    media_type = Varchar(length=100)
    size = Integer()
    created_at = Timestamptz(default=TimestamptzNow())


class MessageRead(Table):
    """One structure's view of one invoice's thread (unique per invoice and structure).

    The thread is unread while `latest_incoming > last_read_message`; a partial index on that
    condition keeps the badge count proportional to the unread threads, not to all threads.
    """

    invoice = ForeignKey(references=Invoice)
    structure = ForeignKey(references=Structure)
    last_read_message = Integer(default=0)  # the highest message id seen; later ones are unread
    latest_incoming = Integer(default=0)  # the highest message id addressed to this structure
    read_at = Timestamptz(null=True, default=None)  # None: never opened
