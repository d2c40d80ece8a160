"""One concurrence or objection per Board member and proposal.

Written by hand. A unique index rather than a Piccolo `Unique` constraint, which Piccolo adds
with ALTER TABLE ... ADD CONSTRAINT, a statement SQLite does not have; the index does the same
on SQLite and PostgreSQL, and a second concurrence of one member (two requests at once) is
refused by it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Serial
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class ProposalConcurrence(Table, tablename="proposal_concurrence", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name=None,
        secret=False,
    )


ID = "2026-12-04T03:00:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "One concurrence per Board member and proposal"

UNIQUE_INDEX = (
    "CREATE UNIQUE INDEX proposal_concurrence_member "
    "ON proposal_concurrence (proposal, member)"
)
DROP_INDEX = "DROP INDEX proposal_concurrence_member"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="reports", description=DESCRIPTION
    )

    async def unique_index():
        await ProposalConcurrence.raw(UNIQUE_INDEX)

    async def drop_index():
        await ProposalConcurrence.raw(DROP_INDEX)

    manager.add_raw(unique_index)
    manager.add_raw_backwards(drop_index)

    return manager
