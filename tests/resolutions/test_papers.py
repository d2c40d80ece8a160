"""A written resolution's papers, through the documents domain: added at the proposal (the
form's files) and afterwards while voting is open (page and API), each with its audit
event; listed on the page, by the API and in the proposal's email; frozen once voting has
ended; read only by those who may read both the paper and its resolution (the Director
never a Board-only resolution's paper, by any route, nor another group's member)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest

from governance.accounts.services import issue_api_token
from governance.core.clock import utcnow
from governance.core.email import render_email
from governance.core.tables import AuditEvent, OutboundEmail
from governance.documents.tables import Document, DocumentContent
from governance.resolutions.services import withdraw_resolution
from governance.resolutions.tables import WrittenResolution
from governance.search import queries as search
from governance.search.schemas import SearchQuery
from tests.documents import files
from tests.factories import viewer_for
from tests.helpers import csrf_token, found, sign_in
from tests.resolutions.conftest import move_close, propose, vote

PROBLEM = "application/problem+json"


@pytest.fixture
async def tokens(cast) -> dict[str, dict[str, str]]:
    people = ("chair", "member", "director", "board", "other")
    return {
        who: {"Authorization": f"Bearer {await issue_api_token(f'{who}@example.org')}"}
        for who in people
    }


def _local(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


async def _stored() -> tuple[int, int, int]:
    return (
        await Document.count(),
        await DocumentContent.count(),
        await AuditEvent.count().where(AuditEvent.entity_type == "document"),
    )


async def _api_upload(
    client: httpx.AsyncClient, headers: dict[str, str], resolution_id: int, **fields: Any
) -> httpx.Response:
    name = fields.pop("name", "budget.pdf")
    return await client.post(
        f"/api/v1/resolutions/{resolution_id}/documents",
        headers=headers,
        files={"file": (name, fields.pop("content", files.pdf("Budget")))},
        data=fields,
    )


async def _paper(
    client: httpx.AsyncClient, tokens: dict, resolution_id: int, visibility: str, title: str
) -> int:
    """A paper added through the API by the chair."""
    response = await _api_upload(
        client, tokens["chair"], resolution_id, visibility=visibility, title=title
    )
    assert response.status_code == 201, response.text
    return int(response.json()["documents"][0]["id"])


# --- adding ---------------------------------------------------------------------------


async def test_the_chair_proposes_with_papers_and_the_email_lists_them(client, cast):
    await sign_in(client, cast.chair)
    response = await client.post(
        f"/groups/{cast.slug}/resolutions/new",
        files=[("file", ("budget.pdf", files.pdf("Budget"))), ("file", ("plan.odt", files.odt()))],
        data={
            "_csrf_token": await csrf_token(client),
            "title": "Adopt the budget",
            "text": "That the group adopts the budget.",
            "closes_at": _local(utcnow() + dt.timedelta(days=3)),
            "visibility": "board",
        },
    )
    assert response.status_code == 302, response.text
    resolution_id = int(response.headers["location"].rsplit("/", 1)[1])
    papers = await Document.select().where(Document.resolution == resolution_id)
    assert [(p["file_name"], p["visibility"], p["holder_kind"]) for p in papers] == [
        ("budget.pdf", "board", "resolution"),
        ("plan.odt", "board", "resolution"),
    ]
    events = await AuditEvent.select(AuditEvent.action).where(AuditEvent.entity_type == "document")
    assert [e["action"] for e in events] == ["document.added", "document.added"]
    page = await client.get(response.headers["location"])
    for paper in papers:
        assert f'href="/documents/{paper["id"]}"' in page.text
    emails = await OutboundEmail.select(OutboundEmail.recipient, OutboundEmail.context).where(
        OutboundEmail.template == "resolution_proposed"
    )
    assert len(emails) == 4  # the four current members
    for email in emails:
        context = email["context"]
        context = context if isinstance(context, dict) else json.loads(context)
        rendered = render_email("resolution_proposed", context)
        for paper in papers:
            assert paper["title"] in rendered.text and f"/documents/{paper['id']}" in rendered.text
            assert f"/documents/{paper['id']}" in rendered.html


async def test_a_refused_paper_refuses_the_proposal_and_stores_nothing(client, cast):
    await sign_in(client, cast.chair)
    response = await client.post(
        f"/groups/{cast.slug}/resolutions/new",
        files=[
            ("file", ("run.pdf", files.windows_executable())),
            ("file", ("ok.pdf", files.pdf())),
        ],
        data={
            "_csrf_token": await csrf_token(client),
            "title": "",
            "text": "That the group adopts the budget.",
            "closes_at": _local(utcnow() + dt.timedelta(days=3)),
            "visibility": "internal",
        },
    )
    assert response.status_code == 422
    assert 'id="file-error"' in response.text and "run.pdf: files of this type" in response.text
    assert 'id="title-error"' in response.text
    assert await WrittenResolution.count() == 0
    assert await _stored() == (0, 0, 0)
    assert await OutboundEmail.count() == 0


async def test_the_chair_adds_papers_from_the_page_while_open(client, cast):
    resolution_id = await propose(cast)
    await sign_in(client, cast.chair)
    page = await client.get(f"/resolutions/{resolution_id}")
    assert f'action="/resolutions/{resolution_id}/papers"' in page.text
    response = await client.post(
        f"/resolutions/{resolution_id}/papers",
        files={"file": ("figures.csv", b"a,b\n1,2\n")},
        data={"_csrf_token": await csrf_token(client), "title": "Figures", "visibility": "board"},
    )
    assert response.status_code == 302, response.text
    page = await client.get(response.headers["location"])
    assert "One paper added." in page.text and "Figures" in page.text
    # A member reads it; they may not add one.
    await sign_in(client, cast.member)
    page = await client.get(f"/resolutions/{resolution_id}")
    assert "Figures" in page.text and "/papers" not in page.text
    refused = await client.post(
        f"/resolutions/{resolution_id}/papers",
        files={"file": ("more.csv", b"a\n")},
        data={"_csrf_token": await csrf_token(client), "visibility": "internal"},
    )
    assert refused.status_code == 403
    assert (await _stored())[0] == 1


async def test_the_api_adds_papers_and_the_resolution_lists_them(client, cast, tokens):
    resolution_id = await propose(cast, visibility="board")
    response = await _api_upload(client, tokens["chair"], resolution_id, visibility="board")
    assert response.status_code == 201, response.text
    document = response.json()["documents"][0]
    assert document["holder_kind"] == "resolution"
    assert document["resolution_id"] == resolution_id
    shown = await client.get(f"/api/v1/resolutions/{resolution_id}", headers=tokens["member"])
    assert [paper["id"] for paper in shown.json()["papers"]] == [document["id"]]
    # A paper only narrows its resolution: an internal one on a Board-only resolution is not.
    wider = await _api_upload(client, tokens["chair"], resolution_id, visibility="internal")
    assert wider.status_code == 422 and wider.headers["content-type"].startswith(PROBLEM)
    assert "visibility" in wider.json()["errors"]
    assert (await _stored())[0] == 1


# --- frozen once voting has ended ------------------------------------------------------


async def _end_voting(cast, resolution_id: int, how: str) -> None:
    if how == "withdrawn":
        await withdraw_resolution(resolution_id, await viewer_for(cast.chair))
    elif how == "decided":
        for member in (cast.chair, cast.secretary, cast.member, cast.member2):
            await vote(resolution_id, member, "for")
    else:  # the closing time has passed, before the scheduler has closed it
        await move_close(resolution_id, utcnow() - dt.timedelta(minutes=1))


@pytest.mark.parametrize("how", ["withdrawn", "decided", "past closing time"])
async def test_no_paper_changes_once_voting_has_ended(client, cast, tokens, how):
    resolution_id = await propose(cast)
    paper_id = await _paper(client, tokens, resolution_id, "internal", "Budget")
    await _end_voting(cast, resolution_id, how)
    before = await _stored()
    added = await _api_upload(client, tokens["chair"], resolution_id)
    assert added.status_code == 409 and added.headers["content-type"].startswith(PROBLEM)
    assert "can no longer change" in added.text
    versioned = await client.post(
        f"/api/v1/documents/{paper_id}/versions",
        headers=tokens["chair"],
        files={"file": ("v2.pdf", files.pdf("v2"))},
    )
    assert versioned.status_code == 409
    withdrawn = await client.delete(f"/api/v1/documents/{paper_id}", headers=tokens["chair"])
    assert withdrawn.status_code == 409
    await sign_in(client, cast.chair)
    page = await client.post(
        f"/resolutions/{resolution_id}/papers",
        files={"file": ("late.pdf", files.pdf("late"))},
        data={"_csrf_token": await csrf_token(client), "visibility": "internal"},
    )
    assert page.status_code == 409
    assert "can no longer change" in page.text
    shown = await client.get(f"/resolutions/{resolution_id}")
    assert f'action="/resolutions/{resolution_id}/papers"' not in shown.text
    assert await _stored() == before
    row = found(await Document.select(Document.withdrawn_at).where(Document.id == paper_id).first())
    assert row["withdrawn_at"] is None


# --- who reads them --------------------------------------------------------------------


async def _routes_of(client: httpx.AsyncClient, document_id: int, headers: dict[str, str]):
    return [
        (await client.get(f"/documents/{document_id}")).status_code,
        (await client.get(f"/documents/{document_id}/content")).status_code,
        (await client.get(f"/documents/{document_id}/view")).status_code,
        (await client.get(f"/api/v1/documents/{document_id}", headers=headers)).status_code,
        (await client.get(f"/api/v1/documents/{document_id}/content", headers=headers)).status_code,
    ]


async def _found(word: str, user_id: int) -> list[str]:
    results = await search.search(SearchQuery(q=word), await viewer_for(user_id))  # type: ignore[call-arg]
    return [hit.kind for hit in results.hits]


async def test_the_director_never_sees_a_board_only_resolutions_paper(client, cast, tokens):
    resolution_id = await propose(cast, visibility="board")
    paper_id = await _paper(client, tokens, resolution_id, "board", "Conduct dossier")
    await sign_in(client, cast.director)
    assert await _routes_of(client, paper_id, tokens["director"]) == [404] * 5
    missing = await client.get("/documents/999999")
    assert (await client.get(f"/documents/{paper_id}")).text == missing.text
    api = await client.get(f"/api/v1/documents/{paper_id}", headers=tokens["director"])
    assert (
        api.json()["detail"]
        == (await client.get("/api/v1/documents/999999", headers=tokens["director"])).json()[
            "detail"
        ]
    )
    assert await _found("dossier", cast.director) == []
    # The Board reads it, by every route and in search.
    await sign_in(client, cast.board)
    assert await _routes_of(client, paper_id, tokens["board"]) == [200] * 5
    assert await _found("dossier", cast.board) == ["document"]


async def test_a_board_only_paper_of_an_internal_resolution_is_not_the_directors(
    client, cast, tokens
):
    resolution_id = await propose(cast)
    await _paper(client, tokens, resolution_id, "internal", "Open budget")
    board_paper = await _paper(client, tokens, resolution_id, "board", "Confidential annex")
    shown = await client.get(f"/api/v1/resolutions/{resolution_id}", headers=tokens["director"])
    assert [paper["title"] for paper in shown.json()["papers"]] == ["Open budget"]
    await sign_in(client, cast.director)
    page = await client.get(f"/resolutions/{resolution_id}")
    assert "Open budget" in page.text and "Confidential annex" not in page.text
    assert (await client.get(f"/documents/{board_paper}")).status_code == 404


async def test_the_resolutions_visibility_applies_to_its_papers(client, cast, tokens):
    """The documents' condition reads the resolution as it is, not only the paper's own
    visibility: were the resolution narrower than its paper, the paper follows it."""
    resolution_id = await propose(cast)
    paper_id = await _paper(client, tokens, resolution_id, "internal", "Budget")
    assert (
        await client.get(f"/api/v1/documents/{paper_id}", headers=tokens["director"])
    ).status_code == 200
    await WrittenResolution.update({WrittenResolution.visibility: "board"}).where(
        WrittenResolution.id == resolution_id
    )
    await sign_in(client, cast.director)
    assert await _routes_of(client, paper_id, tokens["director"]) == [404] * 5
    await sign_in(client, cast.board)
    assert await _routes_of(client, paper_id, tokens["board"]) == [200] * 5


async def test_a_member_of_another_group_is_told_there_is_nothing(client, cast, tokens):
    resolution_id = await propose(cast, visibility="group")
    paper_id = await _paper(client, tokens, resolution_id, "group", "Group paper")
    upload = await _api_upload(client, tokens["other"], resolution_id)
    assert upload.status_code == 404
    await sign_in(client, cast.other_group_member)
    assert await _routes_of(client, paper_id, tokens["other"]) == [404] * 5
    page = await client.post(
        f"/resolutions/{resolution_id}/papers",
        files={"file": ("x.pdf", files.pdf("x"))},
        data={"_csrf_token": await csrf_token(client), "visibility": "group"},
    )
    assert page.status_code == 404
    assert await _found("group paper", cast.other_group_member) == []
    assert (await _stored())[0] == 1


async def test_a_proposal_queued_before_papers_existed_still_renders(cast):
    """The outbox keeps each email's context: one queued before this change has no papers."""
    await propose(cast)
    row = found(await OutboundEmail.select(OutboundEmail.context).first())
    context = row["context"] if isinstance(row["context"], dict) else json.loads(row["context"])
    assert context.pop("papers") == []
    rendered = render_email("resolution_proposed", context)
    assert "Papers" not in rendered.text and "Voting closes" in rendered.text
