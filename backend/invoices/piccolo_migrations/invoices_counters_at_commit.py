"""The invoice counters' trigger runs at the commit (PostgreSQL): concurrent deposits stop queueing.

invoice_count keeps one row per structure, side and status. Its trigger ran at each
invoice row written, so a transaction that inserted an invoice held the counter rows
(supplier × MISE_A_DISPOSITION, recipient × MISE_A_DISPOSITION) until its commit: the
next deposit for the same supplier or recipient waited at its own invoice INSERT for the
whole rest of the first one's transaction (history, deadline, outbox, report row,
event: seven round trips). Under four clients that queue left a third of the two cores
idle (bench/deposit/RESULTS.md, 2026-12-07 09:40). As a constraint trigger deferred to
the commit, the same function runs with the same rows, and a counter row is held only
from the commit's trigger to the commit's end.

SQLite serializes writers (BEGIN IMMEDIATE): nothing to change there.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from backend.lib.db import engine

ID = "2026-12-07T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "invoice counters updated at the commit (PostgreSQL)"

EVENTS = "INSERT OR DELETE OR UPDATE OF status, supplier, recipient, total_incl_vat ON invoice"
AT_COMMIT = [
    "DROP TRIGGER invoice_count_change ON invoice",
    f"CREATE CONSTRAINT TRIGGER invoice_count_change AFTER {EVENTS} DEFERRABLE INITIALLY DEFERRED "
    "FOR EACH ROW EXECUTE FUNCTION invoice_count_change()",
]
AT_EACH_ROW = [
    "DROP TRIGGER invoice_count_change ON invoice",
    f"CREATE TRIGGER invoice_count_change AFTER {EVENTS} FOR EACH ROW EXECUTE FUNCTION invoice_count_change()",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="invoices", description=DESCRIPTION)

    async def at_commit() -> None:
        await _run(AT_COMMIT)

    async def at_each_row() -> None:
        await _run(AT_EACH_ROW)

    manager.add_raw(at_commit)  # Piccolo awaits coroutine functions only
    manager.add_raw_backwards(at_each_row)
    return manager


async def _run(statements: list[str]) -> None:
    if isinstance(engine(), PostgresEngine):
        for sql in statements:
            await Table.raw(sql)
