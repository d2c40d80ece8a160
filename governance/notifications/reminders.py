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
meeting ahead              48 hours before, agenda and .ics        current members     meetings
minutes still in draft     7 days after a held meeting             chair, secretary    minutes
minutes to review          3 days after circulation, no comment    member attendees    minutes
periodic report due soon   1 to 14 days before its due date        chair, secretary    reports
periodic report due        on its due date                         chair, secretary    reports
periodic report past due   the day after its due date              chair, secretary    reports
delivery past its date     the day after response_due_on           the line            (required)
                                                                   the group's chair   reports
membership ending          60 days before ends_on, then 30         member, chair       membership

Dates are the organisation's calendar days (`GOVERNANCE_TIMEZONE`); times in the email are
shown in each recipient's own time zone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from governance.accounts.policy import Line
from governance.accounts.tables import User
from governance.actions.tables import ActionOwner
from governance.core.clock import organisation_today, utcnow
from governance.core.templating import format_date, format_datetime
from governance.groups.tables import Membership, ReportingLine
from governance.meetings.calendars import build_calendar
from governance.meetings.services import meeting_date
from governance.meetings.tables import AgendaItem, Attendance, Meeting, Minutes, MinutesComment
from governance.notifications.services import (
    PendingEmail,
    QueueReport,
    Recipient,
    current_leads,
    link,
    load_recipients,
    queue_new,
    zone_of,
)
from governance.reports import schedule
from governance.reports.tables import Delivery, Report
from governance.settings import get_settings

CATCH_UP_DAYS = 7
ACTION_SOON_DAYS = 3
OVERDUE_REPEAT_DAYS = 7
MEETING_NOTICE = dt.timedelta(hours=48)
MINUTES_DRAFT_DAYS = 7
MINUTES_REVIEW_DAYS = 3
REPORT_SOON_DAYS = 14
MEMBERSHIP_NOTICE_DAYS = (60, 30)
ACTIVE_ACTION_STATUSES = ("open", "in_progress")
LEADS = ("chair", "secretary")


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


def _when(moment: dt.datetime, recipient: Recipient) -> str:
    return f"{format_datetime(moment, recipient.timezone)} ({recipient.timezone})"


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


# --- actions ----------------------------------------------------------------------------


def action_stage(due_on: dt.date, today: dt.date) -> tuple[str, str] | None:
    """(stage, key part) of an action's reminder today, or None when none is due."""
    days_left = (due_on - today).days
    if 1 <= days_left <= ACTION_SOON_DAYS:
        return "soon", f"soon:{due_on.isoformat()}"
    if days_left == 0:
        return "today", f"today:{due_on.isoformat()}"
    if days_left < 0:
        # Weekly while overdue: the day after the due date, then every seven days. A sweep
        # on any day of that week sends the week's reminder if it has not gone yet.
        days_late = -days_left
        repeat = (days_late - 1) // OVERDUE_REPEAT_DAYS
        anniversary = due_on + dt.timedelta(days=1 + repeat * OVERDUE_REPEAT_DAYS)
        return "overdue", f"overdue:{_iso_week(anniversary)}"
    return None


async def action_reminders(at: Moment) -> list[PendingEmail]:
    rows = await ActionOwner.select(
        ActionOwner.user,
        ActionOwner.action.id.as_alias("action_id"),
        ActionOwner.action.title.as_alias("title"),
        ActionOwner.action.due_on.as_alias("due_on"),
        ActionOwner.action.status.as_alias("status"),
        ActionOwner.action._.group._.id.as_alias("group_id"),
        ActionOwner.action._.group._.name.as_alias("group_name"),
    ).where(
        ActionOwner.action.status.is_in(list(ACTIVE_ACTION_STATUSES))
        & (ActionOwner.action.due_on <= at.today + dt.timedelta(days=ACTION_SOON_DAYS))
    )
    recipients = await load_recipients(row["user"] for row in rows)
    emails = []
    for row in rows:
        recipient = recipients.get(row["user"])
        stage = action_stage(row["due_on"], at.today)
        # An action's owners may always read it (governance/actions/services.py).
        if recipient is None or stage is None:
            continue
        name, key_part = stage
        emails.append(
            PendingEmail(
                recipient,
                "action_reminder",
                {
                    "stage": name,
                    "title": row["title"],
                    "group_name": row["group_name"],
                    "due_on": format_date(row["due_on"]),
                    "days_left": (row["due_on"] - at.today).days,
                    "days_late": (at.today - row["due_on"]).days,
                    "status": row["status"].replace("_", " "),
                    "link": link(f"/actions/{row['action_id']}"),
                },
                f"reminder:action:{row['action_id']}:{key_part}:user:{recipient.id}",
                "actions",
            )
        )
    return emails


# --- meetings ---------------------------------------------------------------------------


async def meeting_reminders(at: Moment) -> list[PendingEmail]:
    meetings = await Meeting.select(
        *Meeting.all_columns(),
        Meeting.group.name.as_alias("group_name"),
        Meeting.group.slug.as_alias("group_slug"),
    ).where(
        (Meeting.status == "scheduled")
        & (Meeting.starts_at > at.now)
        & (Meeting.starts_at <= at.now + MEETING_NOTICE)
    )
    if not meetings:
        return []
    group_ids = sorted({meeting["group"] for meeting in meetings})
    memberships = await Membership.select(
        Membership.user, Membership.group, Membership.starts_on, Membership.ends_on
    ).where(
        Membership.group.is_in(group_ids)
        & (Membership.starts_on <= at.today)
        & (Membership.ends_on.is_null() | (Membership.ends_on >= at.today))
    )
    items = (
        await AgendaItem.select(AgendaItem.meeting, AgendaItem.title, AgendaItem.visibility)
        .where(AgendaItem.meeting.is_in([meeting["id"] for meeting in meetings]))
        .order_by(AgendaItem.meeting)
        .order_by(AgendaItem.position)
    )
    agenda: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        agenda[item["meeting"]].append(item)
    by_group: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in memberships:
        by_group[row["group"]].append(row)
    recipients = await load_recipients(row["user"] for row in memberships)
    emails = []
    for meeting in meetings:
        day = meeting_date(meeting["starts_at"])
        invited = {
            row["user"]
            for row in by_group[meeting["group"]]
            if row["ends_on"] is None or row["ends_on"] >= day
        }
        calendars: dict[tuple[str, ...], str] = {}
        for user_id in sorted(invited):
            recipient = recipients.get(user_id)
            if recipient is None or not recipient.viewer.is_member_of(meeting["group"]):
                continue
            titles = [
                item["title"]
                for item in agenda[meeting["id"]]
                if recipient.may_read(meeting["group"], item["visibility"])
            ]
            ics = calendars.get(tuple(titles))
            if ics is None:
                # Members all read the same titles: one calendar file per meeting, in practice.
                ics = calendars[tuple(titles)] = build_calendar(
                    f"{meeting['group_name']}: {meeting['title']}",
                    [meeting],
                    {meeting["id"]: titles},
                ).decode()
            starts = meeting["starts_at"]
            emails.append(
                PendingEmail(
                    recipient,
                    "meeting_reminder",
                    {
                        "meeting_title": meeting["title"],
                        "group_name": meeting["group_name"],
                        "starts": _when(starts, recipient),
                        "ends": _when(meeting["ends_at"], recipient),
                        "location": meeting["location"],
                        "agenda": titles,
                        "link": link(f"/meetings/{meeting['id']}"),
                        "ics": ics,
                        "ics_filename": f"meeting-{meeting['id']}.ics",
                    },
                    f"reminder:meeting:{meeting['id']}:ahead:"
                    f"{starts.astimezone(dt.UTC):%Y%m%dT%H%MZ}:user:{recipient.id}",
                    "meetings",
                )
            )
    return emails


# --- minutes ----------------------------------------------------------------------------


async def minutes_draft_reminders(at: Moment) -> list[PendingEmail]:
    earliest = at.now - dt.timedelta(days=MINUTES_DRAFT_DAYS + CATCH_UP_DAYS + 1)
    latest = at.now - dt.timedelta(days=MINUTES_DRAFT_DAYS - 1)
    rows = await Minutes.select(
        Minutes.id,
        Minutes.meeting.id.as_alias("meeting_id"),
        Minutes.meeting.title.as_alias("meeting_title"),
        Minutes.meeting.starts_at.as_alias("starts_at"),
        Minutes.meeting._.group._.id.as_alias("group_id"),
        Minutes.meeting._.group._.name.as_alias("group_name"),
    ).where(
        (Minutes.status == "draft")
        & (Minutes.meeting.status == "held")
        & (Minutes.meeting.starts_at >= earliest)
        & (Minutes.meeting.starts_at <= latest)
    )
    due = [
        row
        for row in rows
        if _in_window((at.today - meeting_date(row["starts_at"])).days, MINUTES_DRAFT_DAYS)
    ]
    leads = await current_leads([row["group_id"] for row in due], LEADS)
    recipients = await load_recipients(user for users in leads.values() for user in users)
    emails = []
    for row in due:
        for user_id in leads.get(row["group_id"], []):
            recipient = recipients.get(user_id)
            if recipient is None:
                continue
            emails.append(
                PendingEmail(
                    recipient,
                    "minutes_draft_reminder",
                    {
                        "meeting_title": row["meeting_title"],
                        "group_name": row["group_name"],
                        "meeting_date": format_date(meeting_date(row["starts_at"])),
                        "days": (at.today - meeting_date(row["starts_at"])).days,
                        "link": link(f"/meetings/{row['meeting_id']}"),
                    },
                    f"reminder:minutes:{row['id']}:draft:user:{recipient.id}",
                    "minutes",
                )
            )
    return emails


async def minutes_review_reminders(at: Moment) -> list[PendingEmail]:
    earliest = at.now - dt.timedelta(days=MINUTES_REVIEW_DAYS + CATCH_UP_DAYS)
    latest = at.now - dt.timedelta(days=MINUTES_REVIEW_DAYS)
    rows = await Minutes.select(
        Minutes.id,
        Minutes.circulated_at,
        Minutes.meeting.id.as_alias("meeting_id"),
        Minutes.meeting.title.as_alias("meeting_title"),
        Minutes.meeting.starts_at.as_alias("starts_at"),
        Minutes.meeting._.group._.id.as_alias("group_id"),
        Minutes.meeting._.group._.name.as_alias("group_name"),
    ).where(
        (Minutes.status == "circulated")
        & (Minutes.circulated_at > earliest)
        & (Minutes.circulated_at <= latest)
    )
    if not rows:
        return []
    meeting_ids = [row["meeting_id"] for row in rows]
    attendees = await Attendance.select(Attendance.meeting, Attendance.user).where(
        Attendance.meeting.is_in(meeting_ids)
        & Attendance.user.is_not_null()
        & Attendance.mode.is_in(["present", "remote"])
    )
    commented = {
        (row["minutes"], row["author"])
        for row in await MinutesComment.select(MinutesComment.minutes, MinutesComment.author).where(
            MinutesComment.minutes.is_in([row["id"] for row in rows])
        )
    }
    recipients = await load_recipients(row["user"] for row in attendees)
    attendees_of: dict[int, list[int]] = defaultdict(list)
    for attendee in attendees:
        attendees_of[attendee["meeting"]].append(attendee["user"])
    emails = []
    for row in rows:
        for user_id in attendees_of[row["meeting_id"]]:
            recipient = recipients.get(user_id)
            if (
                recipient is None
                or not recipient.viewer.is_member_of(row["group_id"])
                or (row["id"], recipient.id) in commented
            ):
                continue
            emails.append(
                PendingEmail(
                    recipient,
                    "minutes_review_reminder",
                    {
                        "meeting_title": row["meeting_title"],
                        "group_name": row["group_name"],
                        "meeting_date": format_date(meeting_date(row["starts_at"])),
                        "circulated_on": format_date(
                            row["circulated_at"].astimezone(zone_of(recipient.timezone)).date()
                        ),
                        "link": link(f"/meetings/{row['meeting_id']}"),
                    },
                    f"reminder:minutes:{row['id']}:review:"
                    f"{row['circulated_at'].astimezone(dt.UTC):%Y%m%dT%H%M%S}:user:{recipient.id}",
                    "minutes",
                )
            )
    return emails


# --- periodic reports -------------------------------------------------------------------


@dataclass
class ReportDue:
    group_id: int
    group_name: str
    group_slug: str
    period: str
    due_on: dt.date
    stage: str
    lines: list[str] = field(default_factory=list)


def report_stage(due_on: dt.date, today: dt.date) -> str | None:
    days_left = (due_on - today).days
    if 1 <= days_left <= REPORT_SOON_DAYS:
        return "soon"
    if days_left == 0:
        return "today"
    if days_left < 0 and _in_window(-days_left, 1):
        return "overdue"
    return None


async def reports_due(today: dt.date) -> list[ReportDue]:
    """Periodic reports not yet submitted whose reminder is due today, one per group,
    period and due date (both lines usually share them)."""
    lines = await ReportingLine.select(
        *ReportingLine.all_columns(),
        ReportingLine.group.name.as_alias("group_name"),
        ReportingLine.group.slug.as_alias("group_slug"),
        ReportingLine.group.created_at.as_alias("group_created_at"),
    )
    submitted = {
        (row["group"], row["period"])
        for row in await Report.select(Report.group, Report.period).where(
            (Report.kind == "periodic") & (Report.status == "submitted")
        )
    }
    organisation_zone = zone_of(get_settings().timezone)
    found: dict[tuple[int, str, dt.date, str], ReportDue] = {}
    for line in lines:
        cadence = line["cadence"]
        if cadence not in schedule.MONTHS_PER_PERIOD:
            continue
        due_days = int(line["report_due_days"])
        group_start = line["group_created_at"].astimezone(organisation_zone).date()
        first = today - dt.timedelta(days=due_days + CATCH_UP_DAYS + 1)
        last = today + dt.timedelta(days=REPORT_SOON_DAYS)
        for period in schedule.periods_between(cadence, first, last):
            due_on = period.ends_on + dt.timedelta(days=due_days)
            stage = report_stage(due_on, today)
            if (
                stage is None
                or period.ends_on < group_start
                or (line["group"], period.label) in submitted
            ):
                continue
            key = (line["group"], period.label, due_on, stage)
            entry = found.setdefault(
                key,
                ReportDue(
                    line["group"],
                    line["group_name"],
                    line["group_slug"],
                    period.label,
                    due_on,
                    stage,
                ),
            )
            entry.lines.append(Line(line["recipient"]).label)
    return list(found.values())


async def report_reminders(at: Moment) -> list[PendingEmail]:
    due = await reports_due(at.today)
    leads = await current_leads([entry.group_id for entry in due], LEADS)
    recipients = await load_recipients(user for users in leads.values() for user in users)
    emails = []
    for entry in due:
        for user_id in leads.get(entry.group_id, []):
            recipient = recipients.get(user_id)
            if recipient is None:
                continue
            emails.append(
                PendingEmail(
                    recipient,
                    "report_due_reminder",
                    {
                        "stage": entry.stage,
                        "group_name": entry.group_name,
                        "period": entry.period,
                        "due_on": format_date(entry.due_on),
                        "days_left": (entry.due_on - at.today).days,
                        "lines": " and ".join(sorted(set(entry.lines), reverse=True)),
                        "link": link(f"/groups/{entry.group_slug}/reports"),
                    },
                    f"reminder:report:group:{entry.group_id}:{entry.period}:{entry.stage}:"
                    f"{entry.due_on.isoformat()}:user:{recipient.id}",
                    "reports",
                )
            )
    return emails


# --- deliveries -------------------------------------------------------------------------


async def delivery_reminders(at: Moment) -> list[PendingEmail]:
    """A delivery not answered by its due date: to everyone on that line (a notice that
    cannot be turned off) and to the group's chair."""
    rows = await Delivery.select(
        Delivery.id,
        Delivery.recipient,
        Delivery.state,
        Delivery.response_due_on,
        Delivery.report.id.as_alias("report_id"),
        Delivery.report.title.as_alias("report_title"),
        Delivery.report.visibility.as_alias("visibility"),
        Delivery.report._.group._.id.as_alias("group_id"),
        Delivery.report._.group._.name.as_alias("group_name"),
    ).where(
        (Delivery.state != "responded")
        & (Delivery.response_due_on < at.today)
        & (Delivery.response_due_on >= at.today - dt.timedelta(days=CATCH_UP_DAYS))
    )
    if not rows:
        return []
    line_people = await User.select(User.id, User.is_director, User.is_board).where(
        (User.is_active == True) & ((User.is_director == True) | (User.is_board == True))  # noqa: E712
    )
    on_line = {
        "director": [row["id"] for row in line_people if row["is_director"]],
        "board": [row["id"] for row in line_people if row["is_board"]],
    }
    chairs = await current_leads([row["group_id"] for row in rows], ("chair",))
    recipients = await load_recipients(
        [row["id"] for row in line_people] + [u for users in chairs.values() for u in users]
    )
    emails = []
    for row in rows:
        line_name = Line(row["recipient"]).label
        audience = [(user, True) for user in on_line.get(row["recipient"], [])]
        audience += [(user, False) for user in chairs.get(row["group_id"], [])]
        for user_id, for_line in audience:
            recipient = recipients.get(user_id)
            if recipient is None or not recipient.may_read(row["group_id"], row["visibility"]):
                continue
            emails.append(
                PendingEmail(
                    recipient,
                    "delivery_overdue",
                    {
                        "for_line": for_line,
                        "line_name": line_name,
                        "report_title": row["report_title"],
                        "group_name": row["group_name"],
                        "acknowledged": row["state"] == "acknowledged",
                        "due_on": format_date(row["response_due_on"]),
                        "link": link(f"/reports/{row['report_id']}"),
                    },
                    f"reminder:delivery:{row['id']}:overdue:"
                    f"{row['response_due_on'].isoformat()}:user:{recipient.id}",
                    None if for_line else "reports",
                )
            )
    return emails


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


async def membership_reminders(at: Moment) -> list[PendingEmail]:
    horizon = at.today + dt.timedelta(days=max(MEMBERSHIP_NOTICE_DAYS))
    rows = await Membership.select(
        Membership.id,
        Membership.user,
        Membership.group,
        Membership.role,
        Membership.starts_on,
        Membership.ends_on,
        Membership.user.display_name.as_alias("member_name"),
        Membership.group.name.as_alias("group_name"),
        Membership.group.slug.as_alias("group_slug"),
    ).where(
        Membership.ends_on.is_not_null()
        & (Membership.ends_on > at.today)
        & (Membership.ends_on <= horizon)
        & (Membership.starts_on <= at.today)
    )
    if not rows:
        return []
    # A term followed straight away by another in the same group is not an ending.
    following = await Membership.select(
        Membership.user, Membership.group, Membership.starts_on, Membership.ends_on
    ).where(
        Membership.group.is_in(sorted({row["group"] for row in rows}))
        & Membership.user.is_in(sorted({row["user"] for row in rows}))
    )
    chairs = await current_leads([row["group"] for row in rows], ("chair",))
    recipients = await load_recipients(
        [row["user"] for row in rows] + [u for users in chairs.values() for u in users]
    )
    emails = []
    for row in rows:
        notice = membership_stage(row["ends_on"], at.today)
        if notice is None or _continues(row, following):
            continue
        audience = [row["user"], *chairs.get(row["group"], [])]
        for user_id in dict.fromkeys(audience):
            recipient = recipients.get(user_id)
            if recipient is None:
                continue
            emails.append(
                PendingEmail(
                    recipient,
                    "membership_ending",
                    {
                        "is_own": user_id == row["user"],
                        "member_name": row["member_name"],
                        "group_name": row["group_name"],
                        "role": row["role"],
                        "ends_on": format_date(row["ends_on"]),
                        "days_left": (row["ends_on"] - at.today).days,
                        "link": link(f"/groups/{row['group_slug']}"),
                    },
                    f"reminder:membership:{row['id']}:ends:{row['ends_on'].isoformat()}:"
                    f"{notice}:user:{recipient.id}",
                    "membership",
                )
            )
    return emails


def _continues(term: dict[str, Any], others: Iterable[dict[str, Any]]) -> bool:
    next_day = term["ends_on"] + dt.timedelta(days=1)
    return any(
        other["user"] == term["user"]
        and other["group"] == term["group"]
        and other["starts_on"] <= next_day
        and (other["ends_on"] is None or other["ends_on"] > term["ends_on"])
        for other in others
    )


# --- the sweep --------------------------------------------------------------------------

REMINDERS: dict[str, Callable[[Moment], Awaitable[list[PendingEmail]]]] = {
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
    for find_due in REMINDERS.values():
        report.add(await queue_new(await find_due(at)))
    return report
