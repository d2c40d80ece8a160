"""Reads of notifications: who receives email (with their roles today and their choices),
a person's email choices, and the outbox page.

The reminder sweep and the digests read what is due through their own queries
(`reminders.py`, `digests.py`); these are the reads they share with the pages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from piccolo.query.functions.aggregate import Count

from governance.accounts import scopes
from governance.accounts.policy import CurrentUser, Viewer, strongest_roles
from governance.accounts.tables import User
from governance.core.clock import organisation_today, utcnow
from governance.core.email import STATUS_PARKED, STATUS_QUEUED, STATUS_SENT, STATUS_UNCERTAIN
from governance.core.errors import NotFoundError
from governance.core.paging import keyset_page
from governance.core.tables import OutboundEmail
from governance.groups.queries import current_on
from governance.groups.tables import Membership
from governance.meetings.tables import Minutes
from governance.notifications.emails import Recipient
from governance.notifications.schemas import (
    CATEGORIES,
    SENT_MAIL_DAYS,
    OutboxRowView,
    OutboxView,
    PreferencesView,
    SentMailRowView,
    SentMailView,
)
from governance.reports.tables import Delivery
from governance.settings import get_settings

NO_SUCH_ACCOUNT = "This link is for an account that no longer exists."


def muted_categories(raw: Any) -> frozenset[str]:
    """The categories turned off, from the JSON column (Piccolo may hand back text)."""
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw or "[]")
        except ValueError:
            return frozenset()
    if not isinstance(raw, list):
        return frozenset()
    return frozenset(str(item) for item in raw if str(item) in CATEGORIES)


# --- who receives email -----------------------------------------------------------------


@dataclass(frozen=True)
class Subscriber:
    """An active user as a reader of email: their roles today and their email choices.
    What they may read is asked of `accounts/scopes.py` with their `viewer`."""

    viewer: Viewer
    muted: frozenset[str] = frozenset()
    digest_frequency: str = "weekly"
    digest_weekday: str = "monday"

    @property
    def id(self) -> int:
        return self.viewer.user.id

    @property
    def timezone(self) -> str:
        return self.viewer.user.timezone

    @property
    def recipient(self) -> Recipient:
        user = self.viewer.user
        return Recipient(user.id, user.email, user.display_name, self.muted)


USER_COLUMNS = (
    User.id,
    User.email,
    User.display_name,
    User.is_admin,
    User.is_director,
    User.is_board,
    User.timezone,
    User.notification_categories,
    User.digest_frequency,
    User.digest_weekday,
)
MEMBERSHIP_COLUMNS = (
    Membership.user,
    Membership.group,
    Membership.role,
    Membership.starts_on,
    Membership.ends_on,
)


def subscribers_from_rows(
    users: Iterable[Mapping[str, Any]], memberships: Iterable[Mapping[str, Any]], on: dt.date
) -> dict[int, Subscriber]:
    """Users (rows of USER_COLUMNS) with the roles their memberships give them on a day."""
    by_user: dict[int, list[dict[str, Any]]] = {}
    for membership in memberships:
        by_user.setdefault(membership["user"], []).append(dict(membership))
    subscribers = {}
    for row in users:
        user = CurrentUser.from_row(dict(row))
        roles = strongest_roles(by_user.get(user.id, []), on)
        subscribers[user.id] = Subscriber(
            viewer=Viewer(user=user, group_roles=roles),
            muted=muted_categories(row["notification_categories"]),
            digest_frequency=row["digest_frequency"],
            digest_weekday=row["digest_weekday"],
        )
    return subscribers


async def memberships_of(user_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Every membership of these users (past and future too: roles are read on a day)."""
    return await Membership.select(*MEMBERSHIP_COLUMNS).where(  # type: ignore[no-any-return]
        Membership.user.is_in(list(user_ids))
    )


async def load_subscribers(user_ids: Iterable[int]) -> dict[int, Subscriber]:
    """The active users among these, with their group roles today: two queries."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    users = await User.select(*USER_COLUMNS).where(
        User.id.is_in(wanted) & (User.is_active == True)  # noqa: E712 - SQL comparison
    )
    memberships = await memberships_of(wanted)
    return subscribers_from_rows(users, memberships, organisation_today())


async def current_holders(group_ids: Iterable[int], roles: Sequence[str]) -> dict[int, list[int]]:
    """User ids of each group's current holders of these roles (chairs, secretaries): one
    query."""
    wanted = sorted(set(group_ids))
    if not wanted:
        return {}
    rows = await Membership.select(Membership.group, Membership.user).where(
        Membership.group.is_in(wanted)
        & Membership.role.is_in(list(roles))
        & current_on(organisation_today())
    )
    holders: dict[int, list[int]] = {}
    for row in rows:
        users = holders.setdefault(row["group"], [])
        if row["user"] not in users:
            users.append(row["user"])
    return holders


# --- rows the reminders and the digests both read --------------------------------------


RefT = TypeVar("RefT")


def as_ref(kind: type[RefT], row: Mapping[str, Any]) -> RefT:
    """A row as one of the emails' typed arguments (a dataclass of `emails.py`): the
    query aliases its columns to the fields' names, as `delivery_columns` does."""
    names = [item.name for item in dataclasses.fields(cast(Any, kind))]
    return kind(**{name: row[name] for name in names})


def aliased(**columns: Any) -> tuple[Any, ...]:
    """Columns selected under these names (the fields of an email's argument)."""
    return tuple(column.as_alias(name) for name, column in columns.items())


def delivery_columns() -> tuple[Any, ...]:
    """A delivery (`emails.DeliveryRef`) with its report's visibility and status, its
    group, and when it was delivered and answered."""
    report = Delivery.report
    return (
        Delivery.state,
        Delivery.delivered_at,
        Delivery.response_due_on,
        Delivery.responded_at,
        Delivery.response,
        *aliased(
            delivery_id=Delivery.id,
            line=Delivery.recipient,
            report_id=report.id,
            report_title=report.title,
            visibility=report.visibility,
            report_status=report.status,
            group_id=report._.group._.id,
            group_name=report._.group._.name,
        ),
    )


def minutes_columns() -> tuple[Any, ...]:
    """Minutes (`emails.MinutesRef`) with their group and when they were circulated."""
    meeting = Minutes.meeting
    return (
        Minutes.circulated_at,
        *aliased(
            minutes_id=Minutes.id,
            meeting_id=meeting.id,
            meeting_title=meeting.title,
            starts_at=meeting.starts_at,
            group_id=meeting._.group._.id,
            group_name=meeting._.group._.name,
        ),
    )


# --- a person's email choices -----------------------------------------------------------


async def get_preferences(user_id: int) -> PreferencesView:
    """An active person's email choices; not found for an account that is gone."""
    row = (
        await User.select(
            User.id,
            User.email,
            User.display_name,
            User.digest_frequency,
            User.digest_weekday,
            User.notification_categories,
        )
        .where((User.id == user_id) & (User.is_active == True))  # noqa: E712
        .first()
    )
    if row is None:
        raise NotFoundError(NO_SUCH_ACCOUNT)
    return PreferencesView(
        user_id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        digest_frequency=row["digest_frequency"],
        digest_weekday=row["digest_weekday"],
        muted=muted_categories(row["notification_categories"]),
    )


# --- the outbox, for administrators -----------------------------------------------------

OUTBOX_COLUMNS = (
    OutboundEmail.id,
    OutboundEmail.recipient,
    OutboundEmail.template,
    OutboundEmail.status,
    OutboundEmail.attempts,
    OutboundEmail.next_attempt_at,
    OutboundEmail.last_error,
    OutboundEmail.created_at,
)


async def _outbox_rows(
    status: str, order: Any, ascending: bool, limit: int, visible: Any
) -> list[OutboxRowView]:
    rows = (
        await OutboundEmail.select(*OUTBOX_COLUMNS)
        .where((OutboundEmail.status == status) & visible)
        .order_by(order, ascending=ascending)
        .limit(limit)
    )
    return [OutboxRowView(**row) for row in rows]


async def outbox_overview(viewer: Viewer, limit: int = 200) -> OutboxView:
    """Parked mail (newest first), waiting mail (next due first) and mail that may have
    been sent (newest first) that this administrator may see (`scopes.outbox`: none about a
    record they may not read, not even in the counts), without its content, and how many of
    each there are: four queries."""
    visible = scopes.outbox(viewer)
    parked = await _outbox_rows(STATUS_PARKED, OutboundEmail.id, False, limit, visible)
    waiting = await _outbox_rows(STATUS_QUEUED, OutboundEmail.next_attempt_at, True, limit, visible)
    uncertain = await _outbox_rows(STATUS_UNCERTAIN, OutboundEmail.id, False, limit, visible)
    statuses = [STATUS_PARKED, STATUS_QUEUED, STATUS_UNCERTAIN]
    counts = {
        row["status"]: row["n"]
        for row in await OutboundEmail.select(OutboundEmail.status, Count(alias="n"))
        .where(OutboundEmail.status.is_in(statuses) & visible)
        .group_by(OutboundEmail.status)
    }
    return OutboxView(
        parked=parked,
        waiting=waiting,
        parked_count=counts.get(STATUS_PARKED, 0),
        waiting_count=counts.get(STATUS_QUEUED, 0),
        now=utcnow(),
        uncertain=uncertain,
        uncertain_count=counts.get(STATUS_UNCERTAIN, 0),
        uncertain_resend_hours=get_settings().mail_uncertain_resend_hours,
    )


async def sent_mail(
    viewer: Viewer, recipient: str = "", cursor: str | None = None, limit: int | None = None
) -> SentMailView:
    """A page of the mail sent in the last SENT_MAIL_DAYS that this administrator may see
    (`scopes.outbox`, in the query: a page is full of rows they may see, with no gap where
    a hidden one is), newest first, to one address when `recipient` is given (the whole
    address, in any case): one query at any page."""
    recipient = recipient.strip()
    condition = (
        (OutboundEmail.status == STATUS_SENT)
        & (OutboundEmail.sent_at >= utcnow() - dt.timedelta(days=SENT_MAIL_DAYS))
        & scopes.outbox(viewer)
    )
    if recipient:
        # Accounts' addresses are kept in lower case, and so are their emails' recipients.
        condition = condition & (OutboundEmail.recipient == recipient.lower())
    query = OutboundEmail.select(
        OutboundEmail.id,
        OutboundEmail.recipient,
        OutboundEmail.template,
        OutboundEmail.sent_at,
        OutboundEmail.message_id,
    ).where(condition)
    found = await keyset_page(query, OutboundEmail.sent_at, OutboundEmail.id, cursor, limit)
    return SentMailView(
        rows=[SentMailRowView(**row) for row in found.rows],
        recipient=recipient,
        days=SENT_MAIL_DAYS,
        older=found.older,
        newer=found.newer,
    )
