from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    BigInt,
    Bytea,
    ForeignKey,
    Integer,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-03T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Documents (papers and annexes) and their contents, stored by SHA-256 in chunks"


class User(Table, tablename="app_user", schema=None):
    id = Serial(primary_key=True)


class WorkingGroup(Table, tablename="working_group", schema=None):
    id = Serial(primary_key=True)


class Meeting(Table, tablename="meeting", schema=None):
    id = Serial(primary_key=True)


class AgendaItem(Table, tablename="agenda_item", schema=None):
    id = Serial(primary_key=True)


class Minutes(Table, tablename="minutes", schema=None):
    id = Serial(primary_key=True)


class Report(Table, tablename="report", schema=None):
    id = Serial(primary_key=True)


def _params(**extra):
    return {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **extra,
    }


def _reference(table, on_delete, **extra):
    return {
        "references": table,
        "on_delete": on_delete,
        "on_update": OnUpdate.cascade,
        "target_column": None,
        "null": True,
        **extra,
    }


TABLES = {
    ("DocumentContent", "document_content"): (
        ("id", Serial, {"primary_key": True}),
        ("sha256", Varchar, {"length": 64, "default": "", "unique": True, "index": True}),
        ("size", BigInt, {"default": 0}),
        ("chunk_count", Integer, {"default": 0}),
        ("created_at", Timestamptz, {"default": TimestamptzNow()}),
    ),
    ("DocumentBlob", "document_blob"): (
        ("id", Serial, {"primary_key": True}),
        ("sha256", Varchar, {"length": 64, "default": "", "index": True}),
        ("chunk_index", Integer, {"default": 0}),
        ("data", Bytea, {"default": b""}),
    ),
    ("Document", "document"): (
        ("id", Serial, {"primary_key": True}),
        ("group", ForeignKey, _reference(WorkingGroup, OnDelete.cascade, index=True)),
        ("holder_kind", Varchar, {"length": 20, "default": ""}),
        ("holder_id", Integer, {"default": 0, "index": True}),
        ("meeting", ForeignKey, _reference(Meeting, OnDelete.cascade, default=None, index=True)),
        ("agenda_item", ForeignKey, _reference(AgendaItem, OnDelete.cascade, default=None)),
        ("minutes", ForeignKey, _reference(Minutes, OnDelete.cascade, default=None)),
        ("report", ForeignKey, _reference(Report, OnDelete.cascade, default=None, index=True)),
        ("series", Integer, {"default": 0, "index": True}),
        ("version", Integer, {"default": 1}),
        ("title", Varchar, {"length": 300, "default": ""}),
        ("file_name", Varchar, {"length": 255, "default": ""}),
        ("media_type", Varchar, {"length": 120, "default": ""}),
        ("size", BigInt, {"default": 0}),
        ("sha256", Varchar, {"length": 64, "default": "", "index": True}),
        ("visibility", Varchar, {"length": 20, "default": "internal"}),
        ("added_by", ForeignKey, _reference(User, OnDelete.restrict)),
        ("added_at", Timestamptz, {"default": TimestamptzNow()}),
        ("withdrawn_at", Timestamptz, {"default": None, "null": True}),
        ("withdrawn_by", ForeignKey, _reference(User, OnDelete.restrict, default=None)),
    ),
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)
    for (class_name, tablename), columns in TABLES.items():
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, extra in columns:
            params = _params(**extra) if column_class is not ForeignKey else {**_params(), **extra}
            manager.add_column(
                table_class_name=class_name,
                tablename=tablename,
                column_name=name,
                db_column_name=name,
                column_class_name=column_class.__name__,
                column_class=column_class,
                params=params,
                schema=None,
            )
    return manager
