"""The meeting pack through its routes and its cache (documents/packs.py): one PDF per
reader, shared by readers who see the same thing, rebuilt when anything changes; the
Director's pack holds no trace of a Board-only item; 'Send the papers' emails each member
once per pack."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import httpx
from pypdf import PdfReader

from governance.core.clock import utcnow
from governance.core.email import render_email
from governance.core.tables import OutboundEmail
from governance.documents import packs
from governance.documents.pack_tables import MeetingPack
from governance.documents.schemas import NewDocuments, NewVersion
from governance.documents.services import add_documents, add_version
from governance.meetings.schemas import AgendaItemDetails, Cancellation
from governance.meetings.services import add_agenda_item, cancel_meeting
from tests.conftest import Cast
from tests.documents.pack_samples import FakeUpload, odt, outline_of, pdf_of
from tests.factories import make_meeting, viewer_for
from tests.helpers import post_form, sign_in


async def _add(
    meeting_id: int,
    chair: int,
    name: str,
    data: bytes,
    item: int | None = None,
    visibility: str = "internal",
) -> int:
    command = NewDocuments(visibility=visibility, agenda_item_id=item)
    ids = await add_documents(
        "meeting", meeting_id, [FakeUpload(name, data)], command, await viewer_for(chair)
    )
    return ids[0]


# One time for every meeting made here: two meetings made a moment apart on either side of a
# minute's turn would have covers that differ (a test failed so on a busy machine).
STARTS_AT = (utcnow() + dt.timedelta(days=7)).replace(second=0, microsecond=0)


async def _meeting_with_board_item(cast: Cast, *, with_board: bool = True) -> int:
    chair = await viewer_for(cast.chair)
    meeting_id = await make_meeting(
        cast.slug, cast.chair, title="December meeting", starts_at=STARTS_AT
    )
    welcome = await add_agenda_item(meeting_id, AgendaItemDetails(title="Welcome"), chair)
    if with_board:
        secret = await add_agenda_item(
            meeting_id,
            AgendaItemDetails(title="Conduct of management", visibility="board"),
            chair,
        )
        await _add(meeting_id, cast.chair, "conduct.pdf", pdf_of(4), secret, "board")
    budget = await add_agenda_item(meeting_id, AgendaItemDetails(title="Budget"), chair)
    await _add(meeting_id, cast.chair, "general.pdf", pdf_of(1))
    await _add(meeting_id, cast.chair, "welcome.pdf", pdf_of(2), welcome)
    await _add(meeting_id, cast.chair, "budget.odt", odt(), budget)
    return meeting_id


async def _download(client: httpx.AsyncClient, user_id: int, url: str) -> httpx.Response:
    client.cookies.clear()
    await sign_in(client, user_id)
    return await client.get(url)


def _reader(response: httpx.Response) -> PdfReader:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content))


async def test_a_member_downloads_the_pack_with_a_bookmark_per_paper(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    meeting_id = await _meeting_with_board_item(cast)
    response = await _download(client, cast.member, f"/meetings/{meeting_id}/pack")
    reader = _reader(response)
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"
    titles = [item.title for item in outline_of(reader)]
    assert titles == [
        "Cover and agenda",
        "general.pdf",
        "1. Welcome: welcome.pdf",
        "2. Conduct of management: conduct.pdf",
        "3. Budget: budget.odt",
    ]


async def test_the_directors_pack_equals_a_pack_without_the_board_item(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    meeting_id = await _meeting_with_board_item(cast)
    twin_id = await _meeting_with_board_item(cast, with_board=False)
    director = _reader(await _download(client, cast.director, f"/meetings/{meeting_id}/pack"))
    without = _reader(await _download(client, cast.member, f"/meetings/{twin_id}/pack"))
    assert len(director.pages) == len(without.pages)
    assert [i.title for i in outline_of(director)] == [i.title for i in outline_of(without)]
    text = "".join(page.extract_text() for page in director.pages)
    assert "Conduct" not in text and "conduct.pdf" not in text
    # The same pages: the Director's pack and the twin's are one cache entry's twins.
    director_view = await packs.pack_contents(meeting_id, await viewer_for(cast.director))
    twin_view = await packs.pack_contents(twin_id, await viewer_for(cast.member))
    assert director_view.key == twin_view.key


def _without_csrf(html: str) -> str:
    """The page with its CSRF token (masked anew on every page) taken out."""
    return re.sub(r'value="[0-9a-f]{64,}"', 'value=""', html)


async def test_a_reader_who_may_not_see_the_meeting_gets_the_missing_meetings_404(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    meeting_id = await _meeting_with_board_item(cast)
    await sign_in(client, cast.stranger)
    for prefix in ("", "/api/v1"):
        hidden = await client.get(f"{prefix}/meetings/{meeting_id}/pack")
        missing = await client.get(f"{prefix}/meetings/999999/pack")
        assert hidden.status_code == missing.status_code == 404
        assert _without_csrf(hidden.text) == _without_csrf(missing.text)


async def test_the_api_gives_the_same_pack(client: httpx.AsyncClient, cast: Cast) -> None:
    meeting_id = await _meeting_with_board_item(cast)
    page = await _download(client, cast.member, f"/meetings/{meeting_id}/pack")
    api = await _download(client, cast.member, f"/api/v1/meetings/{meeting_id}/pack")
    assert api.content == page.content


async def test_readers_who_see_the_same_share_one_cache_entry_and_a_new_version_rebuilds(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    meeting_id = await _meeting_with_board_item(cast)
    first = await _download(client, cast.member, f"/meetings/{meeting_id}/pack")
    again = await _download(client, cast.member2, f"/meetings/{meeting_id}/pack")
    assert first.content == again.content
    assert await MeetingPack.count() == 1
    # The Director sees less: a pack of their own.
    await _download(client, cast.director, f"/meetings/{meeting_id}/pack")
    assert await MeetingPack.count() == 2
    welcome = await _document_titled(meeting_id, cast, "welcome.pdf")
    await add_version(
        welcome, FakeUpload("welcome.pdf", pdf_of(3)), NewVersion(), await viewer_for(cast.chair)
    )
    rebuilt = await _download(client, cast.member, f"/meetings/{meeting_id}/pack")
    assert rebuilt.headers["x-pack-sha256"] != first.headers["x-pack-sha256"]
    assert len(_reader(rebuilt).pages) == len(_reader(first).pages) + 1
    assert await MeetingPack.count() == 3


async def _document_titled(meeting_id: int, cast: Cast, title: str) -> int:
    contents = await packs.pack_contents(meeting_id, await viewer_for(cast.chair))
    from governance.documents.queries import papers_for_pack

    papers = await papers_for_pack(meeting_id, await viewer_for(cast.chair))
    assert contents.papers
    return next(p.document_id for p in papers if p.title == title)


async def test_send_the_papers_emails_each_member_once_per_pack(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    meeting_id = await _meeting_with_board_item(cast)
    await sign_in(client, cast.chair)
    response = await post_form(client, f"/meetings/{meeting_id}/papers/send")
    assert response.status_code in (302, 303), response.text
    rows = await OutboundEmail.select().where(OutboundEmail.template == "meeting_papers")
    recipients = sorted(row["recipient"] for row in rows)
    # The chair, the secretary and the two members; not the former member.
    assert recipients == sorted(
        ["chair@example.org", "secretary@example.org", "member@example.org", "member2@example.org"]
    )
    assert all(f"/meetings/{meeting_id}/pack" in str(row["context"]) for row in rows)
    context = rows[0]["context"]
    rendered = render_email(
        "meeting_papers", json.loads(context) if isinstance(context, str) else context
    )
    assert rendered.subject == "Papers for December meeting (Working Group on Wellbeing)"
    for part in (rendered.text, rendered.html):
        assert f"/meetings/{meeting_id}/pack" in part
        assert "conduct.pdf" in part and "welcome.pdf" in part
    # Pressing again with nothing changed queues nothing.
    await post_form(client, f"/meetings/{meeting_id}/papers/send")
    assert await OutboundEmail.count().where(OutboundEmail.template == "meeting_papers") == 4
    # A new paper makes a new pack, and so a new email.
    await _add(meeting_id, cast.chair, "late.pdf", pdf_of(1))
    await post_form(client, f"/meetings/{meeting_id}/papers/send")
    assert await OutboundEmail.count().where(OutboundEmail.template == "meeting_papers") == 8


async def test_only_the_chair_or_secretary_sends_the_papers(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    meeting_id = await _meeting_with_board_item(cast)
    await sign_in(client, cast.member)
    response = await post_form(client, f"/meetings/{meeting_id}/papers/send")
    assert response.status_code == 403
    assert await OutboundEmail.count() == 0


async def test_the_papers_of_a_cancelled_meeting_are_not_sent(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    meeting_id = await _meeting_with_board_item(cast)
    await cancel_meeting(meeting_id, Cancellation(reason="No quorum"), await viewer_for(cast.chair))
    await sign_in(client, cast.chair)
    page = await client.get(f"/meetings/{meeting_id}")
    assert f'action="/meetings/{meeting_id}/papers/send"' not in page.text
    before = await OutboundEmail.count()
    response = await post_form(client, f"/meetings/{meeting_id}/papers/send")
    assert response.status_code == 409
    assert "cancelled" in response.text
    assert await OutboundEmail.count() == before
