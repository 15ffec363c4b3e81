"""Indexes of the "En retard" filter and count (raw SQL, the same on SQLite and PostgreSQL).

Late = not paid in full and payment_due_by before today: a range on (side, payment_due_by)
among the unpaid invoices only, so the count reads the late ones and nothing else.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-06T22:13:48:581528"  # right after the columns
VERSION = "1.38.0"
DESCRIPTION = "payment deadline indexes"

INDEXES = {
    "invoice_supplier_unpaid_due": "CREATE INDEX invoice_supplier_unpaid_due ON invoice (supplier, payment_due_by) "
                                   "WHERE paid_in_full_on IS NULL AND payment_due_by IS NOT NULL",
    "invoice_recipient_unpaid_due": "CREATE INDEX invoice_recipient_unpaid_due ON invoice (recipient, payment_due_by) "
                                    "WHERE paid_in_full_on IS NULL AND payment_due_by IS NOT NULL",
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
