"""No form answers 500, whatever is typed into it.

As a chair, a member, the Director, a Board member and an administrator, the pages reachable
from the dashboard are crawled (and, not signed in, those from the sign-in pages), following
links, a few pages for each address pattern, and every <form> on them is read: its action,
its fields with their values, its CSRF token. Each distinct form (by method, address pattern
and field names) is then sent with each field in turn given one awkward value while the
others keep what the page filled in, and once with every field given it: empty, 100,000
characters, control characters, digits that are not ASCII (², ①, ٣) and markup. Every
answer must be a page, a redirect or a 4xx, and so must the page a redirect leads to; none
a 500.

The world is the access world (tests/access_world.py), built once for the module and put
back as it was after any post that changed it, so each form meets the records as built.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from governance.core import exports as core_exports
from tests.access_world import Dump, World, build_world, counts, dump, empty_all_tables, restore
from tests.helpers import sign_in

pytestmark = pytest.mark.slow

ROLES = ("chair", "member", "director", "board", "admin")
# Where each crawl starts: the dashboard, or for someone not signed in the sign-in pages.
START_PAGES = {"anonymous": ("/login", "/forgot-password")}
VALUES = {
    "empty": "",
    "huge": "x" * 100_000,
    "control characters": "a\x00b\x07c\r\nd\x1b[0m\x7f\u2028e\x0c",
    "unicode digits": "²①٣",
    "markup": '<script>alert(1)</script><b onmouseover="x">"\'&amp;</b>',
}
# A GET form's values travel in the address, which clients and servers cap (httpx at 64 KiB,
# uvicorn's parser at 16 KiB a request head): as long as one gets through.
HUGE_IN_ADDRESS = "x" * 8_000
# Not crawled: leaving (the session ends), files rather than pages, static assets.
NOT_CRAWLED = re.compile(r"^/(logout|static/)|\.(ics|csv|pdf|svg|json)$|/export/")
# Not fuzzed: signing out ends the session the rest of the crawl uses.
NOT_FUZZED = {"/logout"}
MAX_PAGES = 150
# Pages of one pattern hold different forms at different stages (a meeting scheduled, held,
# with minutes circulated or approved): a few of each are read.
PAGES_PER_PATTERN = 6
# Typed values a page leaves empty, so that the other fields of a form are plausible.
TYPED_DEFAULTS = {"date": "2031-01-15", "datetime-local": "2031-01-15T10:00", "number": "1"}

# One line for each request is noise around a failure.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class Field:
    name: str
    value: str
    # Checkboxes and radio buttons that are not checked are not sent with the form.
    sent: bool = True


@dataclass
class Form:
    method: str
    action: str
    fields: list[Field] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.method, pattern(self.action), tuple(sorted({f.name for f in self.fields})))

    def values(self) -> dict[str, list[str]]:
        sent: dict[str, list[str]] = {}
        for each in self.fields:
            if each.sent:
                sent.setdefault(each.name, []).append(each.value)
        return sent


def pattern(url: str) -> str:
    """An address with its ids, groups' short names and tokens generalised."""
    path = urlsplit(url).path
    path = re.sub(r"/groups/(?!new$|lines/|memberships/)[\w-]+", "/groups/{slug}", path)
    return re.sub(r"/[0-9]+(?=/|\.|$)|/[A-Za-z0-9_.-]{24,}(?=/|$)", "/{}", path)


class PageReader(HTMLParser):
    """The links and the forms of a page."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "a" and found.get("href"):
            self.links.append(urljoin(self.url, found["href"]))
        elif tag == "form":
            method = found.get("method", "get").upper()
            self._form = Form(method, urljoin(self.url, found.get("action") or self.url))
            self.forms.append(self._form)
        elif self._form is not None and found.get("name"):
            self._field(tag, found)
        elif tag == "option" and self._select is not None and self._takes(found):
            self._select.value = found.get("value", "")

    def _takes(self, option: dict[str, str]) -> bool:
        """The option a select sends: the one marked selected, else the first."""
        assert self._select is not None
        return "selected" in option or not self._select.value

    def _field(self, tag: str, found: dict[str, str]) -> None:
        assert self._form is not None
        kind = found.get("type", "text").lower()
        if tag == "input" and kind in {"submit", "button", "image", "reset", "file"}:
            return
        each = Field(found["name"], found.get("value", ""))
        if tag == "input" and kind in {"checkbox", "radio"}:
            each.sent = "checked" in found
            each.value = found.get("value", "on")
        elif tag == "input" and not each.value:
            each.value = TYPED_DEFAULTS.get(kind, "")
        elif tag == "select":
            self._select = each
        elif tag == "textarea":
            self._textarea = each
        elif tag == "button":
            # A named button sends its value only when it is the one pressed.
            each.sent = False
        self._form.fields.append(each)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


@dataclass
class Finding:
    role: str
    form: str
    value: str
    fuzzed: str
    # The request that was answered: the form's, or the page it redirected to.
    answered: str
    status: int


class Pristine:
    """The module's world, and its rows as built, to put back after a post changed them."""

    def __init__(self) -> None:
        self.world: World | None = None
        self.rows: Dump = {}
        self.counts: list[Any] = []

    async def start(self) -> World:
        if self.world is None:
            await empty_all_tables()
            self.world = await build_world()
            self.rows = await dump()
            self.counts = await counts()
        return self.world

    async def put_back(self) -> bool:
        """True if the world had changed (every change records an audit event: a row)."""
        if await counts() == self.counts:
            return False
        await restore(self.rows, await dump())
        return True


@pytest.fixture(autouse=True)
async def empty_database(database: None) -> AsyncIterator[None]:
    """Replaces the suite's emptying after every test: this module keeps its world."""
    yield


@pytest.fixture(scope="module")
async def pristine(database: None) -> AsyncIterator[Pristine]:
    kept = Pristine()
    try:
        yield kept
    finally:
        # The rest of the suite starts from an empty database.
        await empty_all_tables()


@pytest.fixture(scope="module", autouse=True)
def no_pdf_rendering() -> Iterator[None]:
    """A PDF takes half a second to make, and no form's answer is one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(core_exports, "render_pdf", lambda html, base_url: b"%PDF-1.7 form fuzz")
        yield


async def crawl(client: httpx.AsyncClient, role: str) -> list[Form]:
    """Every distinct form on the pages reachable from the role's start pages."""
    queue = [f"http://testserver{path}" for path in START_PAGES.get(role, ("/",))]
    seen: set[str] = set()
    per_pattern: Counter[str] = Counter()
    forms: dict[tuple[str, str, tuple[str, ...]], Form] = {}
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0).split("#")[0]
        parts = urlsplit(url)
        if parts.netloc != "testserver" or NOT_CRAWLED.search(parts.path) or url in seen:
            continue
        if per_pattern[pattern(url)] >= PAGES_PER_PATTERN:
            continue
        seen.add(url)
        per_pattern[pattern(url)] += 1
        response = await client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        if response.status_code != 200 or "text/html" not in response.headers["content-type"]:
            continue
        reader = PageReader(url)
        reader.feed(response.text)
        queue.extend(reader.links)
        for form in reader.forms:
            if urlsplit(form.action).path not in NOT_FUZZED:
                forms.setdefault(form.key, form)
    return list(forms.values())


def variants(form: Form) -> Iterator[tuple[str, str, dict[str, list[str]]]]:
    """(value's name, what was fuzzed, the data): each field in turn, then all of them."""
    fuzzable = sorted({f.name for f in form.fields if f.name != "_csrf_token"})
    if not fuzzable:
        # A button (mark held, circulate, submit): sent as it is.
        yield "empty", "no field", form.values()
    for value_name, value in VALUES.items():
        if value_name == "huge" and form.method == "GET":
            value = HUGE_IN_ADDRESS
        for name in fuzzable:
            yield value_name, name, {**form.values(), name: [value]}
        if len(fuzzable) > 1:
            yield value_name, "every field", {**form.values(), **{n: [value] for n in fuzzable}}


async def send_and_follow(
    client: httpx.AsyncClient, form: Form, data: dict[str, list[str]]
) -> list[httpx.Response]:
    """The answer to the form and, if it redirects, the page it leads to: what was saved
    must show as well as be accepted."""
    path = urlsplit(form.action).path
    if form.method == "GET":
        response = await client.get(path, params=data)
    else:
        response = await client.post(path, data=data)
    location = response.headers.get("location", "")
    if response.is_redirect and location.startswith("/") and not location.startswith("/login"):
        return [response, await client.get(location)]
    return [response]


def acceptable(response: httpx.Response) -> bool:
    """A page, a redirect or a 4xx."""
    status = response.status_code
    content_type = response.headers.get("content-type", "")
    if 300 <= status < 400 or 400 <= status < 500:
        return True
    return status < 300 and content_type.startswith("text/html")


async def fuzz_forms(client: httpx.AsyncClient, pristine: Pristine, role: str) -> list[Finding]:
    world = await pristine.start()
    if role != "anonymous":
        await sign_in(client, world.users[role])
    findings: dict[tuple[str, str, str], Finding] = {}
    for form in await crawl(client, role):
        for value_name, fuzzed, data in variants(form):
            for response in await send_and_follow(client, form, data):
                if not acceptable(response):
                    finding = Finding(
                        role,
                        f"{form.method} {pattern(form.action)}",
                        value_name,
                        fuzzed,
                        f"{response.request.method} {pattern(str(response.request.url))}",
                        response.status_code,
                    )
                    findings.setdefault((finding.form, value_name, fuzzed), finding)
            if await pristine.put_back() and role != "anonymous":
                # The post may have ended the session (a password changed, an account
                # deactivated): the next form is sent signed in again.
                await sign_in(client, world.users[role])
    return list(findings.values())


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
async def test_no_form_answers_500(
    client: httpx.AsyncClient, pristine: Pristine, role: str
) -> None:
    findings = await fuzz_forms(client, pristine, role)
    summary = "\n".join(
        f"{f.form} [{f.fuzzed} = {f.value}]: {f.answered} -> {f.status}" for f in findings
    )
    assert not findings, f"{len(findings)} answers that are not a page, redirect or 4xx:\n{summary}"


def test_pages_are_read_for_their_forms() -> None:
    reader = PageReader("http://testserver/meetings/7")
    reader.feed(
        '<a href="/groups/alpha">Alpha</a>'
        '<form method="post" action="/meetings/7/attendance">'
        '<input type="hidden" name="_csrf_token" value="tok">'
        '<input name="title" value="Board &amp; staff"><input type="date" name="on">'
        '<input type="checkbox" name="present" value="3" checked>'
        '<input type="checkbox" name="present" value="4">'
        '<select name="mode"><option value="a">A</option><option value="b" selected>B</option>'
        "</select><textarea name=notes>Line</textarea><button type=submit>Save</button></form>"
    )
    assert reader.links == ["http://testserver/groups/alpha"]
    [form] = reader.forms
    assert (form.method, form.action) == ("POST", "http://testserver/meetings/7/attendance")
    assert form.values() == {
        "_csrf_token": ["tok"],
        "title": ["Board & staff"],
        "on": ["2031-01-15"],
        "present": ["3"],
        "mode": ["b"],
        "notes": ["Line"],
    }
    assert form.key == (
        "POST",
        "/meetings/{}/attendance",
        ("_csrf_token", "mode", "notes", "on", "present", "title"),
    )
