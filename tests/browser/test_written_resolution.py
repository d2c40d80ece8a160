"""Issue 19 in a real browser: the chair proposes a written resolution between meetings;
one member votes from the link in their email without signing in, another from the page;
voting closes (the scheduled job), the resolution is recorded as carried, and it is listed
in the next meeting's minutes under "Decisions taken since the last meeting" and in the
decision register."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, Page, expect

from governance.accounts.tables import User
from governance.core.clock import organisation_today, utcnow
from governance.core.tables import OutboundEmail
from governance.resolutions.jobs import resolutions_job
from governance.resolutions.tables import WrittenResolution
from governance.settings import get_settings
from tests.browser.conftest import ACTION_TIMEOUT_MS, sign_in_through_form
from tests.factories import PASSWORD, make_group, make_meeting, make_membership, make_user
from tests.helpers import found

TITLE = "Adopt the wellbeing survey"


async def _submit(page: Page, button: str) -> None:
    async with page.expect_navigation():
        await page.get_by_role("button", name=button).click()


async def _vote_link(address: str, choice: str) -> str:
    """The voting link of the proposal queued for this person, as their email carries it."""
    row = (
        await OutboundEmail.select(OutboundEmail.context)
        .where(
            (OutboundEmail.template == "resolution_proposed") & (OutboundEmail.recipient == address)
        )
        .first()
    )
    assert row is not None, f"no proposal queued for {address}"
    context = row["context"] if isinstance(row["context"], dict) else json.loads(row["context"])
    return str(context["vote_links"][choice])


async def _chair_id() -> int:
    row = found(await User.select(User.id).where(User.email == "chair@example.org").first())
    return int(row["id"])


async def _people() -> int:
    """The group: its chair (whose id is returned) and two members."""
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    start = organisation_today() - dt.timedelta(days=200)
    for address, name, role in (
        ("chair@example.org", "Wren Okafor", "chair"),
        ("milo@example.org", "Milo Haddad", "member"),
        ("ana@example.org", "Ana Silva", "member"),
    ):
        await make_membership(await make_user(address, name), group_id, role, start)
    return await _chair_id()


async def _vote_from_the_email(browser: Browser, live_server: str) -> None:
    """Milo votes from the link in his email, in a browser where nobody is signed in."""
    link = await _vote_link("milo@example.org", "for")
    base_url = get_settings().base_url
    assert link.startswith(f"{base_url}/resolution-votes/")
    context = await browser.new_context()
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        visitor = await context.new_page()
        await visitor.goto(live_server + link.removeprefix(base_url))
        await expect(visitor.locator("h1")).to_have_text(TITLE)
        await expect(visitor.get_by_label("For")).to_be_checked()
        await _submit(visitor, "Cast my vote")
        await expect(visitor.locator("#vote-recorded")).to_contain_text("For")
    finally:
        await context.close()


async def _vote_from_the_page(browser: Browser, live_server: str, resolution_url: str) -> None:
    """Ana signs in and votes from the resolution's page."""
    context = await browser.new_context()
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        member = await context.new_page()
        await sign_in_through_form(member, live_server, "ana@example.org", PASSWORD)
        await member.goto(resolution_url)
        await member.get_by_label("For").check()
        await member.get_by_label("Comment (optional)").fill("Long overdue.")
        await _submit(member, "Cast my vote")
        await expect(member.get_by_role("status").first).to_contain_text("Your vote is recorded")
        await expect(member.locator("#my-vote")).to_contain_text("For")
    finally:
        await context.close()


async def test_written_resolution_voted_by_link_and_page_carried_and_in_the_next_minutes(
    browser_page: Page, live_server: str, browser: Browser
):
    page = browser_page
    chair = await _people()
    await make_meeting(
        "wellbeing",
        chair,
        title="November meeting",
        starts_at=utcnow() - dt.timedelta(days=10),
    )
    # The chair proposes, from the group's written resolutions.
    await sign_in_through_form(page, live_server, "chair@example.org", PASSWORD)
    await page.goto(f"{live_server}/groups/wellbeing/resolutions")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Propose a resolution").click()
    closes = (utcnow() + dt.timedelta(days=3)).astimezone(ZoneInfo("Europe/London"))
    await page.get_by_label("Title").fill(TITLE)
    await page.get_by_label("Motion").fill("That the group adopts the **wellbeing survey**.")
    await page.get_by_label("Voting closes").fill(closes.strftime("%Y-%m-%dT%H:%M"))
    await _submit(page, "Put to the members")
    await expect(page.get_by_role("status").first).to_contain_text("Resolution put to the members")
    await expect(page.locator("#resolution-status")).to_have_text("Open for votes")
    resolution_url = page.url

    await _vote_from_the_email(browser, live_server)
    await _vote_from_the_page(browser, live_server, resolution_url)

    # Voting closes: the scheduled job records the outcome (2 of 3 members for).
    await WrittenResolution.update(
        {WrittenResolution.closes_at: utcnow() - dt.timedelta(minutes=1)}
    ).where(WrittenResolution.title == TITLE)
    assert (await resolutions_job()).closed == 1
    await page.reload()
    await expect(page.locator("#resolution-status")).to_have_text("Carried")
    await expect(page.locator("#resolution-outcome")).to_contain_text(
        "2 for, 0 against, 0 abstaining, of the 3 members"
    )
    await expect(page.get_by_role("cell", name="Long overdue.")).to_be_visible()

    # The next meeting's minutes list it; so does the decision register.
    following = await make_meeting("wellbeing", chair, title="December meeting")
    await page.goto(f"{live_server}/meetings/{following}")
    since = page.locator("#resolutions-since")
    await expect(since.get_by_role("heading")).to_have_text(
        "Decisions taken since the last meeting"
    )
    await expect(since).to_contain_text(TITLE)
    await expect(since).to_contain_text("carried")
    await page.goto(f"{live_server}/groups/wellbeing/decisions")
    await expect(page.get_by_role("row", name=TITLE)).to_contain_text("Carried")
