"""A published transparency report records the audit chain's head at its publication.

Written by hand. Plain columns (nullable, or with a default), which SQLite and PostgreSQL
both add with ALTER TABLE ... ADD COLUMN. Reports published before have none: their
documents, and so their hashes, stay as they were.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T05:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The audit chain's head in each published transparency report"


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
    manager = MigrationManager(
        migration_id=ID, app_name="transparency", description=DESCRIPTION
    )
    for name, column_class, extra in (
        ("audit_head_sequence", Integer, {"null": True, "default": None}),
        ("audit_head_hash", Varchar, {"length": 64, "default": ""}),
    ):
        manager.add_column(
            table_class_name="TransparencyReport",
            tablename="transparency_report",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=_params(**extra),
            schema=None,
        )
    return manager
