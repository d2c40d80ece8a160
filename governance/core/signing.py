"""Signed, expiring tokens for links in email (set a password, unsubscribe, preferences)."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer

from governance.settings import get_settings


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=f"governance:{purpose}")


def sign(purpose: str, payload: Any) -> str:
    return _serializer(purpose).dumps(payload)


def unsign(purpose: str, token: str, max_age_seconds: int) -> Any | None:
    """The payload, or None when the token was altered, is for another purpose or has expired."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age_seconds)
    except BadData:
        return None


def unsign_id_pair(purpose: str, token: str, max_age_seconds: int) -> tuple[int, int] | None:
    """The two ids a link was signed with (a record and a person, say), or None for an
    altered, foreign or expired token, or one that does not hold exactly two ids."""
    payload = unsign(purpose, token, max_age_seconds)
    if (
        isinstance(payload, list)
        and len(payload) == 2
        and all(isinstance(part, int) and not isinstance(part, bool) for part in payload)
    ):
        return int(payload[0]), int(payload[1])
    return None


EMAIL_PREFERENCES_PURPOSE = "email-preferences"


def email_preferences_url(user_id: int) -> str:
    """The signed link, in every email, to that person's email choices (no sign-in needed)."""
    from governance.core.urls import absolute_url  # urls reads the app, which reads this

    token = sign(EMAIL_PREFERENCES_PURPOSE, user_id)
    return absolute_url("notifications:preferences-by-link", preferences_token=token)
