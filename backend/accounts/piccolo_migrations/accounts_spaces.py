"""Spaces and rights per space: the structure's active spaces, a member's rights per space, the
principal gestionnaire, and members' requests for rights (backend/accounts/spaces.py)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import Boolean, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-07T05:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "spaces and rights per space"


class Structure(Table, tablename="structure", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False, index_method=IndexMethod.btree,
                choices=None, db_column_name="id", secret=False)


class Membership(Table, tablename="membership", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False, index_method=IndexMethod.btree,
                choices=None, db_column_name="id", secret=False)


def _params(**extra):
    return {"null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree,
            "choices": None, "db_column_name": None, "secret": False, **extra}


def _fk(references, **extra):
    return _params(references=references, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None,
                   **{"null": True, **extra})


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    manager.add_column(table_class_name="Membership", tablename="membership", column_name="space_rights",
                       db_column_name="space_rights", column_class_name="Varchar", column_class=Varchar,
                       params=_params(length=255, default=None, null=True), schema=None)
    manager.add_column(table_class_name="Membership", tablename="membership", column_name="is_principal",
                       db_column_name="is_principal", column_class_name="Boolean", column_class=Boolean,
                       params=_params(default=False), schema=None)

    manager.add_table(class_name="StructureSpaces", tablename="structure_spaces", schema=None, columns=None)
    manager.add_column(table_class_name="StructureSpaces", tablename="structure_spaces", column_name="structure",
                       db_column_name="structure", column_class_name="ForeignKey", column_class=ForeignKey,
                       params=_fk(Structure, unique=True, index=True), schema=None)
    manager.add_column(table_class_name="StructureSpaces", tablename="structure_spaces", column_name="spaces",
                       db_column_name="spaces", column_class_name="Varchar", column_class=Varchar,
                       params=_params(length=255, default=""), schema=None)
    manager.add_column(table_class_name="StructureSpaces", tablename="structure_spaces", column_name="updated_at",
                       db_column_name="updated_at", column_class_name="Timestamptz", column_class=Timestamptz,
                       params=_params(default=TimestamptzNow()), schema=None)

    manager.add_table(class_name="SpaceRequest", tablename="space_request", schema=None, columns=None)
    manager.add_column(table_class_name="SpaceRequest", tablename="space_request", column_name="membership",
                       db_column_name="membership", column_class_name="ForeignKey", column_class=ForeignKey,
                       params=_fk(Membership, index=True), schema=None)
    manager.add_column(table_class_name="SpaceRequest", tablename="space_request", column_name="space",
                       db_column_name="space", column_class_name="Varchar", column_class=Varchar,
                       params=_params(length=32, default=""), schema=None)
    manager.add_column(table_class_name="SpaceRequest", tablename="space_request", column_name="level",
                       db_column_name="level", column_class_name="Varchar", column_class=Varchar,
                       params=_params(length=16, default=""), schema=None)
    manager.add_column(table_class_name="SpaceRequest", tablename="space_request", column_name="status",
                       db_column_name="status", column_class_name="Varchar", column_class=Varchar,
                       params=_params(length=16, default="pending", index=True), schema=None)
    manager.add_column(table_class_name="SpaceRequest", tablename="space_request", column_name="created_at",
                       db_column_name="created_at", column_class_name="Timestamptz", column_class=Timestamptz,
                       params=_params(default=TimestamptzNow()), schema=None)
    manager.add_column(table_class_name="SpaceRequest", tablename="space_request", column_name="decided_at",
                       db_column_name="decided_at", column_class_name="Timestamptz", column_class=Timestamptz,
                       params=_params(default=None, null=True), schema=None)
    manager.add_column(table_class_name="SpaceRequest", tablename="space_request", column_name="decided_by",
                       db_column_name="decided_by", column_class_name="Integer", column_class=Integer,
                       params=_params(default=None, null=True), schema=None)
    return manager
