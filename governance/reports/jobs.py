"""The scheduler's job of the reports domain: the reporting schedule's record.

`record_periods` asks the database what has happened and is not recorded yet: a period of a
line that has started (recorded with the due date of the settings it began with), a report
that came without being recorded (a database from before the record was kept: its first
run records the history from what exists), a period whose next period's report has fallen
due without a report of its own (missed). Each is recorded once and never rewritten, so the
job can run on every tick and after any downtime; one period that cannot be recorded is
logged and counted, and the rest are recorded.
"""

from __future__ import annotations

from governance.reports.services import PeriodsRecorded, record_periods


async def reporting_periods_job() -> PeriodsRecorded:
    """For the schedule: whatever the reporting periods' record is missing today."""
    return await record_periods()
