"""Indexes of the works tables; raw SQL, the same on SQLite and PostgreSQL."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T01:26:56:658186"  # right after the tables
VERSION = "1.38.0"
DESCRIPTION = "one market number per MOA, one role per structure and market, markets per structure, dossier numbers"

INDEXES = {
    # One market number per MOA: a second declaration of the same market is refused.
    "market_moa_number": "CREATE UNIQUE INDEX market_moa_number ON market (moa, number)",
    # One row per (market, structure, role); a structure may hold two roles (MOA and payer).
    "market_actor_unique": "CREATE UNIQUE INDEX market_actor_unique ON market_actor (market, structure, role)",
    # "Mes marchés" and every visibility check: the markets where a structure acts.
    "market_actor_structure_market": "CREATE INDEX market_actor_structure_market ON market_actor (structure, market)",
    "billing_file_market_number": "CREATE UNIQUE INDEX billing_file_market_number ON billing_file (market, number)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="works", description=DESCRIPTION)

    async def create_indexes():
        for sql in INDEXES.values():
            await Table.raw(sql)

    async def drop_indexes():
        for name in INDEXES:
            await Table.raw(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
