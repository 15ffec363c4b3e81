"""What the agent's search finds besides the number: mandate numbers and payment dates, by index.

Both live in the append-only history (`details` of the MANDATEE and MISE_EN_PAIEMENT rows),
where no index reaches them. Triggers on `invoice_history` copy them, in the change's own
transaction and whoever writes the history (lifecycle, API, demo): the mandate number into
`invoice.mandate_number`, each payment (partial ones too) into `invoice_payment` (indexed by
recipient and date). The rows already there are filled in here.

PostgreSQL also gets trigram indexes on the engagement and mandate numbers (searched by a part,
`ILIKE '%…%'`), when pg_trgm is there, as for the invoice number (invoices_search_trgm).
SQLite: a search for a part of a number reads the structure's invoices in list order (through
its (recipient, issue_date, id) index) and stops at a page; names, SIRETs and dates go
through indexes on both engines (see backend/invoices/workspace.py).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from backend.lib.db import engine

ID = "2026-12-06T18:19:26:614498"  # just after the migration that adds the column and the table
VERSION = "1.38.0"
DESCRIPTION = "mandate number and payment dates kept by triggers, for the search"

INDEXES = [
    "CREATE INDEX invoice_payment_recipient_paid ON invoice_payment (recipient, paid_on, invoice)",
    "CREATE INDEX invoice_payment_invoice ON invoice_payment (invoice)",
]
INDEXES_DOWN = ["DROP INDEX IF EXISTS invoice_payment_invoice", "DROP INDEX IF EXISTS invoice_payment_recipient_paid"]

TRIGRAMS = {
    "invoice_engagement_trgm": "CREATE INDEX IF NOT EXISTS invoice_engagement_trgm ON invoice USING gin (engagement gin_trgm_ops)",
    "invoice_mandate_trgm": "CREATE INDEX IF NOT EXISTS invoice_mandate_trgm ON invoice USING gin (mandate_number gin_trgm_ops)",
}

POSTGRES = [
    """CREATE FUNCTION invoice_search_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d jsonb := NEW.details::jsonb;
BEGIN
  IF NEW.status = 'MANDATEE' THEN
    UPDATE invoice SET mandate_number = COALESCE(d ->> 'mandate_number', '') WHERE id = NEW.invoice;
  ELSIF NEW.status = 'MISE_EN_PAIEMENT' AND (d -> 'payment' ->> 'date') IS NOT NULL THEN
    INSERT INTO invoice_payment (invoice, recipient, paid_on)
      SELECT NEW.invoice, i.recipient, (d -> 'payment' ->> 'date')::date FROM invoice i WHERE i.id = NEW.invoice;
  END IF;
  RETURN NULL;
END $$""",
    """CREATE TRIGGER invoice_search_references AFTER INSERT ON invoice_history
FOR EACH ROW WHEN (NEW.status IN ('MANDATEE', 'MISE_EN_PAIEMENT')) EXECUTE FUNCTION invoice_search_references()""",
    """UPDATE invoice SET mandate_number = COALESCE((SELECT h.details::jsonb ->> 'mandate_number' FROM invoice_history h
  WHERE h.invoice = invoice.id AND h.status = 'MANDATEE' ORDER BY h.id DESC LIMIT 1), '')
  WHERE EXISTS (SELECT 1 FROM invoice_history h WHERE h.invoice = invoice.id AND h.status = 'MANDATEE')""",
    """INSERT INTO invoice_payment (invoice, recipient, paid_on)
  SELECT h.invoice, i.recipient, (h.details::jsonb -> 'payment' ->> 'date')::date FROM invoice_history h JOIN invoice i ON i.id = h.invoice
  WHERE h.status = 'MISE_EN_PAIEMENT' AND (h.details::jsonb -> 'payment' ->> 'date') IS NOT NULL""",
]
POSTGRES_DOWN = ["DROP TRIGGER IF EXISTS invoice_search_references ON invoice_history",
                 "DROP FUNCTION IF EXISTS invoice_search_references()"]

# json_valid first: a history row whose details are not JSON must never make the change fail.
SQLITE = [
    """CREATE TRIGGER invoice_search_mandate AFTER INSERT ON invoice_history
WHEN NEW.status = 'MANDATEE' AND json_valid(NEW.details) BEGIN
  UPDATE invoice SET mandate_number = COALESCE(json_extract(NEW.details, '$.mandate_number'), '') WHERE id = NEW.invoice;
END""",
    """CREATE TRIGGER invoice_search_payment AFTER INSERT ON invoice_history
WHEN NEW.status = 'MISE_EN_PAIEMENT' AND json_valid(NEW.details) AND json_extract(NEW.details, '$.payment.date') IS NOT NULL BEGIN
  INSERT INTO invoice_payment (invoice, recipient, paid_on)
    SELECT NEW.invoice, recipient, json_extract(NEW.details, '$.payment.date') FROM invoice WHERE id = NEW.invoice;
END""",
    """UPDATE invoice SET mandate_number = COALESCE((SELECT json_extract(h.details, '$.mandate_number') FROM invoice_history h
  WHERE h.invoice = invoice.id AND h.status = 'MANDATEE' AND json_valid(h.details) ORDER BY h.id DESC LIMIT 1), '')
  WHERE EXISTS (SELECT 1 FROM invoice_history h WHERE h.invoice = invoice.id AND h.status = 'MANDATEE')""",
    """INSERT INTO invoice_payment (invoice, recipient, paid_on)
  SELECT h.invoice, i.recipient, json_extract(h.details, '$.payment.date') FROM invoice_history h JOIN invoice i ON i.id = h.invoice
  WHERE h.status = 'MISE_EN_PAIEMENT' AND json_valid(h.details) AND json_extract(h.details, '$.payment.date') IS NOT NULL""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS invoice_search_payment", "DROP TRIGGER IF EXISTS invoice_search_mandate"]


async def forwards():
    from backend.invoices.piccolo_migrations.invoices_search_trgm import _trigrams_available

    manager = MigrationManager(migration_id=ID, app_name="invoices", description=DESCRIPTION)

    async def create():
        postgres = isinstance(engine(), PostgresEngine)
        for sql in INDEXES + (POSTGRES if postgres else SQLITE):
            await Table.raw(sql)
        if postgres and await _trigrams_available():
            for sql in TRIGRAMS.values():
                await Table.raw(sql)

    async def drop():
        postgres = isinstance(engine(), PostgresEngine)
        for sql in (POSTGRES_DOWN if postgres else SQLITE_DOWN) + INDEXES_DOWN:
            await Table.raw(sql)
        if postgres:
            for name in TRIGRAMS:
                await Table.raw(f"DROP INDEX IF EXISTS {name}")
        await Table.raw("DELETE FROM invoice_payment")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
