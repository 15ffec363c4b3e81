"""Emptying the application's tables between tests, on SQLite and PostgreSQL."""

from __future__ import annotations

from piccolo.engine.postgres import PostgresEngine

from backend.lib.db import engine


def _tables():
    from piccolo.conf.apps import Finder

    return Finder().get_table_classes()


async def truncate_all() -> None:
    names = [t._meta.tablename for t in _tables()]
    eng = engine()
    if isinstance(eng, PostgresEngine):
        await eng.run_ddl(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
        return
    await eng.run_ddl("PRAGMA foreign_keys = OFF")
    for name in names:
        await eng.run_ddl(f"DELETE FROM {name}")
