"""Indexes of the workspaces' keyset lists (raw SQL, the same on SQLite and PostgreSQL).

Each list is `WHERE <own side> = ? [AND <filter column> = ?] ORDER BY issue_date DESC, id DESC`
with a row-value cursor `(issue_date, id) < (?, ?)`: an index that starts with the side,
then the filtered column, then (issue_date, id) gives the page with one index range scan,
however deep. The (side, counterpart, …) indexes also serve the loose index scan that lists
the counterparts for the filter's choices.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T08:31:47:164990"  # after the deposit idempotency index
VERSION = "1.38.0"
DESCRIPTION = "workspace list indexes"

INDEXES = {
    "invoice_supplier_issue": "CREATE INDEX invoice_supplier_issue ON invoice (supplier, issue_date, id)",
    "invoice_supplier_status_issue": "CREATE INDEX invoice_supplier_status_issue ON invoice (supplier, status, issue_date, id)",
    "invoice_supplier_recipient_issue": "CREATE INDEX invoice_supplier_recipient_issue ON invoice (supplier, recipient, issue_date, id)",
    "invoice_recipient_issue": "CREATE INDEX invoice_recipient_issue ON invoice (recipient, issue_date, id)",
    "invoice_recipient_status_issue": "CREATE INDEX invoice_recipient_status_issue ON invoice (recipient, status, issue_date, id)",
    "invoice_recipient_supplier_issue": "CREATE INDEX invoice_recipient_supplier_issue ON invoice (recipient, supplier, issue_date, id)",
    # The synthèse's "recipients that never report payment", counted from the index alone.
    "invoice_supplier_status_recipient": "CREATE INDEX invoice_supplier_status_recipient ON invoice (supplier, status, recipient)",
    # The synthèse asks "was this rejection acknowledged?" per rejected invoice.
    "invoice_history_invoice_status": "CREATE INDEX invoice_history_invoice_status ON invoice_history (invoice, status, actor_kind)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="invoices", description=DESCRIPTION)

    async def create_indexes():
        for sql in INDEXES.values():
            await Table.raw(sql)

    async def drop_indexes():
        for name in INDEXES:
            await Table.raw(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
