"""Email digests: what matters to each person, at 07:00 in their own time zone.

The job runs every hour. For each time zone in use it works out the local date and hour;
a user is due when it is 07:00 or later on their day (every day for `daily`, their weekday
for `weekly`) and the digest job has not yet looked at that day for them. A tick later in the
same local day catches up on a missed 07:00. Each user's day is recorded in `DigestRecord`
in the transaction that queues the digest, and the email's dedupe key
(`digest:user:7:2026-11-24`) makes a second digest for the same day impossible.

Users are read in batches (keyset pagination on the id). For each batch a fixed number of
set-based queries fetch the batch's memberships, actions, attendance, decisions and
deliveries; nothing is loaded for every user at once. What the organisation shares (meetings
ahead, minutes in circulation, deliveries awaiting a response) is read once per run.

Each item is checked with `Recipient.may_read` before it enters a digest: a `board` item
never reaches the Director and a `group` item never leaves the group. A digest with nothing in
it is not sent.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import operator
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from governance.accounts.policy import Line
from governance.accounts.tables import User
from governance.actions.tables import ActionOwner
from governance.core.clock import organisation_today, utcnow
from governance.core.db import write_transaction
from governance.core.templating import format_date, format_datetime
from governance.groups.tables import Membership
from governance.meetings.tables import Attendance, Decision, Meeting, Minutes
from governance.notifications.services import (
    DIGEST,
    USER_COLUMNS,
    WEEKDAYS,
    PendingEmail,
    Recipient,
    insert_emails,
    link,
    recipients_from_rows,
    zone_of,
)
from governance.notifications.tables import DigestRecord
from governance.reports.tables import Delivery

logger = logging.getLogger(__name__)

DIGEST_HOUR = 7
BATCH_SIZE = 500
# How far ahead "meetings ahead" looks, and how far back "since my last digest" may reach.
LOOKAHEAD = {"daily": dt.timedelta(days=7), "weekly": dt.timedelta(days=14)}
PERIOD = {"daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}
MAX_LOOKBACK = dt.timedelta(days=31)
MAX_ITEMS = 20
ACTIVE_ACTION_STATUSES = ("open", "in_progress")


@dataclass
class DigestReport:
    users_processed: int = 0
    digests_queued: int = 0
    nothing_to_say: int = 0
    batches: int = 0
    seconds: float = 0.0


def due_days(now: dt.datetime, zones: list[str]) -> dict[dt.date, list[str]]:
    """The time zones where it is now 07:00 or later, grouped by their local date."""
    days: dict[dt.date, list[str]] = defaultdict(list)
    for zone in zones:
        local = now.astimezone(zone_of(zone))
        if local.hour >= DIGEST_HOUR:
            days[local.date()].append(zone)
    return dict(days)


def _due_condition(days: dict[dt.date, list[str]]) -> Any:
    clauses = []
    for day, zones in days.items():
        weekday = WEEKDAYS[day.weekday()]
        already = DigestRecord.select(DigestRecord.user).where(
            DigestRecord.last_period == day.isoformat()
        )
        clauses.append(
            User.timezone.is_in(sorted(zones))
            & (
                (User.digest_frequency == "daily")
                | ((User.digest_frequency == "weekly") & (User.digest_weekday == weekday))
            )
            & User.id.not_in(already)
        )
    return functools.reduce(operator.or_, clauses)


# --- what the organisation shares, read once per run ------------------------------------


@dataclass
class Shared:
    now: dt.datetime
    today: dt.date
    meetings: list[dict[str, Any]]
    circulated: list[dict[str, Any]]
    unanswered: list[dict[str, Any]]

    @classmethod
    async def load(cls, now: dt.datetime) -> Shared:
        meetings = (
            await Meeting.select(
                Meeting.id,
                Meeting.group,
                Meeting.title,
                Meeting.starts_at,
                Meeting.location,
                Meeting.group.name.as_alias("group_name"),
            )
            .where(
                (Meeting.status == "scheduled")
                & (Meeting.starts_at > now)
                & (Meeting.starts_at <= now + max(LOOKAHEAD.values()))
            )
            .order_by(Meeting.starts_at)
        )
        circulated = (
            await Minutes.select(
                Minutes.id,
                Minutes.circulated_at,
                Minutes.meeting.id.as_alias("meeting_id"),
                Minutes.meeting.title.as_alias("meeting_title"),
                Minutes.meeting.starts_at.as_alias("starts_at"),
                Minutes.meeting._.group._.id.as_alias("group_id"),
                Minutes.meeting._.group._.name.as_alias("group_name"),
            )
            .where(Minutes.status == "circulated")
            .order_by(Minutes.circulated_at, ascending=False)
        )
        unanswered = (
            await Delivery.select(*_delivery_columns())
            .where(Delivery.state != "responded")
            .order_by(Delivery.delivered_at, ascending=False)
        )
        return cls(now, organisation_today(), meetings, circulated, unanswered)


def _delivery_columns() -> tuple[Any, ...]:
    return (
        Delivery.id,
        Delivery.recipient,
        Delivery.state,
        Delivery.delivered_at,
        Delivery.response_due_on,
        Delivery.responded_at,
        Delivery.response,
        Delivery.report.id.as_alias("report_id"),
        Delivery.report.title.as_alias("report_title"),
        Delivery.report.kind.as_alias("report_kind"),
        Delivery.report.visibility.as_alias("visibility"),
        Delivery.report._.group._.id.as_alias("group_id"),
        Delivery.report._.group._.name.as_alias("group_name"),
    )


# --- one batch --------------------------------------------------------------------------


@dataclass
class Batch:
    recipients: dict[int, Recipient]
    day_of: dict[int, dt.date]
    since: dict[int, dt.datetime]
    actions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    attended: set[tuple[int, int]] = field(default_factory=set)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    responded: list[dict[str, Any]] = field(default_factory=list)


async def _load_batch(users: list[dict[str, Any]], shared: Shared) -> Batch:
    ids = [user["id"] for user in users]
    records = {
        row["user"]: row["last_sent_at"]
        for row in await DigestRecord.select(DigestRecord.user, DigestRecord.last_sent_at).where(
            DigestRecord.user.is_in(ids)
        )
    }
    memberships = await Membership.select(
        Membership.user, Membership.group, Membership.role, Membership.starts_on, Membership.ends_on
    ).where(Membership.user.is_in(ids))
    recipients = recipients_from_rows(users, memberships, shared.today)
    day_of = {}
    since = {}
    for user in users:
        local = shared.now.astimezone(zone_of(user["timezone"]))
        day_of[user["id"]] = local.date()
        period = PERIOD.get(user["digest_frequency"], PERIOD["weekly"])
        last = records.get(user["id"]) or shared.now - period
        since[user["id"]] = max(last, shared.now - MAX_LOOKBACK)
    batch = Batch(recipients, day_of, since)
    earliest = min(since.values())

    action_rows = (
        await ActionOwner.select(
            ActionOwner.user,
            ActionOwner.action.id.as_alias("id"),
            ActionOwner.action.title.as_alias("title"),
            ActionOwner.action.due_on.as_alias("due_on"),
            ActionOwner.action.status.as_alias("status"),
            ActionOwner.action._.group._.name.as_alias("group_name"),
        )
        .where(
            ActionOwner.user.is_in(ids)
            & ActionOwner.action.status.is_in(list(ACTIVE_ACTION_STATUSES))
        )
        .order_by(ActionOwner.action.due_on)
    )
    for row in action_rows:
        batch.actions.setdefault(row["user"], []).append(row)

    if shared.circulated:
        batch.attended = {
            (row["meeting"], row["user"])
            for row in await Attendance.select(Attendance.meeting, Attendance.user).where(
                Attendance.user.is_in(ids)
                & Attendance.meeting.is_in([m["meeting_id"] for m in shared.circulated])
                & Attendance.mode.is_in(["present", "remote"])
            )
        }
    batch.decisions = (
        await Decision.select(
            Decision.id,
            Decision.text,
            Decision.created_at,
            Decision.meeting.id.as_alias("meeting_id"),
            Decision.meeting.title.as_alias("meeting_title"),
            Decision.meeting.group.as_alias("group_id"),
            Decision.agenda_item.title.as_alias("item_title"),
            Decision.agenda_item.visibility.as_alias("visibility"),
        )
        .where(Decision.created_at >= earliest)
        .order_by(Decision.created_at, ascending=False)
    )
    delivered_or_responded = (
        await Delivery.select(*_delivery_columns())
        .where((Delivery.delivered_at >= earliest) | (Delivery.responded_at >= earliest))
        .order_by(Delivery.delivered_at, ascending=False)
    )
    batch.delivered = [d for d in delivered_or_responded if d["delivered_at"] >= earliest]
    batch.responded = sorted(
        (d for d in delivered_or_responded if d["responded_at"] and d["responded_at"] >= earliest),
        key=lambda d: d["responded_at"],
        reverse=True,
    )
    return batch


# --- one person's digest ----------------------------------------------------------------


def _capped(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"items": items[:MAX_ITEMS], "more": max(len(items) - MAX_ITEMS, 0)}


def _delivery_item(row: dict[str, Any], today: dt.date) -> dict[str, Any]:
    return {
        "title": row["report_title"],
        "group_name": row["group_name"],
        "line_name": Line(row["recipient"]).label,
        "state": row["state"],
        "response": (row["response"] or "").replace("_", " "),
        "due_on": format_date(row["response_due_on"]),
        "past_due": row["state"] != "responded" and row["response_due_on"] < today,
        "link": link(f"/reports/{row['report_id']}"),
    }


def build_digest(recipient: Recipient, batch: Batch, shared: Shared) -> dict[str, Any] | None:
    """The digest's sections for one person, or None when there is nothing to say."""
    today = shared.today
    since = batch.since[recipient.id]
    zone = recipient.timezone
    lines = [
        line
        for line, holds in (
            ("director", recipient.viewer.user.is_director),
            ("board", recipient.viewer.user.is_board),
        )
        if holds
    ]

    actions = sorted(
        batch.actions.get(recipient.id, []),
        key=lambda a: (a["due_on"] >= today, a["due_on"], -a["id"]),
    )
    my_actions = [
        {
            "title": a["title"],
            "group_name": a["group_name"],
            "due_on": format_date(a["due_on"]),
            "overdue": a["due_on"] < today,
            "link": link(f"/actions/{a['id']}"),
        }
        for a in actions
    ]

    horizon = shared.now + LOOKAHEAD.get(recipient.digest_frequency, LOOKAHEAD["weekly"])
    meetings = [
        {
            "title": m["title"],
            "group_name": m["group_name"],
            "starts": format_datetime(m["starts_at"], zone),
            "location": m["location"],
            "link": link(f"/meetings/{m['id']}"),
        }
        for m in shared.meetings
        if recipient.viewer.is_member_of(m["group"]) and m["starts_at"] <= horizon
    ]

    minutes = [
        {
            "title": m["meeting_title"],
            "group_name": m["group_name"],
            "meeting_date": format_date(m["starts_at"].astimezone(zone_of(zone)).date()),
            "link": link(f"/meetings/{m['meeting_id']}"),
        }
        for m in shared.circulated
        if recipient.viewer.is_member_of(m["group_id"])
        and (m["meeting_id"], recipient.id) in batch.attended
    ]

    received = [
        d
        for d in batch.delivered
        if d["recipient"] in lines
        and d["delivered_at"] >= since
        and recipient.may_read(d["group_id"], d["visibility"])
    ]
    received_ids = {d["id"] for d in received}
    awaiting = [
        _delivery_item(d, today)
        for d in shared.unanswered
        if d["recipient"] in lines
        and d["id"] not in received_ids
        and recipient.may_read(d["group_id"], d["visibility"])
    ]
    awaiting_management = (
        [
            _delivery_item(d, today)
            for d in shared.unanswered
            if d["recipient"] == "director"
            and d["response_due_on"] < today
            and recipient.may_read(d["group_id"], d["visibility"])
        ]
        if recipient.viewer.user.is_board
        else []
    )
    responses = [
        _delivery_item(d, today)
        for d in batch.responded
        if recipient.leads(d["group_id"])
        and d["responded_at"] >= since
        and recipient.may_read(d["group_id"], d["visibility"])
    ]

    decisions = [
        {
            "text": _shorten(d["text"]),
            "item_title": d["item_title"],
            "meeting_title": d["meeting_title"],
            "decided_on": format_date(d["created_at"].astimezone(zone_of(zone)).date()),
            "link": link(f"/meetings/{d['meeting_id']}"),
        }
        for d in batch.decisions
        if d["created_at"] >= since and _reads_group(recipient, d["group_id"], d["visibility"])
    ]

    sections = {
        "actions": _capped(my_actions),
        "meetings": _capped(meetings),
        "minutes": _capped(minutes),
        "awaiting": _capped(awaiting),
        "awaiting_management": _capped(awaiting_management),
        "received": _capped([_delivery_item(d, today) for d in received]),
        "responses": _capped(responses),
        "decisions": _capped(decisions),
    }
    if not any(section["items"] for section in sections.values()):
        return None
    return {
        **sections,
        "frequency": recipient.digest_frequency,
        "day": format_date(batch.day_of[recipient.id]),
        "overdue_count": sum(1 for a in my_actions if a["overdue"]),
    }


def _reads_group(recipient: Recipient, group_id: int, visibility: str) -> bool:
    """Decisions of the groups a person belongs to, and, for the Director and the Board,
    of every group, each filtered by what the policy lets them read."""
    if not (
        recipient.viewer.is_member_of(group_id)
        or recipient.viewer.user.is_director
        or recipient.viewer.user.is_board
    ):
        return False
    return recipient.may_read(group_id, visibility)


def _shorten(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# --- the job ----------------------------------------------------------------------------


async def _queue_batch(
    users: list[dict[str, Any]], batch: Batch, shared: Shared, report: DigestReport
) -> None:
    sent: list[int] = []
    quiet: list[int] = []
    pending: list[PendingEmail] = []
    for user in users:
        recipient = batch.recipients[user["id"]]
        content = build_digest(recipient, batch, shared)
        if content is None:
            quiet.append(recipient.id)
            continue
        day = batch.day_of[recipient.id].isoformat()
        pending.append(
            PendingEmail(recipient, "digest", content, f"digest:user:{recipient.id}:{day}", DIGEST)
        )
        sent.append(recipient.id)
    async with write_transaction():
        report.digests_queued += len(await insert_emails(pending))
        if sent:
            await _record(sent, batch, shared.now, with_sent=True)
        if quiet:
            await _record(quiet, batch, shared.now, with_sent=False)
    report.nothing_to_say += len(quiet)


async def _record(user_ids: list[int], batch: Batch, now: dt.datetime, with_sent: bool) -> None:
    rows = [
        DigestRecord(
            user=user_id,
            last_period=batch.day_of[user_id].isoformat(),
            last_checked_at=now,
            last_sent_at=now if with_sent else None,
        )
        for user_id in user_ids
    ]
    values = [DigestRecord.last_period, DigestRecord.last_checked_at]
    if with_sent:
        values.append(DigestRecord.last_sent_at)
    await DigestRecord.insert(*rows).on_conflict(
        target=DigestRecord.user, action="DO UPDATE", values=values
    )


async def run_digests(now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> DigestReport:
    """Queues the digest of every user whose 07:00 has come today and who has not had it."""
    started = time.perf_counter()
    now = now or utcnow()
    report = DigestReport()
    zones = [
        row["timezone"]
        for row in await User.select(User.timezone)
        .where(User.is_active == True)  # noqa: E712
        .distinct()
    ]
    days = due_days(now, zones)
    if not days:
        return report
    condition = (
        (User.is_active == True)  # noqa: E712
        & (User.digest_frequency != "off")
        & _due_condition(days)
    )
    shared: Shared | None = None
    last_id = 0
    while True:
        users = (
            await User.select(*USER_COLUMNS)
            .where(condition & (User.id > last_id))
            .order_by(User.id)
            .limit(batch_size)
        )
        if not users:
            break
        shared = shared or await Shared.load(now)
        batch = await _load_batch(users, shared)
        await _queue_batch(users, batch, shared, report)
        report.users_processed += len(users)
        report.batches += 1
        last_id = users[-1]["id"]
        if len(users) < batch_size:
            break
    report.seconds = round(time.perf_counter() - started, 3)
    logger.info(
        "Digests: %s users, %s queued, %s with nothing to say",
        report.users_processed,
        report.digests_queued,
        report.nothing_to_say,
    )
    return report
