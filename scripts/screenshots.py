"""Screenshots of the pages a reviewer looks at first (issue 16): the dashboard, a meeting, a
report's trail and a published transparency report, each at a phone's width (390 px) and a
desktop's (1280 px), into var/screenshots/ (git-ignored, never committed).

It makes its own demo database in var/screenshots/data (`governance init --demo`), serves it
on 127.0.0.1 on a free port, drives /usr/bin/chromium through Playwright, and stops the
server again, whatever happens."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.async_api import Page, async_playwright

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "var" / "screenshots"
DATA = OUTPUT / "data"
CHROMIUM = "/usr/bin/chromium"
WIDTHS = (390, 1280)
HEIGHT = 900
SIGNED_IN_AS = "chair.wellbeing@example.org"
DEMO_PASSWORD = "governance-demo"  # noqa: S105 - the documented demo password
START_TIMEOUT_SECONDS = 60
CLI = "import sys; from governance.cli import main; sys.exit(main())"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(base_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "GOVERNANCE_DATA_DIR": str(DATA),
        "GOVERNANCE_DATABASE_URL": f"sqlite:///{DATA / 'governance.sqlite3'}",
        "GOVERNANCE_BASE_URL": base_url,
        "GOVERNANCE_SMTP_URL": "",
        "GOVERNANCE_LOG_LEVEL": "WARNING",
    }


def _wait_until_up(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the demo server stopped while starting")
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=2):  # noqa: S310 - our own
                return
        except OSError:
            time.sleep(0.2)  # polling a port that is not open yet, not waiting for an event
    raise SystemExit(f"the demo server did not answer within {START_TIMEOUT_SECONDS} s")


async def _first_link(page: Page, url: str, prefix: str) -> str:
    await page.goto(url)
    href = await page.locator(f'main a[href^="{prefix}"]').first.get_attribute("href")
    if not href:
        raise SystemExit(f"no link to {prefix}… on {url}")
    return href


async def _pages(page: Page, base_url: str) -> dict[str, str]:
    """name → address of each page to photograph, found by following the demo's links."""
    await page.goto(f"{base_url}/login")
    await page.get_by_label("Email").fill(SIGNED_IN_AS)
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in").click()
    meeting = await _first_link(page, f"{base_url}/groups/wellbeing/meetings", "/meetings/")
    report = await _first_link(page, f"{base_url}/groups/wellbeing/reports", "/reports/")
    transparency = await _first_link(page, f"{base_url}/transparency", "/transparency/reports/")
    return {
        "dashboard": "/",
        "meeting": meeting,
        "report-trail": report,
        "transparency-report": transparency,
    }


async def _photograph(base_url: str) -> list[Path]:
    made = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            for width in WIDTHS:
                context = await browser.new_context(viewport={"width": width, "height": HEIGHT})
                page = await context.new_page()
                for name, path in (await _pages(page, base_url)).items():
                    await page.goto(base_url + path)
                    target = OUTPUT / f"{name}-{width}.png"
                    await page.screenshot(path=str(target), full_page=True)
                    made.append(target)
                await context.close()
        finally:
            await browser.close()
    return made


def main() -> int:
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    shutil.rmtree(DATA, ignore_errors=True)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = _environment(base_url)
    python = sys.executable
    subprocess.run([python, "-c", CLI, "init", "--demo"], cwd=ROOT, env=env, check=True)
    server = subprocess.Popen(
        [python, "-c", CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
    )
    try:
        _wait_until_up(base_url, server)
        made = asyncio.run(_photograph(base_url))
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    for path in made:
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
