from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Serial, Text, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T09:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The search index's rows"


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
    manager = MigrationManager(migration_id=ID, app_name="search", description=DESCRIPTION)
    manager.add_table(class_name="SearchEntry", tablename="search_entry", schema=None, columns=None)
    for name, column_class, extra in (
        ("id", Serial, {"primary_key": True}),
        ("root_key", Varchar, {"length": 60, "default": "", "index": True}),
        ("kind", Varchar, {"length": 20, "default": ""}),
        ("record_id", Integer, {"default": 0}),
        ("link_id", Integer, {"default": 0}),
        ("group_id", Integer, {"default": 0, "index": True}),
        ("visibility", Varchar, {"length": 20, "default": ""}),
        ("status", Varchar, {"length": 20, "default": ""}),
        ("occurred_on", Varchar, {"length": 10, "default": "", "index": True}),
        ("title", Text, {"default": ""}),
        ("body", Text, {"default": ""}),
    ):
        manager.add_column(
            table_class_name="SearchEntry",
            tablename="search_entry",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=_params(**extra),
            schema=None,
        )
    return manager
