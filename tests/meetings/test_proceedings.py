"""The rules of proceedings: quorum on the meeting date, the agenda, attendance, the minutes
state machine with every refused transition, decisions, and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.core.clock import organisation_today, utcnow
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.core.tables import AuditEvent
from governance.groups.queries import members_on
from governance.meetings import queries, services
from governance.meetings.schemas import (
    AgendaItemDetails,
    AgendaMove,
    Approval,
    AttendanceEntry,
    AttendanceRecord,
    Cancellation,
    MeetingDetails,
    MinutesDraft,
    NewComment,
    NewDecision,
    NewErratum,
)
from governance.meetings.tables import AgendaItem, Attendance, Decision, Erratum, Meeting, Minutes
from tests.factories import make_meeting, make_membership, make_user, viewer_for
from tests.helpers import found


def _past(days: int) -> dt.datetime:
    return (utcnow() - dt.timedelta(days=days)).replace(microsecond=0)


async def _held_meeting(cast, days_ago: int = 3, title: str = "Held meeting") -> int:
    meeting_id = await make_meeting(cast.slug, cast.chair, title=title, starts_at=_past(days_ago))
    chair = await viewer_for(cast.chair)
    await services.add_agenda_item(
        meeting_id, AgendaItemDetails(title="Budget", visibility="internal", notes=""), chair
    )
    await services.mark_meeting_held(meeting_id, chair)
    return meeting_id


async def _events(action: str) -> int:
    return int(await AuditEvent.count().where(AuditEvent.action == action))


# --- quorum ---------------------------------------------------------------------------


async def test_quorum_counts_members_current_on_the_meeting_date(cast):
    meeting_day = organisation_today() - dt.timedelta(days=10)
    # One membership ended the day before the meeting, one on the meeting day itself.
    ended_before = await make_user("ended-before@example.org")
    ended_on_day = await make_user("ended-on-day@example.org")
    await make_membership(
        ended_before,
        cast.group_id,
        "member",
        meeting_day - dt.timedelta(days=90),
        meeting_day - dt.timedelta(days=1),
    )
    await make_membership(
        ended_on_day, cast.group_id, "member", meeting_day - dt.timedelta(days=90), meeting_day
    )
    starts_at = dt.datetime.combine(meeting_day, dt.time(10, 0), tzinfo=dt.UTC)
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=starts_at)
    meeting = found(await Meeting.select(Meeting.starts_at).where(Meeting.id == meeting_id).first())
    members = await members_on(cast.group_id, queries.meeting_date(meeting["starts_at"]))
    member_ids = {m["user"] for m in members}
    assert ended_on_day in member_ids
    assert ended_before not in member_ids
    assert cast.former not in member_ids
    # chair, secretary, member, member2, ended_on_day: five members, so three are needed.
    chair = await viewer_for(cast.chair)
    await services.record_attendance(
        meeting_id,
        AttendanceRecord(
            entries=[
                AttendanceEntry(user_id=cast.chair, mode="present"),
                AttendanceEntry(user_id=cast.member, mode="remote"),
                AttendanceEntry(user_id=cast.member2, mode="apologies"),
            ],
            guests=["A guest"],
        ),
        chair,
    )
    quorum = (await queries.meeting_view(meeting_id, chair)).quorum
    assert (quorum.members, quorum.counted, quorum.needed, quorum.met) == (5, 2, 3, False)
    await services.record_attendance(
        meeting_id,
        AttendanceRecord(
            entries=[
                AttendanceEntry(user_id=cast.chair, mode="present"),
                AttendanceEntry(user_id=cast.member, mode="remote"),
                AttendanceEntry(user_id=ended_on_day, mode="present"),
            ],
            guests=[],
        ),
        chair,
    )
    quorum = (await queries.meeting_view(meeting_id, chair)).quorum
    assert (quorum.counted, quorum.met) == (3, True)


async def test_attendance_for_a_non_member_is_refused_and_changes_nothing(cast):
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=_past(1))
    chair = await viewer_for(cast.chair)
    await services.record_attendance(
        meeting_id,
        AttendanceRecord(entries=[AttendanceEntry(user_id=cast.member, mode="present")], guests=[]),
        chair,
    )
    for outsider in (cast.former, cast.stranger, cast.director):
        with pytest.raises(InvalidInput) as refused:
            await services.record_attendance(
                meeting_id,
                AttendanceRecord(
                    entries=[
                        AttendanceEntry(user_id=cast.chair, mode="present"),
                        AttendanceEntry(user_id=outsider, mode="present"),
                    ],
                    guests=[],
                ),
                chair,
            )
        assert f"mode_{outsider}" in refused.value.field_errors
    rows = await Attendance.select(Attendance.user, Attendance.mode).where(
        Attendance.meeting == meeting_id
    )
    assert rows == [{"user": cast.member, "mode": "present"}]


async def test_decision_without_quorum_is_flagged_and_with_quorum_is_not(cast):
    meeting_id = await _held_meeting(cast)
    chair = await viewer_for(cast.chair)
    item = found(
        await AgendaItem.select(AgendaItem.id).where(AgendaItem.meeting == meeting_id).first()
    )
    await services.record_attendance(
        meeting_id,
        AttendanceRecord(entries=[AttendanceEntry(user_id=cast.chair, mode="present")], guests=[]),
        chair,
    )
    without = await services.record_decision(
        meeting_id,
        NewDecision(
            agenda_item_id=item["id"],
            text="Adopt the plan",
            votes_for=1,
            votes_against=0,
            votes_abstain=0,
        ),
        chair,
    )
    await services.record_attendance(
        meeting_id,
        AttendanceRecord(
            entries=[
                AttendanceEntry(user_id=uid, mode="present")
                for uid in (cast.chair, cast.secretary, cast.member)
            ],
            guests=[],
        ),
        chair,
    )
    with_quorum = await services.record_decision(
        meeting_id,
        NewDecision(
            agenda_item_id=item["id"],
            text="Adopt it again",
            votes_for=3,
            votes_against=0,
            votes_abstain=0,
        ),
        chair,
    )
    flags = {
        row["id"]: row["quorum_met"]
        for row in await Decision.select(Decision.id, Decision.quorum_met)
    }
    assert flags == {without: False, with_quorum: True}


# --- meetings and agenda --------------------------------------------------------------


async def test_only_a_chair_or_secretary_schedules_and_times_must_be_in_order(cast):
    start = utcnow() + dt.timedelta(days=3)
    fields = MeetingDetails(
        title="Meeting", starts_at=start, ends_at=start + dt.timedelta(hours=1), location=""
    )
    for outsider in (cast.member, cast.director, cast.board):
        with pytest.raises(PermissionDenied):
            await services.schedule_meeting(cast.slug, fields, await viewer_for(outsider))
    with pytest.raises(InvalidInput):
        await services.schedule_meeting(
            cast.slug,
            MeetingDetails(
                title="Meeting", starts_at=start, ends_at=start - dt.timedelta(hours=1), location=""
            ),
            await viewer_for(cast.chair),
        )
    assert await Meeting.count() == 0
    await services.schedule_meeting(cast.slug, fields, await viewer_for(cast.secretary))
    assert await Meeting.count() == 1
    assert await Minutes.count() == 1


async def test_agenda_add_reorder_move_past_end_and_remove(cast):
    meeting_id = await make_meeting(cast.slug, cast.chair)
    chair = await viewer_for(cast.chair)
    ids = [
        await services.add_agenda_item(
            meeting_id, AgendaItemDetails(title=title, visibility="internal", notes=""), chair
        )
        for title in ("First", "Second", "Third")
    ]
    await services.move_agenda_item(ids[2], AgendaMove(position=1), chair)
    order = [
        r["title"]
        for r in await AgendaItem.select(AgendaItem.title)
        .where(AgendaItem.meeting == meeting_id)
        .order_by(AgendaItem.position)
    ]
    assert order == ["Third", "First", "Second"]
    with pytest.raises(InvalidInput) as refused:
        await services.move_agenda_item(ids[0], AgendaMove(position=4), chair)
    assert "position" in refused.value.field_errors
    await services.remove_agenda_item(ids[0], chair)
    rows = (
        await AgendaItem.select(AgendaItem.title, AgendaItem.position)
        .where(AgendaItem.meeting == meeting_id)
        .order_by(AgendaItem.position)
    )
    assert rows == [{"title": "Third", "position": 1}, {"title": "Second", "position": 2}]


async def test_agenda_is_frozen_once_the_meeting_is_held_or_cancelled(cast):
    meeting_id = await _held_meeting(cast)
    chair = await viewer_for(cast.chair)
    item = found(
        await AgendaItem.select(AgendaItem.id).where(AgendaItem.meeting == meeting_id).first()
    )
    with pytest.raises(ConflictError):
        await services.add_agenda_item(
            meeting_id, AgendaItemDetails(title="Late", visibility="internal", notes=""), chair
        )
    with pytest.raises(ConflictError):
        await services.remove_agenda_item(item["id"], chair)
    assert await AgendaItem.count().where(AgendaItem.meeting == meeting_id) == 1


async def test_open_item_is_carried_to_the_next_scheduled_meeting_once(cast):
    meeting_id = await _held_meeting(cast)
    chair = await viewer_for(cast.chair)
    item = found(
        await AgendaItem.select(AgendaItem.id).where(AgendaItem.meeting == meeting_id).first()
    )
    with pytest.raises(ConflictError):  # not left open
        await services.carry_item_forward(item["id"], chair)
    await services.set_item_open(item["id"], True, chair)
    with pytest.raises(ConflictError):  # no next meeting yet
        await services.carry_item_forward(item["id"], chair)
    next_id = await make_meeting(cast.slug, cast.chair, title="Next")
    assert await services.carry_item_forward(item["id"], chair) == next_id
    carried = found(await AgendaItem.select().where(AgendaItem.meeting == next_id).first())
    assert (carried["title"], carried["carried_from"]) == ("Budget", item["id"])
    with pytest.raises(ConflictError):
        await services.carry_item_forward(item["id"], chair)


async def test_cannot_mark_a_future_meeting_held_and_cancel_needs_a_reason(cast):
    meeting_id = await make_meeting(cast.slug, cast.chair)
    chair = await viewer_for(cast.chair)
    with pytest.raises(ConflictError):
        await services.mark_meeting_held(meeting_id, chair)
    with pytest.raises(InvalidInput):
        await services.cancel_meeting(meeting_id, Cancellation(reason="  "), chair)
    await services.cancel_meeting(meeting_id, Cancellation(reason="Chair unwell"), chair)
    meeting = found(await Meeting.select().where(Meeting.id == meeting_id).first())
    assert (meeting["status"], meeting["cancel_reason"], meeting["calendar_sequence"]) == (
        "cancelled",
        "Chair unwell",
        1,
    )
    with pytest.raises(ConflictError):
        await services.cancel_meeting(meeting_id, Cancellation(reason="Again"), chair)


async def test_no_decision_on_a_cancelled_meeting(cast):
    meeting_id = await make_meeting(cast.slug, cast.chair)
    chair = await viewer_for(cast.chair)
    item_id = await services.add_agenda_item(
        meeting_id, AgendaItemDetails(title="Item", visibility="internal", notes=""), chair
    )
    await services.cancel_meeting(meeting_id, Cancellation(reason="No quorum expected"), chair)
    with pytest.raises(ConflictError):
        await services.record_decision(
            meeting_id,
            NewDecision(
                agenda_item_id=item_id, text="Decide", votes_for=1, votes_against=0, votes_abstain=0
            ),
            chair,
        )
    assert await Decision.count() == 0


# --- minutes --------------------------------------------------------------------------


async def test_minutes_state_machine_and_every_refused_transition(cast):
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=_past(5))
    chair = await viewer_for(cast.chair)
    item_id = await services.add_agenda_item(
        meeting_id, AgendaItemDetails(title="Budget", visibility="internal", notes=""), chair
    )

    async def status() -> str:
        return found(
            await Minutes.select(Minutes.status).where(Minutes.meeting == meeting_id).first()
        )["status"]

    with pytest.raises(ConflictError, match="must be circulated"):
        await services.approve_minutes(meeting_id, Approval(method="circulation"), chair)
    with pytest.raises(ConflictError, match="once the meeting is marked held"):
        await services.circulate_minutes(meeting_id, chair)
    await services.mark_meeting_held(meeting_id, chair)
    await services.save_minutes(
        meeting_id, MinutesDraft(summary="We met.", items={item_id: "Discussed the budget."}), chair
    )
    with pytest.raises(PermissionDenied):
        await services.circulate_minutes(meeting_id, await viewer_for(cast.member))
    await services.circulate_minutes(meeting_id, chair)
    assert await status() == "circulated"
    with pytest.raises(ConflictError, match="Return them to draft"):
        await services.save_minutes(meeting_id, MinutesDraft(summary="Changed", items={}), chair)
    with pytest.raises(ConflictError):
        await services.circulate_minutes(meeting_id, chair)
    await services.comment_on_minutes(
        meeting_id, NewComment(body="Typo in item 1"), await viewer_for(cast.member)
    )
    with pytest.raises(PermissionDenied):
        await services.comment_on_minutes(
            meeting_id, NewComment(body="I am the Director"), await viewer_for(cast.director)
        )
    await services.return_minutes_to_draft(meeting_id, chair)
    await services.save_minutes(
        meeting_id,
        MinutesDraft(summary="We met. Corrected.", items={item_id: "Discussed the budget."}),
        chair,
    )
    await services.circulate_minutes(meeting_id, chair)
    # Approval at a meeting needs a later, held meeting of the same group.
    later_scheduled = await make_meeting(cast.slug, cast.chair, title="Later")
    for bad in (None, meeting_id, later_scheduled):
        with pytest.raises(InvalidInput):
            await services.approve_minutes(
                meeting_id, Approval(method="meeting", approving_meeting_id=bad), chair
            )
    later_held = await make_meeting(cast.slug, cast.chair, title="Approving", starts_at=_past(1))
    await services.mark_meeting_held(later_held, chair)
    await services.approve_minutes(
        meeting_id, Approval(method="meeting", approving_meeting_id=later_held), chair
    )
    minutes = found(await Minutes.select().where(Minutes.meeting == meeting_id).first())
    assert (
        minutes["status"],
        minutes["approved_by"],
        minutes["approved_at_meeting"],
        minutes["approval_method"],
    ) == ("approved", cast.chair, later_held, "meeting")
    # Locked: nothing may change it, and nothing may move it back.
    with pytest.raises(ConflictError):
        await services.save_minutes(
            meeting_id,
            MinutesDraft(summary="Rewrite history", items={item_id: "Never discussed."}),
            chair,
        )
    with pytest.raises(ConflictError):
        await services.approve_minutes(meeting_id, Approval(method="circulation"), chair)
    with pytest.raises(ConflictError):
        await services.return_minutes_to_draft(meeting_id, chair)
    with pytest.raises(ConflictError):
        await services.record_decision(
            meeting_id,
            NewDecision(
                agenda_item_id=item_id,
                text="Late decision",
                votes_for=1,
                votes_against=0,
                votes_abstain=0,
            ),
            chair,
        )
    item = found(
        await AgendaItem.select(AgendaItem.minutes_text).where(AgendaItem.id == item_id).first()
    )
    assert item["minutes_text"] == "Discussed the budget."
    await services.add_erratum(
        meeting_id, NewErratum(body="The date in item 1 should read 3 March."), chair
    )
    assert await Erratum.count() == 1
    with pytest.raises(InvalidInput):
        await services.add_erratum(meeting_id, NewErratum(body=" "), chair)


async def test_errata_only_for_approved_minutes(cast):
    meeting_id = await _held_meeting(cast)
    with pytest.raises(ConflictError):
        await services.add_erratum(
            meeting_id, NewErratum(body="Correction"), await viewer_for(cast.chair)
        )


async def test_circulation_emails_members_with_a_link_and_no_item_text(cast, smtp_sink):
    from governance.core.email import SmtpTransport, deliver_outbox
    from tests.helpers import html_part, text_part

    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=_past(2))
    chair = await viewer_for(cast.chair)
    secret_id = await services.add_agenda_item(
        meeting_id,
        AgendaItemDetails(title="Complaint about the Director", visibility="board", notes=""),
        chair,
    )
    await services.mark_meeting_held(meeting_id, chair)
    await services.save_minutes(
        meeting_id,
        MinutesDraft(summary="", items={secret_id: "Confidential discussion of management."}),
        chair,
    )
    await services.record_attendance(
        meeting_id,
        AttendanceRecord(
            entries=[
                AttendanceEntry(user_id=cast.chair, mode="present"),
                AttendanceEntry(user_id=cast.member, mode="remote"),
                AttendanceEntry(user_id=cast.member2, mode="apologies"),
            ],
            guests=["Visiting expert"],
        ),
        chair,
    )
    # To the group's current members for comment (issue 13), those sent apologies too.
    assert await services.circulate_minutes(meeting_id, chair) == 4
    report = await deliver_outbox(
        SmtpTransport(smtp_sink.url), "Governance <governance@example.org>"
    )
    assert report.sent == 4
    assert sorted(m["To"] for m in smtp_sink.messages) == [
        "chair@example.org",
        "member2@example.org",
        "member@example.org",
        "secretary@example.org",
    ]
    for message in smtp_sink.messages:
        for body in (text_part(message), html_part(message), str(message["Subject"])):
            assert "Complaint about the Director" not in body
            assert "Confidential discussion" not in body
        assert f"/meetings/{meeting_id}" in text_part(message)


async def test_every_change_writes_one_audit_event(cast):
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=_past(2))
    chair = await viewer_for(cast.chair)
    item_id = await services.add_agenda_item(
        meeting_id, AgendaItemDetails(title="Secret matter", visibility="board", notes=""), chair
    )
    await services.mark_meeting_held(meeting_id, chair)
    await services.record_attendance(
        meeting_id,
        AttendanceRecord(entries=[AttendanceEntry(user_id=cast.chair, mode="present")], guests=[]),
        chair,
    )
    await services.record_decision(
        meeting_id,
        NewDecision(
            agenda_item_id=item_id, text="Act", votes_for=1, votes_against=0, votes_abstain=0
        ),
        chair,
    )
    await services.save_minutes(meeting_id, MinutesDraft(summary="x", items={}), chair)
    await services.circulate_minutes(meeting_id, chair)
    await services.approve_minutes(meeting_id, Approval(method="circulation"), chair)
    for action in (
        "meeting.scheduled",
        "agenda_item.added",
        "meeting.held",
        "attendance.recorded",
        "decision.recorded",
        "minutes.saved",
        "minutes.circulated",
        "minutes.approved",
    ):
        assert await _events(action) == 1, action
    # A refused change writes nothing.
    before = await AuditEvent.count()
    with pytest.raises(ConflictError):
        await services.save_minutes(meeting_id, MinutesDraft(summary="y", items={}), chair)
    assert await AuditEvent.count() == before
    # Titles of confidential items stay out of the trail.
    summaries = [row["summary"] for row in await AuditEvent.select(AuditEvent.summary)]
    assert not any("Secret matter" in summary for summary in summaries)


# --- visibility -----------------------------------------------------------------------


async def _meeting_with_every_visibility(cast) -> int:
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=_past(4))
    chair = await viewer_for(cast.chair)
    for visibility in ("public", "internal", "board", "group"):
        await services.add_agenda_item(
            meeting_id,
            AgendaItemDetails(
                title=f"{visibility.upper()}-TITLE",
                visibility=visibility,
                notes=f"{visibility}-notes",
            ),
            chair,
        )
    await services.mark_meeting_held(meeting_id, chair)
    # The chair was there, so the one vote of each decision is theirs.
    present = [AttendanceEntry(user_id=cast.chair, mode="present")]
    await services.record_attendance(meeting_id, AttendanceRecord(entries=present), chair)
    items = await AgendaItem.select(AgendaItem.id, AgendaItem.visibility).where(
        AgendaItem.meeting == meeting_id
    )
    await services.save_minutes(
        meeting_id,
        MinutesDraft(
            summary="", items={i["id"]: f"{i['visibility'].upper()}-MINUTES" for i in items}
        ),
        chair,
    )
    for item in items:
        await services.record_decision(
            meeting_id,
            NewDecision(
                agenda_item_id=item["id"],
                text=f"{item['visibility'].upper()}-DECISION",
                votes_for=1,
                votes_against=0,
                votes_abstain=0,
            ),
            chair,
        )
    return meeting_id


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("member", {"public", "internal", "board", "group"}),
        ("chair", {"public", "internal", "board", "group"}),
        ("board", {"public", "internal", "board"}),
        ("director", {"public", "internal"}),
    ],
)
async def test_meeting_page_filters_items_and_decisions_by_visibility(cast, who, visible):
    meeting_id = await _meeting_with_every_visibility(cast)
    page = await queries.meeting_page(meeting_id, await viewer_for(getattr(cast, who)))
    assert {item.visibility for item in page.meeting.agenda} == visible
    decisions = {d.text for d in page.meeting.decisions}
    assert decisions == {f"{v.upper()}-DECISION" for v in visible}


@pytest.mark.parametrize("who", ["stranger", "former", "other_group_member"])
async def test_people_outside_the_group_cannot_find_the_meeting(cast, who):
    meeting_id = await _meeting_with_every_visibility(cast)
    with pytest.raises(NotFoundError):
        await queries.meeting_page(meeting_id, await viewer_for(getattr(cast, who)))


async def test_director_cannot_open_a_board_item_by_id(cast):
    meeting_id = await _meeting_with_every_visibility(cast)
    board_item = found(
        await AgendaItem.select(AgendaItem.id)
        .where((AgendaItem.meeting == meeting_id) & (AgendaItem.visibility == "board"))
        .first()
    )
    with pytest.raises(NotFoundError):
        await queries.get_agenda_item(board_item["id"], await viewer_for(cast.director))
    item = (await queries.get_agenda_item(board_item["id"], await viewer_for(cast.board))).item
    assert item.title == "BOARD-TITLE"


async def test_public_version_exists_only_once_approved_and_holds_only_public_items(cast):
    meeting_id = await _meeting_with_every_visibility(cast)
    chair = await viewer_for(cast.chair)
    with pytest.raises(NotFoundError):
        await queries.public_minutes(meeting_id)
    await services.circulate_minutes(meeting_id, chair)
    with pytest.raises(NotFoundError):
        await queries.public_minutes(meeting_id)
    await services.approve_minutes(meeting_id, Approval(method="circulation"), chair)
    public = await queries.public_minutes(meeting_id)
    assert [item.title for item in public.items] == ["PUBLIC-TITLE"]
    # Issue 11, item 8: only the internal item, which the Director reads too; counting the
    # Board-only item would tell the Director it exists, and the group-only one the Board.
    assert public.confidential_count == 1
    assert [d.text for d in public.items[0].decisions] == ["PUBLIC-DECISION"]
