"""Jobs of the notifications domain. Each asks the database what is due; each is idempotent."""

from __future__ import annotations

from governance.core.email import DeliveryReport, deliver_outbox, transport_from_settings
from governance.settings import get_settings


async def deliver_outbox_job() -> DeliveryReport:
    """Sends every queued email that is due, through SMTP or to .eml files."""
    settings = get_settings()
    transport = transport_from_settings(settings.smtp_url, settings.mail_dir)
    return await deliver_outbox(transport, settings.mail_from)
