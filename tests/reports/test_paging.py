"""A group's reports a page at a time, newest first, the reader's visibility in the query:
the Director's pages are full, with no gap where a Board-only report is."""

from __future__ import annotations

import datetime as dt
import re

import httpx

from governance.accounts.services import issue_api_token
from governance.core.clock import utcnow
from governance.reports.tables import Report
from tests.factories import make_group, make_user
from tests.helpers import sign_in

SECRET = "Board-only report"


async def _world() -> tuple[list[int], list[int]]:
    """40 submitted reports a day apart, every fourth one Board-only; one draft. Returns
    every submitted id newest first, and those the Director may read."""
    group = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    author = await make_user("chair@example.org", "Chair Person")
    await make_user("director@example.org", "The Director", director=True)
    now = utcnow().replace(microsecond=0)
    every, internal = [], []
    for number in range(40):
        board = number % 4 == 2
        at = now - dt.timedelta(days=number)
        rows = await Report.insert(
            Report(
                group=group,
                kind="recommendation",
                title=f"{SECRET} {number}" if board else f"Report {number}",
                visibility="board" if board else "internal",
                status="submitted",
                created_by=author,
                created_at=at,
                updated_at=at,
                submitted_at=at,
                submitted_by=author,
            )
        ).returning(Report.id)
        every.append(int(rows[0]["id"]))
        if not board:
            internal.append(int(rows[0]["id"]))
    return every, internal


async def test_the_directors_report_pages_are_full_and_hide_nothing(
    client: httpx.AsyncClient,
) -> None:
    _, internal = await _world()
    headers = {"Authorization": f"Bearer {await issue_api_token('director@example.org')}"}
    url = "/api/v1/groups/wellbeing/reports"
    first = (await client.get(url, headers=headers)).json()
    assert [r["id"] for r in first["reports"]] == internal[:20]
    assert first["newer"] is None and first["older"]
    second = (await client.get(url, params={"cursor": first["older"]}, headers=headers)).json()
    assert [r["id"] for r in second["reports"]] == internal[20:]
    assert second["older"] is None
    back = (await client.get(url, params={"cursor": second["newer"]}, headers=headers)).json()
    assert [r["id"] for r in back["reports"]] == internal[:20]
    assert SECRET not in str(first) + str(second)
    refused = await client.get(url, params={"cursor": "W10"}, headers=headers)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    drafts = (await client.get(url, params={"status": "draft"}, headers=headers)).json()
    assert drafts["reports"] == []


async def test_the_report_page_links_to_the_next_page(client: httpx.AsyncClient) -> None:
    _, internal = await _world()
    director = await make_user("reader@example.org", "Reader", director=True)
    await sign_in(client, director)
    html = (await client.get("/groups/wellbeing/reports")).text
    assert 'aria-label="Report pages"' in html
    ids = [int(n) for n in re.findall(r'href="/reports/(\d+)"', html)]
    assert ids == internal[:20]
    older = re.search(r'<a href="([^"]+)" rel="next">Older</a>', html)
    assert older is not None
    page = (await client.get(older.group(1).replace("&amp;", "&").split("#")[0])).text
    assert [int(n) for n in re.findall(r'href="/reports/(\d+)"', page)] == internal[20:]
    assert SECRET not in html + page
