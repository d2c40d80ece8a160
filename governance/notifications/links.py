"""The signed links every reminder and digest carries, made and read back in one place: a
person's email choices (no sign-in needed) and one-click unsubscribe from one category.

A link is the authority for what it does: whoever holds it may see and change that person's
email choices, or turn that one category off, and nothing else.
"""

from __future__ import annotations

from governance.core.signing import EMAIL_PREFERENCES_PURPOSE, email_preferences_url, sign, unsign
from governance.core.urls import absolute_url
from governance.notifications.schemas import CATEGORIES, DIGEST

# Signed links in email stay valid this long; a newer email always carries a fresh one.
LINK_MAX_AGE_SECONDS = 365 * 24 * 3600
UNSUBSCRIBE_PURPOSE = "unsubscribe"
PREFERENCES_PURPOSE = EMAIL_PREFERENCES_PURPOSE


def preferences_token(user_id: int) -> str:
    return sign(PREFERENCES_PURPOSE, user_id)


def preferences_url(user_id: int) -> str:
    """The signed address of this person's email choices."""
    return email_preferences_url(user_id)


def user_of_preferences_token(token: str) -> int | None:
    """Whose email choices this link opens; None for an altered, foreign or expired link."""
    payload = unsign(PREFERENCES_PURPOSE, token, LINK_MAX_AGE_SECONDS)
    return payload if isinstance(payload, int) and not isinstance(payload, bool) else None


def unsubscribe_token(user_id: int, category: str) -> str:
    return sign(UNSUBSCRIBE_PURPOSE, [user_id, category])


def unsubscribe_url(user_id: int, category: str) -> str:
    """The signed one-click address that turns this category (or the digest) off."""
    token = unsubscribe_token(user_id, category)
    return absolute_url("notifications:unsubscribe", unsubscribe_token=token)


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(user id, category) of an unsubscribe link; None for an altered, foreign or expired
    link, or a category that no longer exists."""
    payload = unsign(UNSUBSCRIBE_PURPOSE, token, LINK_MAX_AGE_SECONDS)
    if (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], int)
        and (payload[1] in CATEGORIES or payload[1] == DIGEST)
    ):
        return int(payload[0]), str(payload[1])
    return None
