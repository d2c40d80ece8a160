"""Server-side sign-in sessions kept in the database.

Written here rather than with Litestar's server-side session backend because that backend
keeps one ID for the life of the cookie (it cannot issue a new one at sign-in), has a single
expiry rather than idle and absolute limits, and cannot end every session of one user when
an admin deactivates them. The cookie carries a random token; the table keeps its SHA-256,
so a copy of the database does not hand out live sessions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from piccolo.querystring import QueryString

from governance.accounts.policy import CurrentUser, Viewer, strongest_roles
from governance.accounts.tables import ApiToken, User, UserSession
from governance.core.clock import organisation_today, utcnow
from governance.core.db import get_engine
from governance.core.signing import sign, unsign
from governance.core.tables import AuditChainHead
from governance.groups.tables import Membership
from governance.settings import Settings

# The cookie's name over http://; `__Host-governance_session` when cookies are Secure.
SESSION_COOKIE = "governance_session"
# last_seen_at is written at most this often, so most page views cost no write; for a
# session, never less often than a third of the idle limit (`touch_interval`).
TOUCH_INTERVAL = dt.timedelta(seconds=60)


def touch_interval(settings: Settings) -> dt.timedelta:
    """How long a session's last use may go unrecorded: at most a third of the idle limit,
    so that a session used more often than its idle limit is never ended for idleness."""
    return min(TOUCH_INTERVAL, dt.timedelta(minutes=settings.session_idle_minutes) / 3)


_USER_COLUMNS = (
    User.id,
    User.email,
    User.display_name,
    User.is_admin,
    User.is_director,
    User.is_board,
    User.timezone,
    User.totp_enabled_at,
)
TOKEN_EXPIRED = "This API token has expired. Create a new one from your profile."  # noqa: S105 - a message
TOKEN_REVOKED = "This API token has been revoked."  # noqa: S105 - a message
TOKEN_UNKNOWN = "This API token is not valid."  # noqa: S105 - a message


def _signed_in_user(
    row: Mapping[str, Any], settings: Settings, session_id: str | None = None
) -> CurrentUser:
    """The person behind a session or token, told whether they must still enrol a second
    factor (their role requires one and they have none)."""
    user = CurrentUser.from_row(row, session_id=session_id)
    must_enrol = row["totp_enabled_at"] is None and user.holds_any_of(
        settings.require_second_factor
    )
    return dataclasses.replace(user, must_enrol_second_factor=must_enrol)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(
    user_id: int, ip_address: str, user_agent: str, previous_token: str | None
) -> str:
    """Starts a session under a brand-new ID, ending the one the browser came with."""
    if previous_token:
        await UserSession.delete().where(UserSession.id == token_digest(previous_token))
    token = secrets.token_urlsafe(32)
    now = utcnow()
    await UserSession.insert(
        UserSession(
            id=token_digest(token),
            user=user_id,
            created_at=now,
            last_seen_at=now,
            ip_address=ip_address[:64],
            user_agent=user_agent[:300],
        )
    )
    return token


@dataclasses.dataclass(frozen=True)
class SignedIn:
    """Who a request comes from: the person with the group roles they hold today, and the
    audit chain's length when they were read (`data_version`: every change to governance
    records appends to the chain in its own transaction, so an unchanged figure means
    nothing that a page shows has changed since)."""

    viewer: Viewer
    data_version: int
    # A refused form the session keeps for its next page view, as signed (see
    # `keep_refused_form`); "" when there is none, and always for a token.
    refused_form: str = ""


def _signed_in_sql(credential_table: str, credential_columns: str, key_column: str) -> str:
    """One statement for a session or a token: the credential, its person, each of their
    memberships (one row each; one row with empty membership columns if they have none) and
    the audit chain's length. Written out because Piccolo's select cannot follow the
    memberships back from the person."""
    user_columns = ", ".join(f"u.{column._meta.db_column_name}" for column in _USER_COLUMNS)
    return (
        f"SELECT {credential_columns}, u.is_active, {user_columns}, "
        'm."group" AS membership_group, m.role AS membership_role, '
        "m.starts_on AS membership_starts_on, m.ends_on AS membership_ends_on, "
        f"(SELECT h.sequence FROM {AuditChainHead._meta.tablename} h WHERE h.id = 1)"
        " AS data_version "
        f'FROM {credential_table} c JOIN {User._meta.tablename} u ON u.id = c."user" '
        f'LEFT JOIN {Membership._meta.tablename} m ON m."user" = u.id '
        f"WHERE c.{key_column} = {{}}"
    )


_SESSION_SQL = _signed_in_sql(
    UserSession._meta.tablename, "c.created_at, c.last_seen_at, c.refused_form", "id"
)
_TOKEN_SQL = _signed_in_sql(
    ApiToken._meta.tablename,
    "c.id AS token_id, c.last_used_at, c.expires_at, c.revoked_at, c.read_only",
    "token_hash",
)


async def _signed_in_rows(sql: str, key: str) -> list[dict[str, Any]]:
    rows = await get_engine().run_querystring(QueryString(sql, key, query_type="select"))
    return list(rows or [])


def _roles_today(rows: list[dict[str, Any]]) -> dict[int, str]:
    memberships = [
        {
            "group": row["membership_group"],
            "role": row["membership_role"],
            "starts_on": row["membership_starts_on"],
            "ends_on": row["membership_ends_on"],
        }
        for row in rows
        if row["membership_group"] is not None
    ]
    return strongest_roles(memberships, organisation_today())


def _signed_in(rows: list[dict[str, Any]], user: CurrentUser) -> SignedIn:
    version = rows[0]["data_version"]
    viewer = Viewer(user=user, group_roles=_roles_today(rows))
    return SignedIn(viewer, int(version or 0), str(rows[0].get("refused_form") or ""))


async def resolve_session(token: str, settings: Settings) -> CurrentUser | None:
    """The user behind a session cookie, if the session is live; expired ones are removed."""
    signed_in = await signed_in_by_session(token, settings)
    return signed_in.viewer.user if signed_in else None


async def signed_in_by_session(token: str, settings: Settings) -> SignedIn | None:
    """The person behind a session cookie and their roles, in one query, if the session is
    live; expired ones are removed."""
    session_id = token_digest(token)
    rows = await _signed_in_rows(_SESSION_SQL, session_id)
    if not rows:
        return None
    row = rows[0]
    now = utcnow()
    idle_limit = dt.timedelta(minutes=settings.session_idle_minutes)
    absolute_limit = dt.timedelta(hours=settings.session_absolute_hours)
    if (
        not row["is_active"]
        or now - row["last_seen_at"] > idle_limit
        or now - row["created_at"] > absolute_limit
    ):
        await UserSession.delete().where(UserSession.id == session_id)
        return None
    if now - row["last_seen_at"] > touch_interval(settings):
        await UserSession.update({UserSession.last_seen_at: now}).where(
            UserSession.id == session_id
        )
    return _signed_in(rows, _signed_in_user(row, settings, session_id=session_id))


async def end_session(token: str) -> None:
    await UserSession.delete().where(UserSession.id == token_digest(token))


async def end_all_sessions(user_id: int, keep_session_id: str | None = None) -> None:
    """Ends every session of the person, but the one they are using if it is named."""
    query = UserSession.delete().where(UserSession.user == user_id)
    if keep_session_id is not None:
        query = query.where(UserSession.id != keep_session_id)
    await query


REFUSED_FORM_PURPOSE = "refused-form"
# A refused form is shown by the page view that follows its POST's redirect at once; one
# kept longer than this (the redirect never followed) is stale and never shown.
REFUSED_FORM_SECONDS = 300


async def keep_refused_form(session_id: str, page_path: str, failure: Mapping[str, Any]) -> None:
    """Keeps a refused form (each field's error, what was typed, which form, why) in the
    session, signed and dated, for the next view of the page at `page_path`: the POST is
    answered with a redirect to that page (Post/Redirect/Get), which shows it again."""
    kept = sign(REFUSED_FORM_PURPOSE, {"path": page_path, **failure})
    await UserSession.update({UserSession.refused_form: kept}).where(UserSession.id == session_id)


async def take_refused_form(session_id: str, kept: str, page_path: str) -> dict[str, Any] | None:
    """The refused form a session kept, if it is for this page and fresh; it is shown once,
    so the session forgets it whatever page is viewed next."""
    await UserSession.update({UserSession.refused_form: ""}).where(
        (UserSession.id == session_id) & (UserSession.refused_form == kept)
    )
    failure = unsign(REFUSED_FORM_PURPOSE, kept, REFUSED_FORM_SECONDS)
    if isinstance(failure, dict) and failure.get("path") == page_path:
        return failure
    return None


def session_handle(session_id: str) -> str:
    """A name for a session that the profile page can show and post back: it finds the
    session among its owner's, and is no use to anyone as a cookie."""
    return hashlib.sha256(f"handle:{session_id}".encode()).hexdigest()[:16]


async def resolve_api_token(token: str, settings: Settings) -> tuple[CurrentUser | None, str]:
    """The person behind a bearer token and "", or None and why the token is refused."""
    signed_in, refusal = await signed_in_by_token(token, settings)
    return (signed_in.viewer.user if signed_in else None), refusal


async def signed_in_by_token(token: str, settings: Settings) -> tuple[SignedIn | None, str]:
    """The person behind a bearer token and their roles (one query) and "", or None and
    why the token is refused."""
    rows = await _signed_in_rows(_TOKEN_SQL, token_digest(token))
    row = rows[0] if rows else None
    if row is None or not row["is_active"]:
        return None, TOKEN_UNKNOWN
    now = utcnow()
    if row["revoked_at"] is not None:
        return None, TOKEN_REVOKED
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return None, TOKEN_EXPIRED
    if row["last_used_at"] is None or now - row["last_used_at"] > TOUCH_INTERVAL:
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["token_id"])
    user = dataclasses.replace(_signed_in_user(row, settings), read_only=bool(row["read_only"]))
    return _signed_in(rows, user), ""


async def create_api_token(
    user_id: int, label: str, expires_at: dt.datetime | None, read_only: bool = False
) -> tuple[int, str]:
    """A new token's id and the token itself, which is shown once and never kept."""
    token = "gov_" + secrets.token_urlsafe(32)
    rows = await ApiToken.insert(
        ApiToken(
            user=user_id,
            token_hash=token_digest(token),
            label=label,
            created_at=utcnow(),
            expires_at=expires_at,
            read_only=read_only,
        )
    ).returning(ApiToken.id)
    return int(rows[0]["id"]), token
