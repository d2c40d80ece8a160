"""Search: kept current in the writing transaction, rebuilt from the records, filtered,
highlighted safely, and never an error whatever is typed."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from governance.actions.schemas import NewAction
from governance.actions.services import create_action
from governance.core.clock import organisation_today
from governance.core.db import write_transaction
from governance.meetings import services as meetings
from governance.meetings.schemas import AgendaItemDetails
from governance.reports import services as reports
from governance.reports.schemas import ReportDraft
from governance.search import queries
from governance.search.indexer import HIGHLIGHT_START, rebuild_index
from governance.search.schemas import SearchQuery
from governance.search.tables import SearchEntry
from tests.conftest import Cast
from tests.factories import make_meeting, viewer_for
from tests.helpers import field_error, sign_in

REPO_ROOT = Path(__file__).resolve().parents[2]


async def _found(word: str, user_id: int, **filters: object) -> list[str]:
    results = await queries.search(SearchQuery(q=word, **filters), await viewer_for(user_id))  # type: ignore[arg-type]
    return [hit.kind for hit in results.hits]


def _action(title: str, owner: int, description: str = "") -> NewAction:
    return NewAction(
        title=title,
        description=description,
        due_on=organisation_today() + dt.timedelta(days=5),
        owner_ids=[owner],
    )


async def test_a_rolled_back_write_leaves_no_index_row(cast: Cast) -> None:
    leader = await viewer_for(cast.chair)
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await create_action(cast.group_id, _action("Vanishing zebra", cast.member), leader)
            # Inside the transaction the row is there: written with the change.
            assert await SearchEntry.count().where(SearchEntry.kind == "action") == 1
            raise RuntimeError("the change fails after its audit event")
    assert await SearchEntry.count() == 0
    assert await _found("zebra", cast.chair) == []
    await create_action(cast.group_id, _action("Staying zebra", cast.member), leader)
    assert await _found("zebra", cast.chair) == ["action"]


async def test_changes_and_removals_reach_the_index(cast: Cast) -> None:
    leader = await viewer_for(cast.chair)
    meeting_id = await make_meeting(cast.slug, cast.chair, title="Quarterly walrus")
    item = await meetings.add_agenda_item(
        meeting_id, AgendaItemDetails(title="Heron budget", visibility="internal"), leader
    )
    assert await _found("heron", cast.member) == ["agenda_item"]
    await meetings.update_agenda_item(
        item, AgendaItemDetails(title="Pelican budget", visibility="board"), leader
    )
    assert await _found("heron", cast.member) == []
    assert await _found("pelican", cast.member) == ["agenda_item"]
    assert await _found("pelican", cast.director) == []
    await meetings.remove_agenda_item(item, leader)
    assert await _found("pelican", cast.member) == []
    assert await _found("walrus", cast.member) == ["meeting"]

    draft = ReportDraft(
        kind="recommendation", period="", title="Otter draft", body="Text", route="both"
    )
    report_id = await reports.create_report(cast.slug, draft, leader)
    assert await _found("otter", cast.member) == ["report"]
    assert await _found("otter", cast.director) == []
    await reports.discard_draft(report_id, leader)
    assert await _found("otter", cast.member) == []


async def test_rebuilding_gives_the_same_index(cast: Cast) -> None:
    leader = await viewer_for(cast.chair)
    await create_action(cast.group_id, _action("Rebuilt lynx", cast.member, "A body"), leader)
    meeting_id = await make_meeting(cast.slug, cast.chair, title="Lynx meeting")
    await meetings.add_agenda_item(
        meeting_id, AgendaItemDetails(title="Lynx item", visibility="group"), leader
    )
    columns = [c for c in SearchEntry._meta.columns if c._meta.name != "id"]

    async def rows() -> list[dict[str, object]]:
        found = await SearchEntry.select(*columns)
        return sorted(found, key=lambda row: (row["kind"], row["record_id"], row["title"]))

    before = await rows()
    async with write_transaction():
        assert await rebuild_index() == len(before)
    assert await rows() == before
    command = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "governance.cli", "search", "reindex"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert command.returncode == 0, command.stderr
    assert f"Search index rebuilt: {len(before)} entries." in command.stdout
    assert await rows() == before
    assert sorted(await _found("lynx", cast.member)) == ["action", "agenda_item", "meeting"]
    assert [row["kind"] for row in before] == ["action", "agenda_item", "meeting"]


async def test_filters_by_kind_group_and_date(cast: Cast) -> None:
    leader = await viewer_for(cast.chair)
    await create_action(cast.group_id, _action("Filtered ibis", cast.member), leader)
    await make_meeting(cast.slug, cast.chair, title="Ibis meeting")
    today = organisation_today()
    member = cast.member
    assert sorted(await _found("ibis", member)) == ["action", "meeting"]
    assert await _found("ibis", member, kind="action") == ["action"]
    assert await _found("ibis", member, group="ndi") == []
    assert sorted(await _found("ibis", member, group="wellbeing")) == ["action", "meeting"]
    # The action is dated today, the meeting a week ahead.
    assert await _found("ibis", member, date_to=today) == ["action"]
    assert await _found("ibis", member, date_from=today + dt.timedelta(days=1)) == ["meeting"]


async def test_snippets_are_escaped_and_highlight_only_the_match(cast: Cast) -> None:
    leader = await viewer_for(cast.chair)
    body = f'<script>alert("x")</script> & <b>bold</b> {HIGHLIGHT_START}forged mongoose'
    await create_action(cast.group_id, _action("Escaped", cast.member, body), leader)
    results = await queries.search(SearchQuery(q="mongoose"), await viewer_for(cast.member))
    (hit,) = results.hits
    assert "<script>" not in hit.snippet_html and "<b>" not in hit.snippet_html
    # Escaped (SQLite keeps the text as written; PostgreSQL's headline drops tags).
    assert "&lt;script&gt;" in hit.snippet_html or "script" not in hit.snippet_html
    assert "&amp;" in hit.snippet_html and "&quot;x&quot;" in hit.snippet_html
    assert "<mark>mongoose</mark>" in hit.snippet_html
    assert hit.snippet_html.count("<mark>") == 1
    assert hit.url == f"/actions/{results.hits[0].record_id}"


SYNTAX = [
    '"',
    '""',
    "*",
    "a*",
    "NEAR(",
    "NEAR(a b, 3)",
    "title:gecko",
    ":",
    "AND",
    "gecko AND",
    "OR NOT",
    "(",
    ")",
    "-gecko",
    "'",
    "\\",
    "%",
    "_",
    "^gecko",
    "{gecko}",
    "gecko & | !",
    "<->",
    "gecko:*",
    "ü ß 漢字 🙂",
    "a" * 200,
]


async def test_search_syntax_in_a_query_is_never_an_error(
    cast: Cast, client: httpx.AsyncClient
) -> None:
    await create_action(
        cast.group_id, _action("Syntax gecko", cast.member), await viewer_for(cast.chair)
    )
    await sign_in(client, cast.member)
    for text in SYNTAX:
        response = await client.get("/api/v1/search", params={"q": text})
        assert response.status_code == 200, (text, response.text)
        page = await client.get("/search", params={"q": text})
        assert page.status_code == 200, text
    for text in ("-gecko", "^gecko", "{gecko}", "gecko:*", "(gecko)", '"gecko'):
        hits = (await client.get("/api/v1/search", params={"q": text})).json()["hits"]
        assert [hit["kind"] for hit in hits] == ["action"], text


async def test_empty_long_and_malformed_queries_are_clear_refusals(
    cast: Cast, client: httpx.AsyncClient
) -> None:
    await sign_in(client, cast.member)
    for params in (
        {"q": "a" * 201},
        {"q": "x", "limit": "0"},
        {"q": "x", "limit": "51"},
        {"q": "x", "kind": "memo"},
        {"q": "x", "from": "yesterday"},
        {"q": "x", "cursor": "-1"},
    ):
        response = await client.get("/api/v1/search", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    backwards = {"q": "x", "from": "2026-02-01", "to": "2026-01-01"}
    for params in ({}, {"q": ""}, {"q": "   "}, {"q": "a\x07b"}, backwards):
        response = await client.get("/api/v1/search", params=params)
        assert response.status_code == 422, (params, response.text)
    page = await client.get("/search", params={"q": "", "date_from": "nonsense"})
    assert page.status_code == 422
    assert field_error(page.text, "q") and field_error(page.text, "date_from")
    page = await client.get("/search", params={"q": "a" * 201})
    assert page.status_code == 422 and field_error(page.text, "q")


async def test_the_page_and_the_search_box(cast: Cast, client: httpx.AsyncClient) -> None:
    await create_action(
        cast.group_id, _action("Paged tapir", cast.member), await viewer_for(cast.chair)
    )
    await sign_in(client, cast.member)
    dashboard = await client.get("/")
    assert 'role="search"' in dashboard.text and 'name="q"' in dashboard.text
    empty = await client.get("/search")
    assert empty.status_code == 200 and "Nothing found." not in empty.text
    page = await client.get("/search", params={"q": "tapir"})
    assert page.status_code == 200
    assert "<mark>tapir</mark>" in page.text or "<mark>Tapir</mark>" in page.text
    assert "Paged tapir" in page.text and "Action" in page.text
    await sign_in(client, cast.director)
    assert "Paged tapir" in (await client.get("/search", params={"q": "tapir"})).text
    await sign_in(client, cast.stranger)
    assert "Nothing found." in (await client.get("/search", params={"q": "tapir"})).text


async def test_results_are_paged_with_a_cursor(cast: Cast, client: httpx.AsyncClient) -> None:
    leader = await viewer_for(cast.chair)
    for number in range(5):
        await create_action(cast.group_id, _action(f"Paging okapi {number}", cast.member), leader)
    await sign_in(client, cast.member)
    seen: list[int] = []
    cursor: int | None = 0
    while cursor is not None:
        answer = (
            await client.get("/api/v1/search", params={"q": "okapi", "limit": 2, "cursor": cursor})
        ).json()
        seen += [hit["record_id"] for hit in answer["hits"]]
        cursor = answer["next_cursor"]
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 5
