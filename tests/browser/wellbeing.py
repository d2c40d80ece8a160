"""The people and the report that tests of the Wellbeing group's forms start from."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import Locator, Page

from governance.core.clock import organisation_today
from governance.reports import services as reports
from governance.reports.schemas import ReportDraft
from tests.browser.conftest import sign_in_through_form
from tests.factories import PASSWORD, make_group, make_membership, make_user, viewer_for

SLUG = "wellbeing"
CHAIR = "chair@example.org"
DIRECTOR = "director@example.org"


async def chair_and_director() -> tuple[int, int]:
    """The Wellbeing group with its chair (for 90 days), and the Director."""
    group_id = await make_group(slug=SLUG, name="Working Group on Wellbeing")
    chair = await make_user(CHAIR, "Wren Okafor")
    await make_membership(chair, group_id, "chair", organisation_today() - dt.timedelta(days=90))
    director = await make_user(DIRECTOR, "Dana Mensah", director=True)
    return chair, director


async def director_declining_a_recommendation(page: Page, live_server: str) -> tuple[str, Locator]:
    """The Director, signed in on a submitted recommendation, with its response form filled
    in as far as "declined" and a first action: the report's address and the form."""
    chair, _ = await chair_and_director()
    report_id = await reports.create_report(
        SLUG,
        ReportDraft(kind="recommendation", title="Quiet rooms", body="Every floor needs one."),
        await viewer_for(chair),
    )
    await reports.submit_report(report_id, await viewer_for(chair))
    await sign_in_through_form(page, live_server, DIRECTOR, PASSWORD)
    report_url = f"{live_server}/reports/{report_id}"
    await page.goto(report_url)
    form = page.locator("#line-director form").last
    await form.get_by_label("Response", exact=True).select_option("declined")
    await form.get_by_label("Action 1").fill("Survey the floors")
    return report_url, form
