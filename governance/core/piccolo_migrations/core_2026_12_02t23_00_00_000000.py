from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-02T23:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Audit chain keyed with an HMAC, and its head kept in a row of its own"


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
    manager.add_column(
        table_class_name="AuditEvent",
        tablename="audit_event",
        column_name="scheme",
        db_column_name="scheme",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_params(length=20, default="sha256"),
        schema=None,
    )
    manager.add_table(
        class_name="AuditChainHead", tablename="audit_chain_head", schema=None, columns=None
    )
    manager.add_column(
        table_class_name="AuditChainHead",
        tablename="audit_chain_head",
        column_name="id",
        db_column_name="id",
        column_class_name="Serial",
        column_class=Serial,
        params=_params(primary_key=True),
        schema=None,
    )
    for name, column_class, extra in (
        ("sequence", Integer, {"default": 0}),
        ("hash", Varchar, {"length": 64, "default": ""}),
        ("seal", Varchar, {"length": 64, "default": ""}),
        ("updated_at", Timestamptz, {"default": TimestamptzNow()}),
    ):
        manager.add_column(
            table_class_name="AuditChainHead",
            tablename="audit_chain_head",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=_params(**extra),
            schema=None,
        )
    return manager
