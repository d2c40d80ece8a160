"""A group's meetings list pages its past and cancelled meetings, latest first, 20 a page,
with "Newer"/"Older" links (and `limit`/`cursor` in the API), filtered by status and dates;
every meeting once, in order; a page deep in the list costs the queries of the first."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import httpx

from governance.accounts.services import issue_api_token
from governance.core.clock import organisation_today, organisation_zone, utcnow
from governance.meetings.tables import Meeting
from tests.factories import make_group, make_membership, make_user
from tests.helpers import QueryCounter, sign_in


async def _world() -> tuple[int, list[int], list[int]]:
    """A member; 45 past meetings a week apart (every fifth cancelled), two ahead.
    Returns the member, the past ids latest first, and the cancelled ones."""
    group = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    member = await make_user("member@example.org", "Member One")
    await make_membership(member, group, "member", organisation_today() - dt.timedelta(days=999))
    now = utcnow().replace(microsecond=0)
    # Each at noon of its day in the organisation's time zone, so that the day it falls on
    # is the same whatever the hour the test runs at (the date filters count such days).
    noon = dt.time(12, tzinfo=organisation_zone())
    past, cancelled = [], []
    for week in range(-2, 45):
        day = organisation_today() - dt.timedelta(days=7 * week + 1)
        starts = dt.datetime.combine(day, noon).astimezone(dt.UTC)
        status = "scheduled" if week < 0 else "cancelled" if week % 5 == 4 else "held"
        rows = await Meeting.insert(
            Meeting(
                group=group,
                title=f"Meeting {week}",
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=2),
                status=status,
                created_at=now,
                updated_at=now,
            )
        ).returning(Meeting.id)
        if week >= 0:
            past.append(int(rows[0]["id"]))
            if status == "cancelled":
                cancelled.append(int(rows[0]["id"]))
    return member, past, cancelled


def _past_ids(html: str) -> list[int]:
    table = html.split('id="past-heading"')[1].split("</table>")[0]
    return [int(n) for n in re.findall(r'href="/meetings/(\d+)"', table)]


def _link(html: str, name: str) -> str | None:
    if 'aria-label="Past meetings pages"' not in html:
        return None
    nav = html.split('aria-label="Past meetings pages"')[1].split("</nav>")[0]
    found = re.search(rf'<a href="([^"]+)" rel="[a-z]+">{name}</a>', nav)
    return unescape(found.group(1)).split("#")[0] if found else None


async def test_the_page_lists_past_meetings_a_page_at_a_time(
    client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    member, past, _ = await _world()
    await sign_in(client, member)
    url = "/groups/wellbeing/meetings"
    first = (await client.get(url)).text
    assert first.count("Meeting -") == 2  # both meetings ahead, on every page
    assert _past_ids(first) == past[:20]
    assert _link(first, "Newer") is None
    seen, html, costs = _past_ids(first), first, []
    while (older := _link(html, "Older")) is not None:
        with count_queries():
            response = await client.get(older)
        assert response.status_code == 200
        costs.append(count_queries.count)
        html = response.text
        seen += _past_ids(html)
    assert seen == past
    with count_queries():
        await client.get(url)
    assert set(costs) == {count_queries.count}
    back = (await client.get(_link(html, "Newer") or "")).text
    assert _past_ids(back) == past[20:40]


async def test_filters_on_the_page_and_their_errors(client: httpx.AsyncClient) -> None:
    member, past, cancelled = await _world()
    await sign_in(client, member)
    html = (await client.get("/groups/wellbeing/meetings?status=cancelled")).text
    assert _past_ids(html) == cancelled
    assert _link(html, "Older") is None
    today = organisation_today()
    since = (today - dt.timedelta(days=7 * 3 + 1)).isoformat()
    until = (today - dt.timedelta(days=1)).isoformat()
    html = (await client.get(f"/groups/wellbeing/meetings?since={since}&until={until}")).text
    assert _past_ids(html) == past[:4]
    refused = await client.get("/groups/wellbeing/meetings?status=maybe&since=yesterday")
    assert refused.status_code == 422
    assert "Choose scheduled, held or cancelled." in refused.text
    bad = await client.get("/groups/wellbeing/meetings?cursor=not-a-cursor")
    assert bad.status_code == 422


async def test_the_api_pages_with_limit_and_cursor(client: httpx.AsyncClient) -> None:
    _, past, cancelled = await _world()
    headers = {"Authorization": f"Bearer {await issue_api_token('member@example.org')}"}
    url = "/api/v1/groups/wellbeing/meetings"
    seen, cursor = [], ""
    while True:
        answer = await client.get(url, params={"limit": 7, "cursor": cursor}, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert len(body["upcoming"]) == 2
        assert len(body["past"]) <= 7
        seen += [meeting["id"] for meeting in body["past"]]
        if body["older"] is None:
            break
        cursor = body["older"]
    assert seen == past
    only = (await client.get(url, params={"status": "cancelled"}, headers=headers)).json()
    assert [meeting["id"] for meeting in only["past"]] == cancelled
    for params in ({"limit": 0}, {"limit": 101}, {"status": "maybe"}, {"cursor": "W10"}):
        refused = await client.get(url, params=params, headers=headers)
        assert refused.status_code in (400, 422), params
        assert refused.headers["content-type"].startswith("application/problem+json")
    schema = (await client.get("/schema/openapi.json")).json()
    names = {
        p["name"] for p in schema["paths"][url.replace("wellbeing", "{slug}")]["get"]["parameters"]
    }
    assert {"limit", "cursor", "status", "since", "until"} <= names
