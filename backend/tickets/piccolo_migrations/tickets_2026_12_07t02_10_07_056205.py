from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T02:10:07:056205"
VERSION = "1.38.0"
DESCRIPTION = "ticket_entry.transferred_from"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="tickets", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="TicketEntry",
        tablename="ticket_entry",
        column_name="transferred_from",
        db_column_name="transferred_from",
        column_class_name="Integer",
        column_class=Integer,
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
