"""A group's actions a page at a time, soonest due first, with the reader's visibility in
the query: the Director's page of 20 is full, with no gap where a Board-only action is, and
their pages hold every action they may read once; the Board's hold them all."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import httpx

from governance.accounts.services import issue_api_token
from governance.actions.schemas import NewAction
from governance.actions.services import create_action
from governance.actions.tables import ActionItem
from governance.core.clock import organisation_today
from tests.factories import make_group, make_membership, make_user, viewer_for
from tests.helpers import QueryCounter, sign_in

SECRET = "Board-only action"


async def _world() -> tuple[dict[str, int], list[int], list[int]]:
    """45 actions due a day apart, every third one Board-only, two of them overdue.
    Returns the people, every id by due date and the ids the Director may read."""
    group = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    start = organisation_today() - dt.timedelta(days=300)
    people = {
        "chair": await make_user("chair@example.org", "Chair Person"),
        "director": await make_user("director@example.org", "The Director", director=True),
        "board": await make_user("board@example.org", "Board Member", board=True),
    }
    await make_membership(people["chair"], group, "chair", start)
    chair = await viewer_for(people["chair"])
    every, internal = [], []
    for number in range(45):
        board = number % 3 == 1
        action_id = await create_action(
            group,
            NewAction(
                title=f"{SECRET} {number}" if board else f"Action {number}",
                due_on=organisation_today() + dt.timedelta(days=number + 1),
                owner_ids=[people["chair"]],
                visibility="board" if board else "internal",
            ),
            chair,
        )
        every.append(action_id)
        if not board:
            internal.append(action_id)
    # Two overdue, one of them Board-only.
    for action_id in (every[0], every[1]):
        await ActionItem.update(
            {ActionItem.due_on: organisation_today() - dt.timedelta(days=5)}
        ).where(ActionItem.id == action_id)
    return people, every, internal


def _ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/actions/(\d+)"', html)]


def _later(html: str) -> str | None:
    if 'aria-label="Action pages"' not in html:
        return None
    nav = html.split('aria-label="Action pages"')[1].split("</nav>")[0]
    found = re.search(r'<a href="([^"]+)" rel="next">Due later</a>', nav)
    return unescape(found.group(1)) if found else None


async def _walk(
    client: httpx.AsyncClient, counter: QueryCounter
) -> tuple[list[list[int]], set[int], str]:
    pages, costs, url, text = [], set(), "/groups/wellbeing/actions", ""
    while url:
        with counter():
            response = await client.get(url)
        assert response.status_code == 200, response.text
        costs.add(counter.count)
        pages.append(_ids(response.text))
        text += response.text
        url = _later(response.text) or ""
    return pages, costs, text


async def test_the_directors_pages_are_full_and_hide_nothing(
    client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    people, every, internal = await _world()
    await sign_in(client, people["director"])
    pages, costs, text = await _walk(client, count_queries)
    expected = [every[1]] + [i for i in internal if i != every[1]]  # overdue ones first
    assert [len(page) for page in pages] == [20, 10]
    assert [i for page in pages for i in page] == sorted(internal, key=expected.index)
    assert SECRET not in text
    assert len(costs) == 1  # the second page costs what the first does
    first = (await client.get("/groups/wellbeing/actions")).text
    assert "1 overdue." in first  # counted among what the Director may read

    client.cookies.clear()
    await sign_in(client, people["board"])
    pages, _, text = await _walk(client, count_queries)
    assert [len(page) for page in pages] == [20, 20, 5]
    assert sorted(i for page in pages for i in page) == sorted(every)
    assert "2 overdue." in (await client.get("/groups/wellbeing/actions")).text


async def test_the_api_pages_actions_with_limit_and_cursor(client: httpx.AsyncClient) -> None:
    _, _, internal = await _world()
    headers = {"Authorization": f"Bearer {await issue_api_token('director@example.org')}"}
    seen, cursor = [], ""
    while True:
        answer = await client.get(
            "/api/v1/groups/wellbeing/actions",
            params={"limit": 8, "cursor": cursor},
            headers=headers,
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert len(body["actions"]) == 8 or body["older"] is None
        assert body["overdue_count"] == 1
        seen += [action["id"] for action in body["actions"]]
        if body["older"] is None:
            break
        cursor = body["older"]
    assert sorted(seen) == sorted(internal) and len(seen) == len(internal)
    assert SECRET not in answer.text
    for params in ({"limit": 0}, {"limit": 101}, {"cursor": "W10"}):
        refused = await client.get(
            "/api/v1/groups/wellbeing/actions", params=params, headers=headers
        )
        assert refused.status_code in (400, 422), params
        assert refused.headers["content-type"].startswith("application/problem+json")


async def test_the_group_list_filters_by_due_date_on_the_page_and_the_api(
    client: httpx.AsyncClient,
) -> None:
    people, _, internal = await _world()
    today = organisation_today()
    since, until = today + dt.timedelta(days=10), today + dt.timedelta(days=35)
    due = await ActionItem.select(ActionItem.id, ActionItem.due_on)
    between = {row["id"] for row in due if since <= row["due_on"] <= until}
    expected = [i for i in internal if i in between]
    headers = {"Authorization": f"Bearer {await issue_api_token('director@example.org')}"}
    params: dict[str, str | int] = {
        "due_from": since.isoformat(),
        "due_to": until.isoformat(),
        "limit": 10,
    }
    answer = (
        await client.get("/api/v1/groups/wellbeing/actions", params=params, headers=headers)
    ).json()
    later = await client.get(
        "/api/v1/groups/wellbeing/actions",
        params={**params, "cursor": answer["older"]},
        headers=headers,
    )
    ids = [a["id"] for a in answer["actions"]] + [a["id"] for a in later.json()["actions"]]
    assert ids == expected and later.json()["older"] is None
    for bad in ({"due_from": "2026-02-30"}, {"due_from": "2026-12-10", "due_to": "2026-12-01"}):
        refused = await client.get("/api/v1/groups/wellbeing/actions", params=bad, headers=headers)
        assert refused.status_code in (400, 422), bad
        assert refused.headers["content-type"].startswith("application/problem+json")
    await sign_in(client, people["director"])
    url = f"/groups/wellbeing/actions?due_from={since.isoformat()}&due_to={until.isoformat()}"
    assert _ids((await client.get(url)).text) == expected
    backwards = await client.get("/groups/wellbeing/actions?due_from=2026-12-10&due_to=2026-12-01")
    assert backwards.status_code == 422 and "before the first" in backwards.text
