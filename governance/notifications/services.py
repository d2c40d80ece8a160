"""What every notification shares: who receives it and what they may read, their
preferences, signed links, and queueing each email once.

Preferences. `User.notification_categories` holds the categories a person has turned
**off** (an empty list, the default, means every reminder is on). The digest is turned on and
off by `User.digest_frequency`. Notices that governance requires (a delivery awaiting your
line's response) have no category and cannot be turned off.

Reading rules. Every email is built for one recipient from items checked with
`Recipient.may_read` (the policy of DESIGN.md §1 through `Viewer.readable_visibilities`),
so a `board` item never reaches the Director and a `group` item never leaves the group.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from governance.accounts.policy import CurrentUser, Viewer, strongest_roles
from governance.accounts.tables import User
from governance.core.audit import Actor, record_event
from governance.core.clock import organisation_today, utcnow
from governance.core.db import write_transaction
from governance.core.email import STATUS_PARKED, STATUS_QUEUED, retry_parked
from governance.core.errors import InvalidInput, NotFoundError
from governance.core.signing import EMAIL_PREFERENCES_PURPOSE, email_preferences_url, sign, unsign
from governance.core.tables import OutboundEmail
from governance.groups.tables import Membership
from governance.settings import get_settings

# Categories a person may turn off, with the words the preferences page uses.
CATEGORIES: dict[str, str] = {
    "actions": "Reminders about actions I own",
    "meetings": "Reminders of meetings two days ahead, with the agenda",
    "minutes": "Minutes still in draft, and minutes awaiting my review",
    "reports": "Periodic reports falling due, and responses past due, for groups I lead",
    "membership": "My membership of a group coming to an end",
}
DIGEST = "digest"
DIGEST_FREQUENCIES = ("daily", "weekly", "off")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Signed links in email stay valid this long; a newer email always carries a fresh one.
LINK_MAX_AGE_SECONDS = 365 * 24 * 3600
UNSUBSCRIBE_PURPOSE = "unsubscribe"
PREFERENCES_PURPOSE = EMAIL_PREFERENCES_PURPOSE
# Keys looked up at once when checking which emails were queued already.
KEY_CHUNK = 500


# --- who receives it --------------------------------------------------------------------


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


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(get_settings().timezone)


@dataclass(frozen=True)
class Recipient:
    """An active user as a reader of email: their roles today and their preferences."""

    viewer: Viewer
    muted: frozenset[str] = frozenset()
    digest_frequency: str = "weekly"
    digest_weekday: str = "monday"

    @property
    def id(self) -> int:
        return self.viewer.user.id

    @property
    def email(self) -> str:
        return self.viewer.user.email

    @property
    def display_name(self) -> str:
        return self.viewer.user.display_name

    @property
    def timezone(self) -> str:
        return self.viewer.user.timezone

    def may_read(self, group_id: int, visibility: str) -> bool:
        return visibility in self.viewer.readable_visibilities(group_id)

    def leads(self, group_id: int) -> bool:
        return self.viewer.leads(group_id)


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


def recipients_from_rows(
    users: Iterable[Mapping[str, Any]], memberships: Iterable[Mapping[str, Any]], on: dt.date
) -> dict[int, Recipient]:
    by_user: dict[int, list[dict[str, Any]]] = {}
    for membership in memberships:
        by_user.setdefault(membership["user"], []).append(dict(membership))
    recipients = {}
    for row in users:
        user = CurrentUser.from_row(dict(row))
        roles = strongest_roles(by_user.get(user.id, []), on)
        recipients[user.id] = Recipient(
            viewer=Viewer(user=user, group_roles=roles),
            muted=muted_categories(row["notification_categories"]),
            digest_frequency=row["digest_frequency"],
            digest_weekday=row["digest_weekday"],
        )
    return recipients


async def load_recipients(user_ids: Iterable[int]) -> dict[int, Recipient]:
    """The active users among these, with their group roles today: two queries."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    users = await User.select(*USER_COLUMNS).where(
        User.id.is_in(wanted) & (User.is_active == True)  # noqa: E712 - SQL comparison
    )
    memberships = await Membership.select(
        Membership.user, Membership.group, Membership.role, Membership.starts_on, Membership.ends_on
    ).where(Membership.user.is_in(wanted))
    return recipients_from_rows(users, memberships, organisation_today())


async def current_leads(group_ids: Iterable[int], roles: Sequence[str]) -> dict[int, list[int]]:
    """User ids of each group's current holders of these roles: one query."""
    wanted = sorted(set(group_ids))
    if not wanted:
        return {}
    today = organisation_today()
    rows = await Membership.select(Membership.group, Membership.user).where(
        Membership.group.is_in(wanted)
        & Membership.role.is_in(list(roles))
        & (Membership.starts_on <= today)
        & (Membership.ends_on.is_null() | (Membership.ends_on >= today))
    )
    leads: dict[int, list[int]] = {}
    for row in rows:
        users = leads.setdefault(row["group"], [])
        if row["user"] not in users:
            users.append(row["user"])
    return leads


# --- signed links -----------------------------------------------------------------------


def link(path: str) -> str:
    return f"{get_settings().base_url}{path}"


def preferences_token(user_id: int) -> str:
    return sign(PREFERENCES_PURPOSE, user_id)


def preferences_url(user_id: int) -> str:
    return email_preferences_url(user_id)


def unsubscribe_token(user_id: int, category: str) -> str:
    return sign(UNSUBSCRIBE_PURPOSE, [user_id, category])


def unsubscribe_url(user_id: int, category: str) -> str:
    return link(f"/email/unsubscribe/{unsubscribe_token(user_id, category)}")


def user_of_preferences_token(token: str) -> int | None:
    payload = unsign(PREFERENCES_PURPOSE, token, LINK_MAX_AGE_SECONDS)
    return payload if isinstance(payload, int) and not isinstance(payload, bool) else None


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    payload = unsign(UNSUBSCRIBE_PURPOSE, token, LINK_MAX_AGE_SECONDS)
    if (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], int)
        and (payload[1] in CATEGORIES or payload[1] == DIGEST)
    ):
        return int(payload[0]), str(payload[1])
    return None


def category_label(category: str) -> str:
    return "Email digest" if category == DIGEST else CATEGORIES[category]


# --- queueing ---------------------------------------------------------------------------


@dataclass
class PendingEmail:
    """One email for one person. `category` None marks a notice that cannot be turned off."""

    recipient: Recipient
    template: str
    context: dict[str, Any]
    dedupe_key: str
    category: str | None

    def full_context(self) -> dict[str, Any]:
        context = {
            "display_name": self.recipient.display_name,
            "preferences_url": preferences_url(self.recipient.id),
            **self.context,
        }
        if self.category is not None:
            context["unsubscribe_url"] = unsubscribe_url(self.recipient.id, self.category)
            context["unsubscribe_label"] = category_label(self.category)
        return context


@dataclass
class QueueReport:
    queued: int = 0
    already_queued: int = 0
    muted: int = 0
    by_template: dict[str, int] = field(default_factory=dict)

    def add(self, other: QueueReport) -> None:
        self.queued += other.queued
        self.already_queued += other.already_queued
        self.muted += other.muted
        for name, count in other.by_template.items():
            self.by_template[name] = self.by_template.get(name, 0) + count


async def existing_keys(keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = list(keys[start : start + KEY_CHUNK])
        rows = await OutboundEmail.select(OutboundEmail.dedupe_key).where(
            OutboundEmail.dedupe_key.is_in(chunk)
        )
        found.update(row["dedupe_key"] for row in rows)
    return found


async def insert_emails(emails: Sequence[PendingEmail]) -> list[PendingEmail]:
    """Queues these emails in one statement; returns those added.

    The rows are exactly those `queue_email` would insert, with the same ON CONFLICT DO
    NOTHING on the dedupe key, so a key already queued is skipped. Call inside a write
    transaction, at most KEY_CHUNK emails at a time.
    """
    if not emails:
        return []
    now = utcnow()
    rows = [
        OutboundEmail(
            recipient=email.recipient.email,
            template=email.template,
            context=email.full_context(),
            dedupe_key=email.dedupe_key,
            status=STATUS_QUEUED,
            next_attempt_at=now,
            created_at=now,
        )
        for email in emails
    ]
    added = {
        row["dedupe_key"]
        for row in await OutboundEmail.insert(*rows)
        .on_conflict(target=OutboundEmail.dedupe_key, action="DO NOTHING")
        .returning(OutboundEmail.dedupe_key)
    }
    return [email for email in emails if email.dedupe_key in added]


async def queue_new(emails: Sequence[PendingEmail]) -> QueueReport:
    """Queues each email not turned off and not queued before, in one transaction per chunk.

    Keys already in the outbox are skipped without a write, so a sweep that finds nothing
    new writes nothing; the outbox's unique key still guarantees one row per key if two
    sweeps race.
    """
    report = QueueReport()
    wanted: dict[str, PendingEmail] = {}
    for pending in emails:
        if pending.category is not None and pending.category in pending.recipient.muted:
            report.muted += 1
            continue
        wanted.setdefault(pending.dedupe_key, pending)
    done = await existing_keys(list(wanted))
    fresh = [pending for key, pending in wanted.items() if key not in done]
    report.already_queued = len(done)
    for start in range(0, len(fresh), KEY_CHUNK):
        chunk = fresh[start : start + KEY_CHUNK]
        async with write_transaction():
            added = await insert_emails(chunk)
        report.queued += len(added)
        report.already_queued += len(chunk) - len(added)
        for pending in added:
            report.by_template[pending.template] = report.by_template.get(pending.template, 0) + 1
    return report


# --- preferences ------------------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    user_id: int
    email: str
    display_name: str
    digest_frequency: str
    digest_weekday: str
    muted: frozenset[str]

    @property
    def enabled(self) -> frozenset[str]:
        return frozenset(CATEGORIES) - self.muted


async def get_preferences(user_id: int) -> Preferences:
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
        raise NotFoundError("This link is for an account that no longer exists.")
    return Preferences(
        user_id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        digest_frequency=row["digest_frequency"],
        digest_weekday=row["digest_weekday"],
        muted=muted_categories(row["notification_categories"]),
    )


@dataclass(frozen=True)
class UserActor:
    """The owner of a preferences link, acting on their own settings without signing in."""

    actor_id: int
    actor_label: str


def _actor(preferences: Preferences) -> Actor:
    return UserActor(actor_id=preferences.user_id, actor_label=preferences.email)


async def save_preferences(
    user_id: int, digest_frequency: str, digest_weekday: str, enabled: Iterable[str]
) -> None:
    errors = {}
    if digest_frequency not in DIGEST_FREQUENCIES:
        errors["digest_frequency"] = f"Choose one of: {', '.join(DIGEST_FREQUENCIES)}."
    if digest_weekday not in WEEKDAYS:
        errors["digest_weekday"] = f"Choose one of: {', '.join(WEEKDAYS)}."
    enabled_set = set(enabled)
    unknown = enabled_set - set(CATEGORIES)
    if unknown:
        errors["categories"] = "Choose only from the categories listed."
    if errors:
        raise InvalidInput("Some choices need correcting. Nothing has been saved.", errors)
    async with write_transaction():
        preferences = await get_preferences(user_id)
        muted = sorted(set(CATEGORIES) - enabled_set)
        await User.update(
            {
                User.digest_frequency: digest_frequency,
                User.digest_weekday: digest_weekday,
                User.notification_categories: muted,
            }
        ).where(User.id == user_id)
        await record_event(
            _actor(preferences),
            "user.email_preferences_updated",
            "user",
            user_id,
            f"Email preferences: digest {digest_frequency}"
            + (f" on {digest_weekday}" if digest_frequency == "weekly" else "")
            + f"; turned off: {', '.join(muted) or 'nothing'}",
        )


async def unsubscribe(user_id: int, category: str) -> Preferences:
    """Turns one category off (the digest: sets it to off). Doing it twice changes nothing."""
    async with write_transaction():
        preferences = await get_preferences(user_id)
        if category == DIGEST:
            if preferences.digest_frequency == "off":
                return preferences
            await User.update({User.digest_frequency: "off"}).where(User.id == user_id)
        else:
            if category in preferences.muted:
                return preferences
            muted = sorted(preferences.muted | {category})
            await User.update({User.notification_categories: muted}).where(User.id == user_id)
        await record_event(
            _actor(preferences),
            "user.unsubscribed",
            "user",
            user_id,
            f"Unsubscribed from {category} email",
        )
    return await get_preferences(user_id)


# --- the outbox, for administrators -----------------------------------------------------


async def outbox_overview(limit: int = 200) -> dict[str, Any]:
    """Parked and waiting mail, without its content (an admin is not a content role)."""
    columns = (
        OutboundEmail.id,
        OutboundEmail.recipient,
        OutboundEmail.template,
        OutboundEmail.status,
        OutboundEmail.attempts,
        OutboundEmail.next_attempt_at,
        OutboundEmail.last_error,
        OutboundEmail.created_at,
    )
    parked = (
        await OutboundEmail.select(*columns)
        .where(OutboundEmail.status == STATUS_PARKED)
        .order_by(OutboundEmail.id, ascending=False)
        .limit(limit)
    )
    waiting = (
        await OutboundEmail.select(*columns)
        .where(OutboundEmail.status == STATUS_QUEUED)
        .order_by(OutboundEmail.next_attempt_at)
        .limit(limit)
    )
    counts = {
        status: await OutboundEmail.count().where(OutboundEmail.status == status)
        for status in (STATUS_PARKED, STATUS_QUEUED)
    }
    return {
        "parked": parked,
        "waiting": waiting,
        "parked_count": counts[STATUS_PARKED],
        "waiting_count": counts[STATUS_QUEUED],
        "now": utcnow(),
    }


async def retry_parked_email(email_id: int, actor: Actor) -> None:
    async with write_transaction():
        if not await retry_parked(email_id):
            raise NotFoundError("There is no parked email with this number; it may have been sent.")
        await record_event(
            actor, "outbox.retried", "outbound_email", email_id, f"Parked email {email_id} retried"
        )
