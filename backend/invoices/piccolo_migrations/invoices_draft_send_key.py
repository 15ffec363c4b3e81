from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T22:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "invoice_draft.send_key: the device's key of the send a draft was made for"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="invoices", description=DESCRIPTION)
    manager.add_column(
        table_class_name="InvoiceDraft", tablename="invoice_draft", column_name="send_key", db_column_name="send_key",
        column_class_name="Varchar", column_class=Varchar,
        params={"length": 64, "default": None, "null": True, "primary_key": False, "unique": False, "index": True,
                "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False},
        schema=None,
    )
    return manager
