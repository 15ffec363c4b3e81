"""Composite indexes of the invoices app (raw SQL, the same on SQLite and PostgreSQL)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T06:20:41:648260"
VERSION = "1.38.0"
DESCRIPTION = "invoice duplicate rule and list indexes"

INDEXES = {
    # The portal's duplicate rule, enforced by the database even under concurrent deposits.
    "invoice_supplier_number_year": "CREATE UNIQUE INDEX invoice_supplier_number_year ON invoice (supplier, number, number_year)",
    "invoice_supplier_deposited": "CREATE INDEX invoice_supplier_deposited ON invoice (supplier, deposited_at, id)",
    "invoice_recipient_deposited": "CREATE INDEX invoice_recipient_deposited ON invoice (recipient, deposited_at, id)",
    "deposit_structure_created": "CREATE INDEX deposit_structure_created ON deposit (structure, created_at, id)",
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
