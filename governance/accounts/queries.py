"""Reads of accounts, returning views: the administrators' list and page of an account, a
person's own profile, and the account a set-password link is for."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import msgspec

from governance.accounts import scopes
from governance.accounts.policy import CurrentUser, Viewer
from governance.accounts.schemas import (
    AccountView,
    AuditEventView,
    AuditTrailView,
    LinkHolder,
    ProfileView,
    SecondFactorStatus,
    SessionView,
    TokenView,
)
from governance.accounts.sessions import session_handle
from governance.accounts.tables import ApiToken, RecoveryCode, User, UserSession
from governance.core.audit import as_shown
from governance.core.clock import utcnow
from governance.core.db import one_row
from governance.core.errors import PermissionDenied
from governance.core.signing import unsign
from governance.core.tables import AuditEvent

INVITATION_VALID_SECONDS = 7 * 24 * 3600
PASSWORD_RESET_VALID_SECONDS = 2 * 3600
NO_SUCH_ACCOUNT = "No such account."


def _account(row: dict[str, Any]) -> AccountView:
    return msgspec.convert({**row, "has_password": bool(row["password_hash"])}, AccountView)


async def list_users(actor: CurrentUser) -> list[AccountView]:
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator can list accounts.")
    rows = await User.select(
        User.id,
        User.email,
        User.display_name,
        User.is_active,
        User.is_admin,
        User.is_director,
        User.is_board,
        User.last_login_at,
        User.password_hash,
    ).order_by(User.display_name)
    return [_account(row) for row in rows]


async def account_row(user_id: int, actor: CurrentUser) -> dict[str, Any]:
    """An account's row, for an administrator or the person themselves."""
    if not actor.is_admin and actor.id != user_id:
        raise PermissionDenied("Only an administrator can see other accounts.")
    return await one_row(User.select().where(User.id == user_id), NO_SUCH_ACCOUNT)


async def get_account(user_id: int, actor: CurrentUser) -> AccountView:
    return _account(await account_row(user_id, actor))


async def get_profile(user: CurrentUser) -> ProfileView:
    return msgspec.convert(await account_row(user.id, user), ProfileView)


def password_fingerprint(password_hash: str) -> str:
    """Changes whenever the password does, which makes every emailed link single-use."""
    return hashlib.sha256(f"pw:{password_hash}".encode()).hexdigest()[:20]


async def link_holder(token: str) -> LinkHolder | None:
    """The account a set-password link is for, while the link is valid and unused: an
    invitation for 7 days, a reset for 2 hours, either until a password is set."""
    payload = unsign("set-password", token, INVITATION_VALID_SECONDS)
    if not isinstance(payload, dict):
        return None
    row = await User.select().where(User.id == payload.get("u")).first()
    if row is None or not row["is_active"]:
        return None
    if payload.get("f") != password_fingerprint(row["password_hash"]):
        return None
    reset_link_too_old = (
        payload.get("p") == "reset"
        and unsign("set-password", token, PASSWORD_RESET_VALID_SECONDS) is None
    )
    if reset_link_too_old:
        return None
    return msgspec.convert(row, LinkHolder)


# --- account security -------------------------------------------------------------------

# Written by hand rather than with a user-agent parser library: the profile shows one
# readable label ("Firefox on Windows") to help a person recognise their own sessions, and
# a wrong guess costs nothing.
_BROWSERS = (
    ("Edge", r"Edg/"),
    ("Opera", r"OPR/"),
    ("Chromium", r"Chromium/"),
    ("Chrome", r"Chrome/"),
    ("Firefox", r"Firefox/"),
    ("Safari", r"Safari/"),
    ("curl", r"^curl/"),
)
_SYSTEMS = (
    ("Android", r"Android"),
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X"),
    ("Linux", r"Linux"),
)


def browser_label(user_agent: str) -> str:
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, user_agent)), "")
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, user_agent)), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"


async def list_sessions(user: CurrentUser) -> list[SessionView]:
    """The person's live sessions, the one in use first, then the most recently used."""
    rows = (
        await UserSession.select(
            UserSession.id,
            UserSession.created_at,
            UserSession.last_seen_at,
            UserSession.ip_address,
            UserSession.user_agent,
        )
        .where(UserSession.user == user.id)
        .order_by(UserSession.last_seen_at, ascending=False)
    )
    views = [
        SessionView(
            handle=session_handle(row["id"]),
            created_at=row["created_at"],
            last_seen_at=row["last_seen_at"],
            browser=browser_label(row["user_agent"]),
            ip_address=row["ip_address"],
            is_current=row["id"] == user.session_id,
        )
        for row in rows
    ]
    return sorted(views, key=lambda view: not view.is_current)


async def session_id_for_handle(user_id: int, handle: str) -> str | None:
    rows = await UserSession.select(UserSession.id).where(UserSession.user == user_id)
    return next((row["id"] for row in rows if session_handle(row["id"]) == handle), None)


def _token_state(row: dict[str, Any]) -> str:
    if row["revoked_at"] is not None:
        return "revoked"
    if row["expires_at"] is not None and row["expires_at"] <= utcnow():
        return "expired"
    return "active"


_TOKEN_COLUMNS = (
    ApiToken.id,
    ApiToken.label,
    ApiToken.created_at,
    ApiToken.last_used_at,
    ApiToken.expires_at,
    ApiToken.revoked_at,
    ApiToken.read_only,
)


async def list_tokens(user_id: int) -> list[TokenView]:
    rows = (
        await ApiToken.select(*_TOKEN_COLUMNS)
        .where(ApiToken.user == user_id)
        .order_by(ApiToken.created_at, ascending=False)
    )
    return [msgspec.convert({**row, "state": _token_state(row)}, TokenView) for row in rows]


async def second_factor_status(user: CurrentUser, required: bool) -> SecondFactorStatus:
    row = await one_row(
        User.select(User.totp_enabled_at).where(User.id == user.id), NO_SUCH_ACCOUNT
    )
    left = await RecoveryCode.count().where(
        (RecoveryCode.user == user.id) & RecoveryCode.used_at.is_null()
    )
    return SecondFactorStatus(
        enabled=row["totp_enabled_at"] is not None,
        enabled_at=row["totp_enabled_at"],
        recovery_codes_left=int(left),
        required=required,
    )


async def account_row_unchecked(user_id: int) -> dict[str, Any]:
    """An account's row for a service acting on the person's own behalf (a sign-in step, a
    notice); never shown to anyone else."""
    return await one_row(User.select().where(User.id == user_id), NO_SUCH_ACCOUNT)


async def email_change_holder(token: str, max_age_seconds: int) -> tuple[int, str, str] | None:
    """(account, old email, new email) of a change-of-email link while it is valid: signed,
    young enough, and the account still has the email the link replaces."""
    payload = unsign("change-email", token, max_age_seconds)
    if not isinstance(payload, dict):
        return None
    row = await User.select(User.email, User.is_active).where(User.id == payload.get("u")).first()
    if row is None or not row["is_active"] or row["email"] != payload.get("o"):
        return None
    return int(payload["u"]), str(payload["o"]), str(payload["e"])


async def list_tokens_of(email: str) -> list[TokenView] | None:
    """The tokens of the account with this email (for the command line), or None."""
    row = await User.select(User.id).where(User.email == email.strip().lower()).first()
    return None if row is None else await list_tokens(int(row["id"]))


# --- the audit trail ------------------------------------------------------------------

AUDIT_PAGE_SIZE = 100
# Pages past this are not served: far enough back for a page, and it keeps OFFSET cheap.
LAST_AUDIT_PAGE = 10_000


async def audit_trail(viewer: Viewer, page: int = 1) -> AuditTrailView:
    """A page of the events this viewer may see, newest first, in one query. Pages are
    counted in the events the viewer sees, never by sequence number: a cursor by sequence
    would tell, by its jumps, how many events the viewer may not see."""
    page = min(max(page, 1), LAST_AUDIT_PAGE)
    rows = (
        await AuditEvent.select(
            AuditEvent.sequence,
            AuditEvent.occurred_at,
            AuditEvent.actor_label,
            AuditEvent.action,
            AuditEvent.entity_type,
            AuditEvent.entity_id,
            AuditEvent.summary,
        )
        .where(scopes.audit_events(viewer))
        .order_by(AuditEvent.sequence, ascending=False)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
        .limit(AUDIT_PAGE_SIZE + 1)
    )
    more = len(rows) > AUDIT_PAGE_SIZE and page < LAST_AUDIT_PAGE
    return AuditTrailView(
        # Where a person named in an event was erased, the redacted words are shown.
        events=msgspec.convert(await as_shown(rows[:AUDIT_PAGE_SIZE]), list[AuditEventView]),
        page=page,
        older_page=page + 1 if more else None,
    )
