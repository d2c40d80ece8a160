"""Reads of accounts, returning views: the administrators' list and page of an account, a
person's own profile, and the account a set-password link is for."""

from __future__ import annotations

import hashlib
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
)
from governance.accounts.tables import User
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
        events=msgspec.convert(rows[:AUDIT_PAGE_SIZE], list[AuditEventView]),
        page=page,
        older_page=page + 1 if more else None,
    )
