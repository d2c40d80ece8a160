"""No page is wider than a phone's or a tablet's screen.

Each demo persona crawls the pages it can reach from its dashboard (following the links the
pages offer) and every page is measured at 360, 768 and 1280 px: the document may never be
wider than the viewport (`scrollWidth <= innerWidth`), or the phone zooms the whole page out.
A meeting with a long unbroken title and a long URL in its place proves that text wraps."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Error

from governance.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.browser.conftest import ACTION_TIMEOUT_MS, sign_in_through_form

pytestmark = pytest.mark.slow

WIDTHS = (360, 768, 1280)
PAGES_PER_PERSONA = 30
# Pages of the same shape (meeting 4, meeting 9...) are measured twice at most: their layout
# is one template, and the crawl must stay within minutes.
SAME_SHAPE_LIMIT = 2
NOT_PAGES = re.compile(
    r"^/(static|api|schema)/|\.(ics|pdf|csv|json|atom|eml|png|svg)$|/(download|content|pack|export)"
)
LONG_WORD = "Unbroken" * 24  # 192 characters with no place to break
LONG_URL = "https://meet.example.org/" + "room-" * 40 + "wellbeing"


def _shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def _crawlable(href: str, origin: str) -> str | None:
    parts = urlsplit(href)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return None if NOT_PAGES.search(parts.path) else path


async def _overflows(browser: Browser, base_url: str, email: str) -> list[str]:
    context = await browser.new_context(viewport={"width": WIDTHS[-1], "height": 800})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = await context.new_page()
    found: list[str] = []
    try:
        await sign_in_through_form(page, base_url, email, DEMO_PASSWORD)
        queue, seen, shapes = ["/"], {"/"}, Counter[str]()
        visited = 0
        while queue and visited < PAGES_PER_PERSONA:
            path = queue.pop(0)
            try:
                response = await page.goto(base_url + path)
            except Error as error:  # a link to a file: a download, not a page
                if "Download is starting" in str(error):
                    continue
                raise
            visited += 1
            if response is None or response.status >= 400 or not page.url.startswith(base_url):
                continue
            for width in WIDTHS:
                await page.set_viewport_size({"width": width, "height": 800})
                scroll, inner = await page.evaluate(
                    "[document.documentElement.scrollWidth, window.innerWidth]"
                )
                if scroll > inner:
                    found.append(f"{email} {path} at {width} px: {scroll} px wide")
            hrefs = await page.eval_on_selector_all(
                "a[href]:not([download])", "links => links.map(a => a.href)"
            )
            for href in hrefs:
                link = _crawlable(href, base_url)
                if link and link not in seen and shapes[_shape(link)] < SAME_SHAPE_LIMIT:
                    seen.add(link)
                    shapes[_shape(link)] += 1
                    queue.append(link)
    finally:
        await context.close()
    return found


async def _seed_long_text() -> None:
    from governance.accounts.tables import User
    from tests.factories import make_meeting

    chair = await User.select(User.id).where(User.email == "chair.wellbeing@example.org").first()
    meeting_id = await make_meeting("wellbeing", chair["id"], title=f"Review {LONG_WORD}")
    from governance.meetings.tables import Meeting

    await Meeting.update({Meeting.location: LONG_URL}).where(Meeting.id == meeting_id)


async def test_no_page_is_wider_than_the_screen(
    demo_data: None, browser: Browser, live_server: str
) -> None:
    await _seed_long_text()
    found: list[str] = []
    for email, _, _ in DEMO_ACCOUNTS:
        found += await _overflows(browser, live_server, email)
    assert not found, "pages wider than the viewport:\n" + "\n".join(found)
