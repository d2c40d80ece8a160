"""Periodic reports and the schedule's record (issue 10, defects 4 and 5), through the pages
and through the API.

4. A periodic report is for an ended period of its lines' schedules, at most one per line
   and period; a correction is a follow-up report that refers to the period's report.
5. Each period's due date and outcome are recorded when they happen and never rewritten; a
   change of a line's settings applies to the periods that have not started; lines of
   different cadences each get the reports of their own periods.

The group of these tests began on 5 January 2026 and reports quarterly on both lines, 30 days
after each quarter, unless a test says otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from typing import Any

import httpx
import pytest
import time_machine

from governance.accounts.schemas import TOKEN_MAX_DAYS
from governance.accounts.services import issue_api_token
from governance.core.tables import AuditEvent, OutboundEmail
from governance.groups.schemas import LineSettings
from governance.groups.services import update_reporting_line
from governance.groups.tables import (
    Membership,
    ReportingLine,
    ReportingLineSettings,
    WorkingGroup,
)
from governance.reports import services
from governance.reports.schemas import ReportDraft
from governance.reports.tables import Delivery, Report, ReportingPeriod
from tests.factories import make_user, viewer_for
from tests.helpers import field_error, found, post_form, shown_after_refusal, sign_in

BEGAN = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
NOT_ENDED = "has not ended yet: a periodic report is for a period that has ended"


@contextmanager
def on(year: int, month: int, day: int) -> Iterator[None]:
    """Noon on that day, the clock stopped."""
    with time_machine.travel(dt.datetime(year, month, day, 12, tzinfo=dt.UTC), tick=False):
        yield


async def began_in_january(cast: Any, *, settings_from: dt.datetime = BEGAN) -> None:
    """The group, its members and its lines' settings date from January 2026."""
    await WorkingGroup.update({WorkingGroup.created_at: BEGAN}).where(
        WorkingGroup.id == cast.group_id
    )
    await ReportingLineSettings.update({ReportingLineSettings.made_at: settings_from}).where(
        ReportingLineSettings.line.is_in(await line_ids(cast))
    )
    await Membership.update({Membership.starts_on: dt.date(2025, 1, 1)}).where(
        Membership.group == cast.group_id
    )


async def line_ids(cast: Any) -> list[int]:
    rows = await ReportingLine.select(ReportingLine.id).where(ReportingLine.group == cast.group_id)
    return [row["id"] for row in rows]


async def line_id(cast: Any, recipient: str) -> int:
    row = found(
        await ReportingLine.select(ReportingLine.id)
        .where((ReportingLine.group == cast.group_id) & (ReportingLine.recipient == recipient))
        .first()
    )
    return int(row["id"])


TOKENS: dict[str, str] = {}


@pytest.fixture(autouse=True)
async def tokens(cast: Any) -> None:
    """API tokens of the chair and the Director, issued before anything is looked at; for
    the longest a token may last, since these tests travel across the year."""
    TOKENS.clear()
    for persona in ("chair", "director"):
        TOKENS[persona] = await issue_api_token(
            f"{persona}@example.org", expires_in_days=TOKEN_MAX_DAYS
        )


def bearer(persona: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[persona]}"}


def periodic(period: str, title: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "kind": "periodic",
        "period": period,
        "title": title or f"Report for {period}",
        "body": "What the group did.",
        "route": "both",
        **extra,
    }


async def submit_periodic(cast: Any, period: str, **extra: Any) -> int:
    chair = await viewer_for(cast.chair)
    report_id = await services.create_report(
        cast.slug, ReportDraft(**periodic(period, **extra)), chair
    )
    await services.submit_report(report_id, chair)
    return report_id


async def record() -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    return {
        "reports": await Report.select().order_by(Report.id),
        "deliveries": await Delivery.select().order_by(Delivery.id),
        "periods": await ReportingPeriod.select().order_by(ReportingPeriod.id),
        "audit": await AuditEvent.select().order_by(AuditEvent.sequence),
        "outbox": await OutboundEmail.select().order_by(OutboundEmail.id),
    }


async def schedule_by_api(client: httpx.AsyncClient, cast: Any, persona: str = "chair") -> dict:
    """Each line's periods as the API answers them: {recipient: {period: entry}}."""
    response = await client.get(f"/api/v1/groups/{cast.slug}/reports", headers=bearer(persona))
    assert response.status_code == 200, response.text
    return {
        line["recipient"]: {entry["period"]: entry for entry in line["periods"]}
        for line in response.json()["schedules"]
    }


def schedule_on_page(html: str) -> list[dict[str, tuple[str, str]]]:
    """Each line's table on the reports page: {period: (due, state)}, Director line first."""
    tables = re.findall(r"<details><summary>Periodic reports to the (.*?)</details>", html, re.S)
    return [
        {
            period: (due, state)
            for period, due, state in re.findall(
                r"<tr><td>([^<]+)</td><td>([^<]*)</td>\s*<td><span class=\"badge period-(\w+)\"",
                table,
            )
        }
        for table in tables
    ]


async def page_error(client: httpx.AsyncClient, cast: Any, form: dict[str, Any]) -> str:
    await sign_in(client, cast.chair)
    response = await post_form(client, f"/groups/{cast.slug}/reports/new", form)
    response = await shown_after_refusal(client, response)
    return unescape(field_error(response.text, "period") or "")


async def api_error(client: httpx.AsyncClient, body: dict[str, Any], path: str) -> str:
    response = await client.post(path, json=body, headers=bearer("chair"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["errors"]["period"])


# --- defect 4: a periodic report is for an ended period, one per line and period -------


@pytest.mark.parametrize(
    ("period", "ends"), [("2026-Q4", "31 Dec 2026"), ("2027-Q2", "30 Jun 2027")]
)
async def test_a_report_for_a_period_that_has_not_ended_is_refused_on_the_page_and_by_the_api(
    client, cast, period, ends
):
    await began_in_january(cast)
    with on(2026, 12, 2):
        before = await record()
        on_page = await page_error(client, cast, periodic(period))
        by_api = await api_error(client, periodic(period), f"/api/v1/groups/{cast.slug}/reports")
        assert on_page == by_api == (f"{period} {NOT_ENDED} (this one ends on {ends}).")
        assert await record() == before


async def test_a_draft_for_a_period_that_has_not_ended_cannot_be_submitted(client, cast):
    """Drafts written before the rule (the demo had some) are refused at submission, on the
    page and by the API, and nothing is delivered."""
    await began_in_january(cast)
    with on(2026, 12, 2):
        drafts = []
        for _ in range(2):
            rows = await Report.insert(
                Report(
                    group=cast.group_id,
                    kind="periodic",
                    period="2026-Q4",
                    title="Early report",
                    body="Written early.",
                    created_by=cast.chair,
                    created_at=BEGAN,
                    updated_at=BEGAN,
                )
            ).returning(Report.id)
            drafts.append(rows[0]["id"])
        before = await record()
        await sign_in(client, cast.chair)
        page = await post_form(client, f"/reports/{drafts[0]}/submit")
        page = await shown_after_refusal(client, page)
        by_api = await client.post(f"/api/v1/reports/{drafts[1]}/submit", headers=bearer("chair"))
        assert by_api.status_code == 422, by_api.text
        message = by_api.json()["errors"]["period"]
        assert unescape(field_error(page.text, "period") or "") == message
        assert NOT_ENDED in message
        assert await record() == before


async def test_a_second_report_for_a_period_is_refused_and_a_correction_follows_it_up(client, cast):
    await began_in_january(cast)
    with on(2026, 10, 20):
        first = await submit_periodic(cast, "2026-Q3")
    with on(2026, 12, 2):
        before = await record()
        on_page = await page_error(client, cast, periodic("2026-Q3", "Again"))
        by_api = await api_error(
            client, periodic("2026-Q3", "Again"), f"/api/v1/groups/{cast.slug}/reports"
        )
        assert (
            on_page
            == by_api
            == (
                f"The 2026-Q3 report has already been submitted (report {first}). A correction is "
                f"a follow-up report: give report {first} as the report it follows up."
            )
        )
        # Following up some other report is no correction of this period's.
        other = await services.create_report(
            cast.slug,
            ReportDraft(kind="recommendation", title="Quiet rooms", body="We need them."),
            await viewer_for(cast.chair),
        )
        await services.submit_report(other, await viewer_for(cast.chair))
        before = await record()
        assert "already been submitted" in await api_error(
            client,
            periodic("2026-Q3", follows_up=other),
            f"/api/v1/groups/{cast.slug}/reports",
        )
        assert await record() == before

        # The report's page offers the correction; its form starts as one.
        await sign_in(client, cast.chair)
        shown = await client.get(f"/reports/{first}")
        link = f"/groups/{cast.slug}/reports/new?follows_up={first}"
        assert link in unescape(shown.text)
        form = await client.get(link)
        assert '<option value="periodic" selected>' in form.text
        assert 'value="2026-Q3"' in form.text
        assert f'value="{first}"' in form.text
        response = await post_form(
            client,
            f"/groups/{cast.slug}/reports/new",
            periodic("2026-Q3", "Correction", follows_up=str(first)),
        )
        assert response.status_code == 302, response.text
        correction = int(response.headers["location"].rsplit("/", 1)[1])
        submitted = await post_form(client, f"/reports/{correction}/submit", {"understood": "on"})
        assert submitted.status_code == 302

        # And through the API.
        response = await client.post(
            f"/api/v1/groups/{cast.slug}/reports",
            json=periodic("2026-Q3", "Second correction", follows_up=first),
            headers=bearer("chair"),
        )
        assert response.status_code == 201, response.text
        by_api = response.json()["id"]
        response = await client.post(f"/api/v1/reports/{by_api}/submit", headers=bearer("chair"))
        assert response.status_code == 200, response.text
        assert response.json()["follows_up"] == first
        assert sorted(d["recipient"] for d in response.json()["deliveries"]) == [
            "board",
            "director",
        ]

        # The period keeps its first report and its outcome.
        lines = await schedule_by_api(client, cast)
        for recipient in ("director", "board"):
            entry = lines[recipient]["2026-Q3"]
            assert (entry["state"], entry["submitted_on"], entry["recorded"]) == (
                "on_time",
                "2026-10-20",
                True,
            )
        rows = await ReportingPeriod.select().where(ReportingPeriod.period == "2026-Q3")
        assert [row["report"] for row in rows] == [first, first]


async def test_two_drafts_for_one_period_the_second_submission_is_refused(client, cast):
    await began_in_january(cast)
    with on(2026, 10, 20):
        chair = await viewer_for(cast.chair)
        drafts = [
            await services.create_report(
                cast.slug, ReportDraft(**periodic("2026-Q3", f"Draft {n}")), chair
            )
            for n in range(3)
        ]
        await services.submit_report(drafts[0], chair)
        before = await record()
        await sign_in(client, cast.chair)
        page = await post_form(client, f"/reports/{drafts[1]}/submit")
        page = await shown_after_refusal(client, page)
        by_api = await client.post(f"/api/v1/reports/{drafts[2]}/submit", headers=bearer("chair"))
        assert by_api.status_code == 422, by_api.text
        message = by_api.json()["errors"]["period"]
        assert unescape(field_error(page.text, "period") or "") == message
        assert f"already been submitted (report {drafts[0]})" in message
        assert await record() == before


# --- defect 5: the schedule is recorded, and never rewritten ----------------------------


async def test_changing_the_due_days_leaves_past_and_started_periods_as_they_were(client, cast):
    await began_in_january(cast)
    with on(2026, 4, 20):
        await submit_periodic(cast, "2026-Q1")  # due 30 Apr: on time
    with on(2026, 8, 10):
        await submit_periodic(cast, "2026-Q2")  # due 30 Jul: late
    admin = await make_user("admin@example.org", "Admin", admin=True)
    with on(2026, 11, 24):
        await sign_in(client, admin)
        response = await post_form(
            client,
            f"/admin/groups/lines/{await line_id(cast, 'director')}",
            {"cadence": "quarterly", "report_due_days": "10", "response_days": "30"},
        )
        assert response.status_code == 302, response.text
        lines = await schedule_by_api(client, cast)
        await sign_in(client, cast.chair)
        page = schedule_on_page((await client.get(f"/groups/{cast.slug}/reports")).text)
    expected = {
        "2026-Q1": ("2026-04-30", "on_time"),
        "2026-Q2": ("2026-07-30", "late"),
        "2026-Q3": ("2026-10-30", "overdue"),
        # Under way when the change was made: it keeps the 30 days it began with.
        "2026-Q4": ("2027-01-30", "upcoming"),
    }
    for recipient in ("director", "board"):
        assert {p: (e["due_on"], e["state"]) for p, e in lines[recipient].items()} == expected
    for table in page:
        assert {p: state for p, (_, state) in table.items()} == {
            p: state for p, (_, state) in expected.items()
        }
        assert table["2026-Q1"][0] == "30 Apr 2026"
        assert table["2026-Q4"][0] == "30 Jan 2027"
    # The first period that starts after the change is the first with 10 days.
    with on(2027, 1, 2):
        lines = await schedule_by_api(client, cast)
    assert lines["director"]["2027-Q1"]["due_on"] == "2027-04-10"
    assert lines["board"]["2027-Q1"]["due_on"] == "2027-04-30"
    assert lines["director"]["2026-Q4"]["due_on"] == "2027-01-30"


async def test_a_new_cadence_begins_with_the_first_period_that_has_not_started(client, cast):
    await began_in_january(cast)
    admin = await viewer_for(await make_user("admin@example.org", "Admin", admin=True))
    with on(2027, 2, 15):
        await update_reporting_line(
            await line_id(cast, "board"),
            LineSettings(cadence="half_yearly", report_due_days=30, response_days=30),
            admin.user,
        )
    with on(2027, 8, 1):
        lines = await schedule_by_api(client, cast)
    # 2027-Q1 was under way; the half-year begins at its own boundary, in July.
    assert list(lines["board"]) == [
        "2027-H2",
        "2027-Q2",
        "2027-Q1",
        "2026-Q4",
        "2026-Q3",
        "2026-Q2",
        "2026-Q1",
    ]
    assert lines["board"]["2027-H2"]["due_on"] == "2028-01-30"
    assert list(lines["director"])[:2] == ["2027-Q3", "2027-Q2"]


async def test_lines_of_different_cadences_each_get_the_reports_of_their_own_periods(client, cast):
    admin = await viewer_for(await make_user("admin@example.org", "Admin", admin=True))
    await update_reporting_line(
        await line_id(cast, "board"),
        LineSettings(cadence="half_yearly", report_due_days=30, response_days=30),
        admin.user,
    )
    # The Board has had its half-yearly schedule from the start.
    await began_in_january(cast, settings_from=dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    with on(2026, 7, 10):
        half_year = await submit_periodic(cast, "2026-H1")
        quarter = await submit_periodic(cast, "2026-Q2")
        recipients = {
            report: [
                row["recipient"] for row in await Delivery.select().where(Delivery.report == report)
            ]
            for report in (half_year, quarter)
        }
        assert recipients == {half_year: ["board"], quarter: ["director"]}
        # The Director reads the Board's periodic report (it is internal), but is not asked
        # to answer it.
        response = await client.get(f"/api/v1/reports/{half_year}", headers=bearer("director"))
        assert response.status_code == 200, response.text
        assert (response.json()["to_director"], response.json()["to_board"]) == (False, True)
        assert response.json()["route_label"] == (
            "The Board only: 2026-H1 is a period of its schedule alone"
        )
        # A period of no line's cadence names each line's.
        message = await api_error(
            client, periodic("2026-05"), f"/api/v1/groups/{cast.slug}/reports"
        )
        assert message == (
            "This group reports quarterly to the Executive Director and half-yearly to the "
            "Board; name a period of that kind."
        )
        # What each line is owed, on the page and by the API.
        lines = await schedule_by_api(client, cast)
        await sign_in(client, cast.chair)
        html = unescape((await client.get(f"/groups/{cast.slug}/reports")).text)
        group_page = unescape((await client.get(f"/groups/{cast.slug}")).text)
    assert {p: e["state"] for p, e in lines["director"].items()} == {
        "2026-Q3": "upcoming",
        "2026-Q2": "on_time",
        "2026-Q1": "overdue",
    }
    assert {p: e["state"] for p, e in lines["board"].items()} == {
        "2026-H2": "upcoming",
        "2026-H1": "on_time",
    }
    for text in (html, group_page):
        assert "The 2026-Q1 report to the Executive Director is due on 30 Apr 2026" in text
        assert "The 2026-H2 report to the Board is due on 30 Jan 2027, in 204 days." in text


# --- the sweep that records the schedule ------------------------------------------------


async def events(prefix: str) -> list[str]:
    rows = await AuditEvent.select(AuditEvent.action, AuditEvent.summary).where(
        AuditEvent.action.like(f"{prefix}%")
    )
    return [f"{row['action']}: {row['summary']}" for row in rows]


async def recorded(cast: Any) -> dict[tuple[str, str], tuple[str, int | None]]:
    rows = await ReportingPeriod.select(
        ReportingPeriod.line.recipient.as_alias("recipient"),
        ReportingPeriod.period,
        ReportingPeriod.outcome,
        ReportingPeriod.report,
    ).where(ReportingPeriod.line.group == cast.group_id)
    return {(row["recipient"], row["period"]): (row["outcome"], row["report"]) for row in rows}


async def test_the_sweep_records_each_period_once_and_the_missed_ones(client, cast):
    await began_in_january(cast)
    with on(2026, 4, 20):
        q1 = await submit_periodic(cast, "2026-Q1")
    with on(2026, 11, 24):
        first = await services.record_periods()
        assert (len(first.opened), len(first.missed), first.failed) == (4, 2, 0)
        again = await services.record_periods()
        assert (again.opened, again.reported, again.missed, again.failed) == ([], [], [], 0)
    assert await recorded(cast) == {
        (line, period): outcome
        for line in ("director", "board")
        for period, outcome in (
            ("2026-Q1", ("on_time", q1)),
            ("2026-Q2", ("missed", None)),
            ("2026-Q3", ("", None)),
            ("2026-Q4", ("", None)),
        )
    }
    trail = await events("reporting_period.")
    assert len(trail) == 6
    assert (
        "reporting_period.missed: Working Group on Wellbeing, Board line: 2026-Q2 recorded as "
        "missed (due 30 Jul 2026)"
    ) in trail
    assert (
        "reporting_period.opened: Working Group on Wellbeing, Executive Director line: 2026-Q4 "
        "recorded, report due 30 Jan 2027"
    ) in trail

    with on(2027, 1, 31):
        swept = await services.record_periods()
        ours = "Working Group on Wellbeing"
        assert sorted(swept.missed) == [f"{ours} board 2026-Q3", f"{ours} director 2026-Q3"]
        assert sorted(e for e in swept.opened if e.startswith(ours)) == [
            f"{ours} board 2027-Q1",
            f"{ours} director 2027-Q1",
        ]
        # A report that comes after its period was missed is taken, and linked to it; the
        # period stays missed.
        late = await submit_periodic(cast, "2026-Q3")
        lines = await schedule_by_api(client, cast)
    assert (await recorded(cast))[("board", "2026-Q3")] == ("missed", late)
    assert lines["board"]["2026-Q3"]["state"] == "missed"
    assert lines["board"]["2026-Q3"]["submitted_on"] == "2027-01-31"
    assert lines["board"]["2026-Q1"]["state"] == "on_time"


async def test_one_line_that_cannot_be_read_never_stops_the_sweep(cast, caplog):
    await began_in_january(cast)
    await ReportingLineSettings.update({ReportingLineSettings.cadence: "fortnightly"}).where(
        ReportingLineSettings.line == await line_id(cast, "board")
    )
    with on(2026, 11, 24):
        swept = await services.record_periods()
        assert swept.failed == 1
        assert len(swept.opened) + len(swept.missed) == 4  # the Director line's
        assert "its schedule cannot be read" in caplog.text
        from governance.scheduler import JOBS

        assert "; 1 failed (reporting line " in str(await JOBS["reporting-periods"].run())
    assert {line for line, _ in await recorded(cast)} == {"director"}


async def test_an_existing_database_gets_its_history_recorded_once_from_what_exists(cast):
    """A database from before the record was kept: its lines have no settings' history and
    no period is recorded; two reports were accepted for one period (the defect)."""
    await began_in_january(cast)
    with on(2026, 4, 20):
        q1 = await submit_periodic(cast, "2026-Q1")
    with on(2026, 8, 10):
        q2 = await submit_periodic(cast, "2026-Q2")
    await ReportingPeriod.delete(force=True)
    await ReportingLineSettings.delete(force=True)
    with on(2026, 8, 11):
        duplicate = await Report.insert(
            Report(
                group=cast.group_id,
                kind="periodic",
                period="2026-Q2",
                title="A second Q2 report",
                status="submitted",
                created_by=cast.chair,
                created_at=BEGAN,
                updated_at=BEGAN,
                submitted_at=dt.datetime(2026, 8, 11, 12, tzinfo=dt.UTC),
            )
        ).returning(Report.id)
        for recipient in ("director", "board"):
            await Delivery.insert(
                Delivery(
                    report=duplicate[0]["id"],
                    line=await line_id(cast, recipient),
                    recipient=recipient,
                    delivered_at=BEGAN,
                    response_due_on=dt.date(2026, 9, 10),
                )
            )

    from governance.groups.piccolo_migrations import groups_2026_12_03t00_13_30_000000 as data

    manager = await data.forwards()
    await manager.run()
    assert await ReportingLineSettings.count() == 4  # both groups' two lines
    with on(2026, 11, 24):
        first = await services.record_periods()
        assert len(first.reported) == 4
        assert await services.record_periods() == services.PeriodsRecorded()
    assert await recorded(cast) == {
        (line, period): outcome
        for line in ("director", "board")
        for period, outcome in (
            ("2026-Q1", ("on_time", q1)),
            ("2026-Q2", ("late", q2)),
            ("2026-Q3", ("", None)),
            ("2026-Q4", ("", None)),
        )
    }


async def test_the_reminder_of_a_period_under_way_keeps_the_due_date_it_began_with(cast):
    from governance.notifications.reminders import run_reminder_sweep

    await began_in_january(cast)
    admin = await viewer_for(await make_user("admin@example.org", "Admin", admin=True))
    with on(2026, 11, 24):
        await update_reporting_line(
            await line_id(cast, "director"),
            LineSettings(cadence="quarterly", report_due_days=10, response_days=30),
            admin.user,
        )
    with on(2027, 1, 16):
        await run_reminder_sweep()
    keys = {
        row["dedupe_key"]
        for row in await OutboundEmail.select(OutboundEmail.dedupe_key)
        if row["dedupe_key"].startswith("reminder:report:")
    }
    # 2026-Q4 was under way when its due days changed: due on 30 Jan on both lines.
    assert keys == {
        f"reminder:report:group:{cast.group_id}:2026-Q4:soon:2027-01-30:user:{user}"
        for user in (cast.chair, cast.secretary)
    }


async def test_the_director_learns_nothing_of_board_only_items_from_the_schedule(client, cast):
    """The schedule holds periodic reports only (read on both lines): a Board-only
    recommendation, or a Board-only follow-up of a periodic report, changes nothing the
    Director reads of it and nothing in its record."""
    await began_in_january(cast)
    with on(2026, 10, 20):
        first = await submit_periodic(cast, "2026-Q3")
        await services.record_periods()
        director_before = await schedule_by_api(client, cast, "director")
        chair_before = await schedule_by_api(client, cast, "chair")
        periods_before = await ReportingPeriod.select().order_by(ReportingPeriod.id)
        chair = await viewer_for(cast.chair)
        for follows_up in (None, first):
            report_id = await services.create_report(
                cast.slug,
                ReportDraft(
                    kind="recommendation",
                    title="Concerns about management",
                    body="For the Board.",
                    route="board",
                    follows_up=follows_up,
                ),
                chair,
            )
            await services.submit_report(report_id, chair)
        await services.record_periods()
        assert await schedule_by_api(client, cast, "director") == director_before
        assert await schedule_by_api(client, cast, "chair") == chair_before
        assert await ReportingPeriod.select().order_by(ReportingPeriod.id) == periods_before
