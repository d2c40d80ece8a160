"""Every moment and date the JSON API answers with is ISO 8601 (issue 16): never a
formatted string meant for a page ("2 Dec 2026, 20:29 (Europe/London)").

The crawl walks every GET route of the OpenAPI description over the demo organisation,
as a Board member and as an administrator, filling each route's id with ids the answers
gave, and reads every string of every answer, and the transparency reports' JSON files."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from governance.accounts.tables import User
from governance.demo import seed_demo
from governance.groups.services import seed_default_groups
from governance.transparency.tables import TransparencyReport
from tests.helpers import sign_in

pytestmark = pytest.mark.slow

MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
# How a page writes a date: "2 Dec 2026", "Dec 2, 2026".
HUMAN_DATE = re.compile(
    rf"\b\d{{1,2}} ({MONTHS})[a-z]* \d{{4}}\b|\b({MONTHS})[a-z]* \d{{1,2}}, \d{{4}}"
)
PROSE_KEYS = {"title", "body", "text", "narrative"}
MOMENT_KEY = re.compile(r"(_at|_on|^date|_date|^due|^starts|^ends)$")
PATH_PARAMETER = re.compile(r"\{[^}]+\}")
IDS_PER_ROUTE = 3


def strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every (key, string) pair anywhere in a JSON value."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from strings(item, str(name))
    elif isinstance(value, list):
        for item in value:
            yield from strings(item, key)
    elif isinstance(value, str):
        yield key, value


def ids(value: Any) -> Iterator[int]:
    if isinstance(value, dict):
        for name, item in value.items():
            if (name == "id" or name.endswith("_id")) and isinstance(item, int):
                yield item
            yield from ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from ids(item)


def non_iso_strings(body: Any) -> list[tuple[str, str]]:
    wrong = []
    for key, text in strings(body):
        formatted = HUMAN_DATE.search(text) and key not in PROSE_KEYS
        if formatted or (MOMENT_KEY.search(key) and text and not _is_iso(text)):
            wrong.append((key, text))
    return wrong


def _is_iso(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


async def _crawl(client: httpx.AsyncClient) -> dict[str, list[tuple[str, str]]]:
    spec = (await client.get("/schema/openapi.json")).json()
    routes = [
        path
        for path, operations in spec["paths"].items()
        if "get" in operations and path.startswith("/api/")
    ]
    seen_ids: list[int] = []
    found: dict[str, list[tuple[str, str]]] = {}
    fixed = [path for path in routes if not PATH_PARAMETER.search(path)]
    for path in fixed:
        response = await client.get(path)
        if response.headers.get("content-type", "").startswith("application/json"):
            body = response.json()
            seen_ids.extend(ids(body))
            found[path] = non_iso_strings(body)
    candidates = sorted(set(seen_ids))[:40]
    for template in (path for path in routes if PATH_PARAMETER.search(path)):
        answered = 0
        for candidate in candidates:
            path = PATH_PARAMETER.sub(str(candidate), template)
            response = await client.get(path)
            if response.status_code != 200:
                continue
            if not response.headers.get("content-type", "").startswith("application/json"):
                break  # a file (a PDF, a calendar): not JSON, whichever id
            found[path] = non_iso_strings(response.json())
            answered += 1
            if answered >= IDS_PER_ROUTE:
                break
    return found


async def _user_id(email: str) -> int:
    row = await User.select(User.id).where(User.email == email).first()
    assert row is not None
    return int(row["id"])


@pytest.mark.parametrize("email", ["board@example.org", "admin@example.org"])
async def test_every_api_answer_writes_moments_in_iso_8601(
    client: httpx.AsyncClient, email: str
) -> None:
    await seed_default_groups()
    await seed_demo()
    await sign_in(client, await _user_id(email))
    found = await _crawl(client)
    assert len(found) >= 8, "the crawl reached too few routes to mean anything"
    assert {path: wrong for path, wrong in found.items() if wrong} == {}


async def test_transparency_json_files_write_publication_in_iso_8601(
    client: httpx.AsyncClient,
) -> None:
    await seed_default_groups()
    await seed_demo()
    await sign_in(client, await _user_id("board@example.org"))
    reports = await TransparencyReport.select(TransparencyReport.id).where(
        TransparencyReport.status == "published"
    )
    assert reports
    for report in reports:
        body = (await client.get(f"/transparency/reports/{report['id']}/json")).json()
        assert dt.datetime.fromisoformat(body["published_at"]).tzinfo is not None
        assert non_iso_strings(body) == []
