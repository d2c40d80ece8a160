"""Each demo account of DESIGN.md §8 (seeded by seed_default_groups() and seed_demo(), as by
`governance init --demo`) signs in through the real form in Chromium, sees its own dashboard
and signs out again."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.async_api import Page, expect

from governance.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.browser.conftest import sign_in_through_form


@dataclass(frozen=True)
class Expected:
    email: str
    groups: tuple[str, ...] = ()
    people_link: bool = False
    audit_link: bool = False


EXPECTED = (
    Expected("admin@example.org", people_link=True, audit_link=True),
    Expected("director@example.org"),
    Expected("board@example.org", audit_link=True),
    Expected("board2@example.org", audit_link=True),
    Expected("chair.wellbeing@example.org", groups=("Working Group on Wellbeing",)),
    Expected("member.wellbeing@example.org", groups=("Working Group on Wellbeing",)),
    Expected(
        "chair.ndi@example.org",
        groups=("Working Group on Non-Discrimination, Diversity and Inclusion",),
    ),
    Expected(
        "member.ndi@example.org",
        groups=("Working Group on Non-Discrimination, Diversity and Inclusion",),
    ),
)
NAMES = {email: name for email, name, _ in DEMO_ACCOUNTS}


def test_every_demo_account_is_covered() -> None:
    assert [expected.email for expected in EXPECTED] == list(NAMES)


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


@pytest.mark.parametrize("expected", EXPECTED, ids=[e.email.split("@")[0] for e in EXPECTED])
async def test_demo_account_signs_in_and_out(
    demo_data: None, browser_page: Page, live_server: str, expected: Expected
) -> None:
    page = browser_page
    await page.goto(f"{live_server}/")
    await expect(page).to_have_url(f"{live_server}/login?next=/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    await sign_in_through_form(page, live_server, expected.email, DEMO_PASSWORD)

    await expect(page).to_have_url(f"{live_server}/")
    name = NAMES[expected.email]
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {name}")
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="My profile")).to_contain_text(name)

    my_groups = page.locator("section[aria-labelledby=my-groups]")
    if expected.groups:
        for group in expected.groups:
            await expect(my_groups.get_by_role("link", name=group)).to_be_visible()
    else:
        await expect(my_groups).to_contain_text("not a current member of any working group")

    await expect(nav.get_by_role("link", name="People")).to_have_count(
        1 if expected.people_link else 0
    )
    await expect(nav.get_by_role("link", name="Audit trail")).to_have_count(
        1 if expected.audit_link else 0
    )
    if not expected.audit_link:
        # Not in the navigation, nor anywhere else on the page.
        await expect(page.get_by_role("link", name="Audit trail")).to_have_count(0)

    async with page.expect_navigation():
        await nav.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{live_server}/login")
    await expect(page.get_by_role("status")).to_have_text("You have signed out.")
    await expect(nav.get_by_role("link", name="Sign in")).to_be_visible()

    # The session has ended: the dashboard sends the browser back to sign in.
    await page.goto(f"{live_server}/")
    assert _path(page.url) == "/login?next=/"


async def test_wrong_password_shows_the_error_and_stays_signed_out(
    demo_data: None, browser_page: Page, live_server: str
) -> None:
    page = browser_page
    await page.goto(f"{live_server}/")
    await sign_in_through_form(page, live_server, "chair.wellbeing@example.org", "not-the-password")

    await expect(page.get_by_role("alert")).to_have_text(
        "That email and password do not match an active account."
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    # The form keeps the email, never the password.
    await expect(page.get_by_label("Email")).to_have_value("chair.wellbeing@example.org")
    await expect(page.get_by_label("Password")).to_have_value("")
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
    await expect(nav.get_by_role("button", name="Sign out")).to_have_count(0)

    await page.goto(f"{live_server}/")
    await expect(page).to_have_url(f"{live_server}/login?next=/")
