"""Every page fits a phone's and a tablet's screen and passes axe-core.

Each demo persona crawls the pages it can reach from its dashboard (following the links the
pages offer) and every page is measured at 360, 768 and 1280 px: the document may never be
wider than the viewport (`scrollWidth <= innerWidth`), or the phone zooms the whole page out.
A meeting with a long unbroken title and a long URL in its place proves that text wraps.
axe-core (from the npm registry; `.ci/run` installs it under var/axe, or name the file with
GOVERNANCE_AXE_JS) runs on each page at each of those widths: no critical or serious violation."""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Error, Page

from governance.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.browser.conftest import ACTION_TIMEOUT_MS, sign_in_through_form
from tests.helpers import found

pytestmark = pytest.mark.slow

WIDTHS = (360, 768, 1280)
PAGES_PER_PERSONA = 25
# Pages of the same shape (meeting 4, meeting 9...) are measured once: their layout
# is one template, and the crawl must stay within minutes.
SAME_SHAPE_LIMIT = 1
NOT_PAGES = re.compile(
    r"^/(static|api|schema)/|\.(ics|pdf|csv|json|atom|eml|png|svg)$|/(download|content|pack|export)"
)
AXE_WIDTHS = WIDTHS  # every width: a layout that changes with the width can break a rule
AXE_JS = Path(
    os.environ.get("GOVERNANCE_AXE_JS")
    or Path(__file__).parents[2] / "var/axe/node_modules/axe-core/axe.min.js"
)
SEVERE = ("critical", "serious")
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => ["critical", "serious"].includes(v.impact))
    .map(v => v.id + " (" + v.impact + "): "
      + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
}"""
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


@dataclass
class Findings:
    overflows: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


def _axe_source() -> str:
    if not AXE_JS.is_file():
        message = f"axe-core not found at {AXE_JS} (npm install --prefix var/axe axe-core)"
        if os.environ.get("GOVERNANCE_BROWSER_REQUIRED") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE_JS.read_text()


async def _measure(page: Page, where: str, axe: str, findings: Findings) -> None:
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 800})
        scroll, inner = await page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        if scroll > inner:
            findings.overflows.append(f"{where} at {width} px: {scroll} px wide")
        if width in AXE_WIDTHS:
            if not await page.evaluate("typeof axe !== 'undefined'"):
                await page.add_script_tag(content=axe)
            for violation in await page.evaluate(RUN_AXE):
                findings.violations.append(f"{where} at {width} px: {violation}")


async def _crawl(browser: Browser, base_url: str, email: str, axe: str, found: Findings) -> None:
    # bypass_csp: the pages' CSP (rightly) refuses the injected axe-core script.
    context = await browser.new_context(
        viewport={"width": WIDTHS[-1], "height": 800}, bypass_csp=True
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = await context.new_page()
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
            await _measure(page, f"{email} {path}", axe, found)
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


async def _seed_long_text() -> None:
    from governance.accounts.tables import User
    from tests.factories import make_meeting

    chair = found(
        await User.select(User.id).where(User.email == "chair.wellbeing@example.org").first()
    )
    meeting_id = await make_meeting("wellbeing", chair["id"], title=f"Review {LONG_WORD}")
    from governance.meetings.tables import Meeting

    await Meeting.update({Meeting.location: LONG_URL}).where(Meeting.id == meeting_id)


async def _axe_finds_a_known_violation(browser: Browser, axe: str) -> None:
    """Proves the injected axe-core runs and reports: an image without a text alternative."""
    page = await browser.new_page()
    try:
        await page.set_content('<html lang="en"><body><main><img src="x.png"></main></body></html>')
        await page.add_script_tag(content=axe)
        assert any(v.startswith("image-alt") for v in await page.evaluate(RUN_AXE))
    finally:
        await page.close()


async def test_every_page_fits_the_screen_and_passes_axe(
    demo_data: None, browser: Browser, live_server: str
) -> None:
    axe = _axe_source()
    await _axe_finds_a_known_violation(browser, axe)
    await _seed_long_text()
    found = Findings()
    for email, _, _ in DEMO_ACCOUNTS:
        await _crawl(browser, live_server, email, axe, found)
    assert not found.overflows, "pages wider than the viewport:\n" + "\n".join(found.overflows)
    assert not found.violations, "axe-core violations:\n" + "\n".join(found.violations)
