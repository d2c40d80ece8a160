"""Reads of a group's proceedings, returning views, with visibility applied in the query.

Who may read a meeting: the group's current members, the Director and the Board (admins
only as one of those); a meeting its reader may not see is "not found", exactly like one
that does not exist. Agenda items, their minutes and decisions, and errata carry a
visibility and are filtered in the query (`accounts.scopes`), so a `board` item never
reaches the Director and a `group` item never leaves the group. The text of draft minutes
is read only by those who write them, the chair and the secretary (`reads_minutes_text`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import msgspec

from governance.accounts import scopes
from governance.accounts.policy import CurrentUser, Viewer
from governance.accounts.tables import User
from governance.core.clock import date_in_zone, organisation_zone, utcnow
from governance.core.db import PreparedSelect, one_row, read_at_once, read_left_out
from governance.core.errors import NotFoundError
from governance.core.paging import Page, keyset_page
from governance.groups.queries import get_group, members_on
from governance.groups.schemas import DecisionRule
from governance.groups.services import quorum_needed
from governance.groups.tables import WorkingGroup
from governance.meetings import integrity
from governance.meetings.schemas import (
    COUNTS_TOWARDS_QUORUM,
    EXPECTED_REPLIES,
    AgendaItemPage,
    AgendaItemRecord,
    AgendaItemView,
    ApprovalView,
    AttendanceView,
    CommentView,
    ConflictView,
    DecisionOutcome,
    DecisionView,
    ErratumView,
    ExpectedQuorumView,
    MeetingHead,
    MeetingIndexPage,
    MeetingListView,
    MeetingPage,
    MeetingStatus,
    MeetingSummaryView,
    MeetingView,
    MemberReplyView,
    MemberView,
    MinutesStatus,
    MinutesView,
    NoticeRepliesView,
    PastMeetingFilters,
    PublicDecisionView,
    PublicErratumView,
    PublicItemView,
    PublicMinutesView,
    PublishedMinutesView,
    QuorumView,
    ReplyMode,
    ReplyPage,
)
from governance.meetings.tables import (
    AgendaItem,
    Attendance,
    CalendarFeed,
    ConflictOfInterest,
    Decision,
    Erratum,
    Meeting,
    MeetingReply,
    Minutes,
    MinutesComment,
)

ViewT = TypeVar("ViewT")

NOT_FOUND = "There is no meeting at this address, or you cannot see it."
# Worded the same whether the item is missing, its meeting unreadable or the item hidden,
# so that the answer never tells that it exists.
NO_SUCH_ITEM = "There is no such agenda item, or you cannot see it."
NO_PUBLIC_MINUTES = "There are no published minutes at this address."
NO_SUCH_GROUP = "There is no working group at this address."
NO_SUCH_FEED = "There is no calendar at this address. It may have been reset."


# The most approved minutes the public index and its feed list.
PUBLISHED_MINUTES_LIMIT = 500


def meeting_date(starts_at: dt.datetime) -> dt.date:
    """The meeting's calendar day in the organisation's time zone."""
    return date_in_zone(starts_at)


def reads_minutes_text(viewer: Viewer, group_id: int, minutes_status: str) -> bool:
    """Whether this reader of a meeting may read its minutes' text (the summary and each
    readable item's record): once circulated, everyone who reads the meeting; while a
    draft, only those who write it, the group's chair and secretary."""
    return minutes_status != MinutesStatus.DRAFT or viewer.leads(group_id)


# --- one meeting ------------------------------------------------------------------------


def _meeting_columns() -> tuple[Any, ...]:
    return (
        *Meeting.all_columns(),
        Meeting.group.name.as_alias("group_name"),
        Meeting.group.slug.as_alias("group_slug"),
        Meeting.group.quorum_rule.as_alias("quorum_rule"),
        Meeting.group.quorum_count.as_alias("quorum_count"),
        Meeting.group.decision_rule.as_alias("decision_rule"),
    )


async def _one_meeting(condition: Any) -> dict[str, Any]:
    return await one_row(Meeting.select(*_meeting_columns()).where(condition), NOT_FOUND)


async def meeting_row(meeting_id: int) -> dict[str, Any]:
    """A meeting's row with its group's name, slug and quorum rule; not found if none."""
    return await _one_meeting(Meeting.id == meeting_id)


# Built once per viewer: the meeting page and its papers each ask for it.
_READABLE_MEETING = PreparedSelect(
    lambda viewer, meeting_id: (
        Meeting.select(*_meeting_columns())
        .where((Meeting.id == meeting_id) & scopes.meetings(viewer))
        .limit(1)
    )
)


async def readable_meeting(meeting_id: int, viewer: Viewer) -> dict[str, Any]:
    """The meeting's row if this viewer may read it; not found otherwise (one query)."""
    rows = await _READABLE_MEETING.run(viewer, meeting_id=meeting_id)
    if not rows:
        raise NotFoundError(NOT_FOUND)
    return rows[0]


async def is_locked(meeting_id: int) -> bool:
    """Whether the meeting's minutes are approved, which locks its whole record."""
    return bool(
        await Minutes.exists().where(
            (Minutes.meeting == meeting_id) & (Minutes.status == MinutesStatus.APPROVED)
        )
    )


def takes_decisions(meeting: Mapping[str, Any]) -> bool:
    """Whether decisions can be taken at this meeting (a row): one that is held, or in
    progress (started and not cancelled)."""
    status = meeting["status"]
    return bool(
        status == MeetingStatus.HELD
        or (status == MeetingStatus.SCHEDULED and meeting["starts_at"] <= utcnow())
    )


def compute_quorum(
    group: Mapping[str, Any],
    members: Iterable[Mapping[str, Any]],
    attendance: Iterable[Mapping[str, Any]],
) -> QuorumView:
    """The quorum of a meeting of this group (its `quorum_rule` and `quorum_count`): the
    members on the meeting date who attended in person or remotely, against those needed."""
    member_ids = {m["user"] for m in members}
    counted = {
        a["user"]
        for a in attendance
        if a["user"] in member_ids and a["mode"] in COUNTS_TOWARDS_QUORUM
    }
    needed = quorum_needed(group["quorum_rule"], group["quorum_count"], len(member_ids))
    met = bool(member_ids) and len(counted) >= needed
    return QuorumView(members=len(member_ids), counted=len(counted), needed=needed, met=met)


async def quorum_for(meeting: Mapping[str, Any]) -> QuorumView:
    """The quorum of a meeting row (`meeting_row`) as its attendance stands."""
    members = await members_on(meeting["group"], meeting_date(meeting["starts_at"]))
    attendance = await Attendance.select(Attendance.user, Attendance.mode).where(
        Attendance.meeting == meeting["id"]
    )
    return compute_quorum(meeting, members, attendance)


_REPLIES_TO = PreparedSelect(
    lambda meeting_id: MeetingReply.select(MeetingReply.user, MeetingReply.mode).where(
        MeetingReply.meeting == meeting_id
    )
)


async def replies_of(meeting_id: int, member_ids: set[int]) -> dict[int, str]:
    """The replies to the meeting's notice of those who are members on its date."""
    return _replies_of_members(await _REPLIES_TO.run(meeting_id=meeting_id), member_ids)


def _replies_of_members(rows: list[dict[str, Any]], member_ids: set[int]) -> dict[int, str]:
    return {row["user"]: row["mode"] for row in rows if row["user"] in member_ids}


def _expected(
    meeting: Mapping[str, Any], members: list[dict[str, Any]], replies: Mapping[int, str]
) -> ExpectedQuorumView | None:
    """Before a scheduled meeting starts: how many members say they will attend, against
    the quorum the group's rule needs on the meeting date."""
    if meeting["status"] != MeetingStatus.SCHEDULED or meeting["starts_at"] <= utcnow():
        return None
    expected = sum(mode in EXPECTED_REPLIES for mode in replies.values())
    needed = quorum_needed(meeting["quorum_rule"], meeting["quorum_count"], len(members))
    return ExpectedQuorumView(
        members=len(members),
        expected=expected,
        apologies=sum(mode == ReplyMode.APOLOGIES for mode in replies.values()),
        needed=needed,
        met=bool(members) and expected >= needed,
        notice_sent_at=meeting["notice_sent_at"],
    )


async def notice_replies(meeting_id: int, viewer: Viewer) -> NoticeRepliesView:
    """The notice and its replies as a reader of the meeting reads them (the same replies
    and expected quorum as its page); not found if they may not read it: three queries."""
    meeting = await readable_meeting(meeting_id, viewer)
    members = await members_on(meeting["group"], meeting_date(meeting["starts_at"]))
    replies = await replies_of(meeting_id, {member["user"] for member in members})
    return NoticeRepliesView(
        meeting_id=meeting_id,
        notice_sent_at=meeting["notice_sent_at"],
        open=meeting["status"] == MeetingStatus.SCHEDULED and meeting["starts_at"] > utcnow(),
        my_reply=replies.get(viewer.user.id),
        replies=[
            MemberReplyView(
                user_id=member["user"],
                display_name=member["display_name"],
                mode=replies.get(member["user"]),
            )
            for member in members
        ],
        expected=_expected(meeting, members, replies),
    )


async def reply_page(meeting_id: int, user_id: int, not_found: str) -> ReplyPage:
    """The meeting a reply link is for, as its member reads it (its details, not its
    agenda), with their reply so far: three queries."""
    row = await one_row(
        Meeting.select(*_meeting_columns()).where(Meeting.id == meeting_id), not_found
    )
    user = await one_row(
        User.select(User.display_name, User.timezone).where(
            (User.id == user_id) & (User.is_active == True)  # noqa: E712 - SQL comparison
        ),
        not_found,
    )
    reply = (
        await MeetingReply.select(MeetingReply.mode)
        .where((MeetingReply.meeting == meeting_id) & (MeetingReply.user == user_id))
        .first()
    )
    return ReplyPage(
        meeting_id=row["id"],
        group_name=row["group_name"],
        title=row["title"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        location=row["location"],
        member_name=user["display_name"],
        timezone=user["timezone"],
        reply=reply["mode"] if reply else None,
        open=row["status"] == MeetingStatus.SCHEDULED and row["starts_at"] > utcnow(),
    )


async def meetings_due_a_notice(days: int) -> list[int]:
    """Scheduled meetings starting within `days` whose notice has not gone out, of groups
    that send it by themselves, soonest first."""
    now = utcnow()
    rows = (
        await Meeting.select(Meeting.id)
        .where(
            (Meeting.status == MeetingStatus.SCHEDULED)
            & Meeting.notice_sent_at.is_null()
            & (Meeting.starts_at > now)
            & (Meeting.starts_at <= now + dt.timedelta(days=days))
            & (Meeting.group.notice_by_hand_only == False)  # noqa: E712 - SQL comparison
        )
        .order_by(Meeting.starts_at)
    )
    return [row["id"] for row in rows]


def view_of(view_type: type[ViewT], row: Any) -> ViewT:
    """A row (or a list of rows) as the view whose fields its columns are named after."""
    return msgspec.convert(row, view_type, strict=False)


def _summary(row: Mapping[str, Any]) -> MeetingSummaryView:
    return view_of(MeetingSummaryView, row)


def head(row: Mapping[str, Any]) -> MeetingHead:
    """A meeting row (`meeting_row`) as its forms' heading."""
    return view_of(MeetingHead, row)


# The meeting page's own reads, each built once per shape (the page is read far more often
# than written; Piccolo's building of these selects cost more than SQLite's running them).
# An agenda's and its errata's conditions depend on the viewer's roles in the meeting's
# group, so those two are kept per (viewer, group).
_READABLE_ITEMS_OF = PreparedSelect(
    lambda viewer, group_id, meeting_id: (
        AgendaItem.select()
        .where(
            (AgendaItem.meeting == meeting_id)
            & scopes.readable_in_group(viewer, group_id, AgendaItem.visibility)
        )
        .order_by(AgendaItem.position)
    )
)
_CONFLICTS_OF_ITEMS = PreparedSelect(
    lambda item_ids: ConflictOfInterest.select(
        ConflictOfInterest.agenda_item,
        ConflictOfInterest.description,
        ConflictOfInterest.user.display_name.as_alias("display_name"),
    ).where(ConflictOfInterest.agenda_item.is_in(item_ids))
)
_DECISIONS_OF_ITEMS = PreparedSelect(
    lambda item_ids: (
        Decision.select(*_decision_columns())
        .where(Decision.agenda_item.is_in(item_ids))
        .order_by(Decision.created_at)
        .order_by(Decision.id)
    )
)


async def _agenda_rows(
    meeting: Mapping[str, Any], viewer: Viewer
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The items this viewer may read, then their conflicts and decisions read together:
    two steps (one when the agenda holds nothing the viewer may read)."""
    items = await _READABLE_ITEMS_OF.run(viewer, meeting["group"], meeting_id=meeting["id"])
    item_ids = [item["id"] for item in items]
    if not item_ids:
        return [], [], []
    conflicts, decisions = await read_at_once(
        _CONFLICTS_OF_ITEMS.run(item_ids=item_ids), _DECISIONS_OF_ITEMS.run(item_ids=item_ids)
    )
    return items, conflicts, decisions


def _agenda(
    meeting: Mapping[str, Any],
    viewer: Viewer,
    minutes: Mapping[str, Any] | None,
    rows: tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]],
) -> tuple[list[AgendaItemView], list[DecisionView], str | None]:
    """The agenda's items with their conflicts, and their decisions, from `_agenda_rows`;
    and, once the minutes are approved, whether those items still have their hashes."""
    items, conflicts, decisions = rows
    show_text = minutes is not None and reads_minutes_text(
        viewer, meeting["group"], minutes["status"]
    )
    approved = minutes is not None and minutes["status"] == MinutesStatus.APPROVED
    if not items:
        return [], [], integrity.OK if approved else None
    by_item: dict[int, list[ConflictView]] = defaultdict(list)
    for conflict in conflicts:
        by_item[conflict["agenda_item"]].append(view_of(ConflictView, conflict))
    # Numbered 1 to n among the items this reader reads: a hidden item leaves no gap.
    agenda = [
        AgendaItemView(
            id=item["id"],
            position=number,
            title=item["title"],
            visibility=item["visibility"],
            notes=item["notes"],
            is_open=bool(item["is_open"]),
            carried_from=item["carried_from"],
            conflicts=by_item[item["id"]],
            minutes=item["minutes_text"] if show_text else None,
        )
        for number, item in enumerate(items, start=1)
    ]
    order = {item["id"]: index for index, item in enumerate(items)}
    decisions.sort(key=lambda d: order[d["agenda_item_id"]])
    shown = integrity.items_integrity(minutes, items, decisions) if minutes and approved else None
    outcomes = with_outcomes(decisions, meeting["decision_rule"])
    views = [
        DecisionView(**_decision_fields(with_outcome), integrity=integrity.decision_integrity(d))
        for d, with_outcome in zip(decisions, outcomes, strict=True)
    ]
    return agenda, views, shown


def outcome(rule: str, votes_for: int, votes_against: int, votes_abstain: int) -> str | None:
    """ "carried" or "not carried" under the group's rule; None when no vote was counted."""
    carried = DecisionRule(rule).carries(votes_for, votes_against, votes_abstain)
    if carried is None:
        return None
    return DecisionOutcome.CARRIED if carried else DecisionOutcome.NOT_CARRIED


def with_outcomes(rows: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    """Decision rows with the outcome their votes give under the group's rule."""
    return [
        {
            **row,
            "outcome": outcome(rule, row["votes_for"], row["votes_against"], row["votes_abstain"]),
        }
        for row in rows
    ]


def _decision_columns() -> tuple[Any, ...]:
    return (
        Decision.id,
        Decision.agenda_item.as_alias("agenda_item_id"),
        Decision.text,
        Decision.votes_for,
        Decision.votes_against,
        Decision.votes_abstain,
        Decision.quorum_met,
        Decision.created_at,
        Decision.content_hash,
    )


def _decision_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    fields = {name: row[name] for name in DecisionView.__struct_fields__ if name in row}
    return {**fields, "quorum_met": bool(row["quorum_met"])}


_ATTENDANCE_AT = PreparedSelect(
    lambda meeting_id: Attendance.select(
        Attendance.user,
        Attendance.guest_name,
        Attendance.mode,
        Attendance.user.display_name.as_alias("display_name"),
    ).where(Attendance.meeting == meeting_id)
)


async def _attendance(meeting_id: int) -> list[dict[str, Any]]:
    rows = await _ATTENDANCE_AT.run(meeting_id=meeting_id)
    return sorted(
        rows,
        key=lambda a: (a["user"] is None, (a["display_name"] or a["guest_name"] or "").lower()),
    )


def _attendance_view(row: Mapping[str, Any]) -> AttendanceView:
    member = row["user"] is not None
    return AttendanceView(
        user_id=row["user"],
        display_name=row["display_name"] if member else None,
        guest_name=None if member else row["guest_name"],
        mode=row["mode"],
    )


_MINUTES_OF = PreparedSelect(
    lambda meeting_id: (
        Minutes.select(
            *Minutes.all_columns(), Minutes.approved_by.display_name.as_alias("approver_name")
        )
        .where(Minutes.meeting == meeting_id)
        .limit(1)
    )
)
_READABLE_ERRATA_OF = PreparedSelect(
    lambda viewer, group_id, minutes_id: (
        Erratum.select(
            Erratum.body,
            Erratum.created_at,
            Erratum.author.display_name.as_alias("author_name"),
        )
        .where(
            (Erratum.minutes == minutes_id)
            & scopes.readable_in_group(viewer, group_id, Erratum.visibility)
        )
        .order_by(Erratum.created_at)
    )
)


async def _minutes(
    meeting: Mapping[str, Any], viewer: Viewer
) -> tuple[dict[str, Any] | None, MinutesView | None]:
    """The minutes' row, and their view with the errata this viewer may read."""
    found = await _MINUTES_OF.run(meeting_id=meeting["id"])
    if not found:
        return None, None
    row = found[0]
    errata, approval = await read_at_once(
        _READABLE_ERRATA_OF.run(viewer, meeting["group"], minutes_id=row["id"]),
        approval_of(row, recorded_by=row["approver_name"]),
    )
    show_text = reads_minutes_text(viewer, meeting["group"], row["status"])
    view = MinutesView(
        status=row["status"],
        summary=row["summary"] if show_text else None,
        circulated_at=row["circulated_at"],
        approved_at=row["approved_at"],
        approval_method=row["approval_method"] or None,
        approved_at_meeting_id=row["approved_at_meeting"],
        approval=approval,
        errata=view_of(list[ErratumView], errata),
    )
    return row, view


_TITLE_AND_START_OF = PreparedSelect(
    lambda meeting_id: (
        Meeting.select(Meeting.title, Meeting.starts_at).where(Meeting.id == meeting_id).limit(1)
    )
)


async def approval_of(row: Mapping[str, Any], recorded_by: str | None) -> ApprovalView | None:
    """The record of how these minutes (a row) were approved: the approving meeting's title
    and date (one query), or the circulation; None until approved."""
    if row["status"] != MinutesStatus.APPROVED or row["approved_at"] is None:
        return None
    approving = None
    if row["approved_at_meeting"] is not None:
        found = await _TITLE_AND_START_OF.run(meeting_id=row["approved_at_meeting"])
        approving = found[0] if found else None
    return ApprovalView(
        method=row["approval_method"],
        approved_at=row["approved_at"],
        recorded_by=recorded_by,
        meeting_id=row["approved_at_meeting"] if approving else None,
        meeting_title=approving["title"] if approving else None,
        meeting_starts_at=approving["starts_at"] if approving else None,
        circulated_at=row["circulated_at"],
    )


async def _view(
    meeting: dict[str, Any], viewer: Viewer
) -> tuple[MeetingView, dict[str, Any] | None]:
    """The meeting as this viewer may read it, and the minutes' row: eight selects, read
    together in two steps."""
    (minutes_row, minutes), agenda_rows, members, attendance, reply_rows = await read_at_once(
        _minutes(meeting, viewer),
        _agenda_rows(meeting, viewer),
        members_on(meeting["group"], meeting_date(meeting["starts_at"])),
        _attendance(meeting["id"]),
        _REPLIES_TO.run(meeting_id=meeting["id"]),
    )
    agenda, decisions, items_integrity = _agenda(meeting, viewer, minutes_row, agenda_rows)
    locked = minutes_row is not None and minutes_row["status"] == MinutesStatus.APPROVED
    replies = _replies_of_members(reply_rows, {m["user"] for m in members})
    if minutes is not None and minutes_row is not None and items_integrity is not None:
        record = integrity.record_integrity(minutes_row, attendance)
        intact = record == items_integrity == integrity.OK
        minutes.integrity = integrity.OK if intact else integrity.MISMATCH
    view = MeetingView(
        id=meeting["id"],
        group_slug=meeting["group_slug"],
        group_name=meeting["group_name"],
        title=meeting["title"],
        starts_at=meeting["starts_at"],
        ends_at=meeting["ends_at"],
        location=meeting["location"],
        status=meeting["status"],
        cancel_reason=meeting["cancel_reason"],
        can_manage=viewer.leads(meeting["group"]),
        locked=locked,
        takes_decisions=takes_decisions(meeting) and not locked,
        agenda=agenda,
        members=[
            MemberView(user_id=m["user"], display_name=m["display_name"], role=m["role"])
            for m in members
        ],
        attendance=[_attendance_view(a) for a in attendance],
        quorum=compute_quorum(meeting, members, attendance),
        minutes=minutes,
        decisions=decisions,
        replies=replies,
        expected=_expected(meeting, members, replies),
    )
    return view, minutes_row


async def meeting_view(meeting_id: int, viewer: Viewer) -> MeetingView:
    """A meeting as this viewer may read it; not found if they may not read it."""
    view, _ = await _view(await readable_meeting(meeting_id, viewer), viewer)
    return view


async def decision_view(meeting_id: int, decision_id: int, viewer: Viewer) -> DecisionView:
    """One decision of a meeting, if this viewer may read its item."""
    for decision in (await meeting_view(meeting_id, viewer)).decisions:
        if decision.id == decision_id:
            return decision
    raise NotFoundError("There is no such decision, or you cannot see it.")


# By the meeting, not by its minutes' row, so that the page reads them with the meeting's
# other parts instead of after them (a meeting has one set of minutes at most).
_COMMENTS_ON_MINUTES_OF = PreparedSelect(
    lambda meeting_id: (
        MinutesComment.select(
            MinutesComment.body,
            MinutesComment.created_at,
            MinutesComment.author.display_name.as_alias("author_name"),
        )
        .where(MinutesComment.minutes._.meeting == meeting_id)
        .order_by(MinutesComment.created_at)
    )
)
_HELD_AFTER = PreparedSelect(
    lambda group_id, starts_at: (
        Meeting.select(*Meeting.all_columns())
        .where(
            (Meeting.group == group_id)
            & (Meeting.starts_at > starts_at)
            & (Meeting.status == MeetingStatus.HELD)
        )
        .order_by(Meeting.starts_at)
    )
)


async def _comments(meeting_id: int) -> list[CommentView]:
    rows = await _COMMENTS_ON_MINUTES_OF.run(meeting_id=meeting_id)
    return view_of(list[CommentView], rows)


async def _later_held(meeting: Mapping[str, Any]) -> list[MeetingSummaryView]:
    """The group's held meetings after this one: those that may approve its minutes."""
    rows = await _HELD_AFTER.run(group_id=meeting["group"], starts_at=meeting["starts_at"])
    return [_summary(row) for row in rows]


async def meeting_page(meeting_id: int, viewer: Viewer) -> MeetingPage:
    """Everything the meeting page shows, in a fixed number of queries."""
    return await meeting_page_of(await readable_meeting(meeting_id, viewer), viewer)


async def meeting_page_of(meeting: dict[str, Any], viewer: Viewer) -> MeetingPage:
    """The meeting page of a meeting this viewer reads (its `readable_meeting` row)."""
    is_member = viewer.is_member_of(meeting["group"])
    # Read with the rest, before the minutes' state is known; used only if it calls for them.
    (view, minutes), comments, later_held = await read_at_once(
        _view(meeting, viewer),
        # Comments on a draft are the members' own deliberation, about any of its items.
        _comments(meeting["id"]) if is_member else read_left_out([]),
        _later_held(meeting) if viewer.leads(meeting["group"]) else read_left_out([]),
    )
    circulated = minutes is not None and minutes["status"] == MinutesStatus.CIRCULATED
    approving: list[MeetingSummaryView] = later_held if circulated else []
    return MeetingPage(
        meeting=view, is_member=is_member, comments=comments, later_held_meetings=approving
    )


# --- agenda items -----------------------------------------------------------------------


async def readable_item(item_id: int, viewer: Viewer) -> tuple[dict[str, Any], dict[str, Any]]:
    """An agenda item's row and its meeting's (`meeting_row`), if this viewer may read the
    item; not found otherwise."""
    item = await one_row(
        AgendaItem.select().where((AgendaItem.id == item_id) & scopes.agenda_items(viewer)),
        NO_SUCH_ITEM,
    )
    return item, await meeting_row(item["meeting"])


async def get_agenda_item(item_id: int, viewer: Viewer) -> AgendaItemPage:
    """An agenda item with its meeting, for its form and its buttons."""
    item, meeting = await readable_item(item_id, viewer)
    # Its place among the items this reader reads, so that no hidden item is counted.
    before = await AgendaItem.count().where(
        (AgendaItem.meeting == item["meeting"])
        & (AgendaItem.position < item["position"])
        & scopes.readable_in_group(viewer, meeting["group"], AgendaItem.visibility)
    )
    return AgendaItemPage(
        item=AgendaItemRecord(
            id=item["id"],
            meeting_id=item["meeting"],
            position=int(before) + 1,
            title=item["title"],
            visibility=item["visibility"],
            notes=item["notes"],
            is_open=bool(item["is_open"]),
        ),
        meeting=head(meeting),
        can_manage=viewer.leads(meeting["group"]),
    )


# --- lists ------------------------------------------------------------------------------


def _is_upcoming(row: Mapping[str, Any], now: dt.datetime) -> bool:
    return bool(row["ends_at"] >= now and row["status"] == MeetingStatus.SCHEDULED)


_MEETINGS_OF = PreparedSelect(
    lambda group_id: (
        Meeting.select(*Meeting.all_columns())
        .where(Meeting.group == group_id)
        .order_by(Meeting.starts_at, ascending=False)
    )
)


async def _listing(group: Mapping[str, Any], viewer: Viewer) -> MeetingListView:
    can_read = scopes.reads_group_content(viewer, group["id"])
    rows = []
    if can_read:
        rows = await _MEETINGS_OF.run(group_id=group["id"])
    now = utcnow()
    upcoming = [_summary(m) for m in rows if _is_upcoming(m, now)]
    upcoming.reverse()
    return MeetingListView(
        group_slug=group["slug"],
        group_name=group["name"],
        can_read=can_read,
        upcoming=upcoming,
        past=[_summary(m) for m in rows if not _is_upcoming(m, now)],
    )


async def list_meetings(slug: str, viewer: Viewer) -> MeetingListView:
    """A group's meetings, upcoming (soonest first) and past (latest first); one query for
    the meetings. Empty lists for someone who may not read the group's proceedings."""
    return await _listing(await get_group(slug), viewer)


async def meetings_of(group: Mapping[str, Any], viewer: Viewer) -> MeetingListView:
    """`list_meetings` for a group already read (`groups.queries.get_group`): one query."""
    return await _listing(group, viewer)


def _past_conditions(group_id: int, filters: PastMeetingFilters, now: dt.datetime) -> Any:
    """Meetings of the group no longer ahead (ended, held or cancelled), within the
    filters; the dates are the organisation's calendar days."""
    condition = (Meeting.group == group_id) & (
        (Meeting.ends_at < now) | (Meeting.status != MeetingStatus.SCHEDULED)
    )
    if filters.status:
        condition = condition & (Meeting.status == filters.status)
    midnight = dt.time(0, tzinfo=organisation_zone())
    if filters.since is not None:
        condition = condition & (Meeting.starts_at >= dt.datetime.combine(filters.since, midnight))
    if filters.until is not None:
        next_day = filters.until + dt.timedelta(days=1)
        condition = condition & (Meeting.starts_at < dt.datetime.combine(next_day, midnight))
    return condition


async def _paged(
    group: Mapping[str, Any], viewer: Viewer, filters: PastMeetingFilters, limit: int | None
) -> MeetingListView:
    can_read = scopes.reads_group_content(viewer, group["id"])
    now = utcnow()
    upcoming: list[dict[str, Any]] = []
    found = Page([], None, None)
    if can_read:
        upcoming = (
            await Meeting.select(*Meeting.all_columns())
            .where(
                (Meeting.group == group["id"])
                & (Meeting.ends_at >= now)
                & (Meeting.status == MeetingStatus.SCHEDULED)
            )
            .order_by(Meeting.starts_at, Meeting.id)
        )
        past = Meeting.select(*Meeting.all_columns()).where(
            _past_conditions(group["id"], filters, now)
        )
        found = await keyset_page(past, Meeting.starts_at, Meeting.id, filters.cursor, limit)
    return MeetingListView(
        group_slug=group["slug"],
        group_name=group["name"],
        can_read=can_read,
        upcoming=[_summary(m) for m in upcoming],
        past=[_summary(m) for m in found.rows],
        older=found.older,
        newer=found.newer,
    )


async def paged_listing(
    slug: str, viewer: Viewer, filters: PastMeetingFilters, limit: int | None = None
) -> MeetingListView:
    """A group's meetings: all those ahead (soonest first) and one page of the past and
    cancelled ones (latest first, `filters` applied): three queries at any page. Empty
    lists for someone who may not read the group's proceedings."""
    return await _paged(await get_group(slug), viewer, filters, limit)


async def meetings_index(
    slug: str, viewer: Viewer, filters: PastMeetingFilters
) -> MeetingIndexPage:
    """A group's meetings page: the list (past meetings a page at a time), and whether the
    reader may schedule one."""
    group = await get_group(slug)
    return MeetingIndexPage(
        listing=await _paged(group, viewer, filters, None), can_manage=viewer.leads(group["id"])
    )


# --- the public version -----------------------------------------------------------------


async def _public_items(
    minutes: Mapping[str, Any], rule: str
) -> tuple[list[PublicItemView], str | None]:
    """The public items with their decisions and outcomes under the group's rule, and
    whether they still have their hashes."""
    items = (
        await AgendaItem.select(
            AgendaItem.id,
            AgendaItem.position,
            AgendaItem.title,
            AgendaItem.visibility,
            AgendaItem.notes,
            AgendaItem.minutes_text,
        )
        .where(
            (AgendaItem.meeting == minutes["meeting"]) & scopes.public_only(AgendaItem.visibility)
        )
        .order_by(AgendaItem.position)
    )
    decisions: dict[int, list[PublicDecisionView]] = defaultdict(list)
    rows: list[dict[str, Any]] = []
    if items:
        rows = (
            await Decision.select(*_decision_columns())
            .where(Decision.agenda_item.is_in([item["id"] for item in items]))
            .order_by(Decision.created_at)
        )
        for row in with_outcomes(rows, rule):
            decisions[row["agenda_item_id"]].append(view_of(PublicDecisionView, row))
    # Approved minutes that have lost their hash are as suspect as changed ones.
    shown = (
        integrity.items_integrity(minutes, items, rows)
        if minutes["content_hash"]
        else integrity.MISMATCH
    )
    views = [
        PublicItemView(
            title=item["title"], minutes_text=item["minutes_text"], decisions=decisions[item["id"]]
        )
        for item in items
    ]
    return views, shown


async def public_minutes(meeting_id: int) -> PublicMinutesView:
    """Approved minutes as anyone may read them: public items only, and a count of the rest."""
    meeting = await Meeting.select(*_meeting_columns()).where(Meeting.id == meeting_id).first()
    minutes = await Minutes.select().where(Minutes.meeting == meeting_id).first()
    if meeting is None or minutes is None or minutes["status"] != MinutesStatus.APPROVED:
        raise NotFoundError(NO_PUBLIC_MINUTES)
    confidential = await AgendaItem.count().where(
        (AgendaItem.meeting == meeting_id) & scopes.confidential_counted(AgendaItem.visibility)
    )
    errata = (
        await Erratum.select(Erratum.body, Erratum.created_at)
        .where((Erratum.minutes == minutes["id"]) & scopes.public_only(Erratum.visibility))
        .order_by(Erratum.created_at)
    )
    items, shown = await _public_items(minutes, meeting["decision_rule"])
    return PublicMinutesView(
        meeting_id=meeting["id"],
        title=meeting["title"],
        group_name=meeting["group_name"],
        group_slug=meeting["group_slug"],
        starts_at=meeting["starts_at"],
        approved_at=minutes["approved_at"],
        approval=await approval_of(minutes, recorded_by=None),
        items=items,
        confidential_count=int(confidential),
        errata=view_of(list[PublicErratumView], errata),
        integrity=shown,
    )


def _published_minutes(limit: int) -> Any:
    return (
        Minutes.select(
            Minutes.approved_at,
            Minutes.meeting.id.as_alias("meeting_id"),
            Minutes.meeting.title.as_alias("title"),
            Minutes.meeting.starts_at.as_alias("starts_at"),
            Minutes.meeting._.group._.name.as_alias("group_name"),
            Minutes.meeting._.group._.slug.as_alias("group_slug"),
        )
        .where(Minutes.status == MinutesStatus.APPROVED)
        .order_by(Minutes.meeting._.group._.name)
        .order_by(Minutes.meeting.starts_at, ascending=False)
        .limit(limit)
    )


# Built once: the public index and its feed, which anyone may ask for, ask on every view.
_PUBLISHED_MINUTES = PreparedSelect(_published_minutes)


async def published_minutes(limit: int = PUBLISHED_MINUTES_LIMIT) -> list[PublishedMinutesView]:
    """Every approved minutes' public version, for anyone: by group, then newest meeting
    first (one query). Approved minutes are public in their public version whatever their
    items' visibility, so listing them tells no one more than `/public/meetings/{id}`."""
    return view_of(list[PublishedMinutesView], await _PUBLISHED_MINUTES.run(limit))


# --- calendars --------------------------------------------------------------------------


def _calendar_columns() -> tuple[Any, ...]:
    return (
        *Meeting.all_columns(),
        Meeting.group.name.as_alias("group_name"),
        Meeting.group.slug.as_alias("group_slug"),
    )


def _readable_meetings(viewer: Viewer, since: Any = None) -> Any:
    query = Meeting.select(*_calendar_columns()).where(scopes.meetings(viewer))
    if since is not None:
        query = query.where(Meeting.ends_at >= since)
    return query.order_by(Meeting.starts_at)


# Built once per viewer (the dashboard asks on every view).
_READABLE_MEETINGS = PreparedSelect(_readable_meetings)
_READABLE_MEETINGS_SINCE = PreparedSelect(_readable_meetings)


async def readable_meetings_for_user(
    viewer: Viewer, since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Meetings of the groups this viewer may read, soonest first, for the personal
    calendar and the dashboard (rows, as `calendars.build_calendar` takes them)."""
    if since is None:
        return await _READABLE_MEETINGS.run(viewer)
    return await _READABLE_MEETINGS_SINCE.run(viewer, since=since)


async def group_meetings(slug: str, viewer: Viewer) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A group and all its meetings, for someone who may read them; otherwise not found."""
    group = (
        await WorkingGroup.select(WorkingGroup.id, WorkingGroup.name, WorkingGroup.slug)
        .where(WorkingGroup.slug == slug)
        .first()
    )
    # A group whose meetings the viewer may not read looks exactly like a missing one.
    if group is None or not scopes.reads_group_content(viewer, group["id"]):
        raise NotFoundError(NO_SUCH_GROUP)
    meetings = (
        await Meeting.select(*_calendar_columns())
        .where(Meeting.group == group["id"])
        .order_by(Meeting.starts_at)
    )
    return group, meetings


async def readable_item_titles(
    meetings: list[dict[str, Any]], viewer: Viewer
) -> dict[int, list[str]]:
    """Agenda titles the viewer may read, for all these meetings, in one query."""
    if not meetings:
        return {}
    groups = sorted({meeting["group"] for meeting in meetings})
    rows = (
        await AgendaItem.select(AgendaItem.meeting, AgendaItem.title)
        .where(AgendaItem.meeting.group.is_in(groups) & scopes.agenda_items(viewer))
        .order_by(AgendaItem.meeting, AgendaItem.position)
    )
    wanted = {meeting["id"] for meeting in meetings}
    titles: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        if row["meeting"] in wanted:
            titles[row["meeting"]].append(row["title"])
    return titles


async def calendar_groups(viewer: Viewer) -> list[dict[str, Any]]:
    """The groups whose calendars this viewer may download, by name."""
    return await (  # type: ignore[no-any-return]
        WorkingGroup.select(WorkingGroup.name, WorkingGroup.slug)
        .where(scopes.proceedings(viewer, WorkingGroup.id))
        .order_by(WorkingGroup.name)
    )


def hash_token(token: str) -> str:
    """What is kept of a personal feed's secret token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def feed_created_at(user_id: int) -> dt.datetime | None:
    row = (
        await CalendarFeed.select(CalendarFeed.created_at)
        .where(CalendarFeed.user == user_id)
        .first()
    )
    return row["created_at"] if row else None


async def feed_owner(token: str) -> CurrentUser:
    """The active user whose feed this token opens; unknown or reset tokens are not found."""
    row = (
        await CalendarFeed.select(
            CalendarFeed.user.id.as_alias("id"),
            CalendarFeed.user.email.as_alias("email"),
            CalendarFeed.user.display_name.as_alias("display_name"),
            CalendarFeed.user.is_admin.as_alias("is_admin"),
            CalendarFeed.user.is_director.as_alias("is_director"),
            CalendarFeed.user.is_board.as_alias("is_board"),
            CalendarFeed.user.timezone.as_alias("timezone"),
            CalendarFeed.user.is_active.as_alias("is_active"),
        )
        .where(CalendarFeed.token_hash == hash_token(token))
        .first()
    )
    if row is None or not row["is_active"]:
        raise NotFoundError(NO_SUCH_FEED)
    return CurrentUser.from_row(row)
