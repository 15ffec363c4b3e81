"""The validation circuit (A9 sous-traitant, A12 cotraitant): who validates an invoice, until when.

invoice.validator_1 / validator_2: the structures that must validate it before the public
recipient receives it (level 2 only for a co-contractor's subcontractor: the mandataire);
invoice.validation_due_at: the end of the 15 days of the level waited for (tacit after it).
invoice_history.status grows to 40 characters for Chorus Pro's longest names
(ABSENCE_VALIDATION_1_HORS_DELAI); SQLite does not enforce a varchar length.
Raw SQL, the same on both engines except the widening.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from backend.lib.db import engine

ID = "2026-12-07T02:10:00:000000"  # after main's payment-interruption migrations
VERSION = "1.38.0"
DESCRIPTION = "invoice validators and validation deadline"

FORWARDS = [
    "ALTER TABLE invoice ADD COLUMN validator_1 INTEGER NULL REFERENCES structure (id)",
    "ALTER TABLE invoice ADD COLUMN validator_2 INTEGER NULL REFERENCES structure (id)",
    "ALTER TABLE invoice ADD COLUMN validation_due_at TIMESTAMP WITH TIME ZONE NULL",
    # The validator's "Factures à valider" and its read-only view of what it validated.
    "CREATE INDEX invoice_validator_1 ON invoice (validator_1) WHERE validator_1 IS NOT NULL",
    "CREATE INDEX invoice_validator_2 ON invoice (validator_2) WHERE validator_2 IS NOT NULL",
]
# PostgreSQL refuses to retype a column that a trigger's WHEN clause reads: that trigger
# (migration invoices_search_references) is dropped and created again, as it was, around it.
POSTGRES_ONLY = [
    "DROP TRIGGER invoice_search_references ON invoice_history",
    "ALTER TABLE invoice_history ALTER COLUMN status TYPE VARCHAR(40)",
    """CREATE TRIGGER invoice_search_references AFTER INSERT ON invoice_history
FOR EACH ROW WHEN (NEW.status IN ('MANDATEE', 'MISE_EN_PAIEMENT')) EXECUTE FUNCTION invoice_search_references()""",
]
BACKWARDS = [
    "DROP INDEX invoice_validator_2", "DROP INDEX invoice_validator_1",
    "ALTER TABLE invoice DROP COLUMN validation_due_at", "ALTER TABLE invoice DROP COLUMN validator_2",
    "ALTER TABLE invoice DROP COLUMN validator_1",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="invoices", description=DESCRIPTION)

    async def run():
        for sql in FORWARDS + (POSTGRES_ONLY if isinstance(engine(), PostgresEngine) else []):
            await Table.raw(sql)

    async def undo():
        for sql in BACKWARDS:
            await Table.raw(sql)

    manager.add_raw(run)
    manager.add_raw_backwards(undo)
    return manager
