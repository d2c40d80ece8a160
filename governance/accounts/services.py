"""The rules of accounts: sign-in and its throttling, invitations and password links,
organisation roles, profiles.

Only administrators invite people and change accounts, and none may remove their own
administrator role or deactivate themselves. An emailed link sets a password once: an
invitation's for 7 days, a reset's for 2 hours. Asking for a reset says nothing of whether
the account exists. Every change writes one audit event in its transaction; email is queued
through `notifications/emails.py` in the same transaction.

Each use case authorises, then finds every field's error at once, then writes, audits and
queues email in one write transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import msgspec

from governance.accounts import queries
from governance.accounts.passwords import (
    hash_password_off_loop,
    needs_rehash,
    verify_password_off_loop,
)
from governance.accounts.policy import CurrentUser
from governance.accounts.queries import (
    INVITATION_VALID_SECONDS,
    PASSWORD_RESET_VALID_SECONDS,
    password_fingerprint,
)
from governance.accounts.schemas import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    AccountChange,
    AccountView,
    Invitation,
    Login,
    NewPassword,
    PasswordResetRequest,
    ProfileChange,
    RoleChoice,
)
from governance.accounts.sessions import create_api_token, end_all_sessions
from governance.accounts.tables import LoginAttempt, User
from governance.core.audit import SYSTEM, Actor, record_event
from governance.core.clock import utcnow
from governance.core.contracts import DEFAULT_MESSAGE, NO_ERRORS, field_errors, refuse, trimmed
from governance.core.db import columns_from, write_transaction
from governance.core.errors import (
    ConflictError,
    InvalidInput,
    NotFoundError,
    PermissionDenied,
    TooManyAttempts,
)
from governance.core.forms import EMAIL_PATTERN, TIMEZONES
from governance.core.signing import sign
from governance.core.urls import absolute_url
from governance.notifications import emails
from governance.notifications.emails import Recipient
from governance.settings import get_settings

CommandT = TypeVar("CommandT", bound=msgspec.Struct)
# An address may fail more often than one account-and-address pair: several people can
# share an office's address.
ADDRESS_ATTEMPTS_FACTOR = 4
# A sign-in that could be decided by attempts of its pair or address still under way waits
# for them, checking every PENDING_POLL_SECONDS; one under way for longer than PENDING_STALE
# (its process stopped) is not waited for, and none for longer than that in all.
PENDING_POLL_SECONDS = 0.02
PENDING_STALE = dt.timedelta(minutes=1)
PENDING_WAIT_SECONDS = PENDING_STALE.total_seconds()
LINK_EXPIRED = "This link has expired or has already been used. Ask for a new one."
NO_MATCH = "That email and password do not match an active account."
NOT_AN_ADMIN = "Only an administrator can change accounts."
EMAIL_ADDRESS = "Email must be an email address such as name@example.org."
TAKEN = "An account with this email already exists."
OWN_ADMIN_ROLE = "You cannot remove your own administrator role."


# --- every field's error ----------------------------------------------------------------


def _errors(command: Any, unreadable: Mapping[str, str]) -> dict[str, str]:
    """The command's own field errors, the form's unreadable fields, and any email that is
    not an email address."""
    errors = {**field_errors(command), **unreadable}
    email = getattr(command, "email", None)
    if isinstance(email, str) and "email" not in errors and not EMAIL_PATTERN.match(email):
        errors["email"] = EMAIL_ADDRESS
    return errors


def _password_errors(command: NewPassword, unreadable: Mapping[str, str]) -> dict[str, str]:
    errors = {**field_errors(command), **unreadable}
    if len(command.password) < PASSWORD_MIN_LENGTH:
        errors["password"] = f"Password must be at least {PASSWORD_MIN_LENGTH} characters."
    elif len(command.password) > PASSWORD_MAX_LENGTH:
        errors["password"] = f"Password must be at most {PASSWORD_MAX_LENGTH} characters."
    elif command.password != command.password_confirm:
        errors["password_confirm"] = "The two passwords are not the same."  # noqa: S105 - a message
    return errors


def _lowered(command: CommandT) -> CommandT:
    """The command trimmed, with its email lower-cased (emails are stored that way)."""
    command = trimmed(command)
    email = getattr(command, "email", None)
    if isinstance(email, str) and email != email.lower():
        command = msgspec.structs.replace(command, email=email.lower())
    return command


# --- sign-in ----------------------------------------------------------------------------


def _wait_seconds(failed_at: list[dt.datetime], allowance: int, now: dt.datetime) -> int:
    """How long a key (a pair, or an address) must still wait before its next attempt: not at
    all within its allowance of failures; beyond it 1 s after its latest failure, doubling
    with each further failure, and never longer than the window."""
    beyond = len(failed_at) - allowance
    if beyond < 0:
        return 0
    window_seconds = get_settings().login_window_minutes * 60
    delay = dt.timedelta(seconds=min(2 ** min(beyond, 32), window_seconds))
    return max(0, math.ceil((max(failed_at) + delay - now).total_seconds()))


def _wait_phrase(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def _allowances() -> tuple[int, int]:
    """Failures allowed without waiting: per account-and-address pair, and per address."""
    pair = get_settings().login_max_attempts
    return pair, pair * ADDRESS_ATTEMPTS_FACTOR


def _may_hang_on(rows: list[dict[str, Any]], email: str, stale_before: dt.datetime) -> bool:
    """Whether attempts still under way could decide this one: they cannot while, even if
    every one of them failed, the pair and the address stayed within their allowances."""
    if not any(row["pending"] and row["attempted_at"] > stale_before for row in rows):
        return False
    pair_allowance, address_allowance = _allowances()
    pair = [row for row in rows if row["email"] == email]
    return len(pair) >= pair_allowance or len(rows) >= address_allowance


async def _earlier_attempts(email: str, ip_address: str, attempt_id: int) -> list[dict[str, Any]]:
    """The attempts from this address before this one within the window, once none still
    under way could change whether this one is heard: an attempt that could be waits for
    them to be decided (so guesses sent all at once are heard one after another, and
    correct sign-ins sent at once are not refused for each other). An attempt under way
    for longer than PENDING_STALE is not waited for; nor any, after PENDING_WAIT_SECONDS.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PENDING_WAIT_SECONDS
    while True:
        now = utcnow()
        since = now - dt.timedelta(minutes=get_settings().login_window_minutes)
        rows = await LoginAttempt.select(
            LoginAttempt.email, LoginAttempt.attempted_at, LoginAttempt.pending
        ).where(
            (LoginAttempt.ip_address == ip_address)
            & (LoginAttempt.attempted_at > since)
            & (LoginAttempt.id < attempt_id)
        )
        if not _may_hang_on(rows, email, now - PENDING_STALE) or loop.time() >= deadline:
            return rows
        await asyncio.sleep(PENDING_POLL_SECONDS)


async def _admit(email: str, ip_address: str) -> int:
    """Records this attempt as under way and returns its id; or, while the pair or the
    address must wait, removes it again and refuses it unheard with how long to wait.
    Attempts still under way when it is judged count as failures."""
    now = utcnow()
    window = dt.timedelta(minutes=get_settings().login_window_minutes)
    # Attempts older than the window no longer count for anything.
    await LoginAttempt.delete().where(LoginAttempt.attempted_at <= now - window)
    attempt = await LoginAttempt.insert(
        LoginAttempt(email=email, ip_address=ip_address, attempted_at=now, pending=True)
    ).returning(LoginAttempt.id)
    attempt_id = int(attempt[0]["id"])
    rows = await _earlier_attempts(email, ip_address, attempt_id)
    pair_allowance, address_allowance = _allowances()
    now = utcnow()
    pair = [row["attempted_at"] for row in rows if row["email"] == email]
    wait = max(
        _wait_seconds(pair, pair_allowance, now),
        _wait_seconds([row["attempted_at"] for row in rows], address_allowance, now),
    )
    if wait:
        await LoginAttempt.delete().where(LoginAttempt.id == attempt_id)
        raise TooManyAttempts(
            f"Too many failed sign-ins. Wait {_wait_phrase(wait)} and try again,"
            " or ask for a password reset link.",
            retry_after_seconds=wait,
        )
    return attempt_id


async def authenticate(
    command: Login, ip_address: str, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> CurrentUser:
    """Checks a sign-in; raises TooManyAttempts while its account-and-address pair, or its
    address, must wait.

    The attempt is recorded as under way before it is judged and before the password is
    checked, so that guesses sent all at once each see the ones before them. It is kept as
    a failure if the password is wrong, removed if the attempt is refused unheard, and a
    sign-in that succeeds clears its pair's failures (never another address's: a stranger
    failing elsewhere cannot keep the owner out). A form missing its email or password is
    refused before any of that, and counts for nothing.
    """
    command = _lowered(command)
    errors = _errors(command, unreadable)
    if "password" not in errors and not command.password:
        errors["password"] = "Password is required."  # noqa: S105 - a message
    refuse(errors)
    email, ip_address = command.email, ip_address[:64]
    attempt_id = await _admit(email, ip_address)
    row = await User.select().where(User.email == email).first()
    # Always verify one hash (a dummy one for an unknown email), so that the answer takes
    # as long whether or not the account exists.
    password_matches = await verify_password_off_loop(
        row["password_hash"] if row else "", command.password
    )
    if row is None or not row["is_active"] or not password_matches:
        await LoginAttempt.update({LoginAttempt.pending: False}).where(
            LoginAttempt.id == attempt_id
        )
        raise InvalidInput(NO_MATCH)
    changes: dict[Any, Any] = {User.last_login_at: utcnow()}
    if needs_rehash(row["password_hash"]):
        changes[User.password_hash] = await hash_password_off_loop(command.password)
    await User.update(changes).where(User.id == row["id"])
    await LoginAttempt.delete().where(
        (LoginAttempt.email == email)
        & (LoginAttempt.ip_address == ip_address)
        & ((LoginAttempt.pending == False) | (LoginAttempt.id == attempt_id))  # noqa: E712
    )
    return CurrentUser.from_row(row)


# --- creating and inviting ---------------------------------------------------------------


async def _email_taken(email: str) -> bool:
    return bool(await User.exists().where(User.email == email))


async def _insert_user(
    email: str, display_name: str, roles: RoleChoice, password_hash: str = ""
) -> int:
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


async def create_user(
    email: str,
    display_name: str,
    roles: RoleChoice,
    password: str,
    actor: Actor = SYSTEM,
) -> int:
    """An account with a password, made from the command line or for the demo."""
    email = email.strip().lower()
    password_hash = await hash_password_off_loop(password)
    async with write_transaction():
        if await _email_taken(email):
            raise InvalidInput(TAKEN, {"email": TAKEN})
        user_id = await _insert_user(email, display_name, roles, password_hash)
        await record_event(
            actor,
            "user.created",
            "user",
            user_id,
            f"Account {email} created ({roles.describe()})",
        )
    return user_id


def password_link(user_id: int, password_hash: str, purpose: str) -> str:
    token = sign(
        "set-password", {"u": user_id, "f": password_fingerprint(password_hash), "p": purpose}
    )
    return absolute_url("accounts:set-password", token=token)


def _require_admin(actor: CurrentUser, message: str = NOT_AN_ADMIN) -> None:
    if not actor.is_admin:
        raise PermissionDenied(message)


async def invite_user(
    command: Invitation, actor: CurrentUser, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> AccountView:
    """A new account without a password, and an email inviting the person to set one."""
    _require_admin(actor, "Only an administrator can invite people.")
    command = _lowered(command)
    async with write_transaction():
        errors = _errors(command, unreadable)
        if "email" not in errors and await _email_taken(command.email):
            errors["email"] = TAKEN
        refuse(errors)
        user_id = await _insert_user(command.email, command.display_name, command.roles)
        await _queue_invitation(user_id, command.email, command.display_name, actor, attempt=1)
        await record_event(
            actor,
            "user.invited",
            "user",
            user_id,
            f"Invited {command.email} ({command.roles.describe()})",
        )
    fields = {"id": user_id, "is_active": True, "has_password": False, "last_login_at": None}
    return msgspec.convert({**msgspec.structs.asdict(command), **fields}, AccountView)


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
    _require_admin(actor, "Only an administrator can resend invitations.")
    async with write_transaction():
        row = await queries.account_row(user_id, actor)
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


# --- password links ---------------------------------------------------------------------


def checked_reset_request(
    command: PasswordResetRequest, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> str:
    """The email a reset is asked for, once it is an email address; reads nothing, so the
    answer to the requester takes as long whether or not the account exists."""
    command = _lowered(command)
    refuse(_errors(command, unreadable))
    return command.email


async def send_password_reset(email: str) -> None:
    """Queues a reset link if an active account has this email; nothing otherwise. The
    page runs it after its answer has gone (`checked_reset_request` first), so that neither
    its queries nor its write transaction tell the requester whether the account exists."""
    async with write_transaction():
        row = await (
            User.select().where((User.email == email) & (User.is_active == True)).first()  # noqa: E712
        )
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


async def request_password_reset(
    command: PasswordResetRequest, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> None:
    """Checks the request and queues a reset link if the account exists, in one go (for
    callers with no answer to send first); says nothing either way."""
    await send_password_reset(checked_reset_request(command, unreadable=unreadable))


async def set_password_with_token(
    token: str, command: NewPassword, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> None:
    """Sets the password of the account an emailed link is for, once; every session held
    with the old password ends. A link that is not valid is "not found" before the new
    password is looked at."""
    if await queries.link_holder(token) is None:
        raise NotFoundError(LINK_EXPIRED)
    refuse(_password_errors(command, unreadable))
    # Hashed before the transaction, so the write lock is not held while the CPU works.
    new_hash = await hash_password_off_loop(command.password)
    async with write_transaction():
        holder = await queries.link_holder(token)
        if holder is None:
            raise NotFoundError(LINK_EXPIRED)
        # Only if the password is still the one the link was made for: of two uses of one
        # link racing each other, the second finds the hash changed and is refused.
        changed = (
            await User.update({User.password_hash: new_hash})
            .where((User.id == holder.id) & (User.password_hash == holder.password_hash))
            .returning(User.id)
        )
        if not changed:
            raise NotFoundError(LINK_EXPIRED)
        # Whoever held a session with the old password loses it, and sign-in attempts
        # against the account, from any address, are forgotten: its owner is back in.
        await end_all_sessions(holder.id)
        await LoginAttempt.delete().where(LoginAttempt.email == holder.email)
        await record_event(
            SYSTEM,
            "user.password_set",
            "user",
            holder.id,
            f"Password set for {holder.email} by emailed link",
        )


# --- administration ----------------------------------------------------------------------


async def update_user(
    user_id: int,
    command: AccountChange,
    actor: CurrentUser,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """An administrator changes someone's name and organisation roles; never their own
    administrator role."""
    _require_admin(actor)
    command = trimmed(command)
    async with write_transaction():
        row = await queries.account_row(user_id, actor)
        errors = _errors(command, unreadable)
        if user_id == actor.id and not command.is_admin:
            errors["is_admin"] = "Ask another administrator to remove it."
        refuse(errors, OWN_ADMIN_ROLE if "is_admin" in errors else DEFAULT_MESSAGE)
        await User.update(columns_from(User, command)).where(User.id == user_id)
        await record_event(
            actor,
            "user.updated",
            "user",
            user_id,
            f"Account {row['email']} now: {command.roles.describe()}",
        )


# What else a deactivation changes, in its transaction: domains above accounts register a
# step here (groups ends the person's memberships), so the dependency still points from
# them to accounts. Each step returns a phrase for the audit summary, or "".
DeactivationStep = Callable[[int, CurrentUser], Awaitable[str]]
DEACTIVATION_STEPS: list[DeactivationStep] = []


def on_deactivation(step: DeactivationStep) -> DeactivationStep:
    DEACTIVATION_STEPS.append(step)
    return step


async def set_user_active(user_id: int, active: bool, actor: CurrentUser) -> None:
    _require_admin(actor, "Only an administrator can deactivate accounts.")
    if user_id == actor.id and not active:
        raise InvalidInput("You cannot deactivate your own account.")
    async with write_transaction():
        row = await queries.account_row(user_id, actor)
        await User.update({User.is_active: active}).where(User.id == user_id)
        verb = "reactivated"
        if not active:
            await end_all_sessions(user_id)
            done = [await step(user_id, actor) for step in DEACTIVATION_STEPS]
            verb = "; ".join(["deactivated", "sessions ended", *filter(None, done)])
        action = "user.reactivated" if active else "user.deactivated"
        await record_event(actor, action, "user", user_id, f"Account {row['email']} {verb}")


async def update_profile(
    command: ProfileChange, actor: CurrentUser, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> None:
    """A person's own name, time zone and digest."""
    command = trimmed(command)
    errors = _errors(command, unreadable)
    if "timezone" not in errors and command.timezone not in TIMEZONES:
        errors["timezone"] = "Time zone must be a time zone such as Europe/London."
    refuse(errors)
    async with write_transaction():
        await User.update(columns_from(User, command)).where(User.id == actor.id)
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
