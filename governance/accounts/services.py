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

from governance.accounts import queries, second_factor
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
    TOKEN_DEFAULT_DAYS,
    AccountChange,
    AccountView,
    EmailChange,
    Invitation,
    Login,
    NewPassword,
    NewToken,
    PasswordChange,
    PasswordResetRequest,
    ProfileChange,
    RoleChoice,
    SecondFactorEnrolment,
    SecondFactorRemoval,
    SecondFactorSetup,
    SecondFactorSignIn,
    TokenRequest,
)
from governance.accounts.sessions import create_api_token, end_all_sessions
from governance.accounts.tables import ApiToken, LoginAttempt, RecoveryCode, User, UserSession
from governance.core.audit import SYSTEM, Actor, record_event
from governance.core.clock import utcnow
from governance.core.contracts import (
    DEFAULT_MESSAGE,
    NO_ERRORS,
    checked,
    field_errors,
    refuse,
    trimmed,
)
from governance.core.db import columns_from, write_transaction
from governance.core.errors import (
    ConflictError,
    InvalidInput,
    NotFoundError,
    PermissionDenied,
    TooManyAttempts,
)
from governance.core.forms import EMAIL_PATTERN
from governance.core.signing import sign, unsign
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
    refuse(errors)
    async with write_transaction():
        await User.update(columns_from(User, command)).where(User.id == actor.id)
        await record_event(actor, "user.profile_updated", "user", actor.id, "Profile updated")


async def issue_api_token(
    email: str,
    label: str = "command line",
    expires_in_days: int = TOKEN_DEFAULT_DAYS,
    read_only: bool = False,
) -> str:
    """A token made from the command line for the person with this email."""
    row = await User.select(User.id).where(User.email == email.strip().lower()).first()
    if row is None:
        raise NotFoundError(f"No account with the email {email}.")
    actor = CurrentUser.from_row(await queries.account_row_unchecked(row["id"]))
    request = TokenRequest(label=label, expires_in_days=expires_in_days, read_only=read_only)
    return (await create_token(request, actor)).token


# --- account security: notices ------------------------------------------------------------


async def _tell(user_id: int, what: str, event: str, to_email: str | None = None) -> None:
    """Queues the neutral security notice, in the caller's transaction; `to_email` sends it
    to another address than the account's (the old one, when the email changes)."""
    row = await queries.account_row_unchecked(user_id)
    recipient = Recipient(user_id, to_email or row["email"], row["display_name"])
    await emails.security_notice(
        recipient, what=what, event=event, now=utcnow(), timezone=row["timezone"]
    )


# --- account security: password and email -------------------------------------------------

WRONG_PASSWORD = "That is not your current password."  # noqa: S105 - a message
EMAIL_CHANGE_VALID_SECONDS = 24 * 3600


async def _current_password_error(user_id: int, password: str) -> dict[str, str]:
    row = await queries.account_row_unchecked(user_id)
    if password and await verify_password_off_loop(row["password_hash"], password):
        return {}
    return {"current_password": WRONG_PASSWORD if password else "Current password is required."}


async def change_password(
    command: PasswordChange, actor: CurrentUser, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> None:
    """A new password, given the current one; every other session of the person ends (the
    one in use stays), and they are told by email."""
    new = NewPassword(password=command.password, password_confirm=command.password_confirm)
    errors = {
        **_password_errors(new, unreadable),
        **await _current_password_error(actor.id, command.current_password),
    }
    refuse(errors)
    new_hash = await hash_password_off_loop(command.password)
    async with write_transaction():
        await User.update({User.password_hash: new_hash}).where(User.id == actor.id)
        await end_all_sessions(actor.id, keep_session_id=actor.session_id)
        await record_event(
            actor,
            "user.password_changed",
            "user",
            actor.id,
            "Password changed; other sessions ended",
        )
        await _tell(
            actor.id, "Your password was changed and your other sessions were ended", "password"
        )


def email_change_link(user_id: int, current_email: str, new_email: str) -> str:
    token = sign("change-email", {"u": user_id, "o": current_email, "e": new_email})
    return absolute_url("accounts:confirm-email-form", token=token)


async def request_email_change(
    command: EmailChange, actor: CurrentUser, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> str:
    """Sends a confirming link to the new address (the email changes only when it is
    opened) and tells the current address; returns the new address."""
    command = _lowered(command)
    errors = _errors(command, unreadable)
    if "email" not in errors and command.email == actor.email:
        errors["email"] = "This is already your email."
    elif "email" not in errors and await _email_taken(command.email):
        errors["email"] = TAKEN
    errors.update(await _current_password_error(actor.id, command.current_password))
    refuse(errors)
    async with write_transaction():
        await emails.email_change_confirmation(
            Recipient(actor.id, command.email, actor.display_name),
            link=email_change_link(actor.id, actor.email, command.email),
            valid_hours=EMAIL_CHANGE_VALID_SECONDS // 3600,
        )
        await record_event(
            actor, "user.email_change_requested", "user", actor.id, "Change of email asked for"
        )
        await _tell(
            actor.id, f"A change of your email to {command.email} was asked for", "email-asked"
        )
    return command.email


async def confirm_email_change(token: str) -> str:
    """Applies a confirmed change of email, once: the link names the email it replaces,
    so after the change (or any other) it no longer works. Tells the old address."""
    async with write_transaction():
        change = await queries.email_change_holder(token, EMAIL_CHANGE_VALID_SECONDS)
        if change is None:
            raise NotFoundError(LINK_EXPIRED)
        user_id, old_email, new_email = change
        if await _email_taken(new_email):
            raise ConflictError(TAKEN)
        await User.update({User.email: new_email}).where(
            (User.id == user_id) & (User.email == old_email)
        )
        await record_event(
            SYSTEM, "user.email_changed", "user", user_id, "Email changed by a confirmed link"
        )
        await _tell(
            user_id,
            f"The email of your account was changed to {new_email}",
            "email-changed",
            old_email,
        )
    return new_email


# --- account security: two-factor sign-in -------------------------------------------------

ENROLMENT_VALID_SECONDS = 15 * 60
CHALLENGE_VALID_SECONDS = 5 * 60
WRONG_CODE = "That code is not right, or has been used already. Try the newest code."
CHALLENGE_EXPIRED = "This sign-in has expired. Sign in again with your password."


def second_factor_required(user: CurrentUser) -> bool:
    return user.holds_any_of(get_settings().require_second_factor)


def start_enrolment(actor: CurrentUser) -> SecondFactorSetup:
    """A new secret to scan, shown on this page only; nothing is stored until the first
    code from it is confirmed."""
    secret = second_factor.new_secret()
    uri = second_factor.provisioning_uri(secret, actor.email)
    enrolment = sign("totp-enrolment", {"u": actor.id, "s": secret})
    return SecondFactorSetup(secret=secret, qr_svg=second_factor.qr_svg(uri), enrolment=enrolment)


async def enable_second_factor(
    command: SecondFactorEnrolment,
    actor: CurrentUser,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> list[str]:
    """Turns two-factor sign-in on once the first code from the scanned secret is right;
    returns the ten recovery codes, which are shown once and kept only as hashes."""
    payload = unsign("totp-enrolment", command.enrolment, ENROLMENT_VALID_SECONDS)
    if not isinstance(payload, dict) or payload.get("u") != actor.id:
        raise InvalidInput("This set-up has expired. Scan the new code below and try again.")
    errors = {**field_errors(command), **unreadable}
    step = second_factor.matching_step(str(payload["s"]), command.code)
    if "code" not in errors and step is None:
        errors["code"] = "That code is not right. Enter the six digits your app shows now."
    refuse(errors)
    codes = second_factor.new_recovery_codes()
    async with write_transaction():
        changes: dict[Any, Any] = {
            User.totp_secret: payload["s"],
            User.totp_last_step: step,
            User.totp_enabled_at: utcnow(),
        }
        await User.update(changes).where(User.id == actor.id)
        await _replace_recovery_codes(actor.id, codes)
        await record_event(
            actor, "user.second_factor_enabled", "user", actor.id, "Two-factor sign-in turned on"
        )
        await _tell(actor.id, "Two-factor sign-in was turned on for your account", "2fa-on")
    return codes


async def _replace_recovery_codes(user_id: int, codes: list[str]) -> None:
    await RecoveryCode.delete().where(RecoveryCode.user == user_id)
    if codes:
        await RecoveryCode.insert(
            *(
                RecoveryCode(user=user_id, code_hash=second_factor.recovery_code_digest(code))
                for code in codes
            )
        )


async def _clear_second_factor(user_id: int) -> None:
    cleared: dict[Any, Any] = {User.totp_secret: "", User.totp_last_step: 0}
    cleared[User.totp_enabled_at] = None
    await User.update(cleared).where(User.id == user_id)
    await _replace_recovery_codes(user_id, [])


async def disable_second_factor(
    command: SecondFactorRemoval,
    actor: CurrentUser,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """Turns two-factor sign-in off, given the password; not for a role that requires it."""
    if second_factor_required(actor):
        raise PermissionDenied("Your role requires two-factor sign-in: it cannot be turned off.")
    row = await queries.account_row_unchecked(actor.id)
    if row["totp_enabled_at"] is None:
        raise ConflictError("Two-factor sign-in is already off.")
    refuse({**unreadable, **await _current_password_error(actor.id, command.current_password)})
    async with write_transaction():
        await _clear_second_factor(actor.id)
        await record_event(
            actor, "user.second_factor_disabled", "user", actor.id, "Two-factor sign-in turned off"
        )
        await _tell(actor.id, "Two-factor sign-in was turned off for your account", "2fa-off")


async def reset_second_factor(user_id: int, actor: CurrentUser) -> None:
    """An administrator's reset of someone's lost second factor: they enrol again at their
    next sign-in if their role requires it."""
    _require_admin(actor, "Only an administrator can reset a second factor.")
    async with write_transaction():
        row = await queries.account_row(user_id, actor)
        await _clear_second_factor(user_id)
        await end_all_sessions(user_id)
        await record_event(
            actor,
            "user.second_factor_reset",
            "user",
            user_id,
            f"Two-factor sign-in of {row['email']} reset by an administrator; sessions ended",
        )
        await _tell(
            user_id, "An administrator reset the two-factor sign-in of your account", "2fa-reset"
        )


async def second_factor_challenge(user: CurrentUser, next_path: str) -> str | None:
    """After a right password: the signed challenge for the code step if the person has a
    second factor (valid for minutes, and only while the password is the same), else None."""
    row = await queries.account_row_unchecked(user.id)
    if row["totp_enabled_at"] is None:
        return None
    fingerprint = password_fingerprint(row["password_hash"])
    return sign("totp-challenge", {"u": user.id, "f": fingerprint, "n": next_path})


async def _challenged_account(challenge: str) -> tuple[dict[str, Any], str]:
    payload = unsign("totp-challenge", challenge, CHALLENGE_VALID_SECONDS)
    if not isinstance(payload, dict):
        raise NotFoundError(CHALLENGE_EXPIRED)
    row = await User.select().where(User.id == payload.get("u")).first()
    if row is None or not row["is_active"] or row["totp_enabled_at"] is None:
        raise NotFoundError(CHALLENGE_EXPIRED)
    if payload.get("f") != password_fingerprint(row["password_hash"]):
        raise NotFoundError(CHALLENGE_EXPIRED)
    return row, str(payload.get("n") or "/")


async def _accept_code(row: dict[str, Any], code: str) -> str | None:
    """Marks the code used and says what kind it was ("code", "recovery code"), or None.
    A time code is taken only for a step later than the last one taken (no replay), and a
    recovery code only while unused: each by a conditional update, so two requests racing
    with the same code cannot both win."""
    step = second_factor.matching_step(row["totp_secret"], code)
    if step is not None:
        taken = (
            await User.update({User.totp_last_step: step})
            .where((User.id == row["id"]) & (User.totp_last_step < step))
            .returning(User.id)
        )
        return "code" if taken else None
    used = (
        await RecoveryCode.update({RecoveryCode.used_at: utcnow()})
        .where(
            (RecoveryCode.user == row["id"])
            & (RecoveryCode.code_hash == second_factor.recovery_code_digest(code))
            & RecoveryCode.used_at.is_null()
        )
        .returning(RecoveryCode.id)
    )
    return "recovery code" if used else None


async def verify_second_factor(
    command: SecondFactorSignIn, ip_address: str, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> tuple[CurrentUser, str]:
    """The second step of a sign-in: the person and where they were going, once their code
    (or a recovery code) is right. Wrong codes are throttled like passwords, per account
    and address."""
    row, next_path = await _challenged_account(command.challenge)
    refuse({**field_errors(command), **unreadable})
    key, ip_address = f"2fa:{row['id']}", ip_address[:64]
    attempt_id = await _admit(key, ip_address)
    async with write_transaction():
        kind = await _accept_code(row, command.code)
        if kind == "recovery code":
            await record_event(
                CurrentUser.from_row(row),
                "user.recovery_code_used",
                "user",
                row["id"],
                "Signed in with a recovery code",
            )
            await _tell(
                row["id"], "A recovery code was used to sign in to your account", "recovery"
            )
    if kind is None:
        await LoginAttempt.update({LoginAttempt.pending: False}).where(
            LoginAttempt.id == attempt_id
        )
        raise InvalidInput(WRONG_CODE, {"code": WRONG_CODE})
    await LoginAttempt.delete().where(
        (LoginAttempt.email == key) & (LoginAttempt.ip_address == ip_address)
    )
    return CurrentUser.from_row(row), next_path


# --- account security: sessions and API tokens ---------------------------------------------


async def end_other_session(handle: str, actor: CurrentUser) -> None:
    """Ends one of the person's sessions, found by the handle their profile shows."""
    session_id = await queries.session_id_for_handle(actor.id, handle)
    if session_id is None:
        raise NotFoundError("That session has already ended.")
    async with write_transaction():
        await UserSession.delete().where(
            (UserSession.id == session_id) & (UserSession.user == actor.id)
        )
        await record_event(actor, "user.session_ended", "user", actor.id, "A session was ended")
        await _tell(actor.id, "One of your sign-in sessions was ended", "session")


async def end_other_sessions(actor: CurrentUser) -> None:
    async with write_transaction():
        await end_all_sessions(actor.id, keep_session_id=actor.session_id)
        await record_event(
            actor, "user.sessions_ended", "user", actor.id, "All other sessions ended"
        )
        await _tell(actor.id, "All your other sign-in sessions were ended", "sessions")


async def create_token(
    command: TokenRequest, actor: CurrentUser, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> NewToken:
    """A new API token for the person, shown once: only its hash is kept."""
    command = checked(trimmed(command))
    refuse({**field_errors(command), **unreadable})
    expires_at = utcnow() + dt.timedelta(days=command.expires_in_days)
    async with write_transaction():
        token_id, token = await create_api_token(
            actor.id, command.label, expires_at, command.read_only
        )
        kind = "read-only API token" if command.read_only else "API token"
        await record_event(
            actor,
            "api_token.created",
            "api_token",
            token_id,
            f"{kind.capitalize()} created ({command.label}), expires {expires_at:%Y-%m-%d}",
        )
        await _tell(
            actor.id, f"A new {kind} named “{command.label}” was created", f"token-{token_id}"
        )
    return NewToken(
        id=token_id,
        label=command.label,
        token=token,
        expires_at=expires_at,
        read_only=command.read_only,
    )


async def revoke_token(token_id: int, actor: CurrentUser | None) -> None:
    """Revokes a token: its owner's own, or any from the command line (actor None)."""
    async with write_transaction():
        condition = (ApiToken.id == token_id) & ApiToken.revoked_at.is_null()
        if actor is not None:
            condition &= ApiToken.user == actor.id
        rows = (
            await ApiToken.update({ApiToken.revoked_at: utcnow()})
            .where(condition)
            .returning(ApiToken.user, ApiToken.label)
        )
        if not rows:
            raise NotFoundError("No such active API token.")
        await record_event(
            actor or SYSTEM,
            "api_token.revoked",
            "api_token",
            token_id,
            f"API token revoked ({rows[0]['label']})",
        )
        await _tell(
            int(rows[0]["user"]),
            f"The API token named “{rows[0]['label']}” was revoked",
            f"revoke-{token_id}",
        )
