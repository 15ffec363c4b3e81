"""Database engine and transactions, the same code for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.columns.defaults.base import Default
from piccolo.querystring import QueryString
from piccolo.table import Table
from piccolo.utils.sql_values import convert_to_sql_value

from backend.settings import Settings

T = TypeVar("T")


def make_engine(settings: Settings) -> Engine:
    if settings.is_postgres:
        return PostgresEngine(config={"dsn": settings.database_url})
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers go on while one writer commits; it is a property of the file,
    # set once here before any connection of Piccolo's is opened.
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    # timeout: a writer waits for the lock instead of failing at once under load.
    return SQLiteEngine(path=str(path), timeout=30)


def engine() -> Engine:
    found = engine_finder()
    assert found is not None, "piccolo_conf.py defines DB"
    return found


def transaction():
    """A write transaction: IMMEDIATE on SQLite so two writers never deadlock on upgrade."""
    eng = engine()
    if isinstance(eng, SQLiteEngine):
        return eng.transaction(transaction_type=TransactionType.immediate)
    return eng.transaction()


# The INSERT text of each (table, row count), written once per process. Piccolo's insert builds
# a tree of query strings for every value of every row, on every call (about 1 ms of CPU for
# an invoice's 40 columns, 0.3 ms for a small row): the deposit writes six rows at each deposit.
_INSERT_SQL: dict[tuple[type[Table], int], str] = {}


def _insert_sql(table: type[Table], row_count: int) -> str:
    key = (table, row_count)
    if key not in _INSERT_SQL:
        columns = [c for c in table._meta.columns if not c._meta.primary_key]
        names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
        row = "(" + ", ".join("{}" for _ in columns) + ")"
        pk = table._meta.primary_key._meta.db_column_name
        _INSERT_SQL[key] = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES {", ".join([row] * row_count)} RETURNING "{pk}"'
    return _INSERT_SQL[key]


def _default(column) -> Any:
    """A column's default as Table.__init__ computes it (TimestamptzNow() and the like give their value)."""
    value = column.get_default_value()
    value = value.python() if isinstance(value, Default) else value
    if value is None and not column._meta.null:
        raise ValueError(f"{column._meta.name} wasn't provided")
    return convert_to_sql_value(value, column)


async def insert_rows(table: type[Table], *rows: dict) -> list[int]:
    """Insert rows given as {column name: value} and return their ids, in order: the same
    rows as `table.insert(table(**row), …)` (each missing column takes its Piccolo default,
    values are converted as Piccolo converts them), without Piccolo building the statement
    anew. Runs in the caller's transaction, like any Piccolo query. Unknown names are an error."""
    columns = [c for c in table._meta.columns if not c._meta.primary_key]
    unknown = set().union(*rows) - {c._meta.name for c in columns}
    if unknown:
        raise ValueError(f"{table.__name__} has no column {sorted(unknown)}")
    args = [convert_to_sql_value(row[c._meta.name], c) if c._meta.name in row else _default(c)
            for row in rows for c in columns]
    querystring = QueryString(_insert_sql(table, len(rows)), *args)
    response = await engine().run_querystring(querystring, in_pool=True)
    pk = table._meta.primary_key._meta.db_column_name
    return [r[pk] for r in response]


# The SELECT text of each (table, condition), written once per process: Piccolo's objects()
# builds a query string for every column and every term on every call (0.5 to 1 ms of CPU).
_SELECT_SQL: dict[tuple[type[Table], str], str] = {}


def _select_sql(table: type[Table], rest: str) -> str:
    key = (table, rest)
    if key not in _SELECT_SQL:
        names = ", ".join(f'"{c._meta.db_column_name}" AS "{c._meta.name}"' for c in table._meta.columns)
        _SELECT_SQL[key] = f'SELECT {names} FROM "{table._meta.tablename}" WHERE {rest}'
    return _SELECT_SQL[key]


async def select_rows(table: type[Table], rest: str, *args: Any) -> list[dict[str, Any]]:
    """`table.select().where(...)…` for what follows WHERE written in SQL with {} placeholders
    (condition, ORDER BY, LIMIT): every column as a dict, JSON left as text, like select()."""
    return await table.raw(_select_sql(table, rest), *args)


async def get_object(table: type[T], where: str, *args: Any) -> T | None:
    """`table.objects().get(...)` for a condition written in SQL with {} placeholders (column
    names as in the database, values as arguments, never pasted in): the first matching row
    as a Table instance, every column, or None. Same row, same Python values, on both engines."""
    rows = await table.raw(_select_sql(table, f"{where} LIMIT 1"), *args)
    return table(**rows[0], _exists_in_db=True) if rows else None


# PostgreSQL aborts one of two transactions that wait on each other (deadlock detected)
# or that a serializable isolation cannot order (serialization failure). Nothing of the
# aborted one remains: running it again is the remedy the documentation gives.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def is_unique_violation(exc: BaseException) -> bool:
    """A unique constraint refused the row, on SQLite ("UNIQUE constraint failed") or
    PostgreSQL ("duplicate key value violates unique constraint")."""
    text = f"{type(exc).__name__} {exc}".lower()
    return "unique" in text or "duplicate key" in text


def is_retryable_conflict(exc: BaseException) -> bool:
    return getattr(exc, "sqlstate", None) in RETRYABLE_SQLSTATES


async def retrying(unit: Callable[[], Awaitable[T]], *, attempts: int = 4) -> T:
    """Run `unit` (which opens its own transaction) again when PostgreSQL aborted it to
    break a deadlock, after a short random pause so that the two do not meet again.

    Two transactions lock counter rows (invoice_count) in an order that depends on their
    invoices: a multi-invoice deposit and a status change can each hold what the other
    needs. Every `unit` here is safe to run twice: all its writes are in the aborted
    transaction, and the files it stores are content-addressed."""
    for attempt in range(1, attempts + 1):
        try:
            return await unit()
        except Exception as exc:
            if attempt == attempts or not is_retryable_conflict(exc):
                raise
            await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)
    raise AssertionError("unreachable")


# What says "the database cannot be reached right now" rather than "this request is wrong":
# connection failures (SQLSTATE class 08), a server shutting down or starting (57P0x), no
# free connection slot (53300), a socket refused or timed out, a SQLite file still locked
# after the busy timeout. Pages and the API answer these with 503 and Retry-After.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_UNAVAILABLE_SQLITE = ("database is locked", "unable to open database", "disk i/o error")


def _causes(exc: BaseException):
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_unavailable(exc: BaseException) -> bool:
    for cause in _causes(exc):
        if isinstance(cause, (ConnectionError, TimeoutError, socket.gaierror)):
            return True
        sqlstate = getattr(cause, "sqlstate", None) or ""
        if sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES:
            return True
        if type(cause).__name__ == "InterfaceError" and "closed" in str(cause):  # asyncpg: pool or connection closed under us
            return True
        if type(cause).__name__ == "InternalClientError" and "another operation" in str(cause):
            # asyncpg: a pooled connection whose server died in the middle of an exchange is
            # left mid-protocol; the pool replaces it when it is given back.
            return True
        if isinstance(cause, sqlite3.OperationalError) and str(cause).lower().startswith(_UNAVAILABLE_SQLITE):
            return True
    return False


async def start_pool() -> None:
    eng = engine()
    if isinstance(eng, PostgresEngine):
        await eng.start_connection_pool(min_size=1, max_size=10, reset=keep_session_state)


async def keep_session_state(connection) -> None:
    """What a pooled connection needs when it is given back, beyond what asyncpg always does
    (roll back an open transaction, drop listener callbacks): nothing.

    asyncpg's default sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL` on every release, a second round trip for each query run outside a
    transaction (half the statements of a deposit). This application leaves no session
    state to undo: its settings are SET LOCAL, its advisory locks pg_advisory_xact_lock,
    both ended by the commit or the rollback; it declares no cursor outside a transaction
    and LISTENs on no pooled connection. Code that needs session state must not take it
    from the pool."""


async def close_pool(timeout: float = 10.0) -> None:
    """Close the pool; a connection a cancelled task never gave back must not hang shutdown."""
    eng = engine()
    if not isinstance(eng, PostgresEngine) or eng.pool is None:
        return
    try:
        await asyncio.wait_for(eng.close_connection_pool(), timeout)
    except asyncio.TimeoutError:
        eng.pool.terminate()
        eng.pool = None


async def ping(timeout: float = 2.0) -> bool:
    """True when the database answers a trivial query within the timeout."""
    try:
        await asyncio.wait_for(engine().run_ddl("SELECT 1"), timeout)
        return True
    except Exception:  # any failure means "unreachable" for the health check
        return False


async def run_migrations() -> None:
    """Apply pending Piccolo migrations of every app (what `facteur serve` does first)."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    # Piccolo prints its progress; keep stdout clean for `facteur demo --json`.
    with contextlib.redirect_stdout(sys.stderr):
        response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"Échec des migrations : {response.message}")
