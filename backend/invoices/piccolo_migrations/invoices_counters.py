"""Per-structure invoice counts kept by triggers (table invoice_count), then filled from the invoices.

Why triggers: every path that writes invoices (deposit, capture, lifecycle, API, demo,
tests' fixtures) keeps the counts right without knowing about them, in the same
transaction. The synthèse then reads ~12 rows instead of aggregating 100,000 invoices
(bench/dashboard/RESULTS.md). Amounts are in cents (integers): exact on both engines.

PostgreSQL: one row-level trigger function; the up-to-four counter rows of a change are
updated in a fixed order (structure, side, status) so that two concurrent status changes
cannot deadlock on them. SQLite: writes are serialized, plain triggers suffice.
"Acknowledged rejections" are counted under the pseudo-status REJETEE_ACK, from the
append-only history (a supplier row at REJETEE).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from backend.lib.db import engine

ID = "2026-11-24T08:53:26:137586"  # just after the migration that creates invoice_count
VERSION = "1.38.0"
DESCRIPTION = "invoice counts per structure, side and status, kept by triggers"

UNIQUE = "CREATE UNIQUE INDEX invoice_count_key ON invoice_count (structure, side, status)"

POSTGRES = [
    """CREATE FUNCTION invoice_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d record;
BEGIN
  FOR d IN
    SELECT s, side, st, sum(n)::int AS n, sum(c)::bigint AS c FROM (
      SELECT OLD.supplier, 'supplier', OLD.status, -1, -round(OLD.total_incl_vat * 100) WHERE TG_OP <> 'INSERT'
      UNION ALL SELECT OLD.recipient, 'recipient', OLD.status, -1, -round(OLD.total_incl_vat * 100) WHERE TG_OP <> 'INSERT'
      UNION ALL SELECT NEW.supplier, 'supplier', NEW.status, 1, round(NEW.total_incl_vat * 100) WHERE TG_OP <> 'DELETE'
      UNION ALL SELECT NEW.recipient, 'recipient', NEW.status, 1, round(NEW.total_incl_vat * 100) WHERE TG_OP <> 'DELETE'
    ) AS v(s, side, st, n, c) GROUP BY s, side, st HAVING sum(n) <> 0 OR sum(c) <> 0 ORDER BY s, side, st
  LOOP
    INSERT INTO invoice_count (structure, side, status, n, cents) VALUES (d.s, d.side, d.st, d.n, d.c)
    ON CONFLICT (structure, side, status) DO UPDATE
      SET n = invoice_count.n + EXCLUDED.n, cents = invoice_count.cents + EXCLUDED.cents;
  END LOOP;
  RETURN NULL;
END $$""",
    """CREATE TRIGGER invoice_count_change AFTER INSERT OR DELETE OR UPDATE OF status, supplier, recipient, total_incl_vat
ON invoice FOR EACH ROW EXECUTE FUNCTION invoice_count_change()""",
    """CREATE FUNCTION invoice_count_acknowledged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'REJETEE' AND NEW.actor_kind = 'supplier' THEN
    INSERT INTO invoice_count (structure, side, status, n, cents)
      SELECT i.supplier, 'supplier', 'REJETEE_ACK', 1, round(i.total_incl_vat * 100) FROM invoice i WHERE i.id = NEW.invoice
    ON CONFLICT (structure, side, status) DO UPDATE
      SET n = invoice_count.n + EXCLUDED.n, cents = invoice_count.cents + EXCLUDED.cents;
  END IF;
  RETURN NULL;
END $$""",
    """CREATE TRIGGER invoice_count_acknowledged AFTER INSERT ON invoice_history
FOR EACH ROW EXECUTE FUNCTION invoice_count_acknowledged()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER invoice_count_acknowledged ON invoice_history", "DROP FUNCTION invoice_count_acknowledged()",
    "DROP TRIGGER invoice_count_change ON invoice", "DROP FUNCTION invoice_count_change()",
]


def _sqlite_apply(row: str, sign: str) -> str:
    cents = f"{sign}CAST(ROUND({row}.total_incl_vat * 100) AS INTEGER)"
    statements = []
    for side in ("supplier", "recipient"):
        statements.append(f"INSERT OR IGNORE INTO invoice_count (structure, side, status, n, cents) "
                          f"VALUES ({row}.{side}, '{side}', {row}.status, 0, 0);")
        statements.append(f"UPDATE invoice_count SET n = n {sign} 1, cents = cents + ({cents}) "
                          f"WHERE structure = {row}.{side} AND side = '{side}' AND status = {row}.status;")
    return "\n  ".join(statements)


SQLITE = [
    f"CREATE TRIGGER invoice_count_insert AFTER INSERT ON invoice BEGIN\n  {_sqlite_apply('NEW', '+')}\nEND",
    f"CREATE TRIGGER invoice_count_delete AFTER DELETE ON invoice BEGIN\n  {_sqlite_apply('OLD', '-')}\nEND",
    f"CREATE TRIGGER invoice_count_update AFTER UPDATE OF status, supplier, recipient, total_incl_vat ON invoice BEGIN\n"
    f"  {_sqlite_apply('OLD', '-')}\n  {_sqlite_apply('NEW', '+')}\nEND",
    """CREATE TRIGGER invoice_count_acknowledged AFTER INSERT ON invoice_history
WHEN NEW.status = 'REJETEE' AND NEW.actor_kind = 'supplier' BEGIN
  INSERT OR IGNORE INTO invoice_count (structure, side, status, n, cents)
    SELECT supplier, 'supplier', 'REJETEE_ACK', 0, 0 FROM invoice WHERE id = NEW.invoice;
  UPDATE invoice_count SET n = n + 1, cents = cents + (SELECT CAST(ROUND(total_incl_vat * 100) AS INTEGER) FROM invoice WHERE id = NEW.invoice)
    WHERE side = 'supplier' AND status = 'REJETEE_ACK' AND structure = (SELECT supplier FROM invoice WHERE id = NEW.invoice);
END""",
]
SQLITE_DOWN = ["DROP TRIGGER invoice_count_acknowledged", "DROP TRIGGER invoice_count_update",
               "DROP TRIGGER invoice_count_delete", "DROP TRIGGER invoice_count_insert"]


def _backfill(cents: str) -> list[str]:
    return [
        f"INSERT INTO invoice_count (structure, side, status, n, cents) SELECT supplier, 'supplier', status, COUNT(*), "
        f"SUM({cents}) FROM invoice GROUP BY supplier, status",
        f"INSERT INTO invoice_count (structure, side, status, n, cents) SELECT recipient, 'recipient', status, COUNT(*), "
        f"SUM({cents}) FROM invoice GROUP BY recipient, status",
        f"INSERT INTO invoice_count (structure, side, status, n, cents) SELECT invoice.supplier, 'supplier', 'REJETEE_ACK', "
        f"COUNT(*), SUM({cents}) FROM invoice WHERE invoice.status = 'REJETEE' AND EXISTS (SELECT 1 FROM invoice_history h "
        f"WHERE h.invoice = invoice.id AND h.status = 'REJETEE' AND h.actor_kind = 'supplier') GROUP BY invoice.supplier",
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="invoices", description=DESCRIPTION)

    async def create():
        postgres = isinstance(engine(), PostgresEngine)
        await Table.raw(UNIQUE)
        for sql in POSTGRES if postgres else SQLITE:
            await Table.raw(sql)
        cents = "ROUND(total_incl_vat * 100)::bigint" if postgres else "CAST(ROUND(total_incl_vat * 100) AS INTEGER)"
        for sql in _backfill(cents):  # the invoices that exist already (triggers count the next ones)
            await Table.raw(sql)

    async def drop():
        postgres = isinstance(engine(), PostgresEngine)
        for sql in POSTGRES_DOWN if postgres else SQLITE_DOWN:
            await Table.raw(sql)
        await Table.raw("DROP INDEX invoice_count_key")
        await Table.raw("DELETE FROM invoice_count")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
