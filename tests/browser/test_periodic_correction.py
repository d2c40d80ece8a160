"""Issue 10 in a real browser: a chair submits the periodic report of the last quarter that
ended; a second report for that quarter is refused beside its period, with the way to
correct it; the correction is written from the report's page as a follow-up of it."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import Page, expect

from governance.core.clock import organisation_today, utcnow
from governance.groups.tables import ReportingLineSettings, WorkingGroup
from governance.reports import schedule
from tests.browser.conftest import sign_in_through_form
from tests.factories import PASSWORD, make_group, make_membership, make_user


async def _submit(page: Page, button: str) -> None:
    async with page.expect_navigation():
        await page.get_by_role("button", name=button).click()


async def _confirm(page: Page, button: str) -> None:
    """An irreversible step: its button opens a dialog that asks first; going ahead there
    sends the form."""
    await page.get_by_role("button", name=button).click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    async with page.expect_navigation():
        await dialog.get_by_role("button", name=button).click()


async def _draft(page: Page, live_server: str, period: str, title: str) -> None:
    await page.goto(f"{live_server}/groups/ndi/reports")
    await page.get_by_role("link", name="Draft a report").click()
    await page.get_by_label("Kind").select_option("periodic")
    await page.get_by_label("Period (periodic reports)").fill(period)
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Report", exact=True).fill("Meetings held; survey work continued.")
    await _submit(page, "Save draft")


async def test_one_report_per_period_and_a_correction_follows_it_up(
    browser_page: Page, live_server: str
):
    page = browser_page
    group_id = await make_group(slug="ndi", name="Working Group on Non-Discrimination")
    year_ago = utcnow() - dt.timedelta(days=365)
    await WorkingGroup.update({WorkingGroup.created_at: year_ago}).where(
        WorkingGroup.id == group_id
    )
    await ReportingLineSettings.update({ReportingLineSettings.made_at: year_ago}).where(
        ReportingLineSettings.line.group == group_id
    )
    today = organisation_today()
    chair = await make_user("chair@example.org", "Nia Castillo")
    await make_membership(chair, group_id, "chair", today - dt.timedelta(days=400))
    current = schedule.period_containing("quarterly", today)
    ended = schedule.period_containing("quarterly", current.starts_on - dt.timedelta(days=1))

    await sign_in_through_form(page, live_server, "chair@example.org", PASSWORD)
    # The quarter under way is refused beside its period.
    await _draft(page, live_server, current.label, "Too early")
    await expect(page.locator("#period-error")).to_contain_text("has not ended yet")

    await _draft(page, live_server, ended.label, f"Report for {ended.label}")
    await expect(page.get_by_role("status")).to_contain_text("Draft saved")
    await _confirm(page, "Submit and deliver")
    await expect(page.get_by_role("status")).to_have_text(
        "Submitted and delivered to both lines. The text is now frozen."
    )
    first_url = page.url
    first_id = first_url.rsplit("/", 1)[1]

    # A second report for the quarter: refused, and told how to correct the first.
    await _draft(page, live_server, ended.label, "Another one")
    await expect(page.locator("#period-error")).to_contain_text(
        f"already been submitted (report {first_id})"
    )
    await expect(page.locator("#period-error")).to_contain_text("A correction is a follow-up")

    # The correction, from the report's page.
    await page.goto(first_url)
    await page.get_by_role("link", name="Write a correction (a follow-up report)").click()
    await expect(page.get_by_label("Kind")).to_have_value("periodic")
    await expect(page.get_by_label("Period (periodic reports)")).to_have_value(ended.label)
    await expect(page.get_by_label("Follows up report number (optional)")).to_have_value(first_id)
    await page.get_by_label("Title").fill(f"Correction to the {ended.label} report")
    await page.get_by_label("Report", exact=True).fill("The survey closed a week later.")
    await _submit(page, "Save draft")
    await _confirm(page, "Submit and deliver")
    await expect(page.get_by_role("status")).to_have_text(
        "Submitted and delivered to both lines. The text is now frozen."
    )
    await expect(page.get_by_text(f"Follows up report {first_id}")).to_be_visible()
