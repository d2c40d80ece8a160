from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T06:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Audit events and outbox rows record the group and visibility of their subject"


def _params(**extra):
    return {
        "null": True,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        "default": None,
        **extra,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    for class_name, tablename in (
        ("AuditEvent", "audit_event"),
        ("OutboundEmail", "outbound_email"),
    ):
        manager.add_column(
            table_class_name=class_name,
            tablename=tablename,
            column_name="group_id",
            db_column_name="group_id",
            column_class_name="Integer",
            column_class=Integer,
            params=_params(),
            schema=None,
        )
        manager.add_column(
            table_class_name=class_name,
            tablename=tablename,
            column_name="visibility",
            db_column_name="visibility",
            column_class_name="Varchar",
            column_class=Varchar,
            params=_params(length=20),
            schema=None,
        )
    return manager
