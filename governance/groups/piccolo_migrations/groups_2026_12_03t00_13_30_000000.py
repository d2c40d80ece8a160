"""Data: the settings each existing reporting line has had since its group began.

Written by hand. Until now a line kept only its current settings, so they are taken to have
applied from the group's creation: one version per line, made when the group was created.
From here on `groups.services.update_reporting_line` adds a version at each change, and the
new settings apply to the periods that start after it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Serial
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class ReportingLineSettings(Table, tablename="reporting_line_settings", schema=None):
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
DESCRIPTION = "Each reporting line's settings as its first version"

# Lines that have a version already (a database seeded after the table was made) keep theirs.
FIRST_VERSIONS = """
INSERT INTO reporting_line_settings (line, cadence, report_due_days, made_at)
SELECT reporting_line.id, reporting_line.cadence, reporting_line.report_due_days,
       working_group.created_at
FROM reporting_line
JOIN working_group ON working_group.id = reporting_line."group"
WHERE NOT EXISTS (
    SELECT 1 FROM reporting_line_settings
    WHERE reporting_line_settings.line = reporting_line.id
)
"""


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="groups", description=DESCRIPTION
    )

    async def first_versions():
        await ReportingLineSettings.raw(FIRST_VERSIONS)

    manager.add_raw(first_versions)

    return manager
