"""Issue 4 in a real browser: a chair submits a recommendation to both lines; the Director
and a Board member each acknowledge and respond on their own line (the Board's answer
proposed by one member and concurred by another); the chair sees both
responses and the actions that came from them."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import Page, expect

from governance.core.clock import organisation_today
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


async def _sign_out(page: Page) -> None:
    await _submit(page, "Sign out")


async def test_recommendation_travels_both_lines_and_each_answers_on_its_own(
    browser_page: Page, live_server: str
):
    page = browser_page
    group_id = await make_group(slug="ndi", name="Working Group on Non-Discrimination")
    start = organisation_today() - dt.timedelta(days=100)
    chair = await make_user("chair@example.org", "Nia Castillo")
    await make_membership(chair, group_id, "chair", start)
    await make_user("director@example.org", "Dana Mensah", director=True)
    await make_user("board@example.org", "Bao Tran", board=True)
    await make_user("board2@example.org", "Beatriz Silva", board=True)
    due = (organisation_today() + dt.timedelta(days=30)).isoformat()

    # The chair drafts and submits a recommendation to both lines.
    await sign_in_through_form(page, live_server, "chair@example.org", PASSWORD)
    await page.goto(f"{live_server}/groups/ndi/reports")
    await page.get_by_role("link", name="Draft a report").click()
    await page.get_by_label("Kind").select_option("recommendation")
    await page.get_by_label("Title").fill("Inclusive recruitment panels")
    await page.get_by_label("Report", exact=True).fill(
        "Every hiring panel should include a trained member."
    )
    await page.get_by_label("Both lines: the Executive Director and the Board").check()
    await _submit(page, "Save draft")
    await expect(page.get_by_role("status")).to_contain_text("Draft saved")
    await _confirm(page, "Submit and deliver")
    await expect(page.get_by_role("status")).to_have_text(
        "Submitted and delivered to both lines. The text is now frozen."
    )
    report_url = page.url
    await expect(page.locator("#line-director")).to_contain_text("Not yet read")
    await expect(page.locator("#line-board")).to_contain_text("Not yet read")
    await _sign_out(page)

    # The Director opens it (read receipt), acknowledges, and accepts with an action.
    await sign_in_through_form(page, live_server, "director@example.org", PASSWORD)
    await page.goto(f"{live_server}/deliveries")
    await page.get_by_role("link", name="Inclusive recruitment panels").first.click()
    director_line = page.locator("#line-director")
    await expect(director_line).to_contain_text("Read")
    await _submit(page, "Acknowledge receipt")
    await expect(page.locator("#line-director")).to_contain_text("Acknowledged")
    await expect(page.locator("#line-board")).to_contain_text("Not yet acknowledged")
    form = page.locator("#line-director form").last
    await form.get_by_label("Response").select_option("accepted")
    await form.get_by_label("Rationale").fill("We will train panel members this year.")
    await form.get_by_label("Action 1").fill("Train twelve panel members")
    await form.get_by_label("Due").first.fill(due)
    await _confirm(page, "Record response")
    await expect(page.locator("#line-director")).to_contain_text("Accepted")
    await expect(page.locator("#line-board")).not_to_contain_text("Accepted")
    await _sign_out(page)

    # A Board member answers for the Board line, on their own.
    await sign_in_through_form(page, live_server, "board@example.org", PASSWORD)
    await page.goto(report_url)
    await _submit(page, "Acknowledge receipt")
    form = page.locator("#line-board form").last
    await form.get_by_label("Response").select_option("partially_accepted")
    await form.get_by_label("Rationale").fill("Agreed for senior roles first.")
    await form.get_by_label("Action 1").fill("Board to review senior hiring in Q1")
    await form.get_by_label("Owner").first.select_option(label="Bao Tran (me)")
    await form.get_by_label("Due").first.fill(due)
    await _submit(page, "Propose the Board's response")
    await expect(page.locator("#line-board")).to_contain_text("Proposed Board response")
    await _sign_out(page)

    # The Board answers by resolution: a second Board member concurs.
    await sign_in_through_form(page, live_server, "board2@example.org", PASSWORD)
    await page.goto(report_url)
    await _submit(page, "Concur")
    await expect(page.locator("#line-board")).to_contain_text("Partially accepted")
    await _sign_out(page)

    # The chair sees both responses, their reasons and the actions, side by side.
    await sign_in_through_form(page, live_server, "chair@example.org", PASSWORD)
    await page.goto(report_url)
    director_line, board_line = page.locator("#line-director"), page.locator("#line-board")
    await expect(director_line).to_contain_text("Accepted")
    await expect(director_line).to_contain_text("We will train panel members this year.")
    await expect(director_line).to_contain_text("Train twelve panel members")
    await expect(director_line).to_contain_text("by Dana Mensah")
    await expect(board_line).to_contain_text("Partially accepted")
    await expect(board_line).to_contain_text("Agreed for senior roles first.")
    await expect(board_line).to_contain_text("Board to review senior hiring in Q1")
    await expect(board_line).to_contain_text("by Bao Tran")
    await expect(board_line).to_contain_text("concurred by Beatriz Silva")
    # Nothing here lets anyone edit the submitted report.
    await expect(page.get_by_role("link", name="Edit draft")).to_have_count(0)
