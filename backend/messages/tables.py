"""Messages (sollicitations) between a supplier structure and a public (recipient) structure.

A thread hangs on an invoice (`invoice`), or is a question a supplier asks a public
structure from the directory (`thread`, a MessageThread with its subject): every message,
attachment and read marker sets exactly one of the two columns. Messages are append-only:
a thread is part of the history. Files live in the content-addressed store
(backend/invoices/storage.py); rows only point at them.
"""

from piccolo.columns import ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.directory.tables import Structure
from backend.invoices.tables import Invoice, StoredFile


class MessageThread(Table):
    """A question not attached to an invoice: a supplier structure asks a public structure.

    Its two sides never change (unlike an invoice's recipient, which a recycling changes).
    """

    supplier = ForeignKey(references=Structure)  # the asking structure; indexed in messages_questions_indexes.py
    recipient = ForeignKey(references=Structure)  # the public structure of the directory
    subject = Varchar(length=200)
    started_by = ForeignKey(references=User)
    created_at = Timestamptz(default=TimestamptzNow())


class Message(Table):
    invoice = ForeignKey(references=Invoice)  # indexed with id, see messages_indexes.py
    thread = ForeignKey(references=MessageThread)  # a question's message (then invoice is null)
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
    thread = ForeignKey(references=MessageThread, index=True)  # …or the question
    file = ForeignKey(references=StoredFile)
    filename = Varchar(length=255)
    media_type = Varchar(length=100)
    size = Integer()
    created_at = Timestamptz(default=TimestamptzNow())


class MessageRead(Table):
    """One structure's view of one thread (unique per invoice, or question, and structure).

    The thread is unread while `latest_incoming > last_read_message`; a partial index on that
    condition keeps the badge count proportional to the unread threads, not to all threads.
    """

    invoice = ForeignKey(references=Invoice)
    thread = ForeignKey(references=MessageThread)  # a question's marker (then invoice is null)
    structure = ForeignKey(references=Structure)
    last_read_message = Integer(default=0)  # the highest message id seen; later ones are unread
    latest_incoming = Integer(default=0)  # the highest message id addressed to this structure
    read_at = Timestamptz(null=True, default=None)  # None: never opened
