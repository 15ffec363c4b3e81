from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T21:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "idempotency records are leased (owner, lease_until) and name what they committed (effect_kind, effect_id)"


def _params(default, null: bool, **extra) -> dict:
    return {
        "default": default, "null": null, "primary_key": False, "unique": False, "index": False,
        "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False, **extra,
    }


COLUMNS = [
    ("owner", Varchar, _params("", False, length=16)),
    ("lease_until", Timestamptz, _params(None, True)),
    ("effect_kind", Varchar, _params(None, True, length=20)),
    ("effect_id", BigInt, _params(None, True)),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="api", description=DESCRIPTION)
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="IdempotencyRecord", tablename="idempotency_record", column_name=name, db_column_name=name,
            column_class_name=column_class.__name__, column_class=column_class, params=params, schema=None,
        )
    return manager
