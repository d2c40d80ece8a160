"""The scheduler's transparency job: each period's drafts, once.

`create_transparency_drafts` asks the database what is missing and makes only that, so it
can run on every tick (daily is enough) and after any downtime: on the first run after a
quarter ends it drafts that quarter's reports, and in the first quarter of a year also the
year's, for every group that existed by the period's end and for the organisation, in both
editions. A scope, period and edition that already has a report (a draft made on demand,
or any version) is left alone, so running it twice makes one set.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from governance.core.audit import SYSTEM
from governance.core.clock import organisation_today
from governance.core.isolation import SkippedItems
from governance.groups.tables import WorkingGroup
from governance.settings import get_settings
from governance.transparency import metrics
from governance.transparency.figures import EDITIONS, ORGANISATION, Period
from governance.transparency.metrics import last_ended_quarter, last_ended_year
from governance.transparency.services import store_figures
from governance.transparency.tables import TransparencyReport


@dataclass
class DraftsReport(SkippedItems):
    created: list[str] = field(default_factory=list)  # "wellbeing 2026-Q3 public"
    present: int = 0  # already had a report

    def __str__(self) -> str:
        made = ", ".join(self.created) if self.created else "none"
        return (
            f"transparency drafts created: {made}; {self.present} already present; "
            + self.failures_summary()
        )


def periods_due(today: dt.date) -> list[Period]:
    """The periods whose drafts are owed on this day: the last quarter that ended, and in
    the first quarter of a year, the year that ended."""
    periods = [last_ended_quarter(today)]
    if today.month <= 3:
        periods.append(last_ended_year(today))
    return periods


async def create_transparency_drafts(today: dt.date | None = None) -> DraftsReport:
    today = today or organisation_today()
    zone = ZoneInfo(get_settings().timezone)
    report = DraftsReport()
    groups = await WorkingGroup.select(
        WorkingGroup.id, WorkingGroup.slug, WorkingGroup.created_at
    ).order_by(WorkingGroup.name)
    if not groups:
        return report
    periods = periods_due(today)
    existing = {
        (row["group"], row["period"], row["edition"])
        for row in await TransparencyReport.select(
            TransparencyReport.group, TransparencyReport.period, TransparencyReport.edition
        ).where(TransparencyReport.period.is_in([period.label for period in periods]))
    }
    for period in periods:
        scopes: list[tuple[str, int | None]] = [(ORGANISATION, None)] + [
            (group["slug"], group["id"])
            for group in groups
            if group["created_at"].astimezone(zone).date() <= period.ends_on
        ]
        for scope, group_id in scopes:
            for edition in EDITIONS:
                if (group_id, period.label, edition) in existing:
                    report.present += 1
                    continue
                with report.skipping(f"transparency draft {scope} {period.label} {edition}"):
                    await _draft(scope, group_id, period, edition, report)
    return report


async def _draft(
    scope: str, group_id: int | None, period: Period, edition: str, report: DraftsReport
) -> None:
    figures = await metrics.compute_figures(scope, period.label, edition)
    # Checked again in the write transaction: a draft made meanwhile wins.
    stored = await store_figures(figures, group_id, SYSTEM, only_if_absent=True)
    if stored is None:
        report.present += 1
    else:
        report.created.append(f"{scope} {period.label} {edition}")


async def transparency_job() -> DraftsReport:
    """For the schedule: drafts owed today in the organisation's time zone."""
    return await create_transparency_drafts()
