"""Emptying the application's tables between tests, and putting a snapshot of their rows back, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from backend.lib.db import engine


def _tables():
    from piccolo.conf.apps import Finder

    return Finder().get_table_classes()


def table_names() -> list[str]:
    return [t._meta.tablename for t in _tables()]


async def truncate_all() -> None:
    """Every table emptied and, on PostgreSQL, their id sequences restarted, as
    `TRUNCATE … RESTART IDENTITY CASCADE` would do — but one statement that deletes the few
    rows a test leaves takes 0.04 s where TRUNCATE of every table took about a second (it
    swaps the files of every table and index)."""
    names = table_names()
    eng = engine()
    if isinstance(eng, PostgresEngine):
        try:
            await eng.run_ddl(_postgres_emptying(names))
        except asyncpg.InsufficientPrivilegeError:  # the replica role needs a superuser (the suite's `postgres`)
            await eng.run_ddl(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
        return
    async with eng.transaction():  # one connection and one commit for every table
        for name in names:
            await eng.run_ddl(f"DELETE FROM {name}")


def _postgres_emptying(names: list[str]) -> str:
    """One DO block. The replica role fires no trigger, foreign-key checks and counters
    included (TRUNCATE fires none either); the sequences restarted are those the tables' own
    columns own (what RESTART IDENTITY restarts), and only when used since their last restart."""
    deletes = " ".join(f"DELETE FROM {name};" for name in names)
    tables = ", ".join(f"'{name}'" for name in names)
    return f"""DO $$
DECLARE seq regclass;
BEGIN
  SET LOCAL session_replication_role = replica;
  {deletes}
  FOR seq IN
    SELECT s.oid FROM pg_class s
      JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.deptype IN ('a', 'i')
      JOIN pg_class t ON t.oid = d.refobjid
     WHERE s.relkind = 'S' AND t.relnamespace = current_schema()::regnamespace
       AND t.relname = ANY (ARRAY[{tables}]) AND pg_sequence_last_value(CASE WHEN s.relkind = 'S' THEN s.oid END) IS NOT NULL
  LOOP
    EXECUTE format('ALTER SEQUENCE %s RESTART', seq);
  END LOOP;
END $$"""


# A snapshot of every table's rows: a world that took seconds to build through the forms
# (sign-ups, confirmations, logins) is built once per module and put back for each test.
Snapshot = dict[str, list[dict]]


async def snapshot_rows() -> Snapshot:
    """Every row of every table, as the database driver reads them (nothing converted)."""
    from piccolo.table import sort_table_classes

    rows = {}
    for table in sort_table_classes(_tables()):  # parents before children, for restore_rows
        name = table._meta.tablename
        rows[name] = await table.raw(f"SELECT * FROM {name} ORDER BY 1")
    return rows


async def restore_rows(snapshot: Snapshot) -> None:
    """Empty every table, then put the snapshot's rows back, ids included; on PostgreSQL the
    id sequences then continue after the restored rows, as they did after the original inserts."""
    from piccolo.table import sort_table_classes

    await truncate_all()
    tables = {t._meta.tablename: t for t in sort_table_classes(_tables())}
    eng = engine()
    postgres = isinstance(eng, PostgresEngine)
    async with eng.transaction():
        # The rows go back as they were: no trigger may add to them (the invoice counters,
        # the search references) nor any foreign key check refuse their order.
        if postgres:
            await eng.run_ddl("SET LOCAL session_replication_role = replica")
        else:
            await eng.run_ddl("PRAGMA defer_foreign_keys = ON")  # checked at commit
            # SQLite cannot switch triggers off: they are dropped and created again, in the
            # transaction. Those that keep a table outside the snapshot (the directory's
            # full-text index) stay: the restored rows must reach it as the first ones did.
            others = [r["name"] for r in await eng.run_ddl("SELECT name FROM sqlite_master WHERE type = 'table'")
                      if r["name"] not in tables]
            triggers = [t for t in await eng.run_ddl("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                        if not any(re.search(rf"\b{re.escape(other)}\b", t["sql"]) for other in others)]
            for trigger in triggers:
                await eng.run_ddl(f'DROP TRIGGER "{trigger["name"]}"')
        for name, rows in snapshot.items():
            for row in rows:
                columns = ", ".join(f'"{c}"' for c in row)
                marks = ", ".join("{}" for _ in row)
                await tables[name].raw(f"INSERT INTO {name} ({columns}) VALUES ({marks})", *row.values())
        if not postgres:
            for trigger in triggers:
                await eng.run_ddl(trigger["sql"])
        if postgres:
            for name, column in await _serial_columns():
                if snapshot.get(name):
                    await eng.run_ddl(
                        f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), (SELECT max(\"{column}\") FROM {name}))")


_serials: list[tuple[str, str]] | None = None


async def _serial_columns() -> list[tuple[str, str]]:
    global _serials
    if _serials is None:
        rows = await engine().run_ddl(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'")
        _serials = [(r["table_name"], r["column_name"]) for r in rows]
    return _serials
