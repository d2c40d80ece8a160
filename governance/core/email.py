"""The outbox: queue email inside a change's transaction, render and send it later.

Domain code never talks SMTP. The one module that writes emails calls `queue_email` (one
email) or `queue_emails` (a batch: reminders, digests) inside the transaction of the change
it tells of; the delivery job claims due rows, renders them from `templates/email/<name>/`
and sends them, retrying temporary failures with growing delays and parking permanent ones.

Never twice. A message is sent again only when it certainly was not delivered: the server
refused it, or the connection failed before the end of the message was sent. The one case
SMTP leaves open, the connection lost (or the reply timed out) after the message's final
dot and before the server's reply, is recorded as *uncertain* ("may have been sent"), and
so is a row whose sender died while sending it. An uncertain message is sent again only
when an administrator decides so on the outbox page, or after
`GOVERNANCE_MAIL_UNCERTAIN_RESEND_HOURS`, and always with its first Message-ID, so a
receiving system can recognise the copy. The client waits as long as RFC 5321 §4.5.3.2
says a server may take (10 minutes for the reply to the final dot), so a slow server is
not mistaken for a dead one. Each claim names its claimer (the scheduler's lease holder):
a scheduler taking the lease over from a dead one releases that one's claims at once.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import hashlib
import json
import logging
import os
import socket
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlparse

import aiosmtplib
import jinja2

from governance.core.audit import EventScope
from governance.core.clock import utcnow
from governance.core.db import write_transaction
from governance.core.isolation import SkippedItems
from governance.core.tables import OutboundEmail
from governance.core.templating import TEMPLATE_DIRECTORY, add_template_helpers
from governance.settings import get_settings

logger = logging.getLogger(__name__)

MAX_TEMPORARY_ATTEMPTS = 20
# Longer than one message can take with the RFC's timeouts (5 + 5 + 5 + 2 + 10 minutes),
# so a live sender's claim never runs out mid-send; a dead sender's is released by the
# scheduler that takes its lease over, without waiting for this.
CLAIM_SECONDS = 1800
STATUS_QUEUED = "queued"
STATUS_SENT = "sent"
STATUS_PARKED = "parked"
# The server may have stored it: sent again only by an administrator's decision or after
# the configured delay.
STATUS_UNCERTAIN = "uncertain"

# Who claims outbox rows in this context: the scheduler sets its lease holder's id while it
# runs a job; `governance jobs run` and tests claim as this process.
OUTBOX_CLAIMANT: ContextVar[str] = ContextVar(
    "outbox_claimant", default=f"{socket.gethostname()}:{os.getpid()}"
)


@dataclass(frozen=True)
class OutgoingEmail:
    """One row for the outbox: to whom, which template, what it reads, and its dedupe key."""

    recipient: str
    template: str
    context: Mapping[str, Any]
    dedupe_key: str
    # Who may see the row in the outbox list: the group and visibility of what it tells of.
    scope: EventScope | None = None


# Keys looked up, or rows inserted, in one statement.
CHUNK = 500


async def queue_email(
    recipient: str,
    template: str,
    context: Mapping[str, Any],
    dedupe_key: str,
    scope: EventScope | None = None,
) -> bool:
    """Queues one email; a second call with the same dedupe key does nothing.

    Returns whether a row was added. The caller's transaction decides whether it is kept.
    """
    added = await queue_emails([OutgoingEmail(recipient, template, context, dedupe_key, scope)])
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
            group_id=outgoing.scope.group_id if outgoing.scope else None,
            visibility=outgoing.scope.visibility if outgoing.scope else None,
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
    context = {"organisation_name": get_settings().org_name, **context}
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
            # An invitation, a change or a cancellation (iTIP: REQUEST, CANCEL) tells the
            # client to update the event of that UID; a plain calendar file is PUBLISH.
            params={"method": str(row["context"].get("ics_method") or "PUBLISH")},
        )
    return message


class PermanentFailure(Exception):
    """The message cannot be delivered as it is; retrying will not help."""


class MaybeSent(Exception):
    """The whole message went to the server, and then the connection was lost or its reply
    did not come in time: the server may have stored it. Sending it again could deliver it
    twice."""


class MailTransport(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpTimeouts:
    """How long the client waits for each reply, in seconds: RFC 5321 §4.5.3.2's minimums.
    A shorter wait for the reply to the final dot than the server may take is how a slow
    server's message was sent twice."""

    greeting: float = 5 * 60  # the 220 greeting (also EHLO, STARTTLS, AUTH)
    mail: float = 5 * 60  # MAIL FROM
    rcpt: float = 5 * 60  # RCPT TO
    data_initiation: float = 2 * 60  # DATA, until its 354
    data_termination: float = 10 * 60  # after the final ".", until the 250


RFC_5321_TIMEOUTS = SmtpTimeouts()


def _data_lines(raw: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, leading dots doubled, final dot."""
    text = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if not text.endswith(b"\r\n"):
        text += b"\r\n"
    stuffed = b"\r\n".join(
        b"." + line if line.startswith(b".") else line for line in text.split(b"\r\n")
    )
    return stuffed + b".\r\n"


async def _transmit(client: aiosmtplib.SMTP, raw: bytes, timeouts: SmtpTimeouts) -> None:
    """DATA, the message and its final dot, and the server's verdict. A failure before the
    final dot is written is an ordinary (retryable) one; after it, `MaybeSent`."""
    start = await client.execute_command(b"DATA", timeout=timeouts.data_initiation)
    if start.code != 354:
        raise aiosmtplib.SMTPDataError(start.code, start.message)
    protocol = client.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost before the message")
    protocol.write(_data_lines(raw))
    # No await between the write and read_response: the reply cannot arrive unheard.
    try:
        reply = await protocol.read_response(timeout=timeouts.data_termination)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as error:
        client.close()
        raise MaybeSent(f"no reply to the end of the message: {error}") from error
    if reply.code != 250:
        raise aiosmtplib.SMTPDataError(reply.code, reply.message)


@dataclass
class SmtpTransport:
    """Sends through the server named by GOVERNANCE_SMTP_URL (smtp://, smtps://, ?starttls=true)."""

    url: str
    timeouts: SmtpTimeouts = RFC_5321_TIMEOUTS

    def _client(self) -> aiosmtplib.SMTP:
        parsed = urlparse(self.url)
        use_tls = parsed.scheme == "smtps"
        start_tls = parse_qs(parsed.query).get("starttls", ["false"])[0].lower() == "true"
        return aiosmtplib.SMTP(
            hostname=parsed.hostname or "localhost",
            port=parsed.port or (465 if use_tls else 25),
            username=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            use_tls=use_tls,
            start_tls=start_tls if start_tls else False,
            timeout=self.timeouts.greeting,
        )

    async def send(self, message: EmailMessage) -> None:
        # Flattened here with our own policy: aiosmtplib's would fold long headers again.
        raw = message.as_bytes(policy=MESSAGE_POLICY.clone(linesep="\r\n"))
        sender = email.utils.parseaddr(str(message["From"]))[1]
        recipients = [address for _, address in email.utils.getaddresses([str(message["To"])])]
        client = self._client()
        try:
            await client.connect()
            await client.mail(sender, timeout=self.timeouts.mail)
            for recipient in recipients:
                await client.rcpt(recipient, timeout=self.timeouts.rcpt)
            await _transmit(client, raw, self.timeouts)
        except aiosmtplib.SMTPResponseException as error:
            if 500 <= error.code < 600:
                raise PermanentFailure(f"{error.code} {error.message}") from error
            raise
        finally:
            await _say_goodbye(client)


async def _say_goodbye(client: aiosmtplib.SMTP) -> None:
    """QUIT if the connection is still up; the message's fate is already known."""
    if client.is_connected:
        try:
            await client.quit(timeout=10)
        except Exception:
            client.close()


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
    # The server may have stored these: not sent again without a decision or the delay.
    uncertain: int = 0
    # Uncertain messages queued again because their delay had passed.
    resent_after_delay: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.retrying} to retry, {self.parked} parked, "
            f"{self.uncertain} may have been sent, {self.resent_after_delay} queued again "
            f"after their delay; {self.failures_summary()}"
        )


UNCERTAIN_AFTER_A_STOP = "The sender stopped while sending it: it may have been sent."


def _held_by(claimant: str) -> Any:
    return (OutboundEmail.status == STATUS_QUEUED) & (OutboundEmail.claimed_by == claimant)


async def release_claims_of(claimant: str) -> tuple[int, int]:
    """A dead claimer's rows, as the scheduler that took its lease over finds them, inside
    that write transaction: a row it was sending may have been sent (uncertain); the rest
    are free for the next delivery run at once. Returns (released, uncertain)."""
    now = utcnow()
    uncertain = await (
        OutboundEmail.update(
            {
                OutboundEmail.status: STATUS_UNCERTAIN,
                OutboundEmail.last_error: UNCERTAIN_AFTER_A_STOP,
                OutboundEmail.next_attempt_at: now,
                OutboundEmail.claimed_until: None,
                OutboundEmail.claimed_by: "",
            }
        )
        .where(_held_by(claimant) & OutboundEmail.sending_since.is_not_null())
        .returning(OutboundEmail.id)
    )
    released = await (
        OutboundEmail.update({OutboundEmail.claimed_until: None, OutboundEmail.claimed_by: ""})
        .where(_held_by(claimant))
        .returning(OutboundEmail.id)
    )
    if released or uncertain:
        logger.warning(
            "Outbox claims of %s released: %d queued again, %d may have been sent (%s)",
            claimant,
            len(released),
            len(uncertain),
            ", ".join(str(row["id"]) for row in uncertain) or "none",
        )
    return len(released), len(uncertain)


async def _settle(
    now: dt.datetime, resend_after: dt.timedelta | None, report: DeliveryReport
) -> None:
    """Before claiming: a row whose claim ran out while it was being sent may have been
    sent (uncertain); an uncertain row whose delay has passed is queued again."""
    async with write_transaction():
        await OutboundEmail.update(
            {
                OutboundEmail.status: STATUS_UNCERTAIN,
                OutboundEmail.last_error: UNCERTAIN_AFTER_A_STOP,
                OutboundEmail.next_attempt_at: now,
                OutboundEmail.claimed_until: None,
                OutboundEmail.claimed_by: "",
            }
        ).where(
            (OutboundEmail.status == STATUS_QUEUED)
            & OutboundEmail.sending_since.is_not_null()
            & (OutboundEmail.claimed_until < now)
        )
        if resend_after is None:
            return
        # An uncertain row's next_attempt_at is when it became uncertain.
        requeued = await (
            OutboundEmail.update(
                {
                    OutboundEmail.status: STATUS_QUEUED,
                    OutboundEmail.next_attempt_at: now,
                    OutboundEmail.sending_since: None,
                }
            )
            .where(
                (OutboundEmail.status == STATUS_UNCERTAIN)
                & (OutboundEmail.next_attempt_at <= now - resend_after)
            )
            .returning(OutboundEmail.id)
        )
    report.resent_after_delay += len(requeued)
    for row in requeued:
        logger.warning("Email %s may have been sent; sent again after its delay", row["id"])


async def _claim_due(now: dt.datetime, batch_size: int, claimant: str) -> list[dict[str, Any]]:
    claim_condition = (
        (OutboundEmail.status == STATUS_QUEUED)
        & (OutboundEmail.next_attempt_at <= now)
        & OutboundEmail.sending_since.is_null()
        & (OutboundEmail.claimed_until.is_null() | (OutboundEmail.claimed_until < now))
    )
    async with write_transaction():
        due_ids = [
            row["id"]
            for row in await OutboundEmail.select(OutboundEmail.id)
            .where(claim_condition)
            .order_by(OutboundEmail.next_attempt_at, OutboundEmail.id)
            .limit(batch_size)
        ]
        if not due_ids:
            return []
        # The claim condition is checked again by the UPDATE, so that of two processes
        # racing for the same rows only one gets each row.
        claimed = await (
            OutboundEmail.update(
                {
                    OutboundEmail.claimed_until: now + dt.timedelta(seconds=CLAIM_SECONDS),
                    OutboundEmail.claimed_by: claimant,
                }
            )
            .where(OutboundEmail.id.is_in(due_ids) & claim_condition)
            .returning(*OutboundEmail.all_columns())
        )
    # UPDATE ... RETURNING gives rows in no particular order (PostgreSQL returns them as it
    # finds them): messages go in the order they were queued.
    position = {email_id: index for index, email_id in enumerate(due_ids)}
    return sorted(claimed, key=lambda claimed_row: position[claimed_row["id"]])


async def deliver_outbox(
    transport: MailTransport,
    mail_from: str,
    batch_size: int = 50,
    *,
    resend_uncertain_after: dt.timedelta | None = None,
) -> DeliveryReport:
    """Sends every due message once. Safe to run in several processes at once. Uncertain
    messages are queued again after `resend_uncertain_after` (None: never by themselves)."""
    report = DeliveryReport()
    claimant = OUTBOX_CLAIMANT.get()
    await _settle(utcnow(), resend_uncertain_after, report)
    while True:
        now = utcnow()
        claimed = await _claim_due(now, batch_size, claimant)
        if not claimed:
            return report
        for row in claimed:
            with report.skipping(f"email {row['id']}"):
                # Each row's claim is renewed, and its send marked as begun, just before
                # it is sent; a row whose claim is no longer ours is left to its holder.
                if await _begin_send(row):
                    await _deliver_one(row, transport, mail_from, report)
        if len(claimed) < batch_size:
            return report


async def _begin_send(row: dict[str, Any]) -> bool:
    now = utcnow()
    renewed_until = now + dt.timedelta(seconds=CLAIM_SECONDS)
    renewed = (
        await OutboundEmail.update(
            {OutboundEmail.claimed_until: renewed_until, OutboundEmail.sending_since: now}
        )
        .where(
            (OutboundEmail.id == row["id"])
            & (OutboundEmail.status == STATUS_QUEUED)
            & (OutboundEmail.claimed_by == row["claimed_by"])
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
    except MaybeSent as error:
        await _finish(
            row["id"],
            status=STATUS_UNCERTAIN,
            attempts=attempts,
            last_error=f"May have been sent: {error}",
            next_attempt_at=utcnow(),
            message_id=str(message["Message-ID"]),
        )
        report.uncertain += 1
        report.errors.append(f"{row['recipient']}: may have been sent: {error}")
        logger.error("Email %s to %s may have been sent: %s", row["id"], row["recipient"], error)
        return
    except PermanentFailure as error:
        await _finish(row["id"], status=STATUS_PARKED, attempts=attempts, last_error=str(error))
        report.parked += 1
        report.errors.append(f"{row['recipient']}: {error}")
        logger.error("Parked email %s to %s: %s", row["id"], row["recipient"], error)
        return
    except Exception as error:
        # Anything else failed before the end of the message was sent: retry.
        await _retry_later(row, attempts, error, report)
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


async def _retry_later(
    row: dict[str, Any], attempts: int, error: Exception, report: DeliveryReport
) -> None:
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


async def _finish(email_id: int, **values: Any) -> None:
    columns = {getattr(OutboundEmail, name): value for name, value in values.items()}
    columns[OutboundEmail.claimed_until] = None
    columns[OutboundEmail.claimed_by] = ""
    columns[OutboundEmail.sending_since] = None
    await OutboundEmail.update(columns).where(OutboundEmail.id == email_id)


async def _requeue(
    email_id: int, from_status: str, *, reset_attempts: bool, visible: Any = None
) -> bool:
    """Queues a message again from `from_status`. `visible` narrows the messages that may
    be touched to those the admin may see listed (a condition on OutboundEmail), in the same
    statement, so that a message they may not see costs what a missing one does."""
    values: dict[Any, Any] = {
        OutboundEmail.status: STATUS_QUEUED,
        OutboundEmail.next_attempt_at: utcnow(),
        OutboundEmail.claimed_until: None,
        OutboundEmail.claimed_by: "",
        OutboundEmail.sending_since: None,
    }
    if reset_attempts:
        values[OutboundEmail.attempts] = 0
    updated = (
        await OutboundEmail.update(values)
        .where(_one_email(email_id, from_status, visible))
        .returning(OutboundEmail.id)
    )
    return bool(updated)


def _one_email(email_id: int, status: str, visible: Any) -> Any:
    condition = (OutboundEmail.id == email_id) & (OutboundEmail.status == status)
    return condition if visible is None else condition & visible


async def retry_parked(email_id: int, visible: Any = None) -> bool:
    """Puts a parked message back in the queue, as an admin asks after fixing its cause."""
    return await _requeue(email_id, STATUS_PARKED, reset_attempts=True, visible=visible)


async def resend_uncertain(email_id: int, visible: Any = None) -> bool:
    """Sends a message that may have been sent once more (same Message-ID), as an admin
    decides after finding that it did not arrive."""
    return await _requeue(email_id, STATUS_UNCERTAIN, reset_attempts=False, visible=visible)


async def settle_uncertain_as_sent(email_id: int, visible: Any = None) -> bool:
    """Records a message that may have been sent as sent, as an admin decides after
    finding that it arrived: it is never sent again."""
    updated = (
        await OutboundEmail.update(
            {
                OutboundEmail.status: STATUS_SENT,
                OutboundEmail.sent_at: utcnow(),
                OutboundEmail.last_error: "Recorded as sent by an administrator.",
            }
        )
        .where(_one_email(email_id, STATUS_UNCERTAIN, visible))
        .returning(OutboundEmail.id)
    )
    return bool(updated)


async def email_scope(email_id: int) -> EventScope | None:
    """The group and visibility of what a message tells of; None if it tells of none."""
    row = (
        await OutboundEmail.select(OutboundEmail.group_id, OutboundEmail.visibility)
        .where(OutboundEmail.id == email_id)
        .first()
    )
    if row is None or not row["visibility"]:
        return None
    return EventScope(row["group_id"], row["visibility"])


def transport_from_settings(smtp_url: str | None, mail_dir: Path) -> MailTransport:
    return SmtpTransport(smtp_url) if smtp_url else FileTransport(mail_dir)
