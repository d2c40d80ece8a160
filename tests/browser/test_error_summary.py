"""Validation in one round (issue 16), in a real browser: a refused form shows every field's
message beside its field and an error summary at the top that links to each field (the
GOV.UK Design System pattern), on the meeting, action, report and response forms; put right
once, the form is accepted. A form refused on the meeting page leaves the meeting page's own
address in the address bar, not the address it was posted to."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import Page, expect

from governance.core.clock import organisation_today, utcnow
from tests.browser.conftest import sign_in_through_form, submit_by_button
from tests.browser.wellbeing import (
    CHAIR,
    SLUG,
    chair_and_director,
    director_declining_a_recommendation,
)
from tests.factories import (
    PASSWORD,
    make_meeting,
)


async def _refused_in_one_round(page: Page, expected: dict[str, str]) -> None:
    """Every field in `expected` (by its element's id) has its message beside it and a link
    to it in the summary at the top, which has the focus; the links lead to the fields."""
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    assert await page.title() and (await page.title()).startswith("Error: ")
    for field_id, message in expected.items():
        await expect(page.locator(f"#{field_id}-error")).to_contain_text(message)
        link = summary.locator(f'a[href="#{field_id}"]')
        await expect(link).to_contain_text(message)
    await expect(summary.get_by_role("link")).to_have_count(len(expected))
    await _every_summary_link_leads_to_a_field(page)
    for field_id in expected:
        await summary.locator(f'a[href="#{field_id}"]').click()
        await expect(page.locator(f"#{field_id}")).to_be_focused()


async def _every_summary_link_leads_to_a_field(page: Page) -> None:
    """Each link of the error summary names exactly one element of the page: a field, or
    a group of them."""
    for href in await page.locator(".error-summary a").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    ):
        assert href.startswith("#"), href
        target = page.locator(f'[id="{href[1:]}"]')
        await expect(target).to_have_count(1)
        tag = await target.evaluate("element => element.tagName")
        # A group of boxes (an action's owners) is a fieldset, the summary's link its legend's.
        assert tag in {"INPUT", "SELECT", "TEXTAREA", "FIELDSET"}, (href, tag)


async def test_the_meeting_form(browser_page: Page, live_server: str) -> None:
    page = browser_page
    await chair_and_director()
    await sign_in_through_form(page, live_server, CHAIR, PASSWORD)
    await page.goto(f"{live_server}/groups/{SLUG}/meetings/new")
    await page.get_by_label("Place or video link").fill("Room 2")
    await submit_by_button(page, "Schedule meeting")
    await _refused_in_one_round(
        page,
        {"title": "Title is required", "starts_at": "required", "ends_at": "required"},
    )
    # What was typed is kept.
    await expect(page.get_by_label("Place or video link")).to_have_value("Room 2")
    day = (organisation_today() + dt.timedelta(days=14)).isoformat()
    await page.get_by_label("Title").fill("December meeting")
    await page.get_by_label("Starts").fill(f"{day}T10:00")
    await page.get_by_label("Ends").fill(f"{day}T12:00")
    await submit_by_button(page, "Schedule meeting")
    await expect(page.locator("h1")).to_have_text("December meeting")


async def test_a_form_on_the_meeting_page_keeps_the_pages_address(
    browser_page: Page, live_server: str
) -> None:
    page = browser_page
    chair, _ = await chair_and_director()
    meeting_id = await make_meeting(SLUG, chair, starts_at=utcnow() + dt.timedelta(days=7))
    await sign_in_through_form(page, live_server, CHAIR, PASSWORD)
    meeting_url = f"{live_server}/meetings/{meeting_id}"
    await page.goto(meeting_url)
    await page.get_by_text("Add an agenda item").click()
    await submit_by_button(page, "Add item")
    await _refused_in_one_round(page, {"title": "required"})
    assert page.url.startswith(meeting_url) and "/agenda" not in page.url, page.url
    await page.get_by_label("Item title").fill("Budget")
    await submit_by_button(page, "Add item")
    await expect(page.get_by_role("status")).to_have_text("Agenda item added.")


async def test_without_javascript_a_refused_meeting_form_is_shown_at_the_pages_address(
    no_script_page: Page, live_server: str
) -> None:
    page = no_script_page
    chair, _ = await chair_and_director()
    started = utcnow() - dt.timedelta(hours=1)
    meeting_id = await make_meeting(SLUG, chair, starts_at=started)
    await sign_in_through_form(page, live_server, CHAIR, PASSWORD)
    meeting_url = f"{live_server}/meetings/{meeting_id}"
    await page.goto(meeting_url)
    await page.get_by_text("Add an agenda item").click()
    await page.locator("#section-agenda").get_by_label("Notes").fill("Typed **before** the title")
    await submit_by_button(page, "Add item")
    # Post/Redirect/Get: the address is the page's own, with no script to put it back.
    assert page.url == meeting_url, page.url
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("Item title is required.")
    await expect(page.locator("#title-error")).to_contain_text("Item title is required.")
    await expect(page.locator("#notes")).to_have_value("Typed **before** the title")
    await _every_summary_link_leads_to_a_field(page)
    # Reloading shows the page, not the form again nor its refusal.
    await page.reload()
    assert page.url == meeting_url
    await expect(summary).to_have_count(0)
    await page.get_by_text("Add an agenda item").click()
    await page.get_by_label("Item title").fill("Budget")
    await submit_by_button(page, "Add item")
    await expect(page.get_by_role("status")).to_have_text("Agenda item added.")
    # The move form of an item: its error beside it, the summary's link leading to it.
    await page.locator(".agenda-item").get_by_label("New position").fill("4")
    await submit_by_button(page, "Move")
    assert page.url == meeting_url, page.url
    await expect(page.locator("#position-error")).to_contain_text("Choose a position from 1")
    await _every_summary_link_leads_to_a_field(page)


async def test_the_action_form(browser_page: Page, live_server: str) -> None:
    page = browser_page
    await chair_and_director()
    await sign_in_through_form(page, live_server, CHAIR, PASSWORD)
    await page.goto(f"{live_server}/groups/{SLUG}/actions/new")
    yesterday = (organisation_today() - dt.timedelta(days=1)).isoformat()
    await page.get_by_label("Due").fill(yesterday)
    await submit_by_button(page, "Create action")
    await _refused_in_one_round(
        page,
        {"title": "required", "due_on": "past", "owner_ids": "Choose at least one owner."},
    )
    await page.get_by_label("What is to be done").fill("Book the quiet room")
    await page.get_by_label("Due").fill((organisation_today() + dt.timedelta(days=7)).isoformat())
    await page.get_by_label("Wren Okafor").check()
    await submit_by_button(page, "Create action")
    await expect(page.locator("h1")).to_have_text("Book the quiet room")


async def test_the_report_form(browser_page: Page, live_server: str) -> None:
    page = browser_page
    await chair_and_director()
    await sign_in_through_form(page, live_server, CHAIR, PASSWORD)
    await page.goto(f"{live_server}/groups/{SLUG}/reports/new")
    await page.get_by_label("Kind").select_option("periodic")
    await page.get_by_label("Period (periodic reports)").fill("2026-Q9")
    await submit_by_button(page, "Save draft")
    await _refused_in_one_round(page, {"period": "2026-Q4", "title": "required"})
    await page.get_by_label("Kind").select_option("recommendation")
    await page.get_by_label("Period (periodic reports)").fill("")
    await page.get_by_label("Title").fill("Quiet rooms")
    await submit_by_button(page, "Save draft")
    await expect(page.get_by_role("status")).to_contain_text("Draft saved")


async def test_the_response_form_says_a_past_due_date_beside_its_field(
    browser_page: Page, live_server: str
) -> None:
    page = browser_page
    report_url, form = await director_declining_a_recommendation(page, live_server)
    yesterday = (organisation_today() - dt.timedelta(days=1)).isoformat()
    await form.get_by_label("Due").first.fill(yesterday)
    # The site's script asks first; going ahead sends the form.
    await page.get_by_role("button", name="Record response").click()
    async with page.expect_navigation():
        await page.get_by_role("dialog").get_by_role("button", name="Record response").click()
    await _refused_in_one_round(
        page,
        {
            "rationale": "Give the reasons when declining",
            "action_due_1": "The due date cannot be in the past.",
        },
    )
    assert page.url.startswith(report_url) and "/respond" not in page.url, page.url
    form = page.locator("#line-director form").last
    await form.get_by_label("Rationale").fill("No floor has the space.")
    await form.get_by_label("Due").first.fill(
        (organisation_today() + dt.timedelta(days=30)).isoformat()
    )
    await page.get_by_role("button", name="Record response").click()
    async with page.expect_navigation():
        await page.get_by_role("dialog").get_by_role("button", name="Record response").click()
    await expect(page.get_by_role("status")).to_contain_text("Response recorded")
