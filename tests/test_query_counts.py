"""A page costs a fixed, small number of queries however much data there is: each page is
counted with a little data and again with ten times more."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import httpx
import pytest

from governance.accounts.services import issue_api_token
from governance.accounts.tables import User
from governance.core.clock import organisation_today, utcnow
from governance.groups.tables import Membership
from governance.notifications.needs_me import forget_recent_tasks
from tests.factories import PASSWORD_HASH, make_group, make_meeting, make_membership, make_user
from tests.helpers import QueryCounter, sign_in


def today() -> dt.date:
    return organisation_today()


PAGES = ("/", "/groups", "/groups/group-0")
# The dashboard gathers groups, actions, meetings ahead and reporting lines, read together
# (core/together.py); every signed-in page also counts what waits for its reader for the
# navigation ("needs me", notifications/needs_me.py: the same for every reader, one
# statement, paid after a change, kept otherwise). Read afresh, a page costs at most five.
MOST_QUERIES_A_PAGE = 5
_numbers = itertools.count(1)


async def add_users(count: int) -> list[int]:
    rows = []
    for _ in range(count):
        number = next(_numbers)
        rows.append(
            User(
                email=f"bulk{number}@example.org",
                display_name=f"Bulk person {number}",
                password_hash=PASSWORD_HASH,
                created_at=utcnow(),
            )
        )
    inserted = await User.insert(*rows).returning(User.id)
    return [int(row["id"]) for row in inserted]


async def add_memberships(group_id: int, user_ids: list[int], former: int = 0) -> None:
    """Current members, the first `former` of whom left last month."""
    rows = []
    for index, user_id in enumerate(user_ids):
        ended = index < former
        rows.append(
            Membership(
                user=user_id,
                group=group_id,
                role="chair" if index == former else "member",
                starts_on=today() - dt.timedelta(days=400 if ended else 100),
                ends_on=today() - dt.timedelta(days=30) if ended else None,
            )
        )
    await Membership.insert(*rows)


async def small_world() -> tuple[int, list[int]]:
    """2 groups of 3 members; the reader is one of the first group's."""
    groups = [await make_group(slug=f"group-{n}", name=f"Group {n:02}") for n in range(2)]
    reader = await make_user(name="Reader")
    await make_membership(reader, groups[0], "member")
    await add_memberships(groups[0], await add_users(2))
    await add_memberships(groups[1], await add_users(3))
    return reader, groups


async def grow_tenfold(reader: int, groups: list[int]) -> None:
    """20 groups; 30 current members and several former ones in the reader's group; 300
    memberships in all; the reader also serves on other groups, and once served on one."""
    groups += [await make_group(slug=f"group-{n}", name=f"Group {n:02}") for n in range(2, 20)]
    await add_memberships(groups[0], await add_users(27 + 6), former=6)
    for group_id in groups[1:]:
        await add_memberships(group_id, await add_users(14), former=2)
    await make_membership(reader, groups[1], "secretary")
    await make_membership(reader, groups[2], "chair")
    await make_membership(
        reader,
        groups[3],
        "member",
        today() - dt.timedelta(days=300),
        today() - dt.timedelta(days=1),
    )
    assert await Membership.count() >= 300
    current = await Membership.count().where(
        (Membership.group == groups[0]) & Membership.ends_on.is_null()
    )
    assert current == 30


async def queries_for(client: httpx.AsyncClient, counter: QueryCounter, url: str) -> int:
    """The page's queries with the navigation's count read afresh (as after any change)."""
    forget_recent_tasks()
    with counter():
        response = await client.get(url)
    assert response.status_code == 200, url
    return counter.count


async def test_page_queries_do_not_grow_with_the_data(
    client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    reader, groups = await small_world()
    await sign_in(client, reader)
    for url in PAGES:
        await client.get(url)  # anything done once per process is done before counting
    small = {url: await queries_for(client, count_queries, url) for url in PAGES}

    await grow_tenfold(reader, groups)
    large = {url: await queries_for(client, count_queries, url) for url in PAGES}

    assert large == small
    for url, count in small.items():
        assert 1 <= count <= MOST_QUERIES_A_PAGE, (url, count)


@pytest.mark.parametrize("role", ["admin", "director", "board"])
async def test_page_queries_are_fixed_for_organisation_roles(
    client: httpx.AsyncClient, count_queries: QueryCounter, role: str
) -> None:
    _, groups = await small_world()
    user_id = await make_user(
        admin=role == "admin", director=role == "director", board=role == "board"
    )
    await sign_in(client, user_id)
    small = {url: await queries_for(client, count_queries, url) for url in PAGES}
    await grow_tenfold(await make_user(), groups)
    large = {url: await queries_for(client, count_queries, url) for url in PAGES}
    assert large == small
    assert max(small.values()) <= MOST_QUERIES_A_PAGE


async def test_the_large_pages_show_what_they_count(client: httpx.AsyncClient) -> None:
    reader, groups = await small_world()
    await grow_tenfold(reader, groups)
    await sign_in(client, reader)
    listing = (await client.get("/groups")).text
    assert listing.count('<li>\n    <h2><a href="/groups/') == 20
    first = listing.split("Group 00")[1].split("</li>")[0]
    assert "30 current members · you are member" in first
    page = (await client.get("/groups/group-0")).text
    assert "Former members (6)" in page
    dashboard = (await client.get("/")).text
    assert dashboard.count("My terms of membership") == 1
    assert "Secretary" in dashboard and "Chair" in dashboard


# A signed-in page's queries once the navigation's count is kept (nothing changed since the
# reader's last page): the session, the person and their memberships are one query, the
# rest is the page's own.
# My actions: a page of them and the count of the overdue over them all, read together.
# The page's reads that do not wait on each other are read together (core/together.py), so
# a page costs one statement per step of reads, not one per read: at most five.
PAGES_UNCHANGED = {"/": 2, "/groups": 2, "/groups/group-0": 4, "/actions": 2}
MOST_QUERIES_A_SIGNED_IN_PAGE = 5
API_LISTS = (
    "/api/v1/me",
    "/api/v1/groups",
    "/api/v1/deliveries",
    "/api/v1/me/tasks",
    "/api/v1/decisions",
    "/api/v1/transparency-reports",
)
# The public transparency index, for someone signed out.
ANONYMOUS = ("/transparency",)
# The token, its person and their memberships are one query; `/api/v1/me` needs no other.
API_AND_ANONYMOUS_QUERIES = {
    "/api/v1/me": 1,
    "/api/v1/groups": 2,
    "/api/v1/deliveries": 4,  # a page, and the counts and overdue over them all
    "/api/v1/me/tasks": 2,  # the token, then "needs me" in one statement
    "/api/v1/decisions": 3,  # meetings' decisions and written resolutions
    "/api/v1/transparency-reports": 3,
    "/transparency": 1,  # published public editions and approved minutes, read at once
}


async def test_unchanged_data_costs_the_page_alone(
    client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    reader, _ = await small_world()
    await sign_in(client, reader)
    for url in PAGES_UNCHANGED:
        await client.get(url)
    small = {}
    for url in PAGES_UNCHANGED:
        with count_queries(navigation_kept=True):
            assert (await client.get(url)).status_code == 200
        small[url] = count_queries.count
    assert small == PAGES_UNCHANGED
    assert max(small.values()) <= MOST_QUERIES_A_SIGNED_IN_PAGE


# The same pages read right after a change: each pays the navigation's "needs me" afresh,
# one statement more than when nothing changed (the meeting page: 4 when nothing changed).
PAGES_AFTER_A_CHANGE = {"/": 3, "/groups/group-0": 5, "/actions": 3, "/meetings/{meeting}": 5}


async def test_a_page_after_a_change_costs_one_statement_more(
    client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    reader, groups = await small_world()
    chair = await make_user(name="Chair")
    await make_membership(chair, groups[0], "chair")
    meeting = await make_meeting("group-0", chair)
    await sign_in(client, reader)
    urls = {url.format(meeting=meeting): url for url in PAGES_AFTER_A_CHANGE}
    for url in urls:
        await client.get(url)
    found = {
        template: await queries_for(client, count_queries, url) for url, template in urls.items()
    }
    assert found == PAGES_AFTER_A_CHANGE
    for url in PAGES_UNCHANGED.keys() & found.keys():
        assert found[url] == PAGES_UNCHANGED[url] + 1, url
    assert max(found.values()) <= MOST_QUERIES_A_SIGNED_IN_PAGE


async def _counts(
    client: httpx.AsyncClient, counter: QueryCounter, urls: tuple[str, ...], headers: Any
) -> dict[str, int]:
    found = {}
    for url in urls:
        await client.get(url, headers=headers)
        with counter():
            response = await client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
        found[url] = counter.count
    return found


async def test_api_lists_and_the_public_index_do_not_grow_with_the_data(
    client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    reader, groups = await small_world()
    board = await make_user(email="board.reader@example.org", board=True)
    await make_membership(board, groups[1], "member")
    token = {"Authorization": f"Bearer {await issue_api_token('board.reader@example.org')}"}
    small = await _counts(client, count_queries, API_LISTS, token)
    small |= await _counts(client, count_queries, ANONYMOUS, {})
    await grow_tenfold(reader, groups)
    large = await _counts(client, count_queries, API_LISTS, token)
    large |= await _counts(client, count_queries, ANONYMOUS, {})
    assert large == small
    assert small == API_AND_ANONYMOUS_QUERIES
