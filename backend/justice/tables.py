"""Mémoires de frais de justice (framework A3): what a mémoire adds to its invoice, the drafts
being captured, and each provider structure's VAT setting.

A sent mémoire is an Invoice (backend/invoices) with billing_framework "A3"; `memoire` holds
the decision that ordered the mission, the mission itself, and the links of a duplicate after
refusal (both ways). Written by backend/justice/service.py only.
"""

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.directory.tables import Structure
from backend.invoices.tables import Invoice, StoredFile


class Memoire(Table):
    invoice = ForeignKey(references=Invoice, unique=True, index=True)
    decision_kind = Varchar(length=24)  # requisition | ordonnance | proces_verbal
    decision_reference = Varchar(length=100)
    decision_date = Date()
    decision_author = Varchar(length=200)  # the magistrate or officer who ordered the mission
    mission_start = Date()
    mission_end = Date()
    mission_place = Varchar(length=200)
    vat_on_debits = Boolean(default=False)
    # A mémoire duplicated after its refusal: the new one names the old, the old names the new.
    duplicated_from = ForeignKey(references=Invoice, null=True, default=None)
    duplicate = ForeignKey(references=Invoice, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class MemoireDraft(Table):
    """A mémoire being captured (brouillon), the form as typed."""

    structure = ForeignKey(references=Structure, index=True)
    user = ForeignKey(references=User)
    form = JSON(default="{}")
    # The refused mémoire this draft duplicates (its status is DUPLIQUEE).
    duplicated_from = ForeignKey(references=Invoice, null=True, default=None, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class MemoireDraftAttachment(Table):
    """A photo or file chosen on the mémoire form (the decision, receipts), kept with the draft as
    an invoice draft's (backend/invoices/draft_files.py, same columns): a refused send does not
    make the person choose it again. Once per content in a draft; goes with the draft."""

    draft = ForeignKey(references=MemoireDraft, index=True, on_delete=OnDelete.cascade)
    file = ForeignKey(references=StoredFile)
    filename = Varchar(length=255)
    media_type = Varchar(length=100)
    size = Integer()
    created_at = Timestamptz(default=TimestamptzNow())


class JusticeSetting(Table):
    """A provider structure's setting for its mémoires: VAT paid on debits (option pour le paiement
    de la TVA d'après les débits), written on each mémoire."""

    structure = ForeignKey(references=Structure, unique=True)
    vat_on_debits = Boolean(default=False)
