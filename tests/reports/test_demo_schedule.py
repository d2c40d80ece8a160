"""The demo data respects the reporting schedule's rules (issue 10): no periodic report for a
period that had not ended, at most one per line and period, each recorded with the outcome
its day gives it, and the quarter with no report recorded as missed."""

from __future__ import annotations

import pytest

from governance.core.clock import date_in_zone
from governance.demo import seed_demo
from governance.groups.services import seed_default_groups
from governance.reports import schedule
from governance.reports.tables import Delivery, Report, ReportingPeriod

pytestmark = pytest.mark.slow


async def test_the_demo_reports_only_ended_periods_once_each_and_records_them():
    await seed_default_groups()
    await seed_demo()
    reports = await Report.select().where(
        (Report.kind == "periodic") & (Report.status == "submitted")
    )
    assert reports
    for report in reports:
        parsed = schedule.parse_period(report["period"])
        assert parsed is not None
        assert parsed[1].ends_on < date_in_zone(report["submitted_at"]), report["period"]

    periods = await ReportingPeriod.select()
    by_report = {row["report"]: row for row in periods if row["report"] is not None}
    deliveries = await Delivery.select(Delivery.report, Delivery.line).where(
        Delivery.report.is_in([report["id"] for report in reports])
    )
    # Each periodic report is the recorded report of its period on every line it reached.
    assert {(d["line"], d["report"]) for d in deliveries} == {
        (row["line"], row["report"]) for row in periods if row["report"] is not None
    }
    for report in reports:
        row = by_report[report["id"]]
        submitted_on = date_in_zone(report["submitted_at"])
        assert row["submitted_on"] == submitted_on
        assert row["outcome"] == schedule.outcome_of(row["due_on"], row["closes_on"], submitted_on)
    outcomes = {row["outcome"] for row in periods}
    assert {"on_time", "late", "missed"} <= outcomes
