"""Deposits (flux), their per-file reports, invoices, their history and attachments.

Files themselves live in the blob store by SHA-256 (see storage.py); rows only point at them.
"""

from piccolo.columns import JSON, BigInt, Boolean, Date, ForeignKey, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table
from piccolo.columns.reference import LazyTableReference

from backend.accounts.tables import User
from backend.directory.tables import Structure


class StoredFile(Table):
    sha256 = Varchar(length=64, unique=True, index=True)
    size = Integer()
    media_type = Varchar(length=100)
    created_at = Timestamptz(default=TimestamptzNow())


class Deposit(Table):
    """One deposit (flux) of one or many files, with its integration report."""

    structure = ForeignKey(references=Structure, index=True)  # the depositing supplier
    user = ForeignKey(references=User, null=True)
    channel = Varchar(length=16)  # "web" | "zip" | "capture" | "api" | "cli"
    state = Varchar(length=24, index=True)  # IN_INTEGRE | IN_INTEGRE_PARTIEL | IN_REJETE
    file_count = Integer(default=0)
    accepted_count = Integer(default=0)
    rejected_count = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    # Chosen by the sending device (a capture queued offline): a replay of the same send
    # returns this deposit instead of making another. Unique per structure (raw migration).
    idempotency_key = Varchar(length=64, null=True, default=None)


class Invoice(Table):
    supplier = ForeignKey(references=Structure, index=True)
    recipient = ForeignKey(references=Structure, index=True)
    deposit = ForeignKey(references=Deposit, null=True)
    original_file = ForeignKey(references=StoredFile)
    original_name = Varchar(length=255)
    format = Varchar(length=16)  # facturx-pdf | cii-xml | ubl-xml
    profile = Varchar(length=16, null=True)
    number = Varchar(length=100)
    number_year = Integer()  # the duplicate rule: same supplier, number and year
    type_code = Varchar(length=3)
    issue_date = Date()
    due_date = Date(null=True)
    currency = Varchar(length=3)
    service_code = Varchar(length=100, default="")
    engagement = Varchar(length=50, default="")
    billing_framework = Varchar(length=8, default="A1")
    seller_siret = Varchar(length=14)
    buyer_siret = Varchar(length=14)
    seller_name = Varchar(length=255, default="")
    buyer_name = Varchar(length=255, default="")
    total_excl_vat = Numeric(digits=(18, 2))
    total_vat = Numeric(digits=(18, 2))
    total_incl_vat = Numeric(digits=(18, 2))
    amount_due = Numeric(digits=(18, 2))
    data = JSON()  # the normalized invoice (lines, VAT breakdown, parties) as extracted
    status = Varchar(length=24, index=True)
    status_code = Varchar(length=3)
    version = Integer(default=1)  # optimistic concurrency for status changes
    certificate_number = Varchar(length=32, unique=True)
    # The recipient's mandate number, copied from the MANDATEE history row by a trigger
    # (migration invoices_search_references) so that the agent's search finds it by index.
    mandate_number = Varchar(length=50, default="")
    deposited_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), index=True)
    # Délai global de paiement: set by the lifecycle at reception, reopened after the one
    # interruption (payment_delays); paid_in_full_on is the date of the payment that settled the
    # invoice; payment_clock_stopped is true during that interruption.
    payment_due_by = Date(null=True, default=None)
    paid_in_full_on = Date(null=True, default=None)
    payment_clock_stopped = Boolean(default=False)
    # Validation circuit (A9, A12): the structures that validate the invoice before the recipient
    # receives it (level 2: the mandataire, for a co-contractor's subcontractor), and the end of
    # the 15 days of the level waited for (migration invoices_validators).
    validator_1 = ForeignKey(references=Structure, null=True, default=None)
    validator_2 = ForeignKey(references=Structure, null=True, default=None)
    validation_due_at = Timestamptz(null=True, default=None)
    # A works piece names its market and its dossier de facturation (columns added by the works
    # app's migration works_invoice_links; attached by backend/works/dossiers.py).
    market = ForeignKey(references=LazyTableReference("Market", module_path="backend.works.tables"), null=True, default=None)
    dossier = ForeignKey(references=LazyTableReference("BillingFile", module_path="backend.works.tables"), null=True, default=None)


class InvoiceHistory(Table):
    """Append-only: every status an invoice went through, who set it and why."""

    invoice = ForeignKey(references=Invoice, index=True)
    status = Varchar(length=40)  # ABSENCE_VALIDATION_1_HORS_DELAI (migration invoices_validators)
    status_code = Varchar(length=3)
    actor_kind = Varchar(length=16)  # platform | supplier | recipient | validator
    actor = ForeignKey(references=User, null=True)
    reason_code = Varchar(length=32, default="")
    comment = Text(default="")
    details = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())


class Attachment(Table):
    invoice = ForeignKey(references=Invoice, index=True)
    file = ForeignKey(references=StoredFile)
    filename = Varchar(length=255)
    media_type = Varchar(length=100)
    role = Varchar(length=16)  # "supporting" (pièce jointe) | "embedded" (inside the Factur-X)
    created_at = Timestamptz(default=TimestamptzNow())


class DepositItem(Table):
    """One file of a deposit and its verdict; a refused file (2026 code 213 or 501) has no invoice."""

    deposit = ForeignKey(references=Deposit, index=True)
    position = Integer()
    filename = Varchar(length=255)
    file = ForeignKey(references=StoredFile, null=True)
    format = Varchar(length=16)
    profile = Varchar(length=16, null=True)
    accepted = Boolean()
    status_code = Varchar(length=3)  # 200 accepted, 213 refused, 501 not readable as an invoice
    invoice = ForeignKey(references=Invoice, null=True)
    invoice_number = Varchar(length=100, default="")
    findings = JSON(default="[]")


class InvoiceDraft(Table):
    """A capture in progress (status BROUILLON): the form as typed, saved as the user types."""

    structure = ForeignKey(references=Structure, index=True)
    user = ForeignKey(references=User)
    form = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # The device's key of the send this draft was made for (a phone-only draft, or one whose
    # draft had gone): a re-send after a lost answer finds its draft again by it.
    send_key = Varchar(length=64, null=True, default=None, index=True)


class DraftAttachment(Table):
    """A photo or file attached to a capture draft, kept with it on the server (the bytes by
    SHA-256 like any original): a refused send, a reload or another device still has it.
    Once per content in a draft; goes with the draft."""

    draft = ForeignKey(references=InvoiceDraft, index=True, on_delete=OnDelete.cascade)
    file = ForeignKey(references=StoredFile)
    filename = Varchar(length=255)
    media_type = Varchar(length=100)
    size = Integer()
    created_at = Timestamptz(default=TimestamptzNow())


class InvoiceCount(Table):
    """How many invoices (and their total incl. VAT, in cents) each structure has per status, per side.

    Kept by database triggers on `invoice` (and on `invoice_history` for acknowledged
    rejections, status "REJETEE_ACK"), so every path that writes an invoice keeps it right;
    the synthèse reads a few rows instead of aggregating 100,000 invoices. Written only by
    the triggers (migration invoices_counters); unique per (structure, side, status).
    """

    structure = Integer()  # no foreign key: the triggers write it, the rows are derived data
    side = Varchar(length=9)  # supplier | recipient
    status = Varchar(length=24)
    n = Integer(default=0)
    cents = BigInt(default=0)


class InvoicePayment(Table):
    """One row per payment recorded (MISE_EN_PAIEMENT, partial payments included): the date an
    agent searches by. Derived data, written only by a trigger on invoice_history (migration
    invoices_search_references), indexed by (recipient, paid_on)."""

    invoice = ForeignKey(references=Invoice)
    recipient = Integer()  # the invoice's recipient when paid (no recycling after a payment)
    paid_on = Date()
