"""Indexes for the directory search (backend/directory/search.py), one set per engine.

Both index `' ' || search_key`: with the leading space, " sai" is "a word starting with sai",
so one trigram index answers word-start and anywhere-in-a-word searches.

SQLite: a contentless FTS5 `trigram` table (the text is not stored twice), kept in sync by
triggers whoever writes the structure table, filled from the existing rows. PostgreSQL: the
pg_trgm extension with a GIN index on the same expression for LIKE '% word%' and
LIKE '%word%', and a byte-order ("C") B-tree for name-prefix ranges whatever the database
collation.
pg_trgm ships with PostgreSQL (contrib) and is a trusted extension since PostgreSQL 13:
the database owner may create it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-11-24T06:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search indexes: FTS5 trigram (SQLite), pg_trgm GIN (PostgreSQL)"

SQLITE_FORWARDS = (
    "CREATE VIRTUAL TABLE structure_fts USING fts5(search_key, content='', tokenize='trigram')",
    "CREATE TRIGGER structure_fts_insert AFTER INSERT ON structure BEGIN "
    "INSERT INTO structure_fts(rowid, search_key) VALUES (new.id, ' ' || new.search_key); END",
    "CREATE TRIGGER structure_fts_delete AFTER DELETE ON structure BEGIN "
    "INSERT INTO structure_fts(structure_fts, rowid, search_key) VALUES ('delete', old.id, ' ' || old.search_key); END",
    "CREATE TRIGGER structure_fts_update AFTER UPDATE OF id, search_key ON structure "
    "WHEN old.id IS NOT new.id OR old.search_key IS NOT new.search_key BEGIN "
    "INSERT INTO structure_fts(structure_fts, rowid, search_key) VALUES ('delete', old.id, ' ' || old.search_key); "
    "INSERT INTO structure_fts(rowid, search_key) VALUES (new.id, ' ' || new.search_key); END",
    "INSERT INTO structure_fts(rowid, search_key) SELECT id, ' ' || search_key FROM structure",
)
SQLITE_BACKWARDS = (
    "DROP TRIGGER IF EXISTS structure_fts_update",
    "DROP TRIGGER IF EXISTS structure_fts_delete",
    "DROP TRIGGER IF EXISTS structure_fts_insert",
    "DROP TABLE IF EXISTS structure_fts",
)
POSTGRES_FORWARDS = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX structure_search_key_trgm ON structure USING gin ((' ' || search_key) gin_trgm_ops)",
    'CREATE INDEX structure_search_key_bytes ON structure (search_key COLLATE "C")',
)
POSTGRES_BACKWARDS = (
    "DROP INDEX IF EXISTS structure_search_key_bytes",
    "DROP INDEX IF EXISTS structure_search_key_trgm",
)


def _statements(postgres: tuple[str, ...], sqlite: tuple[str, ...]):
    async def run():
        statements = postgres if isinstance(engine_finder(), PostgresEngine) else sqlite
        for sql in statements:
            await Table.raw(sql)

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="directory", description=DESCRIPTION)
    manager.add_raw(_statements(POSTGRES_FORWARDS, SQLITE_FORWARDS))
    manager.add_raw_backwards(_statements(POSTGRES_BACKWARDS, SQLITE_BACKWARDS))
    return manager
