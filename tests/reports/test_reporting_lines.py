"""The dual reporting lines: submission, each line's delivery and response, independence,
immutability, Board-only invisibility to the Director, the schedule, and the audit trail."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from governance.actions.tables import ActionItem
from governance.core.clock import organisation_today
from governance.core.email import render_email
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.core.tables import AuditEvent, OutboundEmail
from governance.groups.tables import WorkingGroup
from governance.reports import board_line, queries, services
from governance.reports.schemas import LineResponse, ReportDraft, ResponseAction
from governance.reports.tables import Delivery, Report
from tests.factories import viewer_for
from tests.helpers import found


def recommendation(
    route: str = "both", title: str = "Flexible hours", body: str = "We recommend flexible hours."
) -> ReportDraft:
    return ReportDraft(kind="recommendation", period="", title=title, body=body, route=route)


async def submitted(cast, fields: ReportDraft | None = None) -> int:
    chair = await viewer_for(cast.chair)
    report_id = await services.create_report(cast.slug, fields or recommendation(), chair)
    await services.submit_report(report_id, chair)
    return report_id


async def delivery_of(report_id: int, recipient: str) -> dict:
    return found(
        await Delivery.select()
        .where((Delivery.report == report_id) & (Delivery.recipient == recipient))
        .first()
    )


async def events(action: str) -> int:
    return int(await AuditEvent.count().where(AuditEvent.action == action))


# --- submission -----------------------------------------------------------------------


async def test_submission_freezes_the_text_and_delivers_along_both_lines_at_once(cast):
    report_id = await submitted(cast)
    report = found(await Report.select().where(Report.id == report_id).first())
    assert report["status"] == "submitted"
    assert report["content_hash"] == services.content_hash(report)
    deliveries = (
        await Delivery.select().where(Delivery.report == report_id).order_by(Delivery.recipient)
    )
    assert [(d["recipient"], d["state"]) for d in deliveries] == [
        ("board", "delivered"),
        ("director", "delivered"),
    ]
    assert all(
        d["response_due_on"] == organisation_today() + dt.timedelta(days=30) for d in deliveries
    )
    recipients = sorted(
        r["recipient"]
        for r in await OutboundEmail.select(OutboundEmail.recipient).where(
            OutboundEmail.template == "report_delivered"
        )
    )
    assert recipients == ["board2@example.org", "board@example.org", "director@example.org"]
    assert await events("report.submitted") == 1


async def test_an_empty_report_cannot_be_submitted_and_nothing_is_delivered(cast):
    chair = await viewer_for(cast.chair)
    report_id = await services.create_report(cast.slug, recommendation(body="   "), chair)
    with pytest.raises(InvalidInput) as refused:
        await services.submit_report(report_id, chair)
    assert "body" in refused.value.field_errors
    assert found(await Report.select(Report.status).first())["status"] == "draft"
    assert await Delivery.count() == 0
    assert await OutboundEmail.count() == 0
    assert await events("report.submitted") == 0


async def test_only_chairs_and_secretaries_draft_and_submit(cast):
    for who in (cast.member, cast.director, cast.board, cast.stranger):
        with pytest.raises(PermissionDenied):
            await services.create_report(cast.slug, recommendation(), await viewer_for(who))
    report_id = await services.create_report(
        cast.slug, recommendation(), await viewer_for(cast.secretary)
    )
    with pytest.raises(PermissionDenied):
        await services.submit_report(report_id, await viewer_for(cast.member))
    with pytest.raises(NotFoundError):  # a draft is the group's own business
        await services.submit_report(report_id, await viewer_for(cast.director))
    await services.submit_report(report_id, await viewer_for(cast.secretary))


async def test_periodic_reports_name_a_period_of_the_groups_cadence_and_go_to_both_lines(cast):
    chair = await viewer_for(cast.chair)
    for period, route in (("2026-13", "both"), ("2026-11", "both"), ("2026-Q4", "board")):
        with pytest.raises(InvalidInput):
            await services.create_report(
                cast.slug,
                ReportDraft(kind="periodic", period=period, title="Q4", body="Text", route=route),
                chair,
            )
    # A periodic report is for a period that has ended (issue 10): the group began in 2026-Q4,
    # whose report is written once the quarter is over.
    with time_machine.travel(dt.datetime(2027, 1, 10, 12, tzinfo=dt.UTC), tick=False):
        report_id = await services.create_report(
            cast.slug,
            ReportDraft(
                kind="periodic", period="2026-q4", title="Q4 report", body="Text", route="both"
            ),
            chair,
        )
    assert (
        found(await Report.select(Report.period).where(Report.id == report_id).first())["period"]
        == "2026-Q4"
    )


async def test_board_only_recommendation_is_delivered_only_to_the_board(cast):
    report_id = await submitted(cast, recommendation("board", "Concerns about management"))
    report = found(await Report.select().where(Report.id == report_id).first())
    assert (report["visibility"], report["to_director"], report["to_board"]) == (
        "board",
        False,
        True,
    )
    assert [d["recipient"] for d in await Delivery.select(Delivery.recipient)] == ["board"]
    recipients = {r["recipient"] for r in await OutboundEmail.select(OutboundEmail.recipient)}
    assert "director@example.org" not in recipients


async def test_director_only_recommendation_is_still_seen_by_the_board(cast):
    report_id = await submitted(cast, recommendation("director", "Office ventilation"))
    assert [d["recipient"] for d in await Delivery.select(Delivery.recipient)] == ["director"]
    page = await services.open_report(report_id, await viewer_for(cast.board))
    assert page.title == "Office ventilation"
    assert [d.recipient for d in page.deliveries] == ["director"]
    assert not page.deliveries[0].can_act


# --- each line's delivery -------------------------------------------------------------


async def test_delivery_state_machine_on_each_line_independently(cast):
    report_id = await submitted(cast)
    director, board, board2 = [
        await viewer_for(u) for u in (cast.director, cast.board, cast.board2)
    ]
    # Read receipts: the first opening by someone on the line, and nobody else.
    await services.open_report(report_id, await viewer_for(cast.member))
    assert (await delivery_of(report_id, "director"))["state"] == "delivered"
    await services.open_report(report_id, director)
    assert (await delivery_of(report_id, "director"))["state"] == "read"
    assert (await delivery_of(report_id, "board"))["state"] == "delivered"
    # The Director acknowledges and responds; the Board line does not move.
    director_delivery = (await delivery_of(report_id, "director"))["id"]
    await services.acknowledge_delivery(director_delivery, director)
    with pytest.raises(ConflictError):
        await services.acknowledge_delivery(director_delivery, director)
    await services.respond_to_delivery(
        director_delivery, LineResponse(response="accepted", rationale="Good idea."), director
    )
    assert (await delivery_of(report_id, "board"))["state"] == "delivered"
    # Any Board member acknowledges for the Board line; its response is a Board
    # resolution (proposed by one member, concurred by another); the record names who.
    board_delivery = (await delivery_of(report_id, "board"))["id"]
    await services.acknowledge_delivery(board_delivery, board2)
    answer = LineResponse(response="partially_accepted", rationale="Only for some teams.")
    with pytest.raises(ConflictError):
        await services.respond_to_delivery(board_delivery, answer, board)
    proposal = await board_line.propose_board_response(board_delivery, answer, board)
    assert (await delivery_of(report_id, "board"))["state"] == "acknowledged"
    await board_line.concur_with_proposal(proposal, board2)
    rows = {d["recipient"]: d for d in await Delivery.select()}
    assert (
        rows["director"]["state"],
        rows["director"]["response"],
        rows["director"]["responded_by"],
    ) == ("responded", "accepted", cast.director)
    assert (
        rows["board"]["acknowledged_by"],
        rows["board"]["responded_by"],
        rows["board"]["response"],
    ) == (cast.board2, cast.board, "partially_accepted")
    assert rows["board"]["read_by"] == cast.board2  # acknowledging also records the reading
    with pytest.raises(ConflictError):
        await services.respond_to_delivery(
            board_delivery, LineResponse(response="declined", rationale="Changed our mind."), board2
        )
    assert (await delivery_of(report_id, "board"))["response"] == "partially_accepted"


async def test_neither_line_can_act_on_the_others_delivery(cast):
    report_id = await submitted(cast)
    director, board = await viewer_for(cast.director), await viewer_for(cast.board)
    board_delivery = (await delivery_of(report_id, "board"))["id"]
    director_delivery = (await delivery_of(report_id, "director"))["id"]
    with pytest.raises(PermissionDenied):
        await services.acknowledge_delivery(board_delivery, director)
    with pytest.raises(PermissionDenied):
        await services.respond_to_delivery(
            director_delivery, LineResponse(response="noted", rationale=""), board
        )
    for who in (cast.chair, cast.member):
        with pytest.raises(PermissionDenied):
            await services.acknowledge_delivery(director_delivery, await viewer_for(who))
    assert {d["state"] for d in await Delivery.select(Delivery.state)} == {"delivered"}


async def test_declining_needs_a_rationale_and_changes_nothing_without_one(cast):
    report_id = await submitted(cast)
    director_delivery = (await delivery_of(report_id, "director"))["id"]
    director = await viewer_for(cast.director)
    for response in ("declined", "partially_accepted"):
        with pytest.raises(InvalidInput) as refused:
            await services.respond_to_delivery(
                director_delivery, LineResponse(response=response, rationale="  "), director
            )
        assert "rationale" in refused.value.field_errors
    with pytest.raises(InvalidInput):
        await services.respond_to_delivery(
            director_delivery, LineResponse(response="maybe", rationale="x"), director
        )
    assert (await delivery_of(report_id, "director"))["state"] == "delivered"
    await services.respond_to_delivery(
        director_delivery, LineResponse(response="noted", rationale=""), director
    )


async def test_a_response_creates_actions_linked_back_to_it(cast):
    report_id = await submitted(cast)
    director = await viewer_for(cast.director)
    director_delivery = (await delivery_of(report_id, "director"))["id"]
    due = organisation_today() + dt.timedelta(days=20)
    action_ids = await services.respond_to_delivery(
        director_delivery,
        LineResponse(
            response="accepted",
            rationale="We will pilot it.",
            actions=[
                ResponseAction(title="Pilot flexible hours", due_on=due, owner_ids=[cast.director])
            ],
        ),
        director,
    )
    action = found(await ActionItem.select().where(ActionItem.id == action_ids[0]).first())
    assert (action["source_type"], action["source_id"], action["group"]) == (
        "response",
        director_delivery,
        cast.group_id,
    )
    page = await services.open_report(report_id, await viewer_for(cast.chair))
    by_line = {d.recipient: d for d in page.deliveries}
    assert [a.title for a in by_line["director"].actions] == ["Pilot flexible hours"]
    assert by_line["board"].actions == []
    assert page.closed is False
    told = {
        r["recipient"]
        for r in await OutboundEmail.select(OutboundEmail.recipient).where(
            OutboundEmail.template == "delivery_responded"
        )
    }
    # Every current member of the group is told, not only its leads (issue 13).
    assert told == {
        "chair@example.org",
        "secretary@example.org",
        "member@example.org",
        "member2@example.org",
    }


async def test_a_response_with_a_past_due_action_records_nothing(cast):
    report_id = await submitted(cast)
    director_delivery = (await delivery_of(report_id, "director"))["id"]
    past = organisation_today() - dt.timedelta(days=1)
    with pytest.raises(InvalidInput):
        await services.respond_to_delivery(
            director_delivery,
            LineResponse(
                response="accepted",
                rationale="Yes",
                actions=[ResponseAction(title="Too late", due_on=past, owner_ids=[cast.director])],
            ),
            await viewer_for(cast.director),
        )
    assert (await delivery_of(report_id, "director"))["state"] == "delivered"
    assert await ActionItem.count() == 0


# --- immutability ---------------------------------------------------------------------


async def test_a_submitted_report_can_never_change(cast):
    report_id = await submitted(cast)
    before = await Report.select().where(Report.id == report_id).first()
    chair = await viewer_for(cast.chair)
    with pytest.raises(ConflictError):
        await services.update_report(report_id, recommendation(title="Rewritten"), chair)
    with pytest.raises(ConflictError):
        await services.discard_draft(report_id, chair)
    with pytest.raises(ConflictError):
        await services.submit_report(report_id, chair)
    assert await Report.select().where(Report.id == report_id).first() == before


# --- Board-only invisibility ----------------------------------------------------------


async def test_director_learns_nothing_of_a_board_only_report(cast):
    hidden = await submitted(cast, recommendation("board", "SECRET-TITLE", "SECRET-BODY"))
    visible = await submitted(cast, recommendation("both", "Open title"))
    director = await viewer_for(cast.director)
    with pytest.raises(NotFoundError):
        await services.open_report(hidden, director)
    with pytest.raises(NotFoundError):
        await queries.get_delivery((await delivery_of(hidden, "board"))["id"], director)
    listing = await queries.group_reports(cast.slug, director)
    assert [r.id for r in listing.reports] == [visible]
    inbox = await queries.inbox(director)
    assert {d.report_id for d in inbox.awaiting} == {visible}
    # The Board sees both.
    board_listing = await queries.group_reports(cast.slug, await viewer_for(cast.board))
    assert {r.id for r in board_listing.reports} == {hidden, visible}
    # No email to the Director mentions it.
    for row in await OutboundEmail.select().where(
        OutboundEmail.recipient == "director@example.org"
    ):
        context = json.loads(row["context"]) if isinstance(row["context"], str) else row["context"]
        rendered = render_email(row["template"], context)
        for part in (rendered.subject, rendered.text, rendered.html):
            assert "SECRET" not in part


# --- views by role --------------------------------------------------------------------


async def test_board_sees_director_line_deliveries_past_due_as_awaiting_management_response(cast):
    report_id = await submitted(cast)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=31), tick=False):
        inbox = await queries.inbox(await viewer_for(cast.board))
        assert [d.report_id for d in inbox.awaiting_management] == [report_id]
        director_inbox = await queries.inbox(await viewer_for(cast.director))
        assert director_inbox.awaiting[0].is_overdue is True
        assert director_inbox.awaiting_management == []
    await services.respond_to_delivery(
        (await delivery_of(report_id, "director"))["id"],
        LineResponse(response="noted", rationale=""),
        await viewer_for(cast.director),
    )
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=31), tick=False):
        assert (await queries.inbox(await viewer_for(cast.board))).awaiting_management == []


# --- the schedule ---------------------------------------------------------------------


async def test_schedule_records_on_time_late_and_missed_per_line(cast):
    # The group began in January 2026; reports are due 30 days after each quarter.
    await WorkingGroup.update(
        {WorkingGroup.created_at: dt.datetime(2026, 1, 5, tzinfo=dt.UTC)}
    ).where(WorkingGroup.id == cast.group_id)
    chair = await viewer_for(cast.chair)

    async def periodic(period: str, when: dt.datetime) -> None:
        with time_machine.travel(when, tick=False):
            report_id = await services.create_report(
                cast.slug,
                ReportDraft(
                    kind="periodic",
                    period=period,
                    title=f"Report {period}",
                    body="Text",
                    route="both",
                ),
                chair,
            )
            await services.submit_report(report_id, chair)

    await periodic("2026-Q1", dt.datetime(2026, 4, 20, 12, tzinfo=dt.UTC))  # due 30 Apr: on time
    await periodic("2026-Q2", dt.datetime(2026, 8, 10, 12, tzinfo=dt.UTC))  # due 30 Jul: late
    # 2026-Q3 never arrives; on 24 Nov 2026 it is past due, and on 31 Jan 2027 it is missed.
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC), tick=False):
        group = found(await WorkingGroup.select().where(WorkingGroup.id == cast.group_id).first())
        schedules = await queries.line_schedules(group, organisation_today())
        for entry in schedules:
            states = {s.period: s.state for s in entry.periods}
            assert states == {
                "2026-Q1": "on_time",
                "2026-Q2": "late",
                "2026-Q3": "overdue",
                "2026-Q4": "upcoming",
            }
            assert (
                entry.next_due_text
                == f"The 2026-Q3 report to the {entry.line_name} is due on 30 Oct 2026, "
                "25 days ago."
            )
    with time_machine.travel(dt.datetime(2027, 1, 31, 12, tzinfo=dt.UTC), tick=False):
        schedules = await queries.line_schedules(group, organisation_today())
        assert {s.period: s.state for s in schedules[0].periods}["2026-Q3"] == "missed"


# --- the audit trail ------------------------------------------------------------------


async def test_every_step_writes_its_audit_event(cast):
    chair = await viewer_for(cast.chair)
    report_id = await services.create_report(
        cast.slug, recommendation("both", "CONFIDENTIAL-TITLE"), chair
    )
    await services.update_report(
        report_id, recommendation("both", "CONFIDENTIAL-TITLE", "Better text"), chair
    )
    await services.submit_report(report_id, chair)
    director = await viewer_for(cast.director)
    await services.open_report(report_id, director)
    delivery_id = (await delivery_of(report_id, "director"))["id"]
    await services.acknowledge_delivery(delivery_id, director)
    await services.respond_to_delivery(
        delivery_id, LineResponse(response="declined", rationale="Not affordable."), director
    )
    for action in (
        "report.drafted",
        "report.draft_updated",
        "report.submitted",
        "delivery.read",
        "delivery.acknowledged",
        "delivery.responded",
    ):
        assert await events(action) == 1, action
    summaries = " ".join(r["summary"] for r in await AuditEvent.select(AuditEvent.summary))
    assert "CONFIDENTIAL-TITLE" not in summaries
