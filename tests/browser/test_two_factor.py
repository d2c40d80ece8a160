"""In Chromium: a Board member enrols two-factor sign-in from their profile (the code is
computed with pyotp from the secret on the page), signs out and in again with a code, uses
a recovery code once (the second use fails), and ends another of their sessions, whose next
request is signed out."""

from __future__ import annotations

import pyotp
from playwright.async_api import Browser, BrowserContext, Page, expect

from governance.accounts.tables import User
from governance.demo import DEMO_PASSWORD
from tests.browser.conftest import sign_in_through_form
from tests.helpers import found

EMAIL = "board@example.org"


async def _fresh_code(secret: str) -> str:
    """A code no sign-in has used yet: the next step's (one step either side of now is
    accepted, and each step's code once)."""
    row = found(await User.select(User.totp_last_step).where(User.email == EMAIL).first())
    return pyotp.TOTP(secret).at((row["totp_last_step"] + 1) * 30)


async def _enter_code(page: Page, code: str) -> None:
    await expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    await page.get_by_label("Code").fill(code)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in").click()


async def _new_page(browser: Browser) -> tuple[BrowserContext, Page]:
    context = await browser.new_context()
    context.set_default_timeout(10_000)
    return context, await context.new_page()


async def _enrol(page: Page, base_url: str) -> tuple[str, list[str]]:
    await sign_in_through_form(page, base_url, EMAIL, DEMO_PASSWORD)
    await page.goto(f"{base_url}/profile")
    await page.get_by_role("link", name="Sign-in and security").click()
    await page.get_by_role("link", name="Two-factor sign-in").click()
    secret = (await page.locator("#totp-secret").inner_text()).strip()
    await expect(page.locator(".qr svg")).to_be_visible()
    await page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    async with page.expect_navigation():
        await page.get_by_role("button", name="Turn on two-factor sign-in").click()
    codes = [text.strip() for text in await page.locator("#recovery-codes code").all_inner_texts()]
    assert len(codes) == 10
    return secret, codes


async def test_board_member_enrols_signs_in_with_codes_and_ends_a_session(
    browser: Browser, browser_page: Page, live_server: str, demo_data: None
) -> None:
    page = browser_page
    secret, recovery = await _enrol(page, live_server)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    # The password alone no longer signs in: the code step follows.
    await sign_in_through_form(page, live_server, EMAIL, DEMO_PASSWORD)
    await _enter_code(page, await _fresh_code(secret))
    await expect(page.get_by_role("link", name="My profile")).to_be_visible()

    # A second browser signs in with a recovery code.
    other_context, other = await _new_page(browser)
    try:
        await sign_in_through_form(other, live_server, EMAIL, DEMO_PASSWORD)
        await _enter_code(other, recovery[0])
        await expect(other.get_by_role("link", name="My profile")).to_be_visible()

        # A third sees the same recovery code refused, then uses another.
        third_context, third = await _new_page(browser)
        try:
            await sign_in_through_form(third, live_server, EMAIL, DEMO_PASSWORD)
            await _enter_code(third, recovery[0])
            await expect(third.get_by_text("That code is not right").first).to_be_visible()
        finally:
            await third_context.close()

        # The first browser ends the others; the second's next request is signed out.
        await page.goto(f"{live_server}/profile/security")
        await expect(page.get_by_text("(this one)")).to_be_visible()
        await page.get_by_role("button", name="End all other sessions").click()
        await expect(page.get_by_text("Your other sessions have ended.")).to_be_visible()
        await other.goto(f"{live_server}/")
        await expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
        assert "/login" in other.url
    finally:
        await other_context.close()
    # The first is still signed in.
    await page.goto(f"{live_server}/")
    await expect(page.get_by_role("link", name="My profile")).to_be_visible()
