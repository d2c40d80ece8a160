"""Approved minutes and their decisions get a content hash.

Written by hand. Plain columns with defaults, which SQLite and PostgreSQL both add with
ALTER TABLE ... ADD COLUMN.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T05:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Content hashes of approved minutes and of their decisions"


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
    manager = MigrationManager(migration_id=ID, app_name="meetings", description=DESCRIPTION)
    for class_name, tablename, name, column_class, extra in (
        ("Minutes", "minutes", "content_hash", Varchar, {"length": 64, "default": ""}),
        ("Minutes", "minutes", "part_hashes", Text, {"default": ""}),
        ("Decision", "decision", "content_hash", Varchar, {"length": 64, "default": ""}),
    ):
        manager.add_column(
            table_class_name=class_name,
            tablename=tablename,
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=_params(**extra),
            schema=None,
        )
    return manager
