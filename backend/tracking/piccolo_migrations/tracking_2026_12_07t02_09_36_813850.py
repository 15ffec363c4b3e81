from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T02:09:36:813850"
VERSION = "1.38.0"
DESCRIPTION = "event audience: the people an event is for"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="tracking", description=DESCRIPTION
    )

    manager.add_table(
        class_name="EventAudience",
        tablename="event_audience",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="EventAudience",
        tablename="event_audience",
        column_name="event",
        db_column_name="event",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
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

    manager.add_column(
        table_class_name="EventAudience",
        tablename="event_audience",
        column_name="person",
        db_column_name="person",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
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
