"""Browser harness: the real app served by uvicorn in the tests' own event loop, driven by the
system's Chromium through Playwright's async API.

Fixtures for browser tests (every test in tests/browser is marked `browser`):

- ``live_server``: base URL (``http://127.0.0.1:PORT``) of the app, served for the whole run.
- ``browser_page``: a Playwright ``Page`` in a fresh browser context (fresh cookies) per test.
- ``browser``: the one Chromium of the run, for a test that needs several contexts at once.
- ``demo_data``: the two default groups and the demo accounts of `governance init --demo`
  (password ``governance.demo.DEMO_PASSWORD``).

``sign_in_through_form(page, base_url, email, password)`` signs in with the real form;
``submit_by_button(page, button)`` presses a button and waits for the answering page.

The server runs as a task in the session event loop, beside the tests, because the database
engine (and on PostgreSQL its connection pool) belongs to that loop. Two consequences for tests:
seed data with awaited service calls before driving the browser, and never hold a database
transaction open while awaiting the browser (on SQLite the server would wait on its lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
from collections.abc import AsyncIterator, Generator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright

from governance.accounts import passwords
from governance.app import create_app
from governance.demo import seed_demo
from governance.groups.services import seed_default_groups

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING_CHROMIUM = (
    f"Chromium not found at {CHROMIUM}: browser tests skipped (apt-get install chromium)"
)
# Playwright waits up to this long for an element or a navigation before failing a test.
ACTION_TIMEOUT_MS = 10_000
SERVER_START_TIMEOUT_SECONDS = 10.0
_HERE = Path(__file__).parent
# Screenshots of pages whose test failed (git-ignored).
FAILURE_SCREENSHOTS = _HERE.parent.parent / "test-results" / "browser"
_FAILED = pytest.StashKey[bool]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Hooks in a conftest see every collected item, so pick out this folder's.
    for item in items:
        if _HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Lets browser_page know, at teardown, whether the test failed (to save a screenshot).
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: Ctrl-C must still stop pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@pytest.fixture(scope="session")
async def live_server(database: None) -> AsyncIterator[str]:
    """Serves create_app() on a free port of 127.0.0.1 in this event loop; yields its base URL.

    Depends on `database` (tests/conftest.py), which opened the engine this server uses: the
    app's own lifespan is off, so the server shares the test run's database and pool.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        create_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = _Server(config)
    # Handing uvicorn the bound socket leaves no gap in which another process takes the port.
    task = asyncio.create_task(server.serve(sockets=[sock]), name="live_server")
    try:
        await _wait_until_accepting(server, task, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
        sock.close()


async def _wait_until_accepting(
    server: uvicorn.Server, task: asyncio.Task[None], port: int
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SERVER_START_TIMEOUT_SECONDS
    while not server.started:
        if task.done():
            # uvicorn exits with SystemExit when it cannot start; show why.
            raise RuntimeError("the live server stopped while starting") from task.exception()
        if loop.time() > deadline:
            raise RuntimeError(f"the live server did not start in {SERVER_START_TIMEOUT_SECONDS}s")
        await asyncio.sleep(0.01)
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()
    await writer.wait_closed()


def _chromium_installed() -> bool:
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def _browser_unavailable() -> None:
    if os.environ.get("GOVERNANCE_BROWSER_REQUIRED") == "1":
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    pytest.skip(MISSING_CHROMIUM)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """The run's one Chromium. Skips browser tests when it is not installed, unless
    GOVERNANCE_BROWSER_REQUIRED=1 (CI), where that is a failure."""
    if not _chromium_installed():
        _browser_unavailable()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def browser_page(
    browser: Browser,
    live_server: str,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Page]:
    """A page in a fresh context (no cookies). When the test fails, a full-page screenshot of
    where it stopped is saved under test-results/browser/ and its path printed."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = await context.new_page()
    try:
        yield page
        if request.node.stash.get(_FAILED, False):
            await _save_failure_screenshot(page, request)
    finally:
        await context.close()


@pytest.fixture
async def no_script_page(browser: Browser) -> AsyncIterator[Page]:
    """A page in a fresh context where JavaScript does not run."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 800}, java_script_enabled=False
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def _save_failure_screenshot(page: Page, request: pytest.FixtureRequest) -> None:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:100]
    path = FAILURE_SCREENSHOTS / f"{name}.png"
    try:
        await page.screenshot(path=str(path), full_page=True)
    except Exception as error:  # a page that crashed is no reason to hide the test's failure
        message = f"could not save a screenshot of {page.url}: {error}"
    else:
        message = f"screenshot of {page.url} saved to {path}"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\n{request.node.nodeid}: {message}")


async def sign_in_through_form(page: Page, base_url: str, email: str, password: str) -> None:
    """Fills in and submits the sign-in form, waiting for the page the server answers with.

    Uses the sign-in page already open (keeping its `next`), or opens /login.
    """
    if not page.url.startswith(f"{base_url}/login"):
        await page.goto(f"{base_url}/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in").click()


async def submit_by_button(page: Page, button: str) -> None:
    """Presses the named button and waits for the page the server answers with."""
    async with page.expect_navigation():
        await page.get_by_role("button", name=button).click()


class _HashOncePerPassword:
    """Wraps the argon2id hasher so that a password is hashed once per run: seeding eight demo
    accounts per test would otherwise spend a second hashing the same password eight times.
    The hashes are real, and verifying them is untouched."""

    def __init__(self, hasher: Any) -> None:
        self._hasher = hasher
        self._hashes: dict[str, str] = {}

    def hash(self, password: str | bytes, **kwargs: Any) -> str:
        key = password if isinstance(password, str) else password.decode()
        if key not in self._hashes:
            self._hashes[key] = self._hasher.hash(password, **kwargs)
        return self._hashes[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hasher, name)


_hasher = _HashOncePerPassword(passwords._hasher)


@pytest.fixture
async def demo_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeds what `governance init --demo` seeds: the two default groups, the demo accounts
    (password governance.demo.DEMO_PASSWORD) and their memberships."""
    monkeypatch.setattr(passwords, "_hasher", _hasher)
    await seed_default_groups()
    await seed_demo()
