from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    JSON,
    UUID,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-04T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Pulses: the staff roster, pulses, questions, runs, invitations, anonymous responses"


class User(Table, tablename="app_user", schema=None):
    id = Serial(primary_key=True)


class WorkingGroup(Table, tablename="working_group", schema=None):
    id = Serial(primary_key=True)


class StaffMember(Table, tablename="staff_roster", schema=None):
    id = Serial(primary_key=True)


class Pulse(Table, tablename="pulse", schema=None):
    id = Serial(primary_key=True)


class PulseRun(Table, tablename="pulse_run", schema=None):
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
    ("StaffMember", "staff_roster"): (
        ("id", Serial, {"primary_key": True}),
        ("email", Varchar, {"length": 320, "default": "", "unique": True, "index": True}),
        ("name", Varchar, {"length": 200, "default": ""}),
        ("active", Boolean, {"default": True}),
        ("added_at", Timestamptz, {"default": TimestamptzNow()}),
    ),
    ("Pulse", "pulse"): (
        ("id", Serial, {"primary_key": True}),
        ("group", ForeignKey, _reference(WorkingGroup, OnDelete.cascade, index=True)),
        ("title", Varchar, {"length": 200, "default": ""}),
        ("theme", Varchar, {"length": 20, "default": "wellbeing"}),
        ("cadence", Varchar, {"length": 20, "default": "quarterly"}),
        ("visibility", Varchar, {"length": 20, "default": "internal"}),
        ("created_by", ForeignKey, _reference(User, OnDelete.restrict)),
        ("created_at", Timestamptz, {"default": TimestamptzNow()}),
    ),
    ("PulseQuestion", "pulse_question"): (
        ("id", Serial, {"primary_key": True}),
        ("pulse", ForeignKey, _reference(Pulse, OnDelete.cascade, index=True)),
        ("position", Integer, {"default": 1}),
        ("kind", Varchar, {"length": 20, "default": ""}),
        ("prompt", Varchar, {"length": 300, "default": ""}),
        ("options", JSON, {"default": "[]"}),
    ),
    ("PulseRun", "pulse_run"): (
        ("id", Serial, {"primary_key": True}),
        ("pulse", ForeignKey, _reference(Pulse, OnDelete.cascade, index=True)),
        ("number", Integer, {"default": 1}),
        ("opens_on", Date, {"default": DateNow()}),
        ("closes_on", Date, {"default": DateNow(), "index": True}),
        ("status", Varchar, {"length": 20, "default": "open", "index": True}),
        ("visibility", Varchar, {"length": 20, "default": "internal"}),
        ("invited", Integer, {"default": 0}),
        ("launched_by", ForeignKey, _reference(User, OnDelete.restrict)),
        ("launched_at", Timestamptz, {"default": TimestamptzNow()}),
    ),
    ("PulseInvitation", "pulse_invitation"): (
        ("id", Serial, {"primary_key": True}),
        ("run", ForeignKey, _reference(PulseRun, OnDelete.cascade, index=True)),
        ("staff", ForeignKey, _reference(StaffMember, OnDelete.set_null)),
        ("token_hash", Varchar, {"length": 64, "default": "", "unique": True, "index": True}),
        ("used", Boolean, {"default": False}),
        ("reminded", Boolean, {"default": False}),
    ),
    # No time, no token, no invitation, no person: see governance/pulses/tables.py.
    ("PulseResponse", "pulse_response"): (
        ("id", UUID, {"primary_key": True, "default": UUID4()}),
        ("run", ForeignKey, _reference(PulseRun, OnDelete.cascade, index=True)),
        ("answers", JSON, {"default": "{}"}),
    ),
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pulses", description=DESCRIPTION)
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
