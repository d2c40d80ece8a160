"""Post/Redirect/Get without JavaScript (issue 16): a refused action form and a refused
response form on a report leave the page's own address in the address bar (no script puts
it back), with the error summary and each field's error shown, and what was typed kept."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import Page, expect

from governance.actions import services as actions
from governance.actions.schemas import NewAction
from governance.core.clock import organisation_today
from governance.groups.queries import get_group
from tests.browser.conftest import sign_in_through_form, submit_by_button
from tests.browser.wellbeing import (
    CHAIR,
    SLUG,
    chair_and_director,
    director_declining_a_recommendation,
)
from tests.factories import PASSWORD, viewer_for


async def _group_id() -> int:
    return int((await get_group(SLUG))["id"])


async def test_a_refused_new_action_is_shown_at_the_forms_address(
    no_script_page: Page, live_server: str
) -> None:
    page = no_script_page
    await chair_and_director()
    await sign_in_through_form(page, live_server, CHAIR, PASSWORD)
    form_url = f"{live_server}/groups/{SLUG}/actions/new"
    await page.goto(form_url)
    await page.get_by_label("What is to be done").fill("Book the quiet room")
    await page.get_by_label("Wren Okafor").check()
    await page.get_by_label("Due").fill((organisation_today() - dt.timedelta(days=1)).isoformat())
    await submit_by_button(page, "Create action")
    assert page.url == form_url, page.url
    await expect(page.locator(".error-summary")).to_contain_text("past")
    await expect(page.locator("#due_on-error")).to_contain_text("past")
    await expect(page.get_by_label("What is to be done")).to_have_value("Book the quiet room")
    await expect(page.get_by_label("Wren Okafor")).to_be_checked()


async def test_a_refused_progress_note_is_shown_at_the_action_pages_address(
    no_script_page: Page, live_server: str
) -> None:
    page = no_script_page
    chair, _ = await chair_and_director()
    command = NewAction(
        title="Book the quiet room",
        due_on=organisation_today() + dt.timedelta(days=7),
        owner_ids=[chair],
    )
    action_id = await actions.create_action(await _group_id(), command, await viewer_for(chair))
    await sign_in_through_form(page, live_server, CHAIR, PASSWORD)
    action_url = f"{live_server}/actions/{action_id}"
    await page.goto(action_url)
    await submit_by_button(page, "Add note")
    assert page.url == action_url, page.url
    await expect(page.locator(".error-summary")).to_contain_text("cannot be empty")
    await expect(page.locator("#body-error")).to_contain_text("cannot be empty")


async def test_a_refused_response_is_shown_at_the_reports_address(
    no_script_page: Page, live_server: str
) -> None:
    page = no_script_page
    report_url, form = await director_declining_a_recommendation(page, live_server)
    # Without a script the irreversible step's box is on the form, to tick by hand.
    await form.locator('input[name="understood"]').check()
    await submit_by_button(page, "Record response")
    assert page.url == report_url, page.url
    await expect(page.locator(".error-summary")).to_contain_text("Give the reasons")
    await expect(page.locator("#rationale-error")).to_contain_text("Give the reasons")
    form = page.locator("#line-director form").last
    await expect(form.get_by_label("Action 1")).to_have_value("Survey the floors")
    # Reloading shows the report, not the refusal again.
    await page.reload()
    await expect(page.locator(".error-summary")).to_have_count(0)
