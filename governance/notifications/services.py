"""The rules of notifications: saving a person's email choices, one-click unsubscribe, and
retrying parked mail, and deciding about mail that may have been sent.

Email choices are changed by their owner, signed in or holding the signed link from one of
their emails (`links.py`); whoever holds the link acts as that person, on that person's
email choices only. What each email says is `emails.py`; what is due, `reminders.py` and
`digests.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from governance.accounts import scopes
from governance.accounts.policy import Viewer
from governance.accounts.tables import User
from governance.core.audit import Actor, record_event
from governance.core.contracts import NO_ERRORS, field_errors, refuse
from governance.core.db import write_transaction
from governance.core.email import (
    email_scope,
    resend_uncertain,
    retry_parked,
    settle_uncertain_as_sent,
)
from governance.core.errors import NotFoundError, PermissionDenied
from governance.notifications.queries import get_preferences
from governance.notifications.schemas import (
    CATEGORIES,
    CATEGORIES_MESSAGE,
    CHOICES_MESSAGE,
    DIGEST,
    DigestFrequency,
    EmailChoices,
    PreferencesView,
)

NO_PARKED_EMAIL = "There is no parked email with this number; it may have been sent."
NO_UNCERTAIN_EMAIL = "No email with this number is waiting for a decision; it may be settled."
ADMINS_ONLY = "Only an administrator can do this."


@dataclass(frozen=True)
class UserActor:
    """The owner of a preferences link, acting on their own settings without signing in."""

    actor_id: int
    actor_label: str


def _actor(preferences: PreferencesView) -> Actor:
    return UserActor(actor_id=preferences.user_id, actor_label=preferences.email)


def _choice_errors(command: EmailChoices, unreadable: Mapping[str, str]) -> dict[str, str]:
    errors = {**field_errors(command), **unreadable}
    if "categories" not in errors and set(command.categories) - set(CATEGORIES):
        errors["categories"] = CATEGORIES_MESSAGE
    return errors


def _summary(command: EmailChoices, muted: list[str]) -> str:
    weekly = command.digest_frequency == DigestFrequency.WEEKLY
    return (
        f"Email preferences: digest {command.digest_frequency}"
        + (f" on {command.digest_weekday}" if weekly else "")
        + f"; turned off: {', '.join(muted) or 'nothing'}"
    )


async def save_email_choices(
    user_id: int, command: EmailChoices, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> None:
    """Saves this person's email choices: every category not chosen is turned off.

    The person is already known to be the owner (signed in, or holding their signed link),
    and the choices name only this vocabulary, so every field's error is reported before the
    account is read; an account that is gone is then not found.
    """
    refuse(_choice_errors(command, unreadable), CHOICES_MESSAGE)
    async with write_transaction():
        preferences = await get_preferences(user_id)
        muted = sorted(set(CATEGORIES) - set(command.categories))
        await User.update(
            {
                User.digest_frequency: command.digest_frequency,
                User.digest_weekday: command.digest_weekday,
                User.notification_categories: muted,
            }
        ).where(User.id == user_id)
        await record_event(
            _actor(preferences),
            "user.email_preferences_updated",
            "user",
            user_id,
            _summary(command, muted),
        )


async def unsubscribe(user_id: int, category: str) -> PreferencesView:
    """Turns one category off (the digest: sets it to off). Doing it twice changes nothing."""
    async with write_transaction():
        preferences = await get_preferences(user_id)
        if category == DIGEST:
            if preferences.digest_frequency == DigestFrequency.OFF:
                return preferences
            await User.update({User.digest_frequency: DigestFrequency.OFF.value}).where(
                User.id == user_id
            )
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


async def retry_parked_email(email_id: int, viewer: Viewer) -> None:
    """Puts a parked email back in the queue, for an administrator who fixed its cause; an
    email about a record the administrator may not read is not found, as a missing one."""
    if not viewer.user.is_admin:
        raise PermissionDenied(ADMINS_ONLY)
    async with write_transaction():
        if not await retry_parked(email_id, scopes.outbox(viewer)):
            raise NotFoundError(NO_PARKED_EMAIL)
        await record_event(
            viewer.user,
            "outbox.retried",
            "outbound_email",
            email_id,
            f"Parked email {email_id} retried",
            await email_scope(email_id),
        )


async def decide_uncertain_email(email_id: int, resend: bool, viewer: Viewer) -> None:
    """An administrator's decision about an email the server may have stored without
    saying so: send it again (same Message-ID: the recipient did not get it) or record it
    as sent (they did). Audited; a second decision finds nothing to decide."""
    if not viewer.user.is_admin:
        raise PermissionDenied(ADMINS_ONLY)
    visible = scopes.outbox(viewer)
    async with write_transaction():
        settled = await (
            resend_uncertain(email_id, visible)
            if resend
            else settle_uncertain_as_sent(email_id, visible)
        )
        if not settled:
            raise NotFoundError(NO_UNCERTAIN_EMAIL)
        if resend:
            action, summary = (
                "outbox.resent",
                f"Email {email_id} that may have been sent: sent again",
            )
        else:
            action, summary = (
                "outbox.settled",
                f"Email {email_id} that may have been sent: recorded as sent",
            )
        await record_event(
            viewer.user, action, "outbound_email", email_id, summary, await email_scope(email_id)
        )
