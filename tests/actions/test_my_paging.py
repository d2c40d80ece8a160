"""My actions a page at a time, soonest due first, with status and due-date filters kept
in the page links; every page costs what the first does; bad filters are said, never a
500."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import httpx

from governance.actions.schemas import NewAction, StatusChange
from governance.actions.services import create_action, update_status
from governance.core.clock import organisation_today
from tests.factories import make_group, make_membership, make_user, viewer_for
from tests.helpers import QueryCounter, field_error, found, sign_in


async def _world() -> tuple[int, list[int]]:
    """45 actions owned by one member, due a day apart (every fifth done), and one of
    someone else's. Returns the owner and their actions' ids by due date."""
    group = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    owner = await make_user("owner@example.org", "Owner Person")
    other = await make_user("other@example.org", "Other Person")
    await make_membership(owner, group, "chair", organisation_today() - dt.timedelta(days=90))
    elsewhere = await make_group(slug="ndi", name="NDI")
    await make_membership(other, elsewhere, "chair", organisation_today() - dt.timedelta(days=90))
    chair = await viewer_for(owner)
    ids = []
    for number in range(45):
        action_id = await create_action(
            group,
            NewAction(
                title=f"Mine {number}",
                due_on=organisation_today() + dt.timedelta(days=number + 1),
                owner_ids=[owner],
                visibility="board" if number % 3 == 1 else "internal",
            ),
            chair,
        )
        ids.append(action_id)
        if number % 5 == 0:
            await update_status(action_id, StatusChange(status="done", note=""), chair)
    await create_action(
        elsewhere,
        NewAction(title="NOT-MINE", due_on=organisation_today(), owner_ids=[other]),
        await viewer_for(other),
    )
    return owner, ids


def _ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/actions/(\d+)"', html)]


def _later(html: str) -> str | None:
    if 'aria-label="My actions pages"' not in html:
        return None
    nav = html.split('aria-label="My actions pages"')[1].split("</nav>")[0]
    found = re.search(r'<a href="([^"]+)" rel="next">Due later</a>', nav)
    return unescape(found.group(1)) if found else None


async def _walk(
    client: httpx.AsyncClient, counter: QueryCounter, url: str
) -> tuple[list[list[int]], set[int], str]:
    pages, costs, text = [], set(), ""
    while url:
        with counter(navigation_kept=True):
            response = await client.get(url)
        assert response.status_code == 200, response.text
        costs.add(counter.count)
        pages.append(_ids(response.text))
        text += response.text
        url = _later(response.text) or ""
    return pages, costs, text


async def test_my_actions_come_a_page_at_a_time_at_a_fixed_cost(
    client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    owner, ids = await _world()
    await sign_in(client, owner)
    await client.get("/actions")
    pages, costs, text = await _walk(client, count_queries, "/actions")
    assert [len(page) for page in pages] == [20, 20, 5]
    assert [i for page in pages for i in page] == ids
    assert "NOT-MINE" not in text
    assert len(costs) == 1, costs  # a page deep in the list costs what the first does
    # Back from the second page: the first again.
    second = (await client.get(_later((await client.get("/actions")).text) or "")).text
    nav = second.split('aria-label="My actions pages"')[1].split("</nav>")[0]
    earlier = unescape(found(re.search(r'<a href="([^"]+)" rel="prev">Due earlier</a>', nav))[1])
    assert _ids((await client.get(earlier)).text) == ids[:20]


async def test_the_filters_are_kept_from_page_to_page(
    client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    owner, ids = await _world()
    await sign_in(client, owner)
    today = organisation_today()
    since, until = today + dt.timedelta(days=3), today + dt.timedelta(days=40)
    url = f"/actions?status=open&due_from={since.isoformat()}&due_to={until.isoformat()}"
    pages, _, _ = await _walk(client, count_queries, url)
    expected = [
        action_id
        for number, action_id in enumerate(ids)
        if number % 5 != 0 and since <= today + dt.timedelta(days=number + 1) <= until
    ]
    assert [len(page) for page in pages] == [20, len(expected) - 20]
    assert [i for page in pages for i in page] == expected


async def test_bad_filters_and_cursors_are_said_never_a_500(client: httpx.AsyncClient) -> None:
    owner, _ = await _world()
    await sign_in(client, owner)
    response = await client.get("/actions?due_from=2026-13-45&status=late")
    assert response.status_code == 422
    assert field_error(response.text, "due_from")
    assert field_error(response.text, "status") == "Choose open, in progress, done or dropped."
    assert len(_ids(response.text)) == 20  # the rest of the list still shows
    backwards = await client.get("/actions?due_from=2026-12-10&due_to=2026-12-01")
    assert backwards.status_code == 422
    assert "before the first" in (field_error(backwards.text, "due_to") or "")
    for cursor in ("W10", "not-a-cursor", "x" * 300):
        refused = await client.get(f"/actions?cursor={cursor}")
        assert refused.status_code in (400, 422), cursor
