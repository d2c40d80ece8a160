"""The demo organisation of `governance init --demo`, recorded through the services on the
day each thing would have happened (`core.clock.as_of`), so that every row and audit event
carries its own time. Safe to run twice; the same world every time (seeded randomness)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from governance.accounts.passwords import hash_password_off_loop
from governance.accounts.policy import CurrentUser, Viewer
from governance.accounts.services import RoleChoice
from governance.accounts.tables import User
from governance.actions import services as actions
from governance.actions.schemas import NewAction, ProgressNote, StatusChange
from governance.core.audit import SYSTEM, record_event
from governance.core.clock import (
    as_of,
    date_in_zone,
    organisation_today,
    organisation_zone,
    utcnow,
)
from governance.core.db import write_transaction
from governance.demo_papers import seed_demo_papers
from governance.demo_pulses import seed_demo_pulses
from governance.demo_world import (
    DEMO_ACTIONS,
    DEMO_PEOPLE,
    DEMO_RECOMMENDATIONS,
    DEMO_SCHEDULE,
    DEMO_SUMMARY,
    DEMO_TERMS,
    DEMO_TOPICS,
    FOUNDED_AGO,
    TOPIC_VISIBILITIES,
    Answer,
    Term,
    Topic,
)
from governance.groups.queries import get_group, load_viewer, members_on
from governance.groups.schemas import MembershipTerm, NewMembership
from governance.groups.services import add_membership, update_membership
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
from governance.reports.tables import Delivery, Report
from governance.resolutions import services as resolutions
from governance.resolutions.schemas import NewResolution, NewVote
from governance.resolutions.tables import WrittenResolution
from governance.settings import get_settings
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


async def seed_demo() -> int:
    """Creates whatever demo accounts, memberships and activity are missing.

    Returns how many accounts it created. One transaction: a demo is all there or not at all,
    and a single commit is much quicker than one per record.
    """
    async with write_transaction():
        return await _seed_demo()


async def _seed_demo() -> int:
    founded = utcnow() - dt.timedelta(days=FOUNDED_AGO)
    created = await _seed_accounts(founded - dt.timedelta(days=14))
    for slug in DEMO_TERMS:
        group = await get_group(slug)
        if created:
            await _date_group_from(group["id"], founded)
            await _seed_terms(group["id"], DEMO_TERMS[slug])
        chair = await _viewer_by_email(DEMO_TERMS[slug][0].email)
        await seed_demo_meetings(slug, chair)
        await seed_demo_reporting(slug, chair)
        await seed_demo_resolution(slug, chair)
    await seed_demo_transparency()
    await seed_demo_pulses(
        {
            slug: (await get_group(slug), await _viewer_by_email(terms[0].email))
            for slug, terms in DEMO_TERMS.items()
        },
        await _viewer_by_email("admin@example.org"),
    )
    return created


def _at(days_ago: float, hour: int = 10) -> dt.datetime:
    """A moment `days_ago` days back (fractions allowed), at `hour` UTC of that day."""
    day = utcnow() - dt.timedelta(days=days_ago)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


async def _seed_accounts(joined_at: dt.datetime) -> int:
    """The demo accounts, with one hash of the demo password for all (a hash costs a
    sixth of a second): the rows and audit events `create_user` writes."""
    people = [(email, name, roles) for email, name, roles in DEMO_ACCOUNTS]
    people += [(email, name, RoleChoice()) for email, name in DEMO_PEOPLE]
    taken = {row["email"] for row in await User.select(User.email)}
    missing = [person for person in people if person[0] not in taken]
    if not missing:
        return 0
    password_hash = await hash_password_off_loop(DEMO_PASSWORD)
    with as_of(joined_at):
        for email, name, roles in missing:
            rows = await User.insert(
                User(
                    email=email,
                    display_name=name,
                    password_hash=password_hash,
                    is_admin=roles.is_admin,
                    is_director=roles.is_director,
                    is_board=roles.is_board,
                    timezone=get_settings().timezone,
                    created_at=utcnow(),
                )
            ).returning(User.id)
            summary = f"Account {email} created ({roles.describe()})"
            await record_event(SYSTEM, "user.created", "user", rows[0]["id"], summary)
    return len(missing)


async def _date_group_from(group_id: int, founded: dt.datetime) -> None:
    """Demo history only: the group and its reporting lines began a year ago (made at
    seeding time by `seed_default_groups`), so their periods run from then."""
    await WorkingGroup.update({WorkingGroup.created_at: founded}).where(WorkingGroup.id == group_id)
    lines = ReportingLine.select(ReportingLine.id).where(ReportingLine.group == group_id)
    await ReportingLineSettings.update({ReportingLineSettings.made_at: founded}).where(
        ReportingLineSettings.line.is_in(lines)
    )


async def _seed_terms(group_id: int, terms: tuple[Term, ...]) -> None:
    """Each term added on the day it began; a term that ended, ended on its day."""
    admin = await _viewer_by_email("admin@example.org")
    today = organisation_today()
    for term in terms:
        starts_on = today - dt.timedelta(days=term.joined_ago)
        ends_on = today + dt.timedelta(days=term.ends_in) if term.ends_in else None
        with as_of(_at(term.joined_ago, hour=9)):
            command = NewMembership(
                email=term.email, role=term.role, starts_on=starts_on, ends_on=ends_on
            )
            membership_id = await add_membership(group_id, command, SYSTEM)
        if term.left_ago is not None:
            with as_of(_at(term.left_ago, hour=9)):
                ended = MembershipTerm(
                    role=term.role,
                    starts_on=starts_on,
                    ends_on=today - dt.timedelta(days=term.left_ago),
                )
                await update_membership(membership_id, ended, admin.user)


async def _viewer_by_email(email: str) -> Viewer:
    row = await User.select().where(User.email == email).first()
    assert row is not None, f"demo account {email} is missing"
    return await load_viewer(CurrentUser.from_row(row))


async def _viewer_by_id(user_id: int) -> Viewer:
    row = await User.select().where(User.id == user_id).first()
    assert row is not None, f"demo account {user_id} is missing"
    return await load_viewer(CurrentUser.from_row(row))


async def _delivery_id(report_id: int, recipient: str) -> int:
    row = (
        await Delivery.select(Delivery.id)
        .where((Delivery.report == report_id) & (Delivery.recipient == recipient))
        .first()
    )
    assert row is not None, f"report {report_id} has no {recipient} delivery"
    return int(row["id"])


# --- meetings ---------------------------------------------------------------------------


def meeting_days(slug: str, today: dt.date) -> list[dt.datetime]:
    """The group's monthly meetings since it began (its week and weekday of each month),
    and the next one still ahead, last."""
    week, weekday, hour, _ = DEMO_SCHEDULE[slug]
    founded = today - dt.timedelta(days=FOUNDED_AGO - 7)
    days = []
    for months_back in range(13, -3, -1):
        month_index = today.year * 12 + today.month - 1 - months_back
        first = dt.date(month_index // 12, month_index % 12 + 1, 1)
        day = first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (week - 1))
        if day < founded:
            continue
        days.append(dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC))
        if day > today:
            break
    return days


def _topic(slug: str, visibility: str, month: int) -> Topic:
    pool = DEMO_TOPICS[slug][visibility]
    return pool[month % len(pool)]


async def _demo_meeting(
    slug: str, starts_at: dt.datetime, month: int, chair: Viewer
) -> tuple[int, list[int]]:
    """One monthly meeting with the group's topics of that month; its id and its items'."""
    place = DEMO_SCHEDULE[slug][3]
    fields = MeetingDetails(
        title=f"Monthly meeting, {starts_at:%B %Y}",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        location=place,
    )
    meeting_id = await meetings.schedule_meeting(slug, fields, chair)
    item_ids = []
    for visibility in TOPIC_VISIBILITIES:
        title = _topic(slug, visibility, month).title
        notes = f"Papers for *{title.lower()}* are attached or follow."
        item = AgendaItemDetails(title=title, visibility=visibility, notes=notes)
        item_ids.append(await meetings.add_agenda_item(meeting_id, item, chair))
    return meeting_id, item_ids


def _attendance(members: list[dict[str, Any]], chair: Viewer, month: int) -> AttendanceRecord:
    """Most members come, some by video, one or two send apologies; now and then a guest."""
    # The same demo every time: made-up attendance, not a secret.
    chance = random.Random(month * 31 + len(members))  # noqa: S311
    entries = []
    for member in members:
        if member["user"] == chair.user.id:
            mode = "present"
        else:
            mode = chance.choices(("present", "remote", "apologies", "absent"), (6, 3, 2, 1))[0]
        entries.append(AttendanceEntry(user_id=member["user"], mode=mode))
    guests = ["Guest speaker from HR"] if month % 4 == 0 else []
    return AttendanceRecord(entries=entries, guests=guests)


async def _hold_demo_meeting(
    slug: str, meeting_id: int, item_ids: list[int], month: int, chair: Viewer
) -> None:
    """Held, with attendance of the members on the day, minutes of every item and one
    decision (now and then not unanimous)."""
    meeting = await Meeting.select(Meeting.group, Meeting.starts_at).where(Meeting.id == meeting_id)
    await meetings.mark_meeting_held(meeting_id, chair)
    members = await members_on(meeting[0]["group"], date_in_zone(meeting[0]["starts_at"]))
    attendance = _attendance(members, chair, month)
    await meetings.record_attendance(meeting_id, attendance, chair)
    texts = {
        item_id: _topic(slug, visibility, month).minutes
        for item_id, visibility in zip(item_ids, TOPIC_VISIBILITIES, strict=True)
    }
    await meetings.save_minutes(
        meeting_id, MinutesDraft(summary=DEMO_SUMMARY[slug], items=texts), chair
    )
    # Every member present or remote votes, and no one else (guests do not vote).
    voters = sum(entry.mode in COUNTS_TOWARDS_QUORUM for entry in attendance.entries)
    against = 1 if month % 4 == 1 and voters > 3 else 0
    abstain = 1 if month % 3 == 2 and voters > 4 else 0
    visibility = TOPIC_VISIBILITIES[month % 4]
    decision = NewDecision(
        agenda_item_id=item_ids[month % 4],
        text=_topic(slug, visibility, month).decision,
        votes_for=voters - against - abstain,
        votes_against=against,
        votes_abstain=abstain,
    )
    await meetings.record_decision(meeting_id, decision, chair)


async def seed_demo_meetings(slug: str, chair: Viewer) -> None:
    """A year of monthly meetings, each recorded when it happened: scheduled three weeks
    ahead, held, its minutes circulated a few days later and approved at the next meeting;
    one cancelled; the last two minutes still moving (one circulated for comment, the most
    recent still in draft); and the next meeting ahead."""
    group = await get_group(slug)
    if await Meeting.exists().where(Meeting.group == group["id"]):
        return
    days = meeting_days(slug, organisation_today())
    past, upcoming = days[:-1], days[-1]
    previous: int | None = None
    for month, starts_at in enumerate(past):
        with as_of(starts_at - dt.timedelta(days=21)):
            meeting_id, item_ids = await _demo_meeting(slug, starts_at, month, chair)
        if month == len(past) - 1 and slug == "wellbeing":
            # Papers on the latest held meeting, whose minutes are still a draft (not locked).
            with as_of(starts_at - dt.timedelta(days=7)):
                await seed_demo_papers(meeting_id, item_ids, starts_at, chair)
        if month == 5:
            with as_of(starts_at - dt.timedelta(days=3)):
                reason = Cancellation(reason="Too few members available")
                await meetings.cancel_meeting(meeting_id, reason, chair)
            continue
        with as_of(starts_at + dt.timedelta(hours=2, minutes=10)):
            await _hold_demo_meeting(slug, meeting_id, item_ids, month, chair)
            if previous is not None and month < len(past) - 1:
                approval = Approval(method="meeting", approving_meeting_id=meeting_id)
                await meetings.approve_minutes(previous, approval, chair)
        if month < len(past) - 1:
            with as_of(starts_at + dt.timedelta(days=4)):
                await meetings.circulate_minutes(meeting_id, chair)
        previous = meeting_id
    with as_of(upcoming - dt.timedelta(days=21)):
        meeting_id, _ = await _demo_meeting(slug, upcoming, len(past), chair)
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


async def seed_demo_resolution(slug: str, chair: Viewer) -> None:
    """A written resolution decided since the last meeting: carried when every member
    today has voted (the last vote closes it), listed in the next meeting's minutes and the
    register."""
    group = await get_group(slug)
    if await WrittenResolution.exists().where(WrittenResolution.group == group["id"]):
        return
    title, text = DEMO_RESOLUTIONS[slug]
    proposed_at = utcnow() - dt.timedelta(days=3)
    with as_of(proposed_at):
        closes_at = (utcnow() + dt.timedelta(days=8)).replace(second=0, microsecond=0)
        command = NewResolution(title=title, text=text, closes_at=closes_at)
        resolution_id = await resolutions.propose_resolution(slug, command, chair)
    members = await members_on(group["id"], organisation_today())
    others = [member for member in members if member["user"] != chair.user.id]
    for hours, member in enumerate(others, start=1):
        with as_of(proposed_at + dt.timedelta(hours=5 * hours)):
            voter = await _viewer_by_id(member["user"])
            choice = "abstain" if hours == 3 else "for"
            await resolutions.cast_vote(resolution_id, NewVote(choice=choice), voter)
    await resolutions.cast_vote(resolution_id, NewVote(choice="for", comment="Agreed."), chair)


# --- reports ----------------------------------------------------------------------------


def _delays(seed: int) -> tuple[float, float]:
    """Days from delivery to acknowledgement and from acknowledgement to response: a few
    days to acknowledge, two to four weeks to respond (the same every time)."""
    chance = random.Random(seed)  # noqa: S311 - made-up delays, not a secret
    return chance.uniform(0.5, 6), chance.uniform(8, 26)


async def seed_demo_reporting(slug: str, chair: Viewer) -> None:
    """A year of periodic reports (on time, late, one missed) and recommendations answered in
    every way, one to the Board only, one still awaiting the Director; and their actions;
    each step recorded on the day it was taken."""
    group = await get_group(slug)
    if await Report.exists().where(Report.group == group["id"]):
        return
    await _seed_periodic_reports(group, chair)
    await _seed_recommendations(slug, chair)
    await _seed_pending_recommendations(slug, chair)
    await _seed_group_actions(slug, group["id"], chair)
    # The periods since the group began, the quarter with no report recorded as missed.
    await reports.record_periods()


async def _submitted(slug: str, draft: ReportDraft, chair: Viewer, at: dt.datetime) -> int:
    with as_of(at):
        report_id = await reports.create_report(slug, draft, chair)
        await reports.submit_report(report_id, chair)
    return report_id


async def _director_answers(
    report_id: int, answer: LineResponse | None, seed: int, acknowledge: bool = True
) -> None:
    """The Director acknowledges a few days after delivery and answers weeks later, as far
    as those days have come."""
    director = await _viewer_by_email("director@example.org")
    delivery_id = await _delivery_id(report_id, "director")
    delivered = (await Delivery.select(Delivery.delivered_at).where(Delivery.id == delivery_id))[0][
        "delivered_at"
    ]
    to_acknowledge, to_respond = _delays(seed)
    acknowledged_at = delivered + dt.timedelta(days=to_acknowledge)
    if acknowledge and acknowledged_at < utcnow():
        with as_of(acknowledged_at):
            await reports.acknowledge_delivery(delivery_id, director)
    responded_at = acknowledged_at + dt.timedelta(days=to_respond)
    if answer is not None and responded_at < utcnow():
        with as_of(responded_at):
            await reports.respond_to_delivery(delivery_id, _dated(answer), director)


async def _board_answers(
    report_id: int, answer: LineResponse | None, seed: int, concur: bool = True
) -> None:
    """The Board line's response by resolution: one Board member acknowledges and proposes
    it, and the other concurs two days later (the default rule for a Board of two)."""
    board = await _viewer_by_email("board@example.org")
    board2 = await _viewer_by_email("board2@example.org")
    delivery_id = await _delivery_id(report_id, "board")
    delivered = (await Delivery.select(Delivery.delivered_at).where(Delivery.id == delivery_id))[0][
        "delivered_at"
    ]
    to_acknowledge, to_respond = _delays(seed + 7)
    acknowledged_at = delivered + dt.timedelta(days=to_acknowledge)
    if acknowledged_at < utcnow():
        with as_of(acknowledged_at):
            await reports.acknowledge_delivery(delivery_id, board)
    proposed_at = acknowledged_at + dt.timedelta(days=to_respond)
    if answer is None or proposed_at > utcnow():
        return
    with as_of(proposed_at):
        proposal_id = await board_line.propose_board_response(delivery_id, _dated(answer), board)
    concurred_at = proposed_at + dt.timedelta(days=2)
    if concur and concurred_at < utcnow():
        with as_of(concurred_at):
            await board_line.concur_with_proposal(proposal_id, board2)


def _dated(answer: LineResponse) -> LineResponse:
    """The answer with its actions due 45 days after the day it is given."""
    due = organisation_today() + dt.timedelta(days=45)
    actions = [
        ResponseAction(title=action.title, due_on=due, owner_ids=action.owner_ids)
        for action in answer.actions
    ]
    return LineResponse(response=answer.response, rationale=answer.rationale, actions=actions)


async def _seed_periodic_reports(group: dict[str, Any], chair: Viewer) -> None:
    """Each quarter since the group began, except one missed and one late; both lines note
    each."""
    today = organisation_today()
    start = today - dt.timedelta(days=FOUNDED_AGO)
    quarters = schedule.periods_between("quarterly", start, today)
    for index, quarter in enumerate(quarters[:-1]):
        if index == 1:
            continue  # missed
        late = index == 2
        submitted_on = quarter.ends_on + dt.timedelta(days=45 if late else 12 + index)
        if submitted_on >= today:
            continue
        draft = ReportDraft(
            kind="periodic",
            period=quarter.label,
            title=f"{group['name']}: report for {quarter.label}",
            body=_periodic_body(group["slug"], quarter.label, index),
        )
        at = dt.datetime.combine(submitted_on, dt.time(11), tzinfo=dt.UTC)
        report_id = await _submitted(group["slug"], draft, chair, at)
        seed = group["id"] * 100 + index
        await _director_answers(report_id, LineResponse(response="noted"), seed)
        await _board_answers(report_id, LineResponse(response="noted"), seed)


def _periodic_body(slug: str, label: str, index: int) -> str:
    topics = [
        _topic(slug, visibility, month).title
        for month in range(index * 3, index * 3 + 3)
        for visibility in ("public", "internal")
    ]
    lines = "\n".join(f"- {title}" for title in dict.fromkeys(topics))
    return (
        f"## Activity in {label}\n\nThe group met monthly. Its main subjects were:\n\n{lines}\n\n"
        "## Next quarter\n\nThe group will follow up its open actions and report on them."
    )


def _answer(answer: Answer, owner: Viewer) -> LineResponse | None:
    if answer is None:
        return None
    response, rationale, action = answer
    due = organisation_today() + dt.timedelta(days=45)
    actions = [ResponseAction(title=action, due_on=due, owner_ids=[owner.user.id])]
    return LineResponse(response=response, rationale=rationale, actions=actions if action else [])


async def _seed_recommendations(slug: str, chair: Viewer) -> None:
    """The group's recommendations, each answered by its lines in their time."""
    director = await _viewer_by_email("director@example.org")
    board = await _viewer_by_email("board@example.org")  # who proposes the Board's answers
    for n, (title, body, route, days_ago, to_director, to_board) in enumerate(
        DEMO_RECOMMENDATIONS[slug]
    ):
        draft = ReportDraft(kind="recommendation", title=title, body=body, route=route)
        report_id = await _submitted(slug, draft, chair, _at(days_ago, hour=11))
        seed = len(slug) * 1000 + n
        if route in ("both", "director"):
            await _director_answers(report_id, _answer(to_director, director), seed)
        if route in ("both", "board"):
            await _board_answers(report_id, _answer(to_board, board), seed)


async def _seed_pending_recommendations(slug: str, chair: Viewer) -> None:
    """A recommendation whose Director line is past due, and (Wellbeing) a Board-only one;
    on the Wellbeing Board line a proposed response awaits the other Board member's
    concurrence (which the Director never sees)."""
    title, body = {
        "wellbeing": (
            "Independent channel for grievances",
            "Staff should be able to raise grievances outside their line management.",
        ),
        "ndi": (
            "A named contact for reasonable adjustments",
            "Every request for an adjustment should have one named contact in HR.",
        ),
    }[slug]
    draft = ReportDraft(kind="recommendation", title=title, body=body, route="both")
    report_id = await _submitted(slug, draft, chair, _at(50, hour=11))
    seed = len(slug) * 1000 + 50
    await _director_answers(report_id, None, seed, acknowledge=slug == "ndi")
    if slug == "wellbeing":
        rationale = "The Board supports an independent channel, run by the Board's secretary."
        answer = LineResponse(response="accepted", rationale=rationale)
        await _board_answers(report_id, answer, seed, concur=False)
        body = "Raised with the Board only, as the matter concerns management."
        title = "Concerns about senior management conduct"
        draft = ReportDraft(kind="recommendation", title=title, body=body, route="board")
        board_only = await _submitted(slug, draft, chair, _at(20, hour=11))
        await _board_answers(board_only, None, seed + 1)


async def _seed_group_actions(slug: str, group_id: int, chair: Viewer) -> None:
    """The group's own actions, each created weeks before it falls due: one done, one in
    progress, one overdue."""
    owners = [
        term.email
        for term in DEMO_TERMS[slug]
        if term.role == "member" and term.joined_ago == FOUNDED_AGO and term.left_ago is None
    ]
    for n, (title, status, note, due_after) in enumerate(DEMO_ACTIONS[slug]):
        owner = await _viewer_by_email(owners[n])
        created_ago = {"done": 70, "in_progress": 25, "open": 40}[status]
        with as_of(_at(created_ago, hour=15)):
            command = NewAction(
                title=title,
                due_on=organisation_today() + dt.timedelta(days=due_after),
                owner_ids=[owner.user.id],
            )
            action_id = await actions.create_action(group_id, command, chair)
        if status in ("in_progress", "done"):
            with as_of(_at(created_ago - 4, hour=12)):
                change = StatusChange(status="in_progress", note="Started.")
                await actions.update_status(action_id, change, owner)
        if status == "done":
            with as_of(_at(created_ago - 24, hour=16)):
                change = StatusChange(status="done", note=note)
                await actions.update_status(action_id, change, owner)
        elif note:
            with as_of(_at(created_ago - 10, hour=12)):
                await actions.add_progress(action_id, ProgressNote(body=note), owner)


# When a quarter's reports would have been made, after the quarter's end (local midnight):
# counted and written, approved, published.
QUARTER_REPORT_STEPS = (
    dt.timedelta(days=3, hours=10),
    dt.timedelta(days=6, hours=15),
    dt.timedelta(days=8, hours=11),
)
QUARTER_REPORT_SPAN = dt.timedelta(days=9)


def quarter_report_moments(ends_on: dt.date) -> tuple[dt.datetime, ...]:
    """The quarter's reports generated, approved and published days after it ended; a demo
    seeded within days of the end has them in the time since, so each step falls after the
    period and before the demo's now, in order."""
    ended = dt.datetime.combine(
        ends_on + dt.timedelta(days=1), dt.time(), organisation_zone()
    ).astimezone(dt.UTC)
    scale = min(1.0, (utcnow() - ended) / QUARTER_REPORT_SPAN)
    return tuple(ended + step * scale for step in QUARTER_REPORT_STEPS)


async def seed_demo_transparency() -> None:
    """The last ended quarter's reports published, both editions, for each group and the
    organisation, dated when they would have been (`quarter_report_moments`); and this
    year's annual reports as drafts, still gathering figures (counted now)."""
    if await TransparencyReport.exists():
        return
    today = organisation_today()
    quarter = last_ended_quarter(today)
    year = str(today.year)
    board = await _viewer_by_email("board@example.org")
    for scope, manager_email in (
        ("wellbeing", "chair.wellbeing@example.org"),
        ("ndi", "chair.ndi@example.org"),
        ("organisation", "board@example.org"),
    ):
        manager = board if scope == "organisation" else await _viewer_by_email(manager_email)
        for edition in ("board", "public"):
            await _publish_quarter_report(scope, quarter.label, quarter.ends_on, edition, manager)
            await transparency.generate_report(
                GenerateReport(scope=scope, period=year, edition=edition), manager
            )


async def _publish_quarter_report(
    scope: str, quarter: str, ends_on: dt.date, edition: str, manager: Viewer
) -> None:
    generated_at, approved_at, published_at = quarter_report_moments(ends_on)
    with as_of(generated_at):
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
    with as_of(approved_at):
        await transparency.approve_report(generated.report_id, manager)
    with as_of(published_at):
        await transparency.publish_report(generated.report_id, manager)
