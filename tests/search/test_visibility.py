"""Search returns nothing its reader may not read: every kind of record, seeded with a secret
word, searched for by every persona; a hidden record's exact words answer exactly like
nonsense (same body, same number of queries)."""

from __future__ import annotations

import re

import httpx

from governance.search import queries
from governance.search.schemas import SearchQuery
from tests.factories import viewer_for
from tests.helpers import QueryCounter, sign_in
from tests.search.world import NONSENSE, PERSONAS, build_search_world

SECRET = re.compile(r"xq[a-z]+")


async def test_every_persona_finds_exactly_what_it_may_read() -> None:
    world = await build_search_world()
    assert len(world.readers) > 50
    for persona in PERSONAS:
        viewer = await viewer_for(world.users[persona])
        for word, readers in world.readers.items():
            results = await queries.search(SearchQuery(q=word, limit=50), viewer)
            found = bool(results.hits)
            assert found == (persona in readers), f"{persona} searching {word}: {found}"
            for hit in results.hits:
                shown = SECRET.findall(f"{hit.title} {hit.snippet_html}")
                leaked = [w for w in shown if persona not in world.readers.get(w, {persona})]
                assert not leaked, f"{persona} was shown {leaked} searching {word}"


async def test_searching_everything_at_once_shows_nothing_hidden() -> None:
    """Words common to many records: no hidden one among the hits, at any page."""
    world = await build_search_world()
    for persona in PERSONAS:
        viewer = await viewer_for(world.users[persona])
        for word in ("item", "decided", "recorded", "report", "rationale", "action", "minutes"):
            cursor: int | None = 0
            while cursor is not None:
                results = await queries.search(SearchQuery(q=word, cursor=cursor), viewer)
                for hit in results.hits:
                    shown = SECRET.findall(f"{hit.title} {hit.snippet_html}")
                    leaked = [w for w in shown if persona not in world.readers[w]]
                    assert not leaked, f"{persona} was shown {leaked} searching {word}"
                cursor = results.next_cursor


async def test_a_hidden_title_answers_exactly_like_nonsense(
    client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    world = await build_search_world()
    hidden_from = {"director": "xqboardreport", "board": "xqgroupaction", "admin": "xqbothreport"}
    hidden_from["other_member"] = "xqdraftinternaltitle"
    hidden_from["member"] = "xqdraftsummary"
    for persona, word in hidden_from.items():
        assert persona not in world.readers[word]
        await sign_in(client, world.users[persona])
        answers = []
        for query in (f"Report {word}", word, NONSENSE):
            with count_queries() as counted:
                response = await client.get("/api/v1/search", params={"q": query})
            answers.append((response.status_code, response.content, counted.count))
        assert answers[0] == answers[1] == answers[2], persona
        assert answers[2][0] == 200 and response.json() == {"hits": [], "next_cursor": None}
        page = await client.get("/search", params={"q": word})
        assert word not in page.text.replace(f'value="{word}"', "")
        assert "Nothing found." in page.text


async def test_a_hidden_written_resolution_answers_exactly_like_nonsense(
    client: httpx.AsyncClient,
) -> None:
    """The Director searching a Board-only motion, a member another group's, the Board a
    group-only one: the same answer as for nonsense; the readers find theirs."""
    world = await build_search_world()
    for persona, word, visible in (
        ("director", "xqboardresolution", "xqinternalresolution"),
        ("member", "xqothermotion", "xqgroupmotion"),
        ("board", "xqgroupresolution", "xqboardmotion"),
        ("other_member", "xqinternalmotion", "xqotherresolution"),
    ):
        assert persona not in world.readers[word] and persona in world.readers[visible]
        await sign_in(client, world.users[persona])
        hidden = await client.get("/api/v1/search", params={"q": word})
        nonsense = await client.get("/api/v1/search", params={"q": NONSENSE})
        assert hidden.content == nonsense.content, persona
        found = (await client.get("/api/v1/search", params={"q": visible})).json()["hits"]
        assert [hit["kind"] for hit in found] == ["resolution"], persona
        assert found[0]["url"].startswith("/resolutions/")
