"""The reminder sweep: ask the database what is due, queue one email per person and event.

Each kind of reminder has a window of days in which it is due (below). The sweep runs every
few minutes; whatever falls in its window and has not been queued before is queued, with a
dedupe key naming the event, its date and the person, so

- a sweep that runs late, or after the scheduler was down, still sends what was missed
  (up to `CATCH_UP_DAYS` late for one-off notices; a missed notice older than that is
  stale and is left out of email, though digests still list the item);
- running the sweep again, however often, queues nothing more.

reminder                   due (organisation's calendar days)      to                  category
-------------------------  --------------------------------------  ------------------  ----------
action due soon            1 to 3 days before due_on               its owners          actions
action due today           on due_on                               its owners          actions
action overdue             the day after, then every 7 days        its owners          actions
meeting ahead              48 hours before, agenda and .ics, the   current members     meetings
                           papers added since the notice/papers
minutes still in draft     7 days after a held meeting             chair, secretary    minutes
minutes to review          3 days after circulation, no comment    member attendees    minutes
periodic report due soon   1 to 14 days before its due date        chair, secretary    reports
periodic report due        on its due date                         chair, secretary    reports
periodic report past due   the day after its due date              chair, secretary    reports
delivery past its date     the day after, then every 7 days        the line            (required)
                                                                   the group's chair   reports
membership ending          60 days before ends_on, then 30         member, chair       membership

Dates are the organisation's calendar days (`GOVERNANCE_TIMEZONE`); times in the email are
shown in each recipient's own time zone.

This module decides *what is due* and *to whom*, reading the other domains' tables through
its own queries; `notifications/emails.py` decides what each email says, its links and its
dedupe key. What a recipient may read is asked of `accounts/scopes.py`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from governance.accounts import scopes
from governance.accounts.policy import GroupRole
from governance.accounts.tables import User
from governance.actions.tables import ActionOwner
from governance.core.clock import date_in_zone, organisation_today, utcnow
from governance.core.isolation import SkippedItems
from governance.core.tables import OutboundEmail
from governance.documents.queries import current_versions
from governance.documents.schemas import HolderKind
from governance.documents.tables import Document
from governance.groups.queries import current_on
from governance.groups.tables import Membership
from governance.meetings.calendars import build_calendar
from governance.meetings.tables import AgendaItem, Attendance, Meeting, Minutes, MinutesComment
from governance.notifications import emails
from governance.notifications.emails import (
    DeliveryRef,
    MembershipRef,
    MinutesRef,
    PendingEmail,
    QueueReport,
    ReportDue,
)
from governance.notifications.queries import (
    Subscriber,
    as_ref,
    current_holders,
    delivery_columns,
    load_subscribers,
    minutes_columns,
)
from governance.reports.queries import owed_periods
from governance.reports.tables import Delivery, Report

CATCH_UP_DAYS = 7
ACTION_SOON_DAYS = 3
OVERDUE_REPEAT_DAYS = 7
MEETING_NOTICE = dt.timedelta(hours=48)
MINUTES_DRAFT_DAYS = 7
MINUTES_REVIEW_DAYS = 3
REPORT_SOON_DAYS = 14
MEMBERSHIP_NOTICE_DAYS = (60, 30)
ACTIVE_ACTION_STATUSES = ("open", "in_progress")
ATTENDED = ("present", "remote")
LEADS = (GroupRole.CHAIR, GroupRole.SECRETARY)
CHAIRS = (GroupRole.CHAIR,)
# The emails that carry a meeting's papers: a later paper is listed in the next reminder.
PAPER_EMAILS = ("meeting_notice", "meeting_papers")


@dataclass(frozen=True)
class Moment:
    """When the sweep runs: the instant, and the organisation's calendar day."""

    now: dt.datetime
    today: dt.date

    @classmethod
    def current(cls) -> Moment:
        return cls(utcnow(), organisation_today())


def _in_window(days_late: int, first_day: int = 0) -> bool:
    """Due from `first_day` days after the event, for CATCH_UP_DAYS days."""
    return first_day <= days_late < first_day + CATCH_UP_DAYS


def _iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _days_since(moment: dt.datetime, today: dt.date) -> int:
    """Whole days from the organisation's date of `moment` to today."""
    return (today - date_in_zone(moment)).days


Item = TypeVar("Item")


def _each_reader(
    audiences: Iterable[tuple[Item, Iterable[int]]],
    readers: Mapping[int, Subscriber],
    build: Callable[[Item, Subscriber], PendingEmail | None],
    skipped: SkippedItems,
    describe: Callable[[Item], str],
) -> list[PendingEmail]:
    """One email per item due and person of its audience who is an active user; `build`
    may still find nothing to say to that person (None). An item whose emails cannot be
    built (a bad row) is logged by `describe(item)`, counted in `skipped` and left out; the
    other items' emails are built as usual."""
    found: list[PendingEmail] = []
    for item, user_ids in audiences:
        with skipped.skipping(describe(item)):
            built = [build(item, readers[user_id]) for user_id in user_ids if user_id in readers]
            found.extend(email for email in built if email is not None)
    return found


# --- actions ----------------------------------------------------------------------------


def action_stage(due_on: dt.date, today: dt.date) -> tuple[str, str] | None:
    """(stage, key part) of an action's reminder today, or None when none is due."""
    days_left = (due_on - today).days
    if 1 <= days_left <= ACTION_SOON_DAYS:
        return "soon", f"soon:{due_on.isoformat()}"
    if days_left == 0:
        return "today", f"today:{due_on.isoformat()}"
    if days_left < 0:
        return "overdue", f"overdue:{overdue_week(due_on, today)}"
    return None


def overdue_week(due_on: dt.date, today: dt.date) -> str:
    """The week of the overdue reminder due by `today`: the day after the due date, then
    every seven days. A sweep on any day of that week sends the week's reminder if it has
    not gone yet, so a sweep that was down catches up once, not once per missed day."""
    days_late = (today - due_on).days
    repeat = (days_late - 1) // OVERDUE_REPEAT_DAYS
    anniversary = due_on + dt.timedelta(days=1 + repeat * OVERDUE_REPEAT_DAYS)
    return _iso_week(anniversary)


async def _owned_actions_due(today: dt.date) -> list[dict[str, Any]]:
    """Each owner of each active action due within ACTION_SOON_DAYS, or overdue."""
    return await ActionOwner.select(  # type: ignore[no-any-return]
        ActionOwner.user,
        ActionOwner.action.id.as_alias("action_id"),
        ActionOwner.action.title.as_alias("title"),
        ActionOwner.action.due_on.as_alias("due_on"),
        ActionOwner.action.status.as_alias("status"),
        ActionOwner.action._.group._.name.as_alias("group_name"),
        ActionOwner.action.group.as_alias("group_id"),
        ActionOwner.action.visibility.as_alias("visibility"),
    ).where(
        ActionOwner.action.status.is_in(list(ACTIVE_ACTION_STATUSES))
        & (ActionOwner.action.due_on <= today + dt.timedelta(days=ACTION_SOON_DAYS))
    )


async def action_reminders(at: Moment, skipped: SkippedItems) -> list[PendingEmail]:
    rows = await _owned_actions_due(at.today)
    readers = await load_subscribers(row["user"] for row in rows)

    # An action's owners may always read it (scopes.actions).
    def build(row: dict[str, Any], reader: Subscriber) -> PendingEmail | None:
        stage = action_stage(row["due_on"], at.today)
        if stage is None:
            return None
        return emails.action_reminder(
            reader.recipient,
            action_id=row["action_id"],
            title=row["title"],
            group_id=row["group_id"],
            group_name=row["group_name"],
            visibility=row["visibility"],
            due_on=row["due_on"],
            status=row["status"],
            stage=stage[0],
            stage_key=stage[1],
            today=at.today,
        )

    return _each_reader(
        ((row, [row["user"]]) for row in rows),
        readers,
        build,
        skipped,
        lambda row: f"action {row['action_id']}",
    )


# --- meetings ---------------------------------------------------------------------------


async def _meetings_within_notice(at: Moment) -> list[dict[str, Any]]:
    return await Meeting.select(  # type: ignore[no-any-return]
        *Meeting.all_columns(),
        Meeting.group.name.as_alias("group_name"),
    ).where(
        (Meeting.status == "scheduled")
        & (Meeting.starts_at > at.now)
        & (Meeting.starts_at <= at.now + MEETING_NOTICE)
    )


async def _agendas(meeting_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each meeting's agenda items in order, with their visibility."""
    items = (
        await AgendaItem.select(AgendaItem.meeting, AgendaItem.title, AgendaItem.visibility)
        .where(AgendaItem.meeting.is_in(meeting_ids))
        .order_by(AgendaItem.meeting)
        .order_by(AgendaItem.position)
    )
    agendas: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        agendas[item["meeting"]].append(item)
    return agendas


async def _current_memberships(group_ids: list[int], today: dt.date) -> list[dict[str, Any]]:
    return await Membership.select(  # type: ignore[no-any-return]
        Membership.user, Membership.group, Membership.starts_on, Membership.ends_on
    ).where(Membership.group.is_in(group_ids) & current_on(today))


def _invited(meeting: dict[str, Any], memberships: Iterable[dict[str, Any]]) -> list[int]:
    """The members of the meeting's group today whose membership lasts to its day."""
    day = date_in_zone(meeting["starts_at"])
    return sorted(
        {
            row["user"]
            for row in memberships
            if row["group"] == meeting["group"]
            and (row["ends_on"] is None or row["ends_on"] >= day)
        }
    )


class _Calendars:
    """One calendar file per meeting and set of agenda titles (in practice, per meeting:
    members all read the same titles)."""

    def __init__(self) -> None:
        self._built: dict[tuple[int, tuple[str, ...]], str] = {}

    def of(self, meeting: dict[str, Any], titles: list[str]) -> str:
        key = (meeting["id"], tuple(titles))
        if key not in self._built:
            name = f"{meeting['group_name']}: {meeting['title']}"
            self._built[key] = build_calendar(name, [meeting], {meeting["id"]: titles}).decode()
        return self._built[key]


def _papers_sent(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[int, str], dt.datetime]:
    """When each member was last sent a meeting's notice or its papers, by (meeting id,
    recipient address), from the outbox rows of those emails (their dedupe keys name the
    meeting: "meeting:<id>:notice:..." and "papers:meeting:<id>:...")."""
    sent: dict[tuple[int, str], dt.datetime] = {}
    for row in rows:
        parts = row["dedupe_key"].split(":")
        meeting_id = int(parts[1] if parts[0] == "meeting" else parts[2])
        key = (meeting_id, row["recipient"])
        if key not in sent or row["created_at"] > sent[key]:
            sent[key] = row["created_at"]
    return sent


async def _papers_sent_for(meeting_ids: list[int]) -> dict[tuple[int, str], dt.datetime]:
    if not meeting_ids:
        return {}
    about: Any = None
    for meeting_id in meeting_ids:
        either = OutboundEmail.dedupe_key.like(
            f"meeting:{meeting_id}:notice:%"
        ) | OutboundEmail.dedupe_key.like(f"papers:meeting:{meeting_id}:%")
        about = either if about is None else about | either
    rows = await OutboundEmail.select(
        OutboundEmail.dedupe_key, OutboundEmail.recipient, OutboundEmail.created_at
    ).where(OutboundEmail.template.is_in(list(PAPER_EMAILS)) & about)
    return _papers_sent(rows)


async def _meeting_papers(meeting_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each meeting's current papers (its own and its agenda items'), in the order they
    were first added, with the visibility of the item that holds them."""
    if not meeting_ids:
        return {}
    rows = await Document.select(
        Document.meeting,
        Document.series,
        Document.version,
        Document.title,
        Document.visibility,
        Document.added_at,
        Document.withdrawn_at,
        Document.agenda_item.visibility.as_alias("item_visibility"),
    ).where(
        Document.meeting.is_in(meeting_ids)
        & Document.holder_kind.is_in([HolderKind.MEETING, HolderKind.AGENDA_ITEM])
    )
    by_meeting: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_meeting[row["meeting"]].append(row)
    return {meeting_id: current_versions(found) for meeting_id, found in by_meeting.items()}


@dataclass(frozen=True)
class _MeetingPapers:
    """What the meeting reminders need of the papers: when each member was sent them, and
    each meeting's current papers."""

    sent: Mapping[tuple[int, str], dt.datetime]
    papers: Mapping[int, list[dict[str, Any]]]

    def added_since_sent(self, meeting: Mapping[str, Any], reader: Subscriber) -> list[str]:
        """Titles of the papers, readable by this member, added (or given a new version)
        after their notice or papers email; none when they were never sent either."""
        sent = self.sent.get((meeting["id"], reader.recipient.email))
        if sent is None:
            return []
        return [
            paper["title"]
            for paper in self.papers.get(meeting["id"], [])
            if paper["added_at"] > sent
            and scopes.may_read(reader.viewer, meeting["group"], paper["visibility"])
            and (
                paper["item_visibility"] is None
                or scopes.may_read(reader.viewer, meeting["group"], paper["item_visibility"])
            )
        ]


def _meeting_email(
    meeting: dict[str, Any],
    agenda: list[dict[str, Any]],
    reader: Subscriber,
    calendars: _Calendars,
    papers: _MeetingPapers,
) -> PendingEmail | None:
    """The reminder of a meeting to a member of its group, with the agenda titles they read
    and the papers added since they were sent the notice or the papers."""
    if not reader.viewer.is_member_of(meeting["group"]):
        return None
    titles = [
        item["title"]
        for item in agenda
        if scopes.may_read(reader.viewer, meeting["group"], item["visibility"])
    ]
    return emails.meeting_reminder(
        reader.recipient,
        meeting_id=meeting["id"],
        meeting_title=meeting["title"],
        group_id=meeting["group"],
        group_name=meeting["group_name"],
        starts_at=meeting["starts_at"],
        ends_at=meeting["ends_at"],
        location=meeting["location"],
        agenda=titles,
        papers_added=papers.added_since_sent(meeting, reader),
        calendar=calendars.of(meeting, titles),
        timezone=reader.timezone,
    )


async def meeting_reminders(at: Moment, skipped: SkippedItems) -> list[PendingEmail]:
    meetings = await _meetings_within_notice(at)
    if not meetings:
        return []
    group_ids = sorted({meeting["group"] for meeting in meetings})
    meeting_ids = [meeting["id"] for meeting in meetings]
    memberships = await _current_memberships(group_ids, at.today)
    agendas = await _agendas(meeting_ids)
    papers = _MeetingPapers(await _papers_sent_for(meeting_ids), await _meeting_papers(meeting_ids))
    readers = await load_subscribers(row["user"] for row in memberships)
    calendars = _Calendars()
    return _each_reader(
        ((meeting, _invited(meeting, memberships)) for meeting in meetings),
        readers,
        lambda meeting, reader: _meeting_email(
            meeting, agendas[meeting["id"]], reader, calendars, papers
        ),
        skipped,
        lambda meeting: f"meeting {meeting['id']}",
    )


# --- minutes ----------------------------------------------------------------------------


async def _minutes_in_draft(at: Moment) -> list[dict[str, Any]]:
    """Draft minutes of meetings held MINUTES_DRAFT_DAYS ago (up to CATCH_UP_DAYS more)."""
    earliest = at.now - dt.timedelta(days=MINUTES_DRAFT_DAYS + CATCH_UP_DAYS + 1)
    latest = at.now - dt.timedelta(days=MINUTES_DRAFT_DAYS - 1)
    rows = await Minutes.select(*minutes_columns()).where(
        (Minutes.status == "draft")
        & (Minutes.meeting.status == "held")
        & (Minutes.meeting.starts_at >= earliest)
        & (Minutes.meeting.starts_at <= latest)
    )
    return [
        row
        for row in rows
        if _in_window(_days_since(row["starts_at"], at.today), MINUTES_DRAFT_DAYS)
    ]


async def minutes_draft_reminders(at: Moment, skipped: SkippedItems) -> list[PendingEmail]:
    due = await _minutes_in_draft(at)
    leads = await current_holders([row["group_id"] for row in due], LEADS)
    readers = await load_subscribers(user for users in leads.values() for user in users)
    return _each_reader(
        ((row, leads.get(row["group_id"], [])) for row in due),
        readers,
        lambda row, reader: emails.minutes_draft_reminder(
            reader.recipient, as_ref(MinutesRef, row), today=at.today
        ),
        skipped,
        lambda row: f"minutes {row['minutes_id']}",
    )


async def _minutes_in_review(at: Moment) -> list[dict[str, Any]]:
    """Minutes circulated MINUTES_REVIEW_DAYS ago (up to CATCH_UP_DAYS more)."""
    earliest = at.now - dt.timedelta(days=MINUTES_REVIEW_DAYS + CATCH_UP_DAYS)
    latest = at.now - dt.timedelta(days=MINUTES_REVIEW_DAYS)
    return await Minutes.select(*minutes_columns()).where(  # type: ignore[no-any-return]
        (Minutes.status == "circulated")
        & (Minutes.circulated_at > earliest)
        & (Minutes.circulated_at <= latest)
    )


async def _reviewers(rows: list[dict[str, Any]]) -> dict[int, list[int]]:
    """Per minutes, the attendees (present or remote) who have not commented yet."""
    attendees = await Attendance.select(Attendance.meeting, Attendance.user).where(
        Attendance.meeting.is_in([row["meeting_id"] for row in rows])
        & Attendance.user.is_not_null()
        & Attendance.mode.is_in(list(ATTENDED))
    )
    commented = {
        (row["minutes"], row["author"])
        for row in await MinutesComment.select(MinutesComment.minutes, MinutesComment.author).where(
            MinutesComment.minutes.is_in([row["minutes_id"] for row in rows])
        )
    }
    attendees_of: dict[int, list[int]] = defaultdict(list)
    for attendee in attendees:
        attendees_of[attendee["meeting"]].append(attendee["user"])
    return {
        row["minutes_id"]: [
            user
            for user in attendees_of[row["meeting_id"]]
            if (row["minutes_id"], user) not in commented
        ]
        for row in rows
    }


def _review_email(row: dict[str, Any], reader: Subscriber) -> PendingEmail | None:
    if not reader.viewer.is_member_of(row["group_id"]):
        return None
    return emails.minutes_review_reminder(
        reader.recipient,
        as_ref(MinutesRef, row),
        circulated_at=row["circulated_at"],
        timezone=reader.timezone,
    )


async def minutes_review_reminders(at: Moment, skipped: SkippedItems) -> list[PendingEmail]:
    rows = await _minutes_in_review(at)
    if not rows:
        return []
    reviewers = await _reviewers(rows)
    readers = await load_subscribers(user for users in reviewers.values() for user in users)
    return _each_reader(
        ((row, reviewers[row["minutes_id"]]) for row in rows),
        readers,
        _review_email,
        skipped,
        lambda row: f"minutes {row['minutes_id']}",
    )


# --- periodic reports -------------------------------------------------------------------


def report_stage(due_on: dt.date, today: dt.date) -> str | None:
    days_left = (due_on - today).days
    if 1 <= days_left <= REPORT_SOON_DAYS:
        return "soon"
    if days_left == 0:
        return "today"
    if days_left < 0 and _in_window(-days_left, 1):
        return "overdue"
    return None


async def _submitted_periods() -> set[tuple[int, str]]:
    rows = await Report.select(Report.group, Report.period).where(
        (Report.kind == "periodic") & (Report.status == "submitted")
    )
    return {(row["group"], row["period"]) for row in rows}


async def reports_due(today: dt.date) -> list[ReportDue]:
    """Periodic reports not yet submitted whose reminder is due today, one per group,
    period and due date (both lines usually share them). The due dates are the schedule's
    (`reports.queries.owed_periods`): those of the settings each period began with."""
    submitted = await _submitted_periods()
    found: dict[tuple[int, str, dt.date, str], ReportDue] = {}
    first_due = today - dt.timedelta(days=CATCH_UP_DAYS + 1)
    last_due = today + dt.timedelta(days=REPORT_SOON_DAYS)
    for owed in await owed_periods(today, first_due, last_due):
        stage = report_stage(owed.due_on, today)
        if stage is None or (owed.group_id, owed.period) in submitted:
            continue
        entry = found.setdefault(
            (owed.group_id, owed.period, owed.due_on, stage),
            ReportDue(
                owed.group_id, owed.group_name, owed.group_slug, owed.period, owed.due_on, stage
            ),
        )
        entry.lines.append(owed.recipient)
    return list(found.values())


async def report_reminders(at: Moment, skipped: SkippedItems) -> list[PendingEmail]:
    due = await reports_due(at.today)
    leads = await current_holders([entry.group_id for entry in due], LEADS)
    readers = await load_subscribers(user for users in leads.values() for user in users)
    return _each_reader(
        ((entry, leads.get(entry.group_id, [])) for entry in due),
        readers,
        lambda entry, reader: emails.report_due_reminder(reader.recipient, entry, today=at.today),
        skipped,
        lambda entry: f"periodic report {entry.group_slug} {entry.period}",
    )


# --- deliveries -------------------------------------------------------------------------


async def _deliveries_past_due(today: dt.date) -> list[dict[str, Any]]:
    """Every delivery still unanswered after its due date: reminded weekly until answered."""
    return await Delivery.select(*delivery_columns()).where(  # type: ignore[no-any-return]
        (Delivery.state != "responded") & (Delivery.response_due_on < today)
    )


async def _people_on_lines() -> dict[str, list[int]]:
    """The active users answering for each line: the Director, the Board's members."""
    rows = await User.select(User.id, User.is_director, User.is_board).where(
        (User.is_active == True) & ((User.is_director == True) | (User.is_board == True))  # noqa: E712
    )
    return {
        "director": [row["id"] for row in rows if row["is_director"]],
        "board": [row["id"] for row in rows if row["is_board"]],
    }


def _delivery_email(
    due: tuple[dict[str, Any], bool, dt.date], reader: Subscriber
) -> PendingEmail | None:
    """To a person of the line (`for_line`) or the group's chair, if they may read the
    report; once a week while it stays unanswered."""
    row, for_line, today = due
    if not scopes.may_read_report(
        reader.viewer, row["group_id"], row["visibility"], row["report_status"]
    ):
        return None
    week = overdue_week(row["response_due_on"], today)
    delivery = as_ref(DeliveryRef, row)
    return emails.delivery_overdue(reader.recipient, delivery, for_line=for_line, week=week)


async def delivery_reminders(at: Moment, skipped: SkippedItems) -> list[PendingEmail]:
    """A delivery not answered by its due date: to everyone on that line (a notice that
    cannot be turned off) and to the group's chair."""
    rows = await _deliveries_past_due(at.today)
    if not rows:
        return []
    on_line = await _people_on_lines()
    chairs = await current_holders([row["group_id"] for row in rows], CHAIRS)
    readers = await load_subscribers(
        [user for users in on_line.values() for user in users]
        + [user for users in chairs.values() for user in users]
    )
    audiences: list[tuple[tuple[dict[str, Any], bool, dt.date], list[int]]] = []
    for row in rows:
        audiences.append(((row, True, at.today), on_line.get(row["line"], [])))
        audiences.append(((row, False, at.today), chairs.get(row["group_id"], [])))
    return _each_reader(
        audiences,
        readers,
        _delivery_email,
        skipped,
        lambda due: f"delivery {due[0]['delivery_id']}",
    )


# --- memberships ------------------------------------------------------------------------


def membership_stage(ends_on: dt.date, today: dt.date) -> int | None:
    """60 or 30: which notice of a membership's end is due today."""
    days_left = (ends_on - today).days
    if days_left < 1:
        return None
    for notice, next_notice in zip(
        MEMBERSHIP_NOTICE_DAYS, (*MEMBERSHIP_NOTICE_DAYS[1:], 0), strict=True
    ):
        if next_notice < days_left <= notice:
            return notice
    return None


async def _memberships_ending(today: dt.date) -> list[dict[str, Any]]:
    horizon = today + dt.timedelta(days=max(MEMBERSHIP_NOTICE_DAYS))
    return await Membership.select(  # type: ignore[no-any-return]
        Membership.id.as_alias("membership_id"),
        Membership.user.as_alias("user_id"),
        Membership.group,
        Membership.role,
        Membership.starts_on,
        Membership.ends_on,
        Membership.user.display_name.as_alias("member_name"),
        Membership.group.name.as_alias("group_name"),
        Membership.group.slug.as_alias("group_slug"),
    ).where(
        Membership.ends_on.is_not_null()
        & (Membership.ends_on > today)
        & (Membership.ends_on <= horizon)
        & (Membership.starts_on <= today)
    )


async def _terms_of(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every term of these members in these groups (to see which ending has a successor)."""
    return await Membership.select(  # type: ignore[no-any-return]
        Membership.user.as_alias("user_id"),
        Membership.group,
        Membership.starts_on,
        Membership.ends_on,
    ).where(
        Membership.group.is_in(sorted({row["group"] for row in rows}))
        & Membership.user.is_in(sorted({row["user_id"] for row in rows}))
    )


def _continues(term: dict[str, Any], others: Iterable[dict[str, Any]]) -> bool:
    """Whether another term in the same group follows straight on: not an ending."""
    next_day = term["ends_on"] + dt.timedelta(days=1)
    return any(
        other["user_id"] == term["user_id"]
        and other["group"] == term["group"]
        and other["starts_on"] <= next_day
        and (other["ends_on"] is None or other["ends_on"] > term["ends_on"])
        for other in others
    )


async def membership_reminders(at: Moment, skipped: SkippedItems) -> list[PendingEmail]:
    rows = await _memberships_ending(at.today)
    if not rows:
        return []
    terms = await _terms_of(rows)
    chairs = await current_holders([row["group"] for row in rows], CHAIRS)
    readers = await load_subscribers(
        [row["user_id"] for row in rows] + [u for users in chairs.values() for u in users]
    )
    audiences = []
    for row in rows:
        notice = membership_stage(row["ends_on"], at.today)
        if notice is not None and not _continues(row, terms):
            audience = dict.fromkeys([row["user_id"], *chairs.get(row["group"], [])])
            audiences.append(((as_ref(MembershipRef, row), notice), list(audience)))
    return _each_reader(
        audiences,
        readers,
        lambda due, reader: emails.membership_ending(
            reader.recipient, due[0], notice=due[1], today=at.today
        ),
        skipped,
        lambda due: f"membership {due[0].membership_id}",
    )


# --- the sweep --------------------------------------------------------------------------

REMINDERS: dict[str, Callable[[Moment, SkippedItems], Awaitable[list[PendingEmail]]]] = {
    "actions": action_reminders,
    "meetings": meeting_reminders,
    "minutes_draft": minutes_draft_reminders,
    "minutes_review": minutes_review_reminders,
    "reports": report_reminders,
    "deliveries": delivery_reminders,
    "memberships": membership_reminders,
}


async def run_reminder_sweep(at: Moment | None = None) -> QueueReport:
    """Queues every reminder that is due and not yet queued."""
    at = at or Moment.current()
    report = QueueReport()
    for kind, find_due in REMINDERS.items():
        # A kind whose query fails is one failure; the other kinds are still swept.
        with report.skipping(f"{kind} reminders"):
            report.add(await emails.queue_pending(await find_due(at, report)))
    return report
