"""Every email carries a signed link to the recipient's email choices."""

from __future__ import annotations

import dataclasses
import json

from governance.accounts.schemas import Invitation
from governance.accounts.services import invite_user
from governance.core.email import render_email
from governance.core.tables import OutboundEmail
from governance.reports import services as reports
from governance.reports.schemas import ReportDraft
from tests.factories import viewer_for


async def _rendered_rows() -> list[tuple[str, str, str]]:
    rendered = []
    for row in await OutboundEmail.select():
        context = json.loads(row["context"]) if isinstance(row["context"], str) else row["context"]
        email = render_email(row["template"], context)
        rendered.append((row["template"], email.text, email.html))
    return rendered


async def test_invitations_and_report_notices_link_to_the_recipients_email_choices(cast):
    chair = await viewer_for(cast.chair)
    administrator = dataclasses.replace(chair.user, is_admin=True)
    await invite_user(Invitation(email="new@example.org", display_name="New Person"), administrator)
    report_id = await reports.create_report(
        cast.slug,
        ReportDraft(
            kind="recommendation",
            period="",
            title="Quiet rooms",
            body="We need them.",
            route="both",
        ),
        chair,
    )
    await reports.submit_report(report_id, chair)
    rows = await _rendered_rows()
    assert {template for template, _, _ in rows} == {"invitation", "report_delivered"}
    for template, text, html in rows:
        assert "/email/preferences/" in text, template
        assert "/email/preferences/" in html, template
