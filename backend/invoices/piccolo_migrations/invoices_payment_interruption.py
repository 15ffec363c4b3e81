"""invoice.payment_clock_stopped: the one interruption of the payment delay (R.2192-27 CCP).
The invoices suspended when it runs are marked by the next migration (Piccolo runs raw SQL
before a migration's columns).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T01:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "invoice.payment_clock_stopped: the payment delay's one interruption"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="invoices", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Invoice",
        tablename="invoice",
        column_name="payment_clock_stopped",
        db_column_name="payment_clock_stopped",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
