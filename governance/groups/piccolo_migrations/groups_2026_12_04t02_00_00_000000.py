from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Each group's rule for written resolutions: a majority of members, or unanimity"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="groups", description=DESCRIPTION)
    manager.add_column(
        table_class_name="WorkingGroup",
        tablename="working_group",
        column_name="resolution_rule",
        db_column_name="resolution_rule",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 20,
            "default": "majority",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
