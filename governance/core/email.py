"""The outbox: queue email inside a change's transaction, render and send it later.

Domain code never talks SMTP. The one module that writes emails calls `queue_email` (one
email) or `queue_emails` (a batch: reminders, digests) inside the transaction of the change
it tells of; the delivery job claims due rows, renders them from `templates/email/<name>/`
and sends them, retrying temporary failures with growing delays and parking permanent ones.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlparse

import aiosmtplib
import jinja2

from governance.core.clock import utcnow
from governance.core.db import write_transaction
from governance.core.isolation import SkippedItems
from governance.core.tables import OutboundEmail
from governance.core.templating import TEMPLATE_DIRECTORY, add_template_helpers

logger = logging.getLogger(__name__)

MAX_TEMPORARY_ATTEMPTS = 20
CLAIM_SECONDS = 300
STATUS_QUEUED = "queued"
STATUS_SENT = "sent"
STATUS_PARKED = "parked"


@dataclass(frozen=True)
class OutgoingEmail:
    """One row for the outbox: to whom, which template, what it reads, and its dedupe key."""

    recipient: str
    template: str
    context: Mapping[str, Any]
    dedupe_key: str


# Keys looked up, or rows inserted, in one statement.
CHUNK = 500


async def queue_email(
    recipient: str, template: str, context: Mapping[str, Any], dedupe_key: str
) -> bool:
    """Queues one email; a second call with the same dedupe key does nothing.

    Returns whether a row was added. The caller's transaction decides whether it is kept.
    """
    added = await queue_emails([OutgoingEmail(recipient, template, context, dedupe_key)])
    return bool(added)


async def queue_emails(emails: Sequence[OutgoingEmail]) -> set[str]:
    """Queues these emails in one statement; returns the dedupe keys added.

    A key already queued is skipped (ON CONFLICT DO NOTHING), so the same email is never
    queued twice. Call inside a write transaction, at most CHUNK emails at a time.
    """
    if not emails:
        return set()
    now = utcnow()
    rows = [
        OutboundEmail(
            recipient=outgoing.recipient,
            template=outgoing.template,
            context=dict(outgoing.context),
            dedupe_key=outgoing.dedupe_key,
            status=STATUS_QUEUED,
            next_attempt_at=now,
            created_at=now,
        )
        for outgoing in emails
    ]
    inserted = (
        await OutboundEmail.insert(*rows)
        .on_conflict(target=OutboundEmail.dedupe_key, action="DO NOTHING")
        .returning(OutboundEmail.dedupe_key)
    )
    return {row["dedupe_key"] for row in inserted}


async def queued_keys(keys: Sequence[str]) -> set[str]:
    """Which of these dedupe keys are in the outbox already (in any status)."""
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = list(keys[start : start + CHUNK])
        rows = await OutboundEmail.select(OutboundEmail.dedupe_key).where(
            OutboundEmail.dedupe_key.is_in(chunk)
        )
        found.update(row["dedupe_key"] for row in rows)
    return found


# Two environments: the text part must not be HTML-escaped, the HTML part must be.
_text_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIRECTORY / "email"),
    autoescape=False,  # noqa: S701 - plain-text email, never served as HTML
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)
_html_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIRECTORY / "email"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
add_template_helpers(_text_environment)
add_template_helpers(_html_environment)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(template: str, context: Mapping[str, Any]) -> RenderedEmail:
    subject = _text_environment.get_template(f"{template}/subject.txt").render(context)
    return RenderedEmail(
        subject=" ".join(subject.split()),
        text=_text_environment.get_template(f"{template}/body.txt").render(context),
        html=_html_environment.get_template(f"{template}/body.html").render(context),
    )


# Headers are folded only where RFC 5322's hard limit requires: the default 78-character
# limit makes the email package write a long unbroken value (a List-Unsubscribe URL) as
# RFC 2047 encoded words, which mail clients then do not read as an address (RFC 8058).
MESSAGE_POLICY = email.policy.default.clone(max_line_length=998)


def build_message(row: Mapping[str, Any], rendered: RenderedEmail, mail_from: str) -> EmailMessage:
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = mail_from
    message["To"] = row["recipient"]
    message["Subject"] = rendered.subject
    message["Date"] = email.utils.format_datetime(utcnow())
    # Stable across retries, so a receiving server that saw a first attempt can drop a copy.
    domain = email.utils.parseaddr(mail_from)[1].partition("@")[2] or "localhost"
    key_digest = hashlib.sha256(row["dedupe_key"].encode()).hexdigest()[:24]
    message["Message-ID"] = f"<{row['id']}.{key_digest}@{domain}>"
    unsubscribe_url = row["context"].get("unsubscribe_url")
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    calendar = row["context"].get("ics")
    if calendar:
        # A meeting invitation rides along as a calendar file that mail clients offer to add.
        message.add_attachment(
            str(calendar).encode(),
            maintype="text",
            subtype="calendar",
            filename=str(row["context"].get("ics_filename") or "invitation.ics"),
            params={"method": "PUBLISH"},
        )
    return message


class PermanentFailure(Exception):
    """The message cannot be delivered as it is; retrying will not help."""


class MailTransport(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


@dataclass
class SmtpTransport:
    """Sends through the server named by GOVERNANCE_SMTP_URL (smtp://, smtps://, ?starttls=true)."""

    url: str
    timeout: float = 20.0

    async def send(self, message: EmailMessage) -> None:
        parsed = urlparse(self.url)
        query = parse_qs(parsed.query)
        use_tls = parsed.scheme == "smtps"
        start_tls = query.get("starttls", ["false"])[0].lower() == "true"
        # Flattened here with our own policy: aiosmtplib's would fold long headers again.
        raw = message.as_bytes(policy=MESSAGE_POLICY.clone(linesep="\r\n"))
        sender = email.utils.parseaddr(str(message["From"]))[1]
        recipients = [address for _, address in email.utils.getaddresses([str(message["To"])])]
        try:
            await aiosmtplib.send(
                raw,
                sender=sender,
                recipients=recipients,
                hostname=parsed.hostname or "localhost",
                port=parsed.port or (465 if use_tls else 25),
                username=unquote(parsed.username) if parsed.username else None,
                password=unquote(parsed.password) if parsed.password else None,
                use_tls=use_tls,
                start_tls=start_tls if start_tls else False,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refusal.code for refusal in error.recipients]
            if all(500 <= code < 600 for code in codes):
                raise PermanentFailure(str(error)) from error
            raise
        except aiosmtplib.SMTPResponseException as error:
            if 500 <= error.code < 600:
                raise PermanentFailure(f"{error.code} {error.message}") from error
            raise


@dataclass
class FileTransport:
    """With no mail server configured, each message becomes an .eml file in the data folder."""

    directory: Path

    async def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        message_id = str(message["Message-ID"]).strip("<>").replace("/", "_")
        path = self.directory / f"{stamp}-{message_id}.eml"
        # Private from the first byte: the message may hold confidential text.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(message.as_bytes())


def retry_delay(attempts: int) -> dt.timedelta:
    """One minute after the first failure, doubling each time, never more than six hours."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


@dataclass
class DeliveryReport(SkippedItems):
    """One delivery run; `failed` counts rows that broke the job itself (not mail refused
    by the server, which is `retrying` or `parked`)."""

    sent: int = 0
    retrying: int = 0
    parked: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.retrying} to retry, {self.parked} parked; "
            + self.failures_summary()
        )


async def _claim_due(now: dt.datetime, batch_size: int) -> list[dict[str, Any]]:
    claim_condition = (
        (OutboundEmail.status == STATUS_QUEUED)
        & (OutboundEmail.next_attempt_at <= now)
        & (OutboundEmail.claimed_until.is_null() | (OutboundEmail.claimed_until < now))
    )
    async with write_transaction():
        due_ids = [
            row["id"]
            for row in await OutboundEmail.select(OutboundEmail.id)
            .where(claim_condition)
            .order_by(OutboundEmail.next_attempt_at)
            .limit(batch_size)
        ]
        if not due_ids:
            return []
        # The claim condition is checked again by the UPDATE, so that of two processes
        # racing for the same rows only one gets each row.
        return await (
            OutboundEmail.update(
                {OutboundEmail.claimed_until: now + dt.timedelta(seconds=CLAIM_SECONDS)}
            )
            .where(OutboundEmail.id.is_in(due_ids) & claim_condition)
            .returning(*OutboundEmail.all_columns())
        )


async def deliver_outbox(
    transport: MailTransport, mail_from: str, batch_size: int = 50
) -> DeliveryReport:
    """Sends every due message once. Safe to run in several processes at once."""
    report = DeliveryReport()
    while True:
        now = utcnow()
        claimed = await _claim_due(now, batch_size)
        if not claimed:
            return report
        for row in claimed:
            # A batch can outlast its claim when the server is slow; by then another worker
            # may have claimed the rest. Each row's claim is renewed just before it is sent,
            # and a row whose claim is no longer ours is left to whoever holds it.
            with report.skipping(f"email {row['id']}"):
                if await _renew_claim(row):
                    await _deliver_one(row, transport, mail_from, report)
        if len(claimed) < batch_size:
            return report


async def _renew_claim(row: dict[str, Any]) -> bool:
    renewed_until = utcnow() + dt.timedelta(seconds=CLAIM_SECONDS)
    renewed = (
        await OutboundEmail.update({OutboundEmail.claimed_until: renewed_until})
        .where(
            (OutboundEmail.id == row["id"])
            & (OutboundEmail.status == STATUS_QUEUED)
            & (OutboundEmail.claimed_until == row["claimed_until"])
        )
        .returning(OutboundEmail.id)
    )
    if not renewed:
        return False
    row["claimed_until"] = renewed_until
    return True


def _context_of(row: Mapping[str, Any]) -> dict[str, Any]:
    # Piccolo hands JSON columns back as text unless asked to load them.
    context = row["context"]
    if isinstance(context, str | bytes):
        context = json.loads(context or "{}")
    if not isinstance(context, dict):
        raise TypeError(f"email context must be a JSON object, not {type(context).__name__}")
    return context


def _prepare(row: Mapping[str, Any], mail_from: str) -> EmailMessage:
    """The message for a row; any failure here is permanent, since a retry renders the same."""
    try:
        row = {**row, "context": _context_of(row)}
        return build_message(row, render_email(row["template"], row["context"]), mail_from)
    except Exception as error:
        raise PermanentFailure(f"cannot render {row['template']!r}: {error}") from error


async def _deliver_one(
    row: dict[str, Any], transport: MailTransport, mail_from: str, report: DeliveryReport
) -> None:
    attempts = row["attempts"] + 1
    try:
        message = _prepare(row, mail_from)
        await transport.send(message)
    except PermanentFailure as error:
        await _finish(row["id"], status=STATUS_PARKED, attempts=attempts, last_error=str(error))
        report.parked += 1
        report.errors.append(f"{row['recipient']}: {error}")
        logger.error("Parked email %s to %s: %s", row["id"], row["recipient"], error)
        return
    except Exception as error:
        # Anything else (server down, timeout, 4xx, an unexpected error) may pass: retry.
        if attempts >= MAX_TEMPORARY_ATTEMPTS:
            await _finish(row["id"], status=STATUS_PARKED, attempts=attempts, last_error=str(error))
            report.parked += 1
        else:
            await _finish(
                row["id"],
                status=STATUS_QUEUED,
                attempts=attempts,
                last_error=str(error) or type(error).__name__,
                next_attempt_at=utcnow() + retry_delay(attempts),
            )
            report.retrying += 1
        report.errors.append(f"{row['recipient']}: {error}")
        logger.warning("Email %s to %s will be retried: %s", row["id"], row["recipient"], error)
        return
    await _finish(
        row["id"],
        status=STATUS_SENT,
        attempts=attempts,
        last_error="",
        sent_at=utcnow(),
        message_id=str(message["Message-ID"]),
    )
    report.sent += 1


async def _finish(email_id: int, **values: Any) -> None:
    columns = {getattr(OutboundEmail, name): value for name, value in values.items()}
    columns[OutboundEmail.claimed_until] = None
    await OutboundEmail.update(columns).where(OutboundEmail.id == email_id)


async def retry_parked(email_id: int) -> bool:
    """Puts a parked message back in the queue, as an admin asks after fixing its cause."""
    updated = (
        await OutboundEmail.update(
            {
                OutboundEmail.status: STATUS_QUEUED,
                OutboundEmail.attempts: 0,
                OutboundEmail.next_attempt_at: utcnow(),
                OutboundEmail.claimed_until: None,
            }
        )
        .where((OutboundEmail.id == email_id) & (OutboundEmail.status == STATUS_PARKED))
        .returning(OutboundEmail.id)
    )
    return bool(updated)


def transport_from_settings(smtp_url: str | None, mail_dir: Path) -> MailTransport:
    return SmtpTransport(smtp_url) if smtp_url else FileTransport(mail_dir)
