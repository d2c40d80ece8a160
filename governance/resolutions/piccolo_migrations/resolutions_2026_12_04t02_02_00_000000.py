from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Serial
from piccolo.table import Table

ID = "2026-12-04T02:02:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "One vote per member and written resolution, even between two requests at once"


class ResolutionVote(Table, tablename="resolution_vote", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False)


async def _one_vote_each():
    await ResolutionVote.raw(
        'CREATE UNIQUE INDEX resolution_vote_one_each ON resolution_vote (resolution, "user")'
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="resolutions", description=DESCRIPTION)
    manager.add_raw(_one_vote_each)
    return manager
