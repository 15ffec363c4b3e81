"""Database engine and transactions, the same code for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from backend.settings import Settings


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


async def start_pool() -> None:
    eng = engine()
    if isinstance(eng, PostgresEngine):
        await eng.start_connection_pool(min_size=1, max_size=10)


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
