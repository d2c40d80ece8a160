"""Issue 13 in a real browser: the chair sends the notice; a member replies "apologies"
from the link in their email without signing in; the chair sees the expected quorum; after
the meeting the attendance form starts from the replies."""

from __future__ import annotations

import datetime as dt
import json

from playwright.async_api import Browser, Page, expect

from governance.core.clock import organisation_today, utcnow
from governance.core.tables import OutboundEmail
from governance.meetings.tables import Meeting
from governance.settings import get_settings
from tests.browser.conftest import ACTION_TIMEOUT_MS, sign_in_through_form
from tests.factories import PASSWORD, make_group, make_meeting, make_membership, make_user


async def _submit(page: Page, button: str) -> None:
    async with page.expect_navigation():
        await page.get_by_role("button", name=button).click()


async def _reply_link(address: str, mode: str) -> str:
    """The reply link of the notice queued for this person, as their email carries it."""
    row = (
        await OutboundEmail.select(OutboundEmail.context)
        .where((OutboundEmail.template == "meeting_notice") & (OutboundEmail.recipient == address))
        .first()
    )
    assert row is not None, f"no notice queued for {address}"
    context = row["context"] if isinstance(row["context"], dict) else json.loads(row["context"])
    return str(context["reply_links"][mode])


async def test_notice_reply_by_email_link_expected_quorum_and_attendance_from_replies(
    browser_page: Page, live_server: str, browser: Browser
):
    page = browser_page
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    start = organisation_today() - dt.timedelta(days=200)
    chair = await make_user("chair@example.org", "Wren Okafor")
    await make_membership(chair, group_id, "chair", start)
    member_ids = {}
    for address, name in (
        ("milo@example.org", "Milo Haddad"),
        ("ana@example.org", "Ana Silva"),
        ("tom@example.org", "Tom Berg"),
    ):
        member_ids[address] = await make_user(address, name)
        await make_membership(member_ids[address], group_id, "member", start)
    starts = (utcnow() + dt.timedelta(days=3)).replace(microsecond=0)
    meeting_id = await make_meeting("wellbeing", chair, title="December meeting", starts_at=starts)
    # The chair sends the notice with one action.
    await sign_in_through_form(page, live_server, "chair@example.org", PASSWORD)
    await page.goto(f"{live_server}/meetings/{meeting_id}")
    await _submit(page, "Send the notice")
    await expect(page.get_by_role("status").first).to_contain_text("Notice sent")
    await expect(page.locator("#expected-quorum")).to_have_text(
        "0 of 4 expected; quorum 3: not met."
    )

    # Milo replies from the link in his email, in a browser where nobody is signed in.
    link = await _reply_link("milo@example.org", "apologies")
    # The link names the configured address (GOVERNANCE_BASE_URL); here it is served here.
    base_url = get_settings().base_url
    assert link.startswith(f"{base_url}/notice-replies/")
    link = live_server + link.removeprefix(base_url)
    context = await browser.new_context()
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        visitor = await context.new_page()
        await visitor.goto(link)
        await expect(visitor.locator("h1")).to_have_text("December meeting")
        await expect(visitor.get_by_label("Apologies")).to_be_checked()
        await _submit(visitor, "Send my reply")
        await expect(visitor.locator("#reply-recorded")).to_contain_text("Apologies")
    finally:
        await context.close()

    # The chair replies from the page, and sees the quorum expected.
    await page.reload()
    await page.get_by_label("Your reply").select_option("attending")
    await _submit(page, "Reply")
    await expect(page.locator("#expected-quorum")).to_have_text(
        "1 of 4 expected; quorum 3: not met (1 apologies)."
    )

    # The meeting takes place; the attendance form starts from the replies.
    held_at = utcnow() - dt.timedelta(hours=1)
    await Meeting.update(
        {Meeting.starts_at: held_at, Meeting.ends_at: held_at + dt.timedelta(hours=2)}
    ).where(Meeting.id == meeting_id)
    await page.reload()
    await expect(page.locator(f"#mode_{member_ids['milo@example.org']}")).to_have_value("apologies")
    await expect(page.locator(f"#mode_{chair}")).to_have_value("present")
    await expect(page.locator(f"#mode_{member_ids['ana@example.org']}")).to_have_value("")
