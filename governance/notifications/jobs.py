"""Jobs of the notifications domain. Each asks the database what is due; each is idempotent."""

from __future__ import annotations

import datetime as dt

from governance.core.email import DeliveryReport, deliver_outbox, transport_from_settings
from governance.meetings.services import NoticesSent, send_due_notices
from governance.notifications.digests import DigestReport, run_digests
from governance.notifications.emails import QueueReport
from governance.notifications.reminders import run_reminder_sweep
from governance.settings import get_settings


async def deliver_outbox_job() -> DeliveryReport:
    """Sends every queued email that is due, through SMTP or to .eml files."""
    settings = get_settings()
    transport = transport_from_settings(settings.smtp_url, settings.mail_dir)
    hours = settings.mail_uncertain_resend_hours
    return await deliver_outbox(
        transport,
        settings.mail_from,
        resend_uncertain_after=dt.timedelta(hours=hours) if hours else None,
    )


async def reminder_sweep_job() -> QueueReport:
    """Queues every reminder that has fallen due and was not sent before."""
    return await run_reminder_sweep()


async def digest_job() -> DigestReport:
    """Queues the digest of each user whose 07:00 local time has come on their digest day."""
    return await run_digests()


async def meeting_notice_job() -> NoticesSent:
    """Sends the notice of each meeting 7 days ahead whose chair has not sent it, for the
    groups that want it (a group setting, on by default)."""
    return await send_due_notices()
