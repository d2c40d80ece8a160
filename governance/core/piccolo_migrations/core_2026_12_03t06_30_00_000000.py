from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T06:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The last run of each scheduled job; how audit events naming an erased person are shown"


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


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_table(class_name="JobRun", tablename="job_run", schema=None, columns=None)
    for name, column_class, extra in (
        ("id", Serial, {"primary_key": True}),
        ("name", Varchar, {"length": 50, "default": "", "unique": True}),
        ("holder", Varchar, {"length": 200, "default": ""}),
        ("started_at", Timestamptz, {"default": TimestamptzNow()}),
        ("finished_at", Timestamptz, {"default": TimestamptzNow()}),
        ("succeeded", Boolean, {"default": True}),
        ("outcome", Varchar, {"length": 500, "default": ""}),
    ):
        manager.add_column(
            table_class_name="JobRun",
            tablename="job_run",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=_params(**extra),
            schema=None,
        )
    manager.add_table(
        class_name="AuditRedaction", tablename="audit_redaction", schema=None, columns=None
    )
    for name, column_class, extra in (
        ("id", Serial, {"primary_key": True}),
        ("sequence", Integer, {"default": 0, "unique": True, "index": True}),
        ("actor_label", Varchar, {"length": 320, "default": ""}),
        ("summary", Text, {"default": ""}),
    ):
        manager.add_column(
            table_class_name="AuditRedaction",
            tablename="audit_redaction",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=_params(**extra),
            schema=None,
        )
    return manager
