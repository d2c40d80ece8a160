"""Period edges in the organisation's time zone, the two editions and the Board-only channel,
and the periods and scopes compute_figures refuses; records made through the services at
the moments they describe."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from governance.actions.schemas import NewAction, StatusChange
from governance.actions.services import create_action, update_status
from governance.core.errors import InvalidInput, NotFoundError
from governance.meetings.schemas import AgendaItemDetails
from governance.meetings.services import add_agenda_item, mark_meeting_held
from governance.reports.schemas import LineResponse, ReportDraft
from governance.reports.services import (
    acknowledge_delivery,
    create_report,
    respond_to_delivery,
    submit_report,
)
from governance.reports.tables import Delivery
from governance.settings import get_settings
from governance.transparency.figures import Period
from governance.transparency.metrics import compute_figures, parse_report_period
from tests.factories import (
    board_responds,
    make_group,
    make_meeting,
    make_membership,
    make_user,
    viewer_for,
)

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


def london(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


async def _group_with_chair() -> tuple[str, int, int]:
    """A group begun on 1 June 2026 with its chair and a member."""
    with time_machine.travel(london(2026, 6, 1, 9), tick=False):
        group_id = await make_group(slug="edges", name="Working Group on Edges")
        chair = await make_user("edge-chair@example.org", "Edge Chair")
        member = await make_user("edge-member@example.org", "Edge Member")
        await make_membership(chair, group_id, "chair", dt.date(2026, 6, 1))
        await make_membership(member, group_id, "member", dt.date(2026, 6, 1))
    return "edges", group_id, chair


async def test_an_action_completed_at_2359_local_on_the_last_day_counts_in_that_quarter() -> None:
    """London is on summer time (UTC+1) on 30 September: 00:00 on 1 October local is 23:00
    UTC on 30 September, and belongs to the fourth quarter."""
    assert get_settings().timezone == "Europe/London"
    _, group_id, chair = await _group_with_chair()
    moments = {
        "last minute of Q3": london(2026, 9, 30, 23, 59),
        "first moment of Q4": london(2026, 10, 1, 0, 0),
    }
    assert moments["first moment of Q4"].astimezone(dt.UTC).date() == dt.date(2026, 9, 30)
    for title, moment in moments.items():
        with time_machine.travel(london(2026, 9, 1, 10), tick=False):
            viewer = await viewer_for(chair)
            action_id = await create_action(
                group_id,
                NewAction(
                    title=title,
                    description="",
                    due_on=dt.date(2026, 12, 1),
                    visibility="public",
                    owner_ids=[chair],
                ),
                viewer,
            )
        with time_machine.travel(moment, tick=False):
            await update_status(
                action_id, StatusChange(status="done", note="Finished."), await viewer_for(chair)
            )

    with time_machine.travel(NOW, tick=True):
        for edition in ("board", "public"):
            q3 = (await compute_figures("edges", "2026-Q3", edition)).groups[0]
            q4 = (await compute_figures("edges", "2026-Q4", edition)).groups[0]
            assert q3.actions_completed == 1
            assert q3.actions_completed_by_month == [("2026-07", 0), ("2026-08", 0), ("2026-09", 1)]
            # Opened on 1 September, done 29 days, 13 hours and 59 minutes later.
            assert q3.median_days_to_complete == 29.6
            assert q4.actions_completed == 1
            assert q4.actions_completed_by_month == [("2026-10", 1), ("2026-11", 0), ("2026-12", 0)]
            assert q4.median_days_to_complete == 29.6
            year = (await compute_figures("edges", "2026", edition)).groups[0]
            assert year.actions_completed == 2
            assert dict(year.actions_completed_by_month)["2026-09"] == 1
            assert dict(year.actions_completed_by_month)["2026-10"] == 1
            # The action done at midnight was still open at the end of the third quarter,
            # but not overdue: it was due in December.
            assert q3.actions_overdue_at_end == 0
            assert q3.actions_opened == 2


async def test_overdue_at_period_end_reads_due_dates_on_the_last_day() -> None:
    _, group_id, chair = await _group_with_chair()
    with time_machine.travel(london(2026, 9, 1, 10), tick=False):
        viewer = await viewer_for(chair)
        for title, due_on in (
            ("due 29 Sep", dt.date(2026, 9, 29)),
            ("due 30 Sep", dt.date(2026, 9, 30)),
        ):
            await create_action(
                group_id,
                NewAction(
                    title=title,
                    description="",
                    due_on=due_on,
                    visibility="internal",
                    owner_ids=[chair],
                ),
                viewer,
            )
        dropped = await create_action(
            group_id,
            NewAction(
                title="dropped in Q4",
                description="",
                due_on=dt.date(2026, 9, 2),
                visibility="internal",
                owner_ids=[chair],
            ),
            viewer,
        )
    with time_machine.travel(london(2026, 10, 1, 0, 0), tick=False):
        await update_status(
            dropped,
            StatusChange(status="dropped", note="Overtaken by events."),
            await viewer_for(chair),
        )
    with time_machine.travel(NOW, tick=True):
        board = (await compute_figures("edges", "2026-Q3", "board")).groups[0]
        public = (await compute_figures("edges", "2026-Q3", "public")).groups[0]
        q4 = (await compute_figures("edges", "2026-Q4", "board")).groups[0]
    # Due on 29 September and the action dropped only after the quarter: overdue at its end.
    # Due on 30 September, the last day: not yet overdue.
    assert board.actions_overdue_at_end == 2
    assert board.actions_dropped == 0
    assert public.actions_overdue_at_end == 2  # internal actions count in the public edition
    assert q4.actions_dropped == 1
    # In the fourth quarter (read on today, 24 November) both open actions are overdue.
    assert q4.actions_overdue_at_end == 2


async def test_board_only_recommendations_count_in_the_board_edition_only() -> None:
    slug, _, chair = await _group_with_chair()
    director = await make_user("edge-director@example.org", "Edge Director", director=True)
    board = await make_user("edge-board@example.org", "Edge Board", board=True)
    with time_machine.travel(london(2026, 8, 10, 10), tick=False):
        viewer = await viewer_for(chair)
        board_only = await create_report(
            slug,
            ReportDraft(
                kind="recommendation",
                period="",
                title="To the Board",
                body="Only you.",
                route="board",
            ),
            viewer,
        )
        both = await create_report(
            slug,
            ReportDraft(
                kind="recommendation", period="", title="To both", body="Everyone.", route="both"
            ),
            viewer,
        )
        board_only_deliveries = await submit_report(board_only, viewer)
        both_deliveries = await submit_report(both, viewer)
    assert len(board_only_deliveries) == 1 and len(both_deliveries) == 2
    recipients = {
        row["id"]: row["recipient"]
        for row in await Delivery.select(Delivery.id, Delivery.recipient).where(
            Delivery.id.is_in(both_deliveries)
        )
    }
    with time_machine.travel(london(2026, 8, 12, 10), tick=False):
        await acknowledge_delivery(board_only_deliveries[0], await viewer_for(board))
    with time_machine.travel(london(2026, 8, 20, 10), tick=False):
        await board_responds(
            board_only_deliveries[0],
            LineResponse(response="accepted", rationale=""),
            await viewer_for(board),
        )
        director_delivery = next(d for d, r in recipients.items() if r == "director")
        await respond_to_delivery(
            director_delivery,
            LineResponse(response="declined", rationale="Not now."),
            await viewer_for(director),
        )

    with time_machine.travel(NOW, tick=True):
        board_edition = (await compute_figures(slug, "2026-Q3", "board")).groups[0]
        public_edition = (await compute_figures(slug, "2026-Q3", "public")).groups[0]
    board_lines = {line.recipient: line for line in board_edition.lines}
    public_lines = {line.recipient: line for line in public_edition.lines}
    assert [line.recipient for line in board_edition.lines] == ["director", "board"]
    assert board_lines["board"].recommendations == 2
    assert board_lines["board"].accepted == 1
    assert board_lines["board"].pending == 1
    assert board_lines["board"].median_days_to_acknowledge == 2.0
    assert board_lines["board"].median_days_to_respond == 10.0
    # The Board line's response to "To both" is 21 days overdue (due 9 September).
    assert board_lines["board"].overdue_responses == 1
    assert public_lines["board"].recommendations == 1
    assert public_lines["board"].accepted == 0
    assert public_lines["board"].pending == 1
    assert public_lines["board"].median_days_to_respond is None
    for lines in (board_lines, public_lines):
        assert lines["director"].recommendations == 1
        assert lines["director"].declined == 1
        assert lines["director"].median_days_to_respond == 10.0


async def test_periodic_reports_per_line_as_of_the_end_of_the_period() -> None:
    """Quarterly on both lines, due 30 days after the quarter. The group began in June: the
    2026-Q2 report is due on 30 July and the 2026-Q3 one on 30 October."""
    slug, _, chair = await _group_with_chair()
    with time_machine.travel(london(2026, 8, 3, 10), tick=False):
        viewer = await viewer_for(chair)
        report = await create_report(
            slug,
            ReportDraft(
                kind="periodic",
                period="2026-Q2",
                title="Second quarter",
                body="Done.",
                route="both",
            ),
            viewer,
        )
        await submit_report(report, viewer)
    with time_machine.travel(NOW, tick=True):
        q3 = (await compute_figures(slug, "2026-Q3", "board")).groups[0]
        q4 = (await compute_figures(slug, "2026-Q4", "public")).groups[0]
    for line in q3.lines:
        assert (line.periodic_due, line.periodic_late, line.periodic_on_time) == (1, 1, 0)
    # The 2026-Q3 report was due on 30 October and has not come: overdue, not yet missed.
    for line in q4.lines:
        assert (line.periodic_due, line.periodic_on_time, line.periodic_late) == (1, 0, 0)
        assert line.periodic_missed == 0


@pytest.mark.parametrize("label", ["2026-H1", "2026-11", "2026-Q5", "26-Q1", "", "Q3-2026"])
async def test_only_quarters_and_years_are_report_periods(label: str) -> None:
    with pytest.raises(InvalidInput):
        parse_report_period(label)
    with pytest.raises(InvalidInput):
        await compute_figures("organisation", label, "board")


async def test_a_period_is_whole_days() -> None:
    assert parse_report_period(" 2026-q3 ") == Period(
        "2026-Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30)
    )
    assert parse_report_period("2025") == Period("2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31))


async def test_unknown_editions_groups_and_periods_not_begun_are_refused() -> None:
    await _group_with_chair()
    with time_machine.travel(NOW, tick=True):
        with pytest.raises(InvalidInput):
            await compute_figures("edges", "2026-Q3", "director")
        with pytest.raises(NotFoundError):
            await compute_figures("no-such-group", "2026-Q3", "board")
        with pytest.raises(InvalidInput):
            await compute_figures("edges", "2027", "board")
        empty = await compute_figures("edges", "2025-Q1", "public")
    assert empty.groups[0].meetings_held == 0
    assert empty.groups[0].attendance_rate is None
    assert empty.groups[0].median_days_to_complete is None
    assert empty.groups[0].chair_names == []


async def test_confidential_matters_count_board_only_items_in_the_board_edition_only() -> None:
    """Issue 11, item 8: the public edition (the one the Director reads) drawn from the
    Board-only items would tell the Director how many there are, by difference with the
    internal items they read; group-only items are counted in neither edition."""
    slug, _, chair = await _group_with_chair()
    with time_machine.travel(london(2026, 8, 1, 10), tick=False):
        viewer = await viewer_for(chair)
        meeting_id = await make_meeting(slug, chair, starts_at=london(2026, 8, 5, 10))
        for visibility in ("public", "internal", "board", "group"):
            await add_agenda_item(
                meeting_id,
                AgendaItemDetails(title=f"A {visibility} matter", visibility=visibility),
                viewer,
            )
    with time_machine.travel(london(2026, 8, 5, 13), tick=False):
        await mark_meeting_held(meeting_id, await viewer_for(chair))

    with time_machine.travel(NOW, tick=True):
        board_edition = (await compute_figures(slug, "2026-Q3", "board")).groups[0]
        public_edition = (await compute_figures(slug, "2026-Q3", "public")).groups[0]
    assert public_edition.confidential_matters == 1
    assert board_edition.confidential_matters == 2
