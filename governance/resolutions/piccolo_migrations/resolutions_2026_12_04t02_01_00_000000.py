from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class User(Table, tablename="app_user", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False)


class WorkingGroup(Table, tablename="working_group", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False)


class WrittenResolution(Table, tablename="written_resolution", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False)


ID = "2026-12-04T02:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Written resolutions decided between meetings, and their members' votes"

COMMON = {
    "primary_key": False,
    "unique": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


def _column(manager, table, tablename, name, column_class, index=False, **params):
    manager.add_column(
        table_class_name=table,
        tablename=tablename,
        column_name=name,
        db_column_name=name,
        column_class_name=column_class.__name__,
        column_class=column_class,
        params={"null": False, **COMMON, "index": index, **params},
        schema=None,
    )


def _foreign_key(manager, table, tablename, name, references, on_delete, index=True):
    params = {
        "references": references,
        "on_delete": on_delete,
        "on_update": OnUpdate.cascade,
        "target_column": None,
        "null": True,
    }
    _column(manager, table, tablename, name, ForeignKey, index=index, **params)


def _resolution_columns(manager):
    table, tablename = "WrittenResolution", "written_resolution"
    _column(manager, table, tablename, "id", Serial, primary_key=True)
    _foreign_key(manager, table, tablename, "group", WorkingGroup, OnDelete.cascade)
    _column(manager, table, tablename, "title", Varchar, length=300, default="")
    _column(manager, table, tablename, "text", Text, default="")
    _column(manager, table, tablename, "visibility", Varchar, length=20, default="internal")
    _column(manager, table, tablename, "closes_at", Timestamptz, True, default=TimestamptzNow())
    _column(manager, table, tablename, "status", Varchar, True, length=20, default="open")
    _foreign_key(manager, table, tablename, "proposed_by", User, OnDelete.restrict, index=False)
    _column(manager, table, tablename, "proposed_at", Timestamptz, default=TimestamptzNow())
    _column(manager, table, tablename, "closed_at", Timestamptz, True, default=None, null=True)
    _column(manager, table, tablename, "rule", Varchar, length=20, default="")
    for name in ("members_counted", "votes_for", "votes_against", "votes_abstain"):
        _column(manager, table, tablename, name, Integer, default=0)
    _column(manager, table, tablename, "quorum_met", Boolean, default=False)


def _vote_columns(manager):
    table, tablename = "ResolutionVote", "resolution_vote"
    _column(manager, table, tablename, "id", Serial, primary_key=True)
    _foreign_key(
        manager, table, tablename, "resolution", WrittenResolution, OnDelete.cascade
    )
    _foreign_key(manager, table, tablename, "user", User, OnDelete.restrict)
    _column(manager, table, tablename, "choice", Varchar, length=20, default="")
    _column(manager, table, tablename, "comment", Text, default="")
    _column(manager, table, tablename, "cast_at", Timestamptz, default=TimestamptzNow())
    _column(manager, table, tablename, "counted", Boolean, default=True)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="resolutions", description=DESCRIPTION)
    manager.add_table(
        class_name="WrittenResolution", tablename="written_resolution", schema=None, columns=None
    )
    manager.add_table(
        class_name="ResolutionVote", tablename="resolution_vote", schema=None, columns=None
    )
    _resolution_columns(manager)
    _vote_columns(manager)
    return manager
