"""Search in a real browser (issue 13): a member searches, sees each hit's kind, group and
a highlighted snippet, and narrows the results by kind; the Director searching the exact
title of a Board-only item sees the very page a nonsense word gets."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import Page, expect

from governance.actions.schemas import NewAction
from governance.actions.services import create_action
from governance.core.clock import organisation_today
from governance.meetings.schemas import AgendaItemDetails
from governance.meetings.services import add_agenda_item
from tests.browser.conftest import sign_in_through_form
from tests.factories import (
    PASSWORD,
    make_group,
    make_meeting,
    make_membership,
    make_user,
    viewer_for,
)

BOARD_ONLY = "Grievance about the Director's conduct"


async def _world() -> None:
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    start = organisation_today() - dt.timedelta(days=200)
    chair = await make_user("chair@example.org", "Wren Okafor")
    member = await make_user("milo@example.org", "Milo Haddad")
    await make_user("director@example.org", "Dana Director", director=True)
    await make_membership(chair, group_id, "chair", start)
    await make_membership(member, group_id, "member", start)
    leader = await viewer_for(chair)
    meeting_id = await make_meeting("wellbeing", chair, title="December meeting")
    await add_agenda_item(
        meeting_id,
        AgendaItemDetails(
            title="Staff wellbeing survey", notes="The survey closed with 140 answers."
        ),
        leader,
    )
    await add_agenda_item(
        meeting_id,
        AgendaItemDetails(title=BOARD_ONLY, visibility="board", notes="For the Board only."),
        leader,
    )
    await create_action(
        group_id,
        NewAction(
            title="Publish the survey summary",
            due_on=organisation_today() + dt.timedelta(days=20),
            owner_ids=[member],
        ),
        leader,
    )


async def _search(page: Page, base_url: str, words: str, kind: str = "") -> None:
    await page.goto(f"{base_url}/search")
    await page.get_by_label("Search for").fill(words)
    if kind:
        await page.get_by_label("Kind").select_option(label=kind)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Search", exact=True).click()


async def test_a_member_searches_filters_and_the_director_finds_nothing_hidden(
    browser_page: Page, live_server: str
):
    page = browser_page
    await _world()
    await sign_in_through_form(page, live_server, "milo@example.org", PASSWORD)
    await _search(page, live_server, "survey")
    hits = page.locator(".search-hit")
    await expect(hits).to_have_count(2)
    item = hits.filter(has_text="Staff wellbeing survey")
    await expect(item.locator(".badge")).to_have_text("Agenda item")
    await expect(item).to_contain_text("Working Group on Wellbeing")
    await expect(item.locator(".snippet mark").first).to_have_text("survey", ignore_case=True)
    await expect(hits.filter(has_text="Publish the survey summary")).to_have_count(1)

    await _search(page, live_server, "survey", kind="Action")
    await expect(hits).to_have_count(1)
    await expect(hits.first.locator(".badge")).to_have_text("Action")
    await expect(hits.first).to_contain_text("Publish the survey summary")
    await expect(page.get_by_label("Kind")).to_have_value("action")

    # The member reads the Board-only item of their group.
    await _search(page, live_server, BOARD_ONLY)
    await expect(hits.filter(has_text=BOARD_ONLY)).to_have_count(1)

    await page.context.clear_cookies()
    await sign_in_through_form(page, live_server, "director@example.org", PASSWORD)
    await _search(page, live_server, BOARD_ONLY)
    hidden = await page.locator("main").inner_text()
    await _search(page, live_server, "Zqxwv")
    nonsense = await page.locator("main").inner_text()
    await expect(page.get_by_role("status")).to_have_text("Nothing found.")
    assert hidden.replace(BOARD_ONLY, "Zqxwv") == nonsense
    assert "Grievance" not in hidden.replace(BOARD_ONLY, "")
