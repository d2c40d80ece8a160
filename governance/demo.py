"""Demo accounts and memberships for `governance init --demo`. Safe to run twice."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from governance.accounts.policy import CurrentUser, Viewer
from governance.accounts.services import RoleChoice, create_user
from governance.accounts.tables import User
from governance.actions import services as actions
from governance.actions.schemas import NewAction, StatusChange
from governance.actions.tables import ActionItem
from governance.core.audit import SYSTEM
from governance.core.clock import organisation_today, utcnow
from governance.core.db import write_transaction
from governance.demo_papers import seed_demo_papers
from governance.demo_pulses import seed_demo_pulses
from governance.groups.queries import get_group, load_viewer
from governance.groups.schemas import NewMembership
from governance.groups.services import add_membership
from governance.groups.tables import ReportingLine, ReportingLineSettings, WorkingGroup
from governance.meetings import services as meetings
from governance.meetings.schemas import (
    COUNTS_TOWARDS_QUORUM,
    AgendaItemDetails,
    Approval,
    AttendanceEntry,
    AttendanceRecord,
    Cancellation,
    MeetingDetails,
    MinutesDraft,
    NewDecision,
)
from governance.meetings.tables import Meeting
from governance.reports import board_line, schedule
from governance.reports import services as reports
from governance.reports.schemas import LineResponse, ReportDraft, ResponseAction
from governance.reports.tables import Delivery, Report, ReportingPeriod
from governance.resolutions import services as resolutions
from governance.resolutions.schemas import NewResolution, NewVote
from governance.resolutions.tables import WrittenResolution
from governance.transparency import services as transparency
from governance.transparency.metrics import last_ended_quarter
from governance.transparency.schemas import GenerateReport, NarrativeChange
from governance.transparency.tables import TransparencyReport

DEMO_PASSWORD = "governance-demo"  # noqa: S105 - documented demo password, demo data only

DEMO_ACCOUNTS = (
    ("admin@example.org", "Ada Lindqvist", RoleChoice(is_admin=True)),
    ("director@example.org", "Dana Mensah", RoleChoice(is_director=True)),
    ("board@example.org", "Bao Tran", RoleChoice(is_board=True)),
    ("board2@example.org", "Beatriz Silva", RoleChoice(is_board=True)),
    ("chair.wellbeing@example.org", "Wren Okafor", RoleChoice()),
    ("member.wellbeing@example.org", "Milo Haddad", RoleChoice()),
    ("chair.ndi@example.org", "Nia Castillo", RoleChoice()),
    ("member.ndi@example.org", "Noor Rahman", RoleChoice()),
)

DEMO_MEMBERSHIPS = (
    ("wellbeing", "chair.wellbeing@example.org", "chair"),
    ("wellbeing", "member.wellbeing@example.org", "member"),
    ("ndi", "chair.ndi@example.org", "chair"),
    ("ndi", "member.ndi@example.org", "member"),
)


async def seed_demo() -> int:
    """Creates whatever demo accounts, memberships and activity are missing.

    Returns how many accounts it created. One transaction: a demo is all there or not at all,
    and a single commit is much quicker than one per record.
    """
    async with write_transaction():
        return await _seed_demo()


async def _seed_demo() -> int:
    created = 0
    for email, name, roles in DEMO_ACCOUNTS:
        if not await User.exists().where(User.email == email):
            await create_user(email, name, roles, DEMO_PASSWORD, SYSTEM)
            created += 1
    if created:
        starts_on = organisation_today() - dt.timedelta(days=365)
        for slug, email, role in DEMO_MEMBERSHIPS:
            group = await get_group(slug)
            await add_membership(
                group["id"], NewMembership(email=email, role=role, starts_on=starts_on), SYSTEM
            )
    for slug, chair_email, member_email in (
        ("wellbeing", "chair.wellbeing@example.org", "member.wellbeing@example.org"),
        ("ndi", "chair.ndi@example.org", "member.ndi@example.org"),
    ):
        await seed_demo_meetings(slug, chair_email, member_email)
        await seed_demo_reporting(slug, chair_email, member_email)
        await seed_demo_resolution(slug, chair_email, member_email)
    await seed_demo_transparency()
    await seed_demo_pulses(
        {
            slug: (await get_group(slug), await _viewer_by_email(chair_email))
            for slug, chair_email in (
                ("wellbeing", "chair.wellbeing@example.org"),
                ("ndi", "chair.ndi@example.org"),
            )
        },
        await _viewer_by_email("admin@example.org"),
    )
    return created


DEMO_TOPICS = {
    "wellbeing": [
        ("Staff wellbeing survey results", "public"),
        ("Workload in the research team", "internal"),
        ("Concerns about senior management conduct", "board"),
        ("Support for a colleague after a field mission", "group"),
    ],
    "ndi": [
        ("Inclusive recruitment guidance", "public"),
        ("Accessibility of the office move", "internal"),
        ("Pay-gap analysis raised with the Board", "board"),
        ("Personal circumstances of a staff member", "group"),
    ],
}


async def _viewer_by_email(email: str) -> Viewer:
    row = await User.select().where(User.email == email).first()
    assert row is not None, f"demo account {email} is missing"
    return await load_viewer(CurrentUser.from_row(row))


async def _delivery_id(report_id: int, recipient: str) -> int:
    row = (
        await Delivery.select(Delivery.id)
        .where((Delivery.report == report_id) & (Delivery.recipient == recipient))
        .first()
    )
    assert row is not None, f"report {report_id} has no {recipient} delivery"
    return int(row["id"])


async def _demo_meeting(slug: str, starts_at: dt.datetime, chair: Viewer) -> tuple[int, list[int]]:
    """One monthly meeting with the group's demo agenda; its id and its items'."""
    fields = MeetingDetails(
        title=f"Monthly meeting {starts_at:%B %Y}",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        location="Meeting room 2 / video link",
    )
    meeting_id = await meetings.schedule_meeting(slug, fields, chair)
    item_ids = []
    for title, visibility in DEMO_TOPICS[slug]:
        notes = f"Papers for *{title.lower()}*."
        item = AgendaItemDetails(title=title, visibility=visibility, notes=notes)
        item_ids.append(await meetings.add_agenda_item(meeting_id, item, chair))
    return meeting_id, item_ids


async def _hold_demo_meeting(
    meeting_id: int, item_ids: list[int], month: int, chair: Viewer, member: Viewer
) -> None:
    """Held, with attendance, draft minutes of every item and one decision."""
    await meetings.mark_meeting_held(meeting_id, chair)
    attendance = AttendanceRecord(
        entries=[
            AttendanceEntry(user_id=chair.user.id, mode="present"),
            AttendanceEntry(user_id=member.user.id, mode="remote" if month % 3 else "apologies"),
        ],
        guests=["Guest speaker"] if month % 4 == 0 else [],
    )
    await meetings.record_attendance(meeting_id, attendance, chair)
    texts = {
        item_id: f"Discussion recorded for item {n + 1}." for n, item_id in enumerate(item_ids)
    }
    await meetings.save_minutes(
        meeting_id, MinutesDraft(summary="The meeting opened on time.", items=texts), chair
    )
    # Every member present or remote votes, and no one else (guests do not vote).
    voters = sum(entry.mode in COUNTS_TOWARDS_QUORUM for entry in attendance.entries)
    decision = NewDecision(
        agenda_item_id=item_ids[month % 4],
        text="Agreed to follow up before the next meeting.",
        votes_for=voters,
    )
    await meetings.record_decision(meeting_id, decision, chair)


async def seed_demo_meetings(slug: str, chair_email: str, member_email: str) -> None:
    """A year of monthly meetings: minutes at every stage, decisions, every visibility."""
    group = await get_group(slug)
    if await Meeting.exists().where(Meeting.group == group["id"]):
        return
    chair = await _viewer_by_email(chair_email)
    member = await _viewer_by_email(member_email)
    first = (utcnow() - dt.timedelta(days=365)).replace(hour=10, minute=0, second=0, microsecond=0)
    held: list[int] = []
    latest: tuple[int, list[int], dt.datetime] | None = None
    for month in range(13):
        starts_at = first + dt.timedelta(days=28 * month)
        meeting_id, item_ids = await _demo_meeting(slug, starts_at, chair)
        if month == 5:
            reason = Cancellation(reason="Too few members available")
            await meetings.cancel_meeting(meeting_id, reason, chair)
            continue
        await _hold_demo_meeting(meeting_id, item_ids, month, chair, member)
        held.append(meeting_id)
        latest = (meeting_id, item_ids, starts_at)
    # Older minutes are approved at the following meeting; the last two are still moving:
    # one circulated for comment, the most recent still in draft.
    for earlier, later in itertools.pairwise(held[:-1]):
        await meetings.circulate_minutes(earlier, chair)
        approval = Approval(method="meeting", approving_meeting_id=later)
        await meetings.approve_minutes(earlier, approval, chair)
    await meetings.circulate_minutes(held[-2], chair)
    if slug == "wellbeing" and latest is not None:
        # Papers on the latest held meeting, whose minutes are still a draft (not locked).
        await seed_demo_papers(*latest, chair)
    ahead = (utcnow() + dt.timedelta(days=10)).replace(hour=10, minute=0, second=0, microsecond=0)
    upcoming = MeetingDetails(
        title="Next monthly meeting",
        starts_at=ahead,
        ends_at=ahead + dt.timedelta(hours=2),
        location="Meeting room 2",
    )
    meeting_id = await meetings.schedule_meeting(slug, upcoming, chair)
    await meetings.add_agenda_item(
        meeting_id, AgendaItemDetails(title="Review of actions", visibility="internal"), chair
    )


DEMO_RESOLUTIONS = {
    "wellbeing": (
        "Extend the employee assistance programme",
        "That the group recommends extending the employee assistance programme to field staff"
        " on short-term contracts.",
    ),
    "ndi": (
        "Adopt the inclusive language guide",
        "That the group adopts the inclusive language guide for its own papers and reports.",
    ),
}


async def seed_demo_resolution(slug: str, chair_email: str, member_email: str) -> None:
    """A written resolution decided since the last meeting: carried by both members' votes
    (the last vote closes it), listed in the next meeting's minutes and the register."""
    group = await get_group(slug)
    if await WrittenResolution.exists().where(WrittenResolution.group == group["id"]):
        return
    chair = await _viewer_by_email(chair_email)
    member = await _viewer_by_email(member_email)
    title, text = DEMO_RESOLUTIONS[slug]
    closes_at = (utcnow() + dt.timedelta(days=5)).replace(second=0, microsecond=0)
    command = NewResolution(title=title, text=text, closes_at=closes_at)
    resolution_id = await resolutions.propose_resolution(slug, command, chair)
    await resolutions.cast_vote(resolution_id, NewVote(choice="for", comment="Agreed."), member)
    await resolutions.cast_vote(resolution_id, NewVote(choice="for"), chair)


async def _backdate_report(
    report_id: int, submitted_at: dt.datetime, response_days: int = 30
) -> None:
    """Demo history only: moves a freshly submitted report and its deliveries into the past."""
    await Report.update({Report.submitted_at: submitted_at, Report.created_at: submitted_at}).where(
        Report.id == report_id
    )
    await Delivery.update(
        {
            Delivery.delivered_at: submitted_at,
            Delivery.response_due_on: submitted_at.date() + dt.timedelta(days=response_days),
        }
    ).where(Delivery.report == report_id)
    # The period it reported, as if recorded on the day it came (on time or late).
    submitted_on = submitted_at.date()
    for row in await ReportingPeriod.select().where(ReportingPeriod.report == report_id):
        outcome = schedule.outcome_of(row["due_on"], row["closes_on"], submitted_on)
        await ReportingPeriod.update(
            {
                ReportingPeriod.submitted_on: submitted_on,
                ReportingPeriod.outcome: outcome,
                ReportingPeriod.recorded_at: submitted_at,
                ReportingPeriod.outcome_at: submitted_at,
            }
        ).where(ReportingPeriod.id == row["id"])


async def seed_demo_reporting(slug: str, chair_email: str, member_email: str) -> None:
    """A year of periodic reports (on time, late, one missed) and recommendations answered in
    every way, one to the Board only, one still awaiting the Director; and their actions."""
    group = await get_group(slug)
    if await Report.exists().where(Report.group == group["id"]):
        return
    year_ago = utcnow() - dt.timedelta(days=365)
    await WorkingGroup.update({WorkingGroup.created_at: year_ago}).where(
        WorkingGroup.id == group["id"]
    )
    lines = ReportingLine.select(ReportingLine.id).where(ReportingLine.group == group["id"])
    await ReportingLineSettings.update({ReportingLineSettings.made_at: year_ago}).where(
        ReportingLineSettings.line.is_in(lines)
    )
    chair = await _viewer_by_email(chair_email)
    await _seed_periodic_reports(group, chair, year_ago.date())
    await _seed_recommendations(slug, chair)
    await _seed_group_actions(group["id"], chair, await _viewer_by_email(member_email))
    # The periods since the group began, the quarter with no report recorded as missed.
    await reports.record_periods()


async def _seed_periodic_reports(group: dict[str, Any], chair: Viewer, start: dt.date) -> None:
    """Each quarter since the group began, except one recorded as missed and one late; both
    lines note each."""
    director = await _viewer_by_email("director@example.org")
    board = await _viewer_by_email("board@example.org")
    today = organisation_today()
    quarters = schedule.periods_between("quarterly", start, today)
    for index, quarter in enumerate(quarters[:-1]):
        if index == 1:
            continue  # missed
        late = index == 2
        submitted_on = quarter.ends_on + dt.timedelta(days=45 if late else 20)
        if submitted_on >= today:
            continue
        draft = ReportDraft(
            kind="periodic",
            period=quarter.label,
            title=f"{group['name']}: report for {quarter.label}",
            body=f"## Activity in {quarter.label}\n\n- Monthly meetings held\n"
            "- Survey work continued",
        )
        report_id = await reports.create_report(group["slug"], draft, chair)
        await reports.submit_report(report_id, chair)
        await _backdate_report(
            report_id, dt.datetime.combine(submitted_on, dt.time(11), tzinfo=dt.UTC)
        )
        to_director = await _delivery_id(report_id, "director")
        await reports.acknowledge_delivery(to_director, director)
        await reports.respond_to_delivery(to_director, LineResponse(response="noted"), director)
        to_board = await _delivery_id(report_id, "board")
        await reports.acknowledge_delivery(to_board, board)
        await _board_answers(to_board, LineResponse(response="noted"), board)


async def _board_answers(delivery_id: int, answer: LineResponse, proposer: Viewer) -> None:
    """The Board line's response by resolution: one Board member proposes it and the other
    demo Board member concurs (the default rule for a Board of two: one concurrence)."""
    concurrer = await _viewer_by_email(
        "board2@example.org" if proposer.user.email == "board@example.org" else "board@example.org"
    )
    proposal_id = await board_line.propose_board_response(delivery_id, answer, proposer)
    await board_line.concur_with_proposal(proposal_id, concurrer)


async def _recommendation(
    slug: str, chair: Viewer, title: str, body: str, route: str, days_ago: int
) -> int:
    """A recommendation submitted `days_ago` days ago."""
    draft = ReportDraft(kind="recommendation", title=title, body=body, route=route)
    report_id = await reports.create_report(slug, draft, chair)
    await reports.submit_report(report_id, chair)
    await _backdate_report(report_id, utcnow() - dt.timedelta(days=days_ago))
    return report_id


def _answer(
    response: str, rationale: str, action: str = "", owner: Viewer | None = None
) -> LineResponse:
    """A line's response, with one action due in 45 days if `action` names one."""
    due = organisation_today() + dt.timedelta(days=45)
    actions = [ResponseAction(title=action, due_on=due, owner_ids=[owner.user.id])] if owner else []
    return LineResponse(response=response, rationale=rationale, actions=actions)


async def _seed_recommendations(slug: str, chair: Viewer) -> None:
    """Recommendations answered differently by each line, one to the Board only, and one
    whose Director line is past due."""
    director = await _viewer_by_email("director@example.org")
    board = await _viewer_by_email("board@example.org")
    board2 = await _viewer_by_email("board2@example.org")
    answered = await _recommendation(
        slug,
        chair,
        "Flexible working hours for all teams",
        "We recommend a written flexible-hours policy, reviewed after six months.",
        "both",
        120,
    )
    to_director = await _delivery_id(answered, "director")
    await reports.acknowledge_delivery(to_director, director)
    rationale = "Agreed for office-based teams now; field teams after the review."
    action = "Draft the flexible-hours policy"
    answer = _answer("partially_accepted", rationale, action, director)
    await reports.respond_to_delivery(to_director, answer, director)
    rationale = "The Board supports the recommendation in full."
    answer = _answer(
        "accepted", rationale, "Board to review the policy at its next meeting", board2
    )
    await _board_answers(await _delivery_id(answered, "board"), answer, board2)
    declined = await _recommendation(
        slug,
        chair,
        "A fourth well-being day",
        "An extra paid well-being day each year.",
        "director",
        80,
    )
    rationale = "Not affordable this financial year; to be reconsidered next year."
    await reports.respond_to_delivery(
        await _delivery_id(declined, "director"), _answer("declined", rationale), director
    )
    body = "Staff should be able to raise grievances outside their line management."
    # The Director line is past due; on the Board line, a proposed response awaits the
    # other Board member's concurrence (which the Director never sees).
    grievances = await _recommendation(
        slug, chair, "Independent channel for grievances", body, "both", 50
    )
    if slug == "wellbeing":
        rationale = "The Board supports an independent channel, run by the Board's secretary."
        await board_line.propose_board_response(
            await _delivery_id(grievances, "board"), _answer("accepted", rationale), board
        )
    if slug == "wellbeing":
        body = "Raised with the Board only, as the matter concerns management."
        title = "Concerns about senior management conduct"
        board_only = await _recommendation(slug, chair, title, body, "board", 20)
        await reports.acknowledge_delivery(await _delivery_id(board_only, "board"), board)


async def _seed_group_actions(group_id: int, chair: Viewer, member: Viewer) -> None:
    """Group actions: one done, one in progress, one overdue."""
    today = organisation_today()
    for title, status, days in (
        ("Publish the survey summary", "done", 30),
        ("Organise a workload workshop", "in_progress", 20),
        ("Update the buddy scheme guide", "open", 10),
    ):
        action_id = await actions.create_action(
            group_id,
            NewAction(
                title=title, due_on=today + dt.timedelta(days=days), owner_ids=[member.user.id]
            ),
            chair,
        )
        if status in ("in_progress", "done"):
            await actions.update_status(
                action_id, StatusChange(status="in_progress", note="Started."), member
            )
        if status == "done":
            await actions.update_status(
                action_id, StatusChange(status="done", note="Published on the intranet."), member
            )
    await ActionItem.update({ActionItem.due_on: today - dt.timedelta(days=5)}).where(
        (ActionItem.group == group_id) & (ActionItem.title == "Update the buddy scheme guide")
    )


async def seed_demo_transparency() -> None:
    """The last ended quarter's reports published, both editions, for each group and the
    organisation; and this year's annual reports as drafts, still gathering figures."""
    if await TransparencyReport.exists():
        return
    today = organisation_today()
    quarter = last_ended_quarter(today).label
    year = str(today.year)
    board = await _viewer_by_email("board@example.org")
    for scope, manager_email in (
        ("wellbeing", "chair.wellbeing@example.org"),
        ("ndi", "chair.ndi@example.org"),
        ("organisation", "board@example.org"),
    ):
        manager = board if scope == "organisation" else await _viewer_by_email(manager_email)
        for edition in ("board", "public"):
            generated = await transparency.generate_report(
                GenerateReport(scope=scope, period=quarter, edition=edition), manager
            )
            await transparency.update_narrative(
                generated.report_id,
                NarrativeChange(
                    narrative=f"A quarter of steady work. Figures for {quarter} are drawn from"
                    " the records; the group's commentary follows in the annual report."
                ),
                manager,
            )
            await transparency.approve_report(generated.report_id, manager)
            await transparency.publish_report(generated.report_id, manager)
            await transparency.generate_report(
                GenerateReport(scope=scope, period=year, edition=edition), manager
            )
