"""Jobs of the notifications domain. Each asks the database what is due; each is idempotent."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from email.message import EmailMessage

from governance.core.email import (
    DeliveryReport,
    MailTransport,
    deliver_outbox,
    transport_from_settings,
)
from governance.core.tables import OutboundEmail
from governance.notifications.digests import DigestReport, run_digests
from governance.notifications.reminders import run_reminder_sweep
from governance.notifications.services import QueueReport
from governance.settings import get_settings

# Templates whose context may carry an iCalendar invitation to attach.
ATTACHING_TEMPLATES = ("meeting_reminder",)
_ROW_ID = re.compile(r"^<(\d+)\.")


@dataclass
class CalendarAttachingTransport:
    """Attaches `context["ics"]` as a text/calendar part before handing a message on.

    The outbox builds messages from a row's templates only; until it attaches calendar
    files itself, this adds them for the templates that carry one, finding the row by the
    id at the start of its Message-ID. A message that already has one is left alone.
    """

    inner: MailTransport

    async def send(self, message: EmailMessage) -> None:
        if not _has_calendar(message):
            await _attach_calendar(message)
        await self.inner.send(message)


def _has_calendar(message: EmailMessage) -> bool:
    return any(part.get_content_type() == "text/calendar" for part in message.walk())


async def _attach_calendar(message: EmailMessage) -> None:
    match = _ROW_ID.match(str(message.get("Message-ID", "")))
    if not match:
        return
    row = (
        await OutboundEmail.select(OutboundEmail.context)
        .where(
            (OutboundEmail.id == int(match.group(1)))
            & OutboundEmail.template.is_in(list(ATTACHING_TEMPLATES))
        )
        .first()
    )
    if row is None:
        return
    context = row["context"]
    if isinstance(context, str | bytes):
        context = json.loads(context or "{}")
    ics = context.get("ics") if isinstance(context, dict) else None
    if ics:
        message.add_attachment(
            str(ics).encode(),
            maintype="text",
            subtype="calendar",
            filename=str(context.get("ics_filename") or "invitation.ics"),
            params={"method": "PUBLISH"},
        )


async def deliver_outbox_job() -> DeliveryReport:
    """Sends every queued email that is due, through SMTP or to .eml files."""
    settings = get_settings()
    transport = transport_from_settings(settings.smtp_url, settings.mail_dir)
    return await deliver_outbox(CalendarAttachingTransport(transport), settings.mail_from)


async def reminder_sweep_job() -> QueueReport:
    """Queues every reminder that has fallen due and was not sent before."""
    return await run_reminder_sweep()


async def digest_job() -> DigestReport:
    """Queues the digest of each user whose 07:00 local time has come on their digest day."""
    return await run_digests()
