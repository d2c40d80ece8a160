"""Accounts: sign-in and throttling, invitations and password links, roles, profiles."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from governance.accounts.passwords import (
    hash_password_off_loop,
    needs_rehash,
    verify_password_off_loop,
)
from governance.accounts.policy import CurrentUser
from governance.accounts.sessions import create_api_token, end_all_sessions
from governance.accounts.tables import LoginAttempt, User
from governance.core.audit import SYSTEM, Actor, record_event
from governance.core.clock import utcnow
from governance.core.db import write_transaction
from governance.core.errors import (
    ConflictError,
    InvalidInput,
    NotFoundError,
    PermissionDenied,
    TooManyAttempts,
)
from governance.core.signing import sign, unsign
from governance.core.urls import absolute_url
from governance.notifications import emails
from governance.notifications.emails import Recipient
from governance.settings import get_settings

INVITATION_VALID_SECONDS = 7 * 24 * 3600
PASSWORD_RESET_VALID_SECONDS = 2 * 3600
# An address may try more often than one account: several people can share an office's IP.
ADDRESS_ATTEMPTS_FACTOR = 4
DIGEST_FREQUENCIES = ("daily", "weekly", "off")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class RoleChoice:
    is_admin: bool = False
    is_director: bool = False
    is_board: bool = False


# --- sign-in ----------------------------------------------------------------------------


async def _attempts_before(column: Any, value: str, since: dt.datetime, attempt_id: int) -> int:
    """Attempts in the window up to this one: of guesses sent at once, the first ones in
    are heard, and those beyond the limit are refused."""
    return int(
        await LoginAttempt.count().where(
            (column == value)
            & (LoginAttempt.attempted_at > since)
            & (LoginAttempt.id <= attempt_id)
        )
    )


async def authenticate(email: str, password: str, ip_address: str) -> CurrentUser:
    """Checks a sign-in; raises TooManyAttempts while the account or address is throttled.

    The attempt is recorded before the count is taken and before the password is checked,
    so that guesses sent all at once each see the ones before them. It is kept if the
    password is wrong, removed if the attempt is refused unheard, and a sign-in that
    succeeds clears the account's record.
    """
    settings = get_settings()
    email = email.strip().lower()
    ip_address = ip_address[:64]
    now = utcnow()
    window = dt.timedelta(minutes=settings.login_window_minutes)
    since = now - window
    # Attempts older than the window no longer count for anything.
    await LoginAttempt.delete().where(LoginAttempt.attempted_at <= since)
    attempt = await LoginAttempt.insert(
        LoginAttempt(email=email, ip_address=ip_address, attempted_at=now)
    ).returning(LoginAttempt.id)
    attempt_id = attempt[0]["id"]
    if (
        await _attempts_before(LoginAttempt.email, email, since, attempt_id)
        > settings.login_max_attempts
        or await _attempts_before(LoginAttempt.ip_address, ip_address, since, attempt_id)
        > settings.login_max_attempts * ADDRESS_ATTEMPTS_FACTOR
    ):
        await LoginAttempt.delete().where(LoginAttempt.id == attempt_id)
        raise TooManyAttempts(
            f"Too many failed sign-ins. Wait {settings.login_window_minutes} minutes and try again,"
            " or ask for a password reset link.",
            retry_after_seconds=int(window.total_seconds()),
        )
    row = await User.select().where(User.email == email).first()
    # Always verify one hash (a dummy one for an unknown email), so that the answer takes
    # as long whether or not the account exists.
    password_matches = await verify_password_off_loop(row["password_hash"] if row else "", password)
    if row is None or not row["is_active"] or not password_matches:
        raise InvalidInput("That email and password do not match an active account.")
    changes: dict[Any, Any] = {User.last_login_at: utcnow()}
    if needs_rehash(row["password_hash"]):
        changes[User.password_hash] = await hash_password_off_loop(password)
    await User.update(changes).where(User.id == row["id"])
    await LoginAttempt.delete().where(LoginAttempt.email == email)
    return CurrentUser.from_row(row)


# --- creating and inviting ---------------------------------------------------------------


async def _insert_user(
    email: str, display_name: str, roles: RoleChoice, password_hash: str = ""
) -> int:
    if await User.exists().where(User.email == email):
        raise InvalidInput(
            "An account with this email already exists.",
            {"email": "An account with this email already exists."},
        )
    rows = await User.insert(
        User(
            email=email,
            display_name=display_name,
            password_hash=password_hash,
            is_admin=roles.is_admin,
            is_director=roles.is_director,
            is_board=roles.is_board,
            timezone=get_settings().timezone,
            created_at=utcnow(),
        )
    ).returning(User.id)
    return int(rows[0]["id"])


def describe_roles(roles: RoleChoice) -> str:
    held = [name for name, holds in vars(roles).items() if holds]
    return ", ".join(name.removeprefix("is_") for name in held) or "no organisation role"


async def create_user(
    email: str,
    display_name: str,
    roles: RoleChoice,
    password: str,
    actor: Actor = SYSTEM,
) -> int:
    email = email.strip().lower()
    password_hash = await hash_password_off_loop(password)
    async with write_transaction():
        user_id = await _insert_user(email, display_name, roles, password_hash)
        await record_event(
            actor,
            "user.created",
            "user",
            user_id,
            f"Account {email} created ({describe_roles(roles)})",
        )
    return user_id


def _password_fingerprint(password_hash: str) -> str:
    # Changes whenever the password does, which makes every emailed link single-use.
    return hashlib.sha256(f"pw:{password_hash}".encode()).hexdigest()[:20]


def password_link(user_id: int, password_hash: str, purpose: str) -> str:
    token = sign(
        "set-password", {"u": user_id, "f": _password_fingerprint(password_hash), "p": purpose}
    )
    return absolute_url("accounts:set-password", token=token)


async def invite_user(email: str, display_name: str, roles: RoleChoice, actor: CurrentUser) -> int:
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator can invite people.")
    email = email.strip().lower()
    async with write_transaction():
        user_id = await _insert_user(email, display_name, roles)
        await _queue_invitation(user_id, email, display_name, actor, attempt=1)
        await record_event(
            actor, "user.invited", "user", user_id, f"Invited {email} ({describe_roles(roles)})"
        )
    return user_id


async def _queue_invitation(
    user_id: int, email: str, display_name: str, actor: CurrentUser, attempt: int
) -> None:
    await emails.invitation(
        Recipient(user_id, email, display_name),
        invited_by=actor.display_name,
        link=password_link(user_id, "", "invitation"),
        valid_days=INVITATION_VALID_SECONDS // 86400,
        attempt=attempt,
    )


async def resend_invitation(user_id: int, actor: CurrentUser) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator can resend invitations.")
    async with write_transaction():
        row = await User.select().where(User.id == user_id).first()
        if row is None:
            raise NotFoundError("No such account.")
        if row["password_hash"]:
            raise ConflictError("This person has already set a password; they can reset it.")
        sent_before = await _count_events("user.invitation_resent", user_id)
        await _queue_invitation(user_id, row["email"], row["display_name"], actor, sent_before + 2)
        await record_event(
            actor,
            "user.invitation_resent",
            "user",
            user_id,
            f"Invitation to {row['email']} sent again",
        )


async def _count_events(action: str, user_id: int) -> int:
    from governance.core.tables import AuditEvent

    return int(
        await AuditEvent.count().where(
            (AuditEvent.action == action)
            & (AuditEvent.entity_type == "user")
            & (AuditEvent.entity_id == str(user_id))
        )
    )


async def request_password_reset(email: str) -> None:
    """Queues a reset link if the account exists; says nothing either way to the requester."""
    email = email.strip().lower()
    async with write_transaction():
        row = await User.select().where((User.email == email) & (User.is_active == True)).first()  # noqa: E712
        if row is None:
            return
        queued = await emails.password_reset(
            Recipient.of(row, "id"),
            link=password_link(row["id"], row["password_hash"], "reset"),
            valid_hours=PASSWORD_RESET_VALID_SECONDS // 3600,
            now=utcnow(),
        )
        if not queued:
            # Already sent this hour: nothing changed, so nothing to record. Anyone can ask,
            # and asking again must not fill the audit trail.
            return
        await record_event(
            SYSTEM,
            "user.password_reset_requested",
            "user",
            row["id"],
            f"Password reset requested for {email}",
        )


async def user_for_password_token(token: str) -> dict[str, Any] | None:
    """The account a set-password link is for, while the link is valid and unused."""
    payload = unsign("set-password", token, INVITATION_VALID_SECONDS)
    if not isinstance(payload, dict):
        return None
    row = await User.select().where(User.id == payload.get("u")).first()
    if row is None or not row["is_active"]:
        return None
    if payload.get("f") != _password_fingerprint(row["password_hash"]):
        return None
    reset_link_too_old = (
        payload.get("p") == "reset"
        and unsign("set-password", token, PASSWORD_RESET_VALID_SECONDS) is None
    )
    if reset_link_too_old:
        return None
    return row  # type: ignore[no-any-return]


async def set_password_with_token(token: str, password: str) -> CurrentUser:
    expired = "This link has expired or has already been used. Ask for a new one."
    # Hashed before the transaction, so the write lock is not held while the CPU works.
    new_hash = await hash_password_off_loop(password)
    async with write_transaction():
        row = await user_for_password_token(token)
        if row is None:
            raise NotFoundError(expired)
        # Only if the password is still the one the link was made for: of two uses of one
        # link racing each other, the second finds the hash changed and is refused.
        changed = (
            await User.update({User.password_hash: new_hash})
            .where((User.id == row["id"]) & (User.password_hash == row["password_hash"]))
            .returning(User.id)
        )
        if not changed:
            raise NotFoundError(expired)
        # Whoever held a session with the old password loses it.
        await end_all_sessions(row["id"])
        await record_event(
            SYSTEM,
            "user.password_set",
            "user",
            row["id"],
            f"Password set for {row['email']} by emailed link",
        )
    return CurrentUser.from_row(row)


# --- administration ----------------------------------------------------------------------


async def list_users(actor: CurrentUser) -> list[dict[str, Any]]:
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator can list accounts.")
    return await User.select(
        User.id,
        User.email,
        User.display_name,
        User.is_active,
        User.is_admin,
        User.is_director,
        User.is_board,
        User.last_login_at,
        User.password_hash.as_alias("password_hash"),
    ).order_by(User.display_name)


async def get_user(user_id: int, actor: CurrentUser) -> dict[str, Any]:
    if not actor.is_admin and actor.id != user_id:
        raise PermissionDenied("Only an administrator can see other accounts.")
    row = await User.select().where(User.id == user_id).first()
    if row is None:
        raise NotFoundError("No such account.")
    return row  # type: ignore[no-any-return]


async def update_user(
    user_id: int, display_name: str, roles: RoleChoice, actor: CurrentUser
) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator can change accounts.")
    if user_id == actor.id and not roles.is_admin:
        raise InvalidInput(
            "You cannot remove your own administrator role.",
            {"is_admin": "Ask another administrator to remove it."},
        )
    async with write_transaction():
        row = await get_user(user_id, actor)
        await User.update(
            {
                User.display_name: display_name,
                User.is_admin: roles.is_admin,
                User.is_director: roles.is_director,
                User.is_board: roles.is_board,
            }
        ).where(User.id == user_id)
        await record_event(
            actor,
            "user.updated",
            "user",
            user_id,
            f"Account {row['email']} now: {describe_roles(roles)}",
        )


async def set_user_active(user_id: int, active: bool, actor: CurrentUser) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator can deactivate accounts.")
    if user_id == actor.id and not active:
        raise InvalidInput("You cannot deactivate your own account.")
    async with write_transaction():
        row = await get_user(user_id, actor)
        await User.update({User.is_active: active}).where(User.id == user_id)
        if not active:
            await end_all_sessions(user_id)
        action = "user.reactivated" if active else "user.deactivated"
        verb = "reactivated" if active else "deactivated; sessions ended"
        await record_event(actor, action, "user", user_id, f"Account {row['email']} {verb}")


async def update_profile(
    actor: CurrentUser,
    display_name: str,
    timezone: str,
    digest_frequency: str,
    digest_weekday: str,
) -> None:
    async with write_transaction():
        await User.update(
            {
                User.display_name: display_name,
                User.timezone: timezone,
                User.digest_frequency: digest_frequency,
                User.digest_weekday: digest_weekday,
            }
        ).where(User.id == actor.id)
        await record_event(actor, "user.profile_updated", "user", actor.id, "Profile updated")


async def issue_api_token(email: str, label: str = "command line") -> str:
    async with write_transaction():
        row = await User.select(User.id).where(User.email == email.strip().lower()).first()
        if row is None:
            raise NotFoundError(f"No account with the email {email}.")
        token = await create_api_token(row["id"], label)
        await record_event(
            SYSTEM, "api_token.created", "user", row["id"], f"API token created ({label})"
        )
    return token
