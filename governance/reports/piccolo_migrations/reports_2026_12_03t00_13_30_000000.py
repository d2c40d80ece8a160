"""One recorded row per reporting line and period.

Written by hand. A unique index rather than a Piccolo `Unique` constraint, which Piccolo adds
with ALTER TABLE ... ADD CONSTRAINT, a statement SQLite does not have; the index does the same
on SQLite and PostgreSQL, and `ON CONFLICT (line, period) DO NOTHING` relies on it.

The periods' history of an existing database is recorded from what exists by the schedule's
sweep (`reports.services.record_periods`), which `governance migrate` and `governance init`
run once right after migrating and the scheduler runs every hour: every period that has
started, with the due date of the line's settings, the first periodic report delivered to the
line for it (on time, late, or after it was missed), and every period missed.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Serial
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class ReportingPeriod(Table, tablename="reporting_period", schema=None):
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


ID = "2026-12-03T00:13:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "One recorded row per reporting line and period"

UNIQUE_INDEX = (
    "CREATE UNIQUE INDEX reporting_period_line_period ON reporting_period (line, period)"
)
DROP_INDEX = "DROP INDEX reporting_period_line_period"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="reports", description=DESCRIPTION
    )

    async def unique_index():
        await ReportingPeriod.raw(UNIQUE_INDEX)

    async def drop_index():
        await ReportingPeriod.raw(DROP_INDEX)

    manager.add_raw(unique_index)
    manager.add_raw_backwards(drop_index)

    return manager
