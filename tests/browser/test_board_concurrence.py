"""Issue 19 in a real browser: a Board member proposes the Board's answer to a
recommendation; it is not recorded until a second Board member concurs; the trail names
both. The Director, meanwhile, sees nothing of the proposal."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import Page, expect

from governance.core.clock import organisation_today
from governance.reports import services
from governance.reports.schemas import ReportDraft
from tests.browser.conftest import sign_in_through_form, submit_by_button
from tests.factories import PASSWORD, make_group, make_membership, make_user, viewer_for


async def _sign_out(page: Page) -> None:
    await submit_by_button(page, "Sign out")


async def test_the_boards_answer_waits_for_a_second_board_member(
    browser_page: Page, live_server: str
):
    page = browser_page
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    start = organisation_today() - dt.timedelta(days=100)
    chair = await make_user("chair@example.org", "Nia Castillo")
    await make_membership(chair, group_id, "chair", start)
    await make_user("director@example.org", "Dana Mensah", director=True)
    await make_user("board@example.org", "Bao Tran", board=True)
    await make_user("board2@example.org", "Beatriz Silva", board=True)
    chair_viewer = await viewer_for(chair)
    draft = ReportDraft(
        kind="recommendation",
        title="Flexible working hours",
        body="A written flexible-hours policy.",
        route="both",
    )
    report_id = await services.create_report("wellbeing", draft, chair_viewer)
    await services.submit_report(report_id, chair_viewer)
    report_url = f"{live_server}/reports/{report_id}"

    # A Board member proposes the Board's answer: nothing is recorded yet.
    await sign_in_through_form(page, live_server, "board@example.org", PASSWORD)
    await page.goto(report_url)
    form = page.locator("#line-board form").last
    await form.get_by_label("Response").select_option("accepted")
    await form.get_by_label("Rationale").fill("The Board supports it in full.")
    await submit_by_button(page, "Propose the Board's response")
    await expect(page.get_by_role("status")).to_contain_text("Proposed.")
    board_line = page.locator("#line-board")
    await expect(board_line).to_contain_text("Proposed Board response: Accepted")
    await expect(board_line).to_contain_text("0 of 1 concurrence needed")
    await expect(board_line).to_contain_text("Response due")
    await expect(page.get_by_role("button", name="Concur")).to_have_count(0)
    await _sign_out(page)

    # The Director sees the Board line as it was: no proposal, no answer.
    await sign_in_through_form(page, live_server, "director@example.org", PASSWORD)
    await page.goto(report_url)
    await expect(page.locator("#line-board")).to_contain_text("Response due")
    await expect(page.locator("#line-board")).not_to_contain_text("Proposed")
    await expect(page.locator("#line-board")).not_to_contain_text("Accepted")
    await _sign_out(page)

    # The second Board member finds it waiting for them, and concurs.
    await sign_in_through_form(page, live_server, "board2@example.org", PASSWORD)
    await page.goto(f"{live_server}/me/tasks")
    await expect(
        page.get_by_text("A proposed Board response awaits your concurrence")
    ).to_be_visible()
    await page.goto(report_url)
    await submit_by_button(page, "Concur")
    await expect(page.get_by_role("status")).to_contain_text("the Board's response is recorded")
    await _sign_out(page)

    # The chair's trail names both.
    await sign_in_through_form(page, live_server, "chair@example.org", PASSWORD)
    await page.goto(report_url)
    board_line = page.locator("#line-board")
    await expect(board_line).to_contain_text("Accepted")
    await expect(board_line).to_contain_text("The Board supports it in full.")
    await expect(board_line).to_contain_text(
        "Board resolution: proposed by Bao Tran, concurred by Beatriz Silva."
    )
