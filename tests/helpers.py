"""Helpers for tests: signing in, posting forms with their CSRF token, counting queries,
and a real SMTP server on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import re
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx
from aiosmtpd.controller import Controller

from governance.accounts.auth import session_cookie_value  # noqa: F401 - re-exported for tests
from governance.accounts.sessions import SESSION_COOKIE, start_session

if TYPE_CHECKING:
    from litestar import Litestar

CSRF_COOKIE = "governance_csrf"

T = TypeVar("T")


def found(value: T | None) -> T:
    """What a look-up found: a `.first()` row, a `re.search` match, a `.get()` object.
    Fails the test, saying so, when it found nothing, instead of a TypeError further on;
    and tells the type checker the value is there."""
    assert value is not None, "expected to find it, found nothing"
    return value


def asgi_transport(app: Litestar, *, client: tuple[str, int]) -> httpx.ASGITransport:
    """httpx's transport to the app, as a browser at `client` (address, port). Litestar types
    its ASGI callable by its own scope and event types, httpx by plain mappings: both are
    ASGI, so the app is handed over as the callable httpx expects."""
    return httpx.ASGITransport(app=cast(Callable[..., Awaitable[None]], app), client=client)


async def sign_in(client: httpx.AsyncClient, user_id: int) -> str:
    """Gives the client a live session for the user without going through the form."""
    token = await start_session(user_id, "203.0.113.7", "pytest", previous_token=None)
    client.cookies.set(SESSION_COOKIE, token)
    return token


async def csrf_token(client: httpx.AsyncClient, page: str = "/login") -> str:
    if CSRF_COOKIE not in client.cookies:
        await client.get(page)
    return client.cookies[CSRF_COOKIE]


async def post_form(
    client: httpx.AsyncClient,
    url: str,
    data: Mapping[str, Any] | None = None,
    with_csrf: bool = True,
) -> httpx.Response:
    payload = dict(data or {})
    if with_csrf:
        payload["_csrf_token"] = await csrf_token(client)
    return await client.post(url, data=payload)


async def shown_after_refusal(
    client: httpx.AsyncClient, response: httpx.Response
) -> httpx.Response:
    """A form refused on a page of several is answered with a 303 to the page's own address
    (Post/Redirect/Get), whose view shows the refusal: that page, with the 303 in its
    history."""
    assert response.status_code == 303, (response.status_code, response.text[:300])
    shown = await client.get(response.headers["location"])
    shown.history = [response]
    assert shown.status_code == 200, shown.status_code
    return shown


def field_error(html: str, name: str) -> str | None:
    """The error message shown under a form field, if any."""
    match = re.search(rf'<p class="error" id="{re.escape(name)}-error">([^<]*)</p>', html)
    return match.group(1) if match else None


class QueryCounter:
    """Counts SQL statements sent while the block runs."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.count = 0

    @contextlib.contextmanager
    def __call__(self, *, navigation_kept: bool = False) -> Iterator[QueryCounter]:
        # A page is counted as it costs after a change: the navigation's kept "needs me"
        # count is forgotten first, so two pages counted in a row compare like with like;
        # `navigation_kept` counts the page as it costs when nothing has changed since.
        from governance.notifications.needs_me import forget_recent_tasks

        if not navigation_kept:
            forget_recent_tasks()
        before = self.engine.queries_run
        yield self
        self.count = self.engine.queries_run - before


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class _Handler:
    messages: list[EmailMessage] = field(default_factory=list)
    # Each message as the server received it, before any decoding.
    raw: list[bytes] = field(default_factory=list)
    # A code to answer DATA with, to simulate temporary (4xx) or permanent (5xx) failure.
    reply: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply:
            return self.reply
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        self.raw.append(bytes(envelope.content))
        return "250 Message accepted for delivery"


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = _Handler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    @property
    def raw(self) -> list[bytes]:
        return self.handler.raw

    def fail_with(self, reply: str | None) -> None:
        self.handler.reply = reply

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.controller.stop()


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


@dataclass
class _FaultyHandler(_Handler):
    """Stores each message as a server would, then misbehaves as `mode` says:

    - "slow": keeps the reply to the final dot until `release` is set (a slow server);
    - "die": drops the connection instead of replying (stored, but the client never hears).
    `stored` is set each time a message has been stored, so tests wait for it."""

    mode: str = "slow"
    stored: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        self.raw.append(bytes(envelope.content))
        self.stored.set()
        if self.mode == "die":
            server.transport.abort()
            return "250 Stored, but nobody hears it"
        # The server's own event loop runs in its own thread: wait there, not here.
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        return "250 Message accepted for delivery"


class FaultySmtp(SmtpSink):
    """An aiosmtpd server on 127.0.0.1 that stores every message and then misbehaves."""

    handler: _FaultyHandler

    def __init__(self, mode: str) -> None:
        self.port = free_port()
        self.handler = _FaultyHandler(mode=mode)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    async def wait_until_stored(self) -> None:
        # A bound on the wait so a broken test fails instead of hanging; not a timing.
        assert await asyncio.to_thread(self.handler.stored.wait, 60), "nothing stored"

    def release(self) -> None:
        self.handler.release.set()

    def copies(self) -> dict[str, int]:
        """How many times each Message-ID was stored."""
        counts: dict[str, int] = {}
        for message in self.messages:
            counts[str(message["Message-ID"])] = counts.get(str(message["Message-ID"]), 0) + 1
        return counts

    def stop(self) -> None:
        self.release()
        super().stop()
