"""The decision register against the access world: outcomes as the meetings domain gives
them under both decision rules, the actions that came of each decision, filters, and a
Director who never meets a Board-only decision (page, CSV, API) nor a gap in the numbers."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from governance.groups.tables import WorkingGroup
from governance.meetings.queries import meeting_view
from governance.meetings.tables import Decision
from governance.register.queries import organisation_register, read_filters
from tests.access_world import SECRETS, World, build_world
from tests.factories import viewer_for
from tests.helpers import QueryCounter, sign_in


@pytest.fixture
async def world() -> World:
    return await build_world()


async def _register(world: World, persona: str, **filters: str):  # type: ignore[no-untyped-def]
    viewer = await viewer_for(world.users[persona])
    return await organisation_register(viewer, read_filters(**filters))


@pytest.mark.parametrize("rule", ["simple_majority", "two_thirds"])
async def test_the_outcome_is_the_meetings_outcome_under_each_rule(world: World, rule: str) -> None:
    await WorkingGroup.update({WorkingGroup.decision_rule: rule}).where(
        WorkingGroup.slug == "alpha"
    )
    # 3 for and 2 against carry by a simple majority, not by two thirds.
    await Decision.update(
        {Decision.votes_for: 3, Decision.votes_against: 2, Decision.votes_abstain: 0}
    ).where(Decision.text == "Agreed")
    register = await _register(world, "member")
    agreed = next(entry for entry in register.entries if entry.text == "Agreed")
    assert agreed.outcome == ("carried" if rule == "simple_majority" else "not carried")
    member = await viewer_for(world.users["member"])
    meeting = await meeting_view(int(world.params["meeting_id"]), member)
    by_text = {decision.text: decision.outcome for decision in meeting.decisions}
    assert {entry.text: entry.outcome for entry in register.entries} == by_text
    assert (agreed.votes_for, agreed.votes_against, agreed.quorum_met) == (3, 2, True)


async def test_each_decision_lists_the_actions_that_came_of_it(world: World) -> None:
    register = await _register(world, "member")
    agreed = next(entry for entry in register.entries if entry.text == "Agreed")
    assert [(a.title, a.status) for a in agreed.actions] == [("Write the policy", "open")]


async def test_filters(world: World) -> None:
    assert len((await _register(world, "member")).entries) == 3
    assert (await _register(world, "member", outcome_filter="not carried")).entries == []
    assert len((await _register(world, "member", outcome_filter="carried")).entries) == 3
    assert (await _register(world, "member", group="beta")).entries == []
    assert (await _register(world, "member", since="2999-01-01")).entries == []


async def test_the_director_meets_no_board_decision_and_no_gap(
    world: World, client: httpx.AsyncClient
) -> None:
    director = await _register(world, "director")
    assert [entry.text for entry in director.entries] == ["Agreed"]
    assert [entry.number for entry in director.entries] == [1]
    board = await _register(world, "board")
    assert sorted(entry.text for entry in board.entries) == ["Agreed", "Settled the board item"]

    await sign_in(client, world.users["director"])
    answers = [
        (await client.get(url)).text
        for url in (
            "/decisions",
            "/groups/alpha/decisions",
            "/decisions.csv",
            "/groups/alpha/decisions.csv",
            "/api/v1/decisions",
            "/api/v1/groups/alpha/decisions",
        )
    ]
    for text in answers:
        assert "Agreed" in text
        assert not [secret for secret in (*SECRETS["director"], "Settled") if secret in text]
    rows = list(csv.reader(io.StringIO(answers[2].lstrip("\ufeff"))))
    assert [row[0] for row in rows[1:]] == ["1"]


async def test_bad_filters_are_named(world: World, client: httpx.AsyncClient) -> None:
    await sign_in(client, world.users["member"])
    api = await client.get("/api/v1/decisions?outcome=maybe&since=yesterday")
    assert api.status_code == 422
    page = await client.get("/decisions?outcome=maybe&since=yesterday")
    assert page.status_code == 422
    assert "Choose carried" in page.text and "YYYY-MM-DD" in page.text
    assert (await client.get("/api/v1/groups/nowhere/decisions")).status_code == 404


async def test_the_register_costs_the_same_queries_with_more_decisions(
    world: World, client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    await sign_in(client, world.users["director"])
    await client.get("/decisions")
    with count_queries():
        assert (await client.get("/decisions")).status_code == 200
    before = count_queries.count
    rows = await Decision.select().where(Decision.text == "Agreed")
    copies = [Decision(**{k: v for k, v in rows[0].items() if k != "id"}) for _ in range(10)]
    await Decision.insert(*copies)
    with count_queries():
        page = await client.get("/decisions")
    assert count_queries.count == before
    assert page.text.count("<td>Agreed</td>") == 11
