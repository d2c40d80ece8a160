"""Papers of written resolutions.

Written by hand. A nullable foreign key on `document` to the written resolution that holds
a paper (`holder_kind` "resolution"), for the resolution's visibility in the documents'
condition (accounts.scopes.documents); indexed, as a resolution's page lists its papers.
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Serial
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-05T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Documents held by written resolutions (their papers)"


class WrittenResolution(Table, tablename="written_resolution", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False)


def _params() -> dict[str, Any]:
    return {
        "references": WrittenResolution,
        "on_delete": OnDelete.cascade,
        "on_update": OnUpdate.cascade,
        "target_column": None,
        "null": True,
        "default": None,
        "primary_key": False,
        "unique": False,
        "index": True,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Document",
        tablename="document",
        column_name="resolution",
        db_column_name="resolution",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params=_params(),
        schema=None,
    )
    return manager
