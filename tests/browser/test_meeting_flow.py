"""Issue 3 in a real browser: a chair records a meeting from scheduling to approved minutes;
a member reads them; the Director cannot see a Board-only item; an anonymous visitor sees
only the public version."""

from __future__ import annotations

import datetime as dt
import re

from playwright.async_api import Page, expect

from governance.core.clock import organisation_today
from tests.browser.conftest import sign_in_through_form, submit_by_button
from tests.factories import PASSWORD, make_group, make_membership, make_user
from tests.helpers import found


async def _sign_out(page: Page) -> None:
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign out").click()


async def _confirm(page: Page, button: str) -> None:
    """An irreversible step: its button opens a dialog that asks first; going ahead there
    sends the form."""
    await page.get_by_role("button", name=button).click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    async with page.expect_navigation():
        await dialog.get_by_role("button", name=button).click()


async def test_chair_records_a_meeting_and_each_reader_sees_what_they_may(
    browser_page: Page, live_server: str, browser
):
    page = browser_page
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    start = organisation_today() - dt.timedelta(days=200)
    chair = await make_user("chair@example.org", "Wren Okafor")
    member = await make_user("member@example.org", "Milo Haddad")
    await make_user("director@example.org", "Dana Mensah", director=True)
    await make_membership(chair, group_id, "chair", start)
    await make_membership(member, group_id, "member", start)

    # The chair schedules a meeting that took place yesterday.
    await sign_in_through_form(page, live_server, "chair@example.org", PASSWORD)
    await page.goto(f"{live_server}/groups/wellbeing/meetings")
    await page.get_by_role("link", name="Schedule a meeting").click()
    yesterday = organisation_today() - dt.timedelta(days=1)
    await page.get_by_label("Title").fill("November meeting")
    await page.get_by_label("Starts").fill(f"{yesterday.isoformat()}T10:00")
    await page.get_by_label("Ends").fill(f"{yesterday.isoformat()}T12:00")
    await page.get_by_label("Place or video link").fill("Room 2")
    await submit_by_button(page, "Schedule meeting")
    await expect(page.locator("h1")).to_have_text("November meeting")
    meeting_url = page.url.split("?")[0]
    meeting_id = int(found(re.search(r"/meetings/(\d+)", meeting_url)).group(1))

    # The agenda: one item of each kind that matters here.
    for title, visibility in (
        ("Wellbeing survey results", "public"),
        ("Workload in research", "internal"),
        ("Conduct of senior management", "board"),
    ):
        await page.get_by_text("Add an agenda item").click()
        await page.get_by_label("Item title").fill(title)
        await page.get_by_label("Who can read it").select_option(visibility)
        await submit_by_button(page, "Add item")
        await expect(page.get_by_role("status")).to_have_text("Agenda item added.")
    await expect(page.locator(".agenda-item h3")).to_have_count(3)

    await _confirm(page, "Mark as held")
    await expect(page.locator(".badge.status-held")).to_have_text("Held")

    # Attendance: both members present, so quorum is met.
    await page.locator(f"#mode_{chair}").select_option("present")
    await page.locator(f"#mode_{member}").select_option("remote")
    await page.get_by_label("Guests (one name per line)").fill("Dr Visiting Expert")
    await submit_by_button(page, "Save attendance")
    await expect(page.locator(".quorum")).to_contain_text("Quorum met.")

    # A decision on the public item.
    await page.get_by_label("On agenda item").select_option(label="1. Wellbeing survey results")
    await page.get_by_label("Decision", exact=True).fill("Publish the survey summary.")
    await page.get_by_label("For", exact=True).fill("2")
    await submit_by_button(page, "Record decision")
    await expect(page.locator(".decision").first).to_contain_text("Publish the survey summary.")

    # The minutes, item by item.
    await page.get_by_role("link", name="Write the minutes").click()
    await page.get_by_label("General summary").fill("Quorate meeting, opened at 10:00.")
    await page.get_by_label(re.compile("Wellbeing survey results")).fill(
        "The survey had a 78% response rate."
    )
    await page.get_by_label(re.compile("Workload in research")).fill(
        "Workload is high in two teams."
    )
    await page.get_by_label(re.compile("Conduct of senior management")).fill(
        "Concerns to be raised with the Board only."
    )
    await submit_by_button(page, "Save draft minutes")
    await expect(page.get_by_role("status")).to_have_text("Draft minutes saved.")

    await submit_by_button(page, "Circulate for comment")
    await expect(page.locator(".badge.minutes-circulated")).to_be_visible()
    await page.get_by_label("Approved", exact=True).select_option("circulation")
    await _confirm(page, "Approve and lock")
    await expect(page.get_by_role("status")).to_have_text("Minutes approved and locked.")
    await expect(page.locator(".badge.minutes-approved")).to_be_visible()
    await _sign_out(page)

    # A member reads everything, minutes included.
    await sign_in_through_form(page, live_server, "member@example.org", PASSWORD)
    await page.goto(meeting_url)
    body = page.locator("main")
    await expect(body).to_contain_text("Conduct of senior management")
    await expect(body).to_contain_text("The survey had a 78% response rate.")
    await expect(body).to_contain_text("Publish the survey summary.")
    await _sign_out(page)

    # The Director reads internal items, but nothing of the Board-only one.
    await sign_in_through_form(page, live_server, "director@example.org", PASSWORD)
    await page.goto(meeting_url)
    await expect(body).to_contain_text("Workload is high in two teams.")
    content = await page.content()
    assert "Conduct of senior management" not in content
    assert "Concerns to be raised with the Board only." not in content
    await _sign_out(page)

    # An anonymous visitor, in a fresh browser context, sees only the public version.
    context = await browser.new_context()
    anonymous = await context.new_page()
    try:
        await anonymous.goto(meeting_url)
        assert "/login" in anonymous.url
        await anonymous.goto(f"{live_server}/public/meetings/{meeting_id}")
        public = anonymous.locator("main")
        await expect(public).to_contain_text("Wellbeing survey results")
        await expect(public).to_contain_text("The survey had a 78% response rate.")
        # The internal item only: the Board-only one is no number the Director may read.
        await expect(public).to_contain_text("1 confidential matter was considered.")
        public_html = await anonymous.content()
        for hidden in ("Workload", "Conduct of senior management", "Concerns to be raised"):
            assert hidden not in public_html
    finally:
        await context.close()
