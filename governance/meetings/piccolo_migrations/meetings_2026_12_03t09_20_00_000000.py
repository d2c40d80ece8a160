"""Meeting notices and the members' replies to them.

Written by hand. A nullable column on `meeting` (when the notice went out) and a table of
replies (one per member and meeting: the next migration's unique index).
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-03T09:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Meeting notices and members' replies (attending, remote, apologies)"


class User(Table, tablename="app_user", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False)


class Meeting(Table, tablename="meeting", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False)


def _params(**overrides: Any) -> dict[str, Any]:
    params = {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    return {**params, **overrides}


def _add(
    manager: MigrationManager, table: str, tablename: str, name: str, kind: type, **params: Any
) -> None:
    manager.add_column(
        table_class_name=table,
        tablename=tablename,
        column_name=name,
        db_column_name=name,
        column_class_name=kind.__name__,
        column_class=kind,
        params=_params(**params),
        schema=None,
    )


def _foreign_key(references: type[Table]) -> dict[str, Any]:
    return {
        "references": references,
        "on_delete": OnDelete.cascade,
        "on_update": OnUpdate.cascade,
        "target_column": None,
        "null": True,
    }


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="meetings", description=DESCRIPTION)
    _add(manager, "Meeting", "meeting", "notice_sent_at", Timestamptz, null=True, default=None)
    manager.add_table(class_name="MeetingReply", tablename="meeting_reply", schema=None, columns=None)
    _add(manager, "MeetingReply", "meeting_reply", "id", Serial, primary_key=True)
    _add(
        manager, "MeetingReply", "meeting_reply", "meeting", ForeignKey, index=True,
        **_foreign_key(Meeting),
    )
    _add(manager, "MeetingReply", "meeting_reply", "user", ForeignKey, **_foreign_key(User))
    _add(manager, "MeetingReply", "meeting_reply", "mode", Varchar, length=20, default="")
    _add(manager, "MeetingReply", "meeting_reply", "replied_at", Timestamptz)
    return manager
