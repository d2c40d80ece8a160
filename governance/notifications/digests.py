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

Each item is checked with `accounts/scopes.py` before it enters a digest: a `board` item
never reaches the Director and a `group` item never leaves the group. A digest with nothing in
it is not sent. One small function per section picks that section's items for one person;
`notifications/emails.py` says them.
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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from governance.accounts import scopes
from governance.accounts.tables import User
from governance.actions.tables import ActionOwner
from governance.core.clock import organisation_today, utcnow
from governance.core.db import write_transaction
from governance.core.isolation import SkippedItems
from governance.meetings.tables import Attendance, Decision, Meeting, Minutes
from governance.notifications import emails
from governance.notifications.emails import (
    DecisionNews,
    DeliveryRef,
    DigestContent,
    MeetingAhead,
    MinutesRef,
    OwnedAction,
    PendingEmail,
)
from governance.notifications.needs_me import tasks_for_many
from governance.notifications.queries import (
    USER_COLUMNS,
    Subscriber,
    as_ref,
    delivery_columns,
    memberships_of,
    minutes_columns,
    subscribers_from_rows,
)
from governance.notifications.schemas import WEEKDAYS, TaskView
from governance.notifications.tables import DigestRecord
from governance.reports.tables import Delivery
from governance.settings import get_settings

logger = logging.getLogger(__name__)

DIGEST_HOUR = 7
BATCH_SIZE = 500
# How far ahead "meetings ahead" looks, and how far back "since my last digest" may reach.
LOOKAHEAD = {"daily": dt.timedelta(days=7), "weekly": dt.timedelta(days=14)}
PERIOD = {"daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}
MAX_LOOKBACK = dt.timedelta(days=31)
ACTIVE_ACTION_STATUSES = ("open", "in_progress")
ATTENDED = ("present", "remote")


@dataclass
class DigestReport(SkippedItems):
    """One run; `failed` counts the users (or batches) skipped because they broke."""

    users_processed: int = 0
    digests_queued: int = 0
    nothing_to_say: int = 0
    batches: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.users_processed} users, {self.digests_queued} queued, "
            f"{self.nothing_to_say} with nothing to say; {self.failures_summary()}"
        )


def zone_of(name: str) -> ZoneInfo:
    """A user's zone; the organisation's for a name no zone has (one bad row must not
    stop everyone's digest)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(get_settings().timezone)


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


async def _meetings_ahead(now: dt.datetime) -> list[dict[str, Any]]:
    return await (  # type: ignore[no-any-return]
        Meeting.select(
            Meeting.id.as_alias("meeting_id"),
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


async def _circulated_minutes() -> list[dict[str, Any]]:
    return await (  # type: ignore[no-any-return]
        Minutes.select(*minutes_columns())
        .where(Minutes.status == "circulated")
        .order_by(Minutes.circulated_at, ascending=False)
    )


async def _unanswered_deliveries() -> list[dict[str, Any]]:
    return await (  # type: ignore[no-any-return]
        Delivery.select(*delivery_columns())
        .where(Delivery.state != "responded")
        .order_by(Delivery.delivered_at, ascending=False)
    )


@dataclass
class Shared:
    now: dt.datetime
    today: dt.date
    meetings: list[dict[str, Any]]
    circulated: list[dict[str, Any]]
    unanswered: list[dict[str, Any]]

    @classmethod
    async def load(cls, now: dt.datetime) -> Shared:
        return cls(
            now,
            organisation_today(),
            await _meetings_ahead(now),
            await _circulated_minutes(),
            await _unanswered_deliveries(),
        )


# --- one batch --------------------------------------------------------------------------


@dataclass
class Batch:
    readers: dict[int, Subscriber]
    day_of: dict[int, dt.date]
    since: dict[int, dt.datetime]
    actions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    attended: set[tuple[int, int]] = field(default_factory=set)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    responded: list[dict[str, Any]] = field(default_factory=list)
    # Each reader's "needs me" list (the page's), by user id.
    tasks: dict[int, list[TaskView]] = field(default_factory=dict)


async def _last_sent(user_ids: list[int]) -> dict[int, dt.datetime | None]:
    rows = await DigestRecord.select(DigestRecord.user, DigestRecord.last_sent_at).where(
        DigestRecord.user.is_in(user_ids)
    )
    return {row["user"]: row["last_sent_at"] for row in rows}


def _periods(
    users: list[dict[str, Any]], last_sent: dict[int, dt.datetime | None], now: dt.datetime
) -> tuple[dict[int, dt.date], dict[int, dt.datetime]]:
    """Each user's local day, and the start of "since my last digest"."""
    day_of = {}
    since = {}
    for user in users:
        day_of[user["id"]] = now.astimezone(zone_of(user["timezone"])).date()
        period = PERIOD.get(user["digest_frequency"], PERIOD["weekly"])
        last = last_sent.get(user["id"]) or now - period
        since[user["id"]] = max(last, now - MAX_LOOKBACK)
    return day_of, since


async def _owned_actions(user_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    rows = (
        await ActionOwner.select(
            ActionOwner.user,
            ActionOwner.action.id.as_alias("action_id"),
            ActionOwner.action.title.as_alias("title"),
            ActionOwner.action.due_on.as_alias("due_on"),
            ActionOwner.action._.group._.name.as_alias("group_name"),
        )
        .where(
            ActionOwner.user.is_in(user_ids)
            & ActionOwner.action.status.is_in(list(ACTIVE_ACTION_STATUSES))
        )
        .order_by(ActionOwner.action.due_on)
    )
    by_user: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_user.setdefault(row["user"], []).append(row)
    return by_user


async def _attended(user_ids: list[int], circulated: list[dict[str, Any]]) -> set[tuple[int, int]]:
    """(meeting, user) of these users' attendance at meetings whose minutes circulate."""
    if not circulated:
        return set()
    rows = await Attendance.select(Attendance.meeting, Attendance.user).where(
        Attendance.user.is_in(user_ids)
        & Attendance.meeting.is_in([minutes["meeting_id"] for minutes in circulated])
        & Attendance.mode.is_in(list(ATTENDED))
    )
    return {(row["meeting"], row["user"]) for row in rows}


async def _decisions_since(earliest: dt.datetime) -> list[dict[str, Any]]:
    return await (  # type: ignore[no-any-return]
        Decision.select(
            Decision.id,
            Decision.text,
            Decision.created_at.as_alias("decided_at"),
            Decision.meeting.id.as_alias("meeting_id"),
            Decision.meeting.title.as_alias("meeting_title"),
            Decision.meeting.group.as_alias("group_id"),
            Decision.agenda_item.title.as_alias("item_title"),
            Decision.agenda_item.visibility.as_alias("visibility"),
        )
        .where(Decision.created_at >= earliest)
        .order_by(Decision.created_at, ascending=False)
    )


async def _deliveries_since(
    earliest: dt.datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Deliveries made since `earliest` (newest first), and those answered since then
    (most recently answered first)."""
    rows = (
        await Delivery.select(*delivery_columns())
        .where((Delivery.delivered_at >= earliest) | (Delivery.responded_at >= earliest))
        .order_by(Delivery.delivered_at, ascending=False)
    )
    delivered = [row for row in rows if row["delivered_at"] >= earliest]
    responded = sorted(
        (row for row in rows if row["responded_at"] and row["responded_at"] >= earliest),
        key=lambda row: row["responded_at"],
        reverse=True,
    )
    return delivered, responded


async def _load_batch(users: list[dict[str, Any]], shared: Shared) -> Batch:
    """What this batch's digests draw on, in a fixed number of queries."""
    ids = [user["id"] for user in users]
    readers = subscribers_from_rows(users, await memberships_of(ids), shared.today)
    day_of, since = _periods(users, await _last_sent(ids), shared.now)
    earliest = min(since.values())
    delivered, responded = await _deliveries_since(earliest)
    return Batch(
        readers,
        day_of,
        since,
        actions=await _owned_actions(ids),
        attended=await _attended(ids, shared.circulated),
        decisions=await _decisions_since(earliest),
        delivered=delivered,
        responded=responded,
        tasks=await tasks_for_many([reader.viewer for reader in readers.values()], shared.today),
    )


# --- one person's digest: one function per section --------------------------------------


def _reads_report(reader: Subscriber, delivery: dict[str, Any]) -> bool:
    return scopes.may_read_report(
        reader.viewer, delivery["group_id"], delivery["visibility"], delivery["report_status"]
    )


def _my_actions(reader: Subscriber, batch: Batch, today: dt.date) -> list[OwnedAction]:
    """The actions I own and that are still active, overdue first, then by due date."""
    rows = sorted(
        batch.actions.get(reader.id, []),
        key=lambda row: (row["due_on"] >= today, row["due_on"], -row["action_id"]),
    )
    return [as_ref(OwnedAction, row) for row in rows]


def _meetings(reader: Subscriber, shared: Shared) -> list[MeetingAhead]:
    """My groups' meetings ahead, as far as my digest looks."""
    horizon = shared.now + LOOKAHEAD.get(reader.digest_frequency, LOOKAHEAD["weekly"])
    return [
        as_ref(MeetingAhead, row)
        for row in shared.meetings
        if reader.viewer.is_member_of(row["group"]) and row["starts_at"] <= horizon
    ]


def _minutes(reader: Subscriber, batch: Batch, shared: Shared) -> list[MinutesRef]:
    """Minutes in circulation of meetings of my groups that I attended."""
    return [
        as_ref(MinutesRef, row)
        for row in shared.circulated
        if reader.viewer.is_member_of(row["group_id"])
        and (row["meeting_id"], reader.id) in batch.attended
    ]


def _received(reader: Subscriber, batch: Batch) -> list[dict[str, Any]]:
    """Reports delivered to my line since my last digest."""
    since = batch.since[reader.id]
    return [
        row
        for row in batch.delivered
        if reader.viewer.user.acts_for(row["line"])
        and row["delivered_at"] >= since
        and _reads_report(reader, row)
    ]


def _awaiting(
    reader: Subscriber, shared: Shared, received: list[dict[str, Any]]
) -> list[DeliveryRef]:
    """Reports awaiting my line's response (those just received are listed as received)."""
    received_ids = {row["delivery_id"] for row in received}
    return [
        as_ref(DeliveryRef, row)
        for row in shared.unanswered
        if reader.viewer.user.acts_for(row["line"])
        and row["delivery_id"] not in received_ids
        and _reads_report(reader, row)
    ]


def _awaiting_management(reader: Subscriber, shared: Shared) -> list[DeliveryRef]:
    """For the Board: reports whose Director's response is past its date."""
    if not reader.viewer.user.is_board:
        return []
    return [
        as_ref(DeliveryRef, row)
        for row in shared.unanswered
        if row["line"] == "director"
        and row["response_due_on"] < shared.today
        and _reads_report(reader, row)
    ]


def _responses(reader: Subscriber, batch: Batch) -> list[DeliveryRef]:
    """Responses to reports of the groups I lead, since my last digest."""
    since = batch.since[reader.id]
    return [
        as_ref(DeliveryRef, row)
        for row in batch.responded
        if reader.viewer.leads(row["group_id"])
        and row["responded_at"] >= since
        and _reads_report(reader, row)
    ]


def _decisions(reader: Subscriber, batch: Batch) -> list[DecisionNews]:
    """Decisions since my last digest that I may read: my groups', and for the Director and
    the Board every group's, each as far as the policy lets me read it."""
    since = batch.since[reader.id]
    return [
        as_ref(DecisionNews, row)
        for row in batch.decisions
        if row["decided_at"] >= since
        and scopes.may_read(reader.viewer, row["group_id"], row["visibility"])
    ]


def build_digest(reader: Subscriber, batch: Batch, shared: Shared) -> DigestContent:
    """What one person's digest says (nothing, `is_empty()`, means no digest)."""
    received = _received(reader, batch)
    return DigestContent(
        tasks=batch.tasks.get(reader.id, []),
        actions=_my_actions(reader, batch, shared.today),
        meetings=_meetings(reader, shared),
        minutes=_minutes(reader, batch, shared),
        awaiting=_awaiting(reader, shared, received),
        awaiting_management=_awaiting_management(reader, shared),
        received=[as_ref(DeliveryRef, row) for row in received],
        responses=_responses(reader, batch),
        decisions=_decisions(reader, batch),
    )


# --- the job ----------------------------------------------------------------------------


async def _queue_batch(
    users: list[dict[str, Any]], batch: Batch, shared: Shared, report: DigestReport
) -> None:
    sent: list[int] = []
    quiet: list[int] = []
    pending: list[PendingEmail] = []
    for user in users:
        # A user whose digest cannot be built is not recorded, so the next tick tries again.
        with report.skipping(f"digest of user {user['id']}"):
            reader = batch.readers[user["id"]]
            content = build_digest(reader, batch, shared)
            if content.is_empty():
                quiet.append(reader.id)
                continue
            pending.append(
                emails.digest(
                    reader.recipient,
                    content,
                    day=batch.day_of[reader.id],
                    frequency=reader.digest_frequency,
                    today=shared.today,
                    timezone=reader.timezone,
                )
            )
            sent.append(reader.id)
    async with write_transaction():
        report.digests_queued += len(await emails.queue_batch(pending))
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


async def _due_users(
    days: dict[dt.date, list[str]], after_id: int, limit: int
) -> list[dict[str, Any]]:
    """The next batch of users whose digest is due, by id."""
    condition = (
        (User.is_active == True)  # noqa: E712
        & (User.digest_frequency != "off")
        & _due_condition(days)
    )
    return await (  # type: ignore[no-any-return]
        User.select(*USER_COLUMNS)
        .where(condition & (User.id > after_id))
        .order_by(User.id)
        .limit(limit)
    )


async def _zones_in_use() -> list[str]:
    rows = await User.select(User.timezone).where(User.is_active == True).distinct()  # noqa: E712
    return [row["timezone"] for row in rows]


async def run_digests(now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> DigestReport:
    """Queues the digest of every user whose 07:00 has come today and who has not had it."""
    started = time.perf_counter()
    now = now or utcnow()
    report = DigestReport()
    days = due_days(now, await _zones_in_use())
    if not days:
        return report
    shared: Shared | None = None
    last_id = 0
    while users := await _due_users(days, last_id, batch_size):
        shared = shared or await Shared.load(now)
        with report.skipping(f"digests of users {users[0]['id']} to {users[-1]['id']}"):
            batch = await _load_batch(users, shared)
            await _queue_batch(users, batch, shared, report)
        report.users_processed += len(users)
        report.batches += 1
        last_id = users[-1]["id"]
        if len(users) < batch_size:
            break
    report.seconds = round(time.perf_counter() - started, 3)
    logger.info("Digests: %s", report)
    return report
