"""Every email the service sends, one function each: who it goes to, what it says (the
context its templates under `templates/email/<name>/` read), its links and its dedupe key.

Services call these inside their own write transaction; the outbox row commits or rolls
back with the change it tells of, and a second call with the same dedupe key does nothing.
No other module queues email. An email never carries text its recipient may not read:
each function takes only what may be said to that recipient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from governance.accounts.policy import Line
from governance.core.email import queue_email
from governance.core.signing import email_preferences_url
from governance.core.urls import absolute_url


@dataclass(frozen=True)
class Recipient:
    """A person an email goes to."""

    user_id: int
    email: str
    display_name: str

    @classmethod
    def of(cls, row: dict[str, Any], id_key: str = "user_id") -> Recipient:
        return cls(int(row[id_key]), str(row["email"]), str(row["display_name"]))


async def _queue(recipient: Recipient, template: str, context: dict[str, Any], key: str) -> bool:
    """Queues one email with the context every email shares (the greeting's name and the
    signed link to the recipient's email choices)."""
    full_context = {
        "display_name": recipient.display_name,
        "preferences_url": email_preferences_url(recipient.user_id),
        **context,
    }
    return await queue_email(recipient.email, template, full_context, dedupe_key=key)


# --- accounts ---------------------------------------------------------------------------


async def invitation(
    recipient: Recipient, *, invited_by: str, link: str, valid_days: int, attempt: int
) -> bool:
    """An invitation to set a password; each resend is a new email (`attempt`)."""
    return await _queue(
        recipient,
        "invitation",
        {"invited_by": invited_by, "link": link, "valid_days": valid_days},
        f"invitation:user:{recipient.user_id}:{attempt}",
    )


async def password_reset(
    recipient: Recipient, *, link: str, valid_hours: int, now: dt.datetime
) -> bool:
    """A password reset link: at most one per account per hour, however often asked for."""
    return await _queue(
        recipient,
        "password_reset",
        {"link": link, "valid_hours": valid_hours},
        f"password-reset:user:{recipient.user_id}:{now:%Y-%m-%dT%H}",
    )


# --- meetings ---------------------------------------------------------------------------


async def minutes_circulated(
    recipient: Recipient,
    *,
    minutes_id: int,
    meeting_id: int,
    group_name: str,
    meeting_title: str,
    meeting_date: dt.date,
    circulated_at: dt.datetime,
) -> bool:
    """Minutes circulated for comment. The email names the meeting and links to it; the
    items stay behind sign-in, where each reader sees only the items their role allows."""
    return await _queue(
        recipient,
        "minutes_circulated",
        {
            "group_name": group_name,
            "meeting_title": meeting_title,
            "meeting_date": meeting_date.isoformat(),
            "link": absolute_url("meetings:show", meeting_id=meeting_id),
        },
        f"minutes:{minutes_id}:circulated:{circulated_at:%Y%m%dT%H%M%S}:user:{recipient.user_id}",
    )


# --- reports ----------------------------------------------------------------------------


async def report_delivered(
    recipient: Recipient,
    *,
    delivery_id: int,
    report_id: int,
    group_name: str,
    report_title: str,
    kind: str,
    line: str,
    due_on: dt.date,
) -> bool:
    """A report has reached the recipient's line and awaits its response."""
    return await _queue(
        recipient,
        "report_delivered",
        {
            "group_name": group_name,
            "report_title": report_title,
            "kind": kind,
            "line_name": Line(line).label,
            "due_on": due_on.isoformat(),
            "link": absolute_url("reports:show", report_id=report_id),
        },
        f"delivery:{delivery_id}:delivered:user:{recipient.user_id}",
    )


async def delivery_responded(
    recipient: Recipient,
    *,
    delivery_id: int,
    report_id: int,
    report_title: str,
    line: str,
    response: str,
) -> bool:
    """A line has answered the recipient's group's report."""
    return await _queue(
        recipient,
        "delivery_responded",
        {
            "report_title": report_title,
            "line_name": Line(line).label,
            "response": response.replace("_", " "),
            "link": absolute_url("reports:show", report_id=report_id),
        },
        f"delivery:{delivery_id}:responded:user:{recipient.user_id}",
    )


# --- transparency -----------------------------------------------------------------------


async def transparency_published(
    recipient: Recipient,
    *,
    report_id: int,
    scope_name: str,
    period: str,
    edition_name: str,
    version: int,
    supersedes_version: int | None,
    sha256: str,
    headline: Sequence[Any],
) -> bool:
    """A transparency report was published (to the Board)."""
    return await _queue(
        recipient,
        "transparency_published",
        {
            "scope_name": scope_name,
            "period": period,
            "edition_name": edition_name,
            "version": version,
            "supersedes_version": supersedes_version,
            "sha256": sha256,
            "headline": list(headline),
            "link": absolute_url("transparency:show", report_id=report_id),
        },
        f"transparency:{report_id}:published:user:{recipient.user_id}",
    )
