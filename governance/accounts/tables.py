"""People, their sign-in sessions, API tokens and sign-in attempts."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class User(Table, tablename="app_user"):
    id = Serial(primary_key=True)
    # Stored lower-cased, which makes the unique index case-insensitive.
    email = Varchar(length=320, unique=True, index=True)
    display_name = Varchar(length=200)
    # Empty until an invitation is accepted.
    password_hash = Varchar(length=255, default="")
    is_active = Boolean(default=True)
    is_admin = Boolean(default=False)
    is_director = Boolean(default=False)
    is_board = Boolean(default=False)
    timezone = Varchar(length=64, default="Europe/London")
    digest_frequency = Varchar(length=10, default="weekly")
    digest_weekday = Varchar(length=10, default="monday")
    notification_categories = JSON(default=[])
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)
    # Two-factor sign-in (RFC 6238): the shared secret once enrolled, "" otherwise; the last
    # time step whose code was accepted, so that no code is accepted twice.
    totp_secret = Varchar(length=64, default="", secret=True)
    totp_last_step = Integer(default=0)
    totp_enabled_at = Timestamptz(null=True, default=None)


class UserSession(Table, tablename="user_session"):
    """A server-side sign-in session; the cookie holds a token whose SHA-256 is the key."""

    id = Varchar(length=64, primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    ip_address = Varchar(length=64, default="")
    user_agent = Varchar(length=300, default="")
    # A refused form kept for the next page view (signed, minutes old at most; see
    # sessions.keep_refused_form): what was typed and each field's error, so the page can
    # be shown again at its own address after the POST is answered with a redirect.
    refused_form = Text(default="")


class ApiToken(Table, tablename="api_token"):
    id = Serial(primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    label = Varchar(length=100, default="")
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    # None: a token made before tokens expired, which never does.
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    # A read-only token is refused every unsafe method (POST, PUT, PATCH, DELETE).
    read_only = Boolean(default=False)


class RecoveryCode(Table, tablename="recovery_code"):
    """Single-use codes that stand in for a lost authenticator; only their SHA-256 is kept
    (they are random and long, so a slow hash adds nothing)."""

    id = Serial(primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    code_hash = Varchar(length=64, index=True)
    used_at = Timestamptz(null=True, default=None)


class LoginAttempt(Table, tablename="login_attempt"):
    """Failed sign-ins, counted per account-and-address pair and per address to throttle
    guessing; and sign-ins under way (`pending`), until their password has been checked."""

    id = Serial(primary_key=True)
    email = Varchar(length=320, index=True)
    ip_address = Varchar(length=64, index=True)
    attempted_at = Timestamptz(index=True)
    pending = Boolean(default=False)
