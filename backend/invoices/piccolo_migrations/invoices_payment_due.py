from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Date
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T22:13:48:581527"
VERSION = "1.38.0"
DESCRIPTION = "invoice.payment_due_by and paid_in_full_on: the payment deadline"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="invoices", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Invoice",
        tablename="invoice",
        column_name="paid_in_full_on",
        db_column_name="paid_in_full_on",
        column_class_name="Date",
        column_class=Date,
        params={
            "default": None,
            "null": True,
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

    manager.add_column(
        table_class_name="Invoice",
        tablename="invoice",
        column_name="payment_due_by",
        db_column_name="payment_due_by",
        column_class_name="Date",
        column_class=Date,
        params={
            "default": None,
            "null": True,
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
