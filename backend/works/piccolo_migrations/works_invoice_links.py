"""A piece of a works market is an invoice row that names its market and dossier.

The two nullable columns are added to `invoice` here, in the works app (which depends on the
invoices app), rather than in the invoices app: the invoices migrations cannot reference
`market`, created after them. Deleting a market or a dossier never deletes a piece: ON
DELETE SET NULL. Raw SQL, the same on SQLite (ADD COLUMN … REFERENCES with a NULL default
is allowed) and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T01:26:56:658187"
VERSION = "1.38.0"
DESCRIPTION = "invoice.market and invoice.dossier: the pieces of a works market"

STATEMENTS = (
    "ALTER TABLE invoice ADD COLUMN market INTEGER NULL REFERENCES market (id) ON DELETE SET NULL",
    "ALTER TABLE invoice ADD COLUMN dossier INTEGER NULL REFERENCES billing_file (id) ON DELETE SET NULL",
    # A market's pieces and a dossier's pieces, in order; only the rows that have one.
    "CREATE INDEX invoice_market_id ON invoice (market, id) WHERE market IS NOT NULL",
    "CREATE INDEX invoice_dossier_id ON invoice (dossier, id) WHERE dossier IS NOT NULL",
)
BACKWARDS = (
    "DROP INDEX invoice_dossier_id",
    "DROP INDEX invoice_market_id",
    "ALTER TABLE invoice DROP COLUMN dossier",
    "ALTER TABLE invoice DROP COLUMN market",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="works", description=DESCRIPTION)

    async def add_columns():
        for sql in STATEMENTS:
            await Table.raw(sql)

    async def drop_columns():
        for sql in BACKWARDS:
            await Table.raw(sql)

    manager.add_raw(add_columns)
    manager.add_raw_backwards(drop_columns)
    return manager
