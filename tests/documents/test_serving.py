"""Serving papers: streamed in chunks (a 20 MiB download does not hold 20 MiB in Python),
as an attachment with its name (RFC 6266), never sniffed, under a sandbox policy; and the
pages that list them."""

from __future__ import annotations

import asyncio
import hashlib
import tracemalloc

from governance.accounts.services import issue_api_token
from governance.documents import services
from governance.documents.schemas import MIB, NewDocuments
from tests.documents import files
from tests.factories import viewer_for
from tests.helpers import sign_in


async def _add(cast, setting, name: str, content: bytes, **fields) -> int:
    [document_id] = await services.add_documents(
        "meeting",
        setting.meeting_id,
        [files.MemoryUpload(name, content)],
        NewDocuments(**fields),
        await viewer_for(cast.chair),
    )
    return document_id


async def _download_by_asgi(app, path: str, token: str) -> tuple[int, int, str]:
    """The response as the server sends it, each body message dropped once counted (an
    httpx client would gather the whole body first)."""
    status, size, digest = 0, 0, hashlib.sha256()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("203.0.113.7", 50000),
        "server": ("testserver", 80),
    }

    received, finished = asyncio.Event(), asyncio.Event()

    async def receive() -> dict:
        if received.is_set():
            # The client stays connected until the response is over.
            await finished.wait()
            return {"type": "http.disconnect"}
        received.set()
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))
            digest.update(message.get("body", b""))
            if not message.get("more_body", False):
                finished.set()

    await app(scope, receive, send)
    return status, size, digest.hexdigest()


async def test_a_20_mib_download_is_streamed(app, cast, setting, monkeypatch):
    monkeypatch.setattr(services, "max_upload_bytes", lambda: 25 * MIB)
    content = b"%PDF-1.4\n" + hashlib.sha256(b"seed").digest() * (20 * MIB // 32)
    expected = hashlib.sha256(content).hexdigest()
    document_id = await _add(cast, setting, "big.pdf", content)
    del content
    token = await issue_api_token("member@example.org")
    tracemalloc.start()
    try:
        status, size, digest = await _download_by_asgi(
            app, f"/api/v1/documents/{document_id}/content", token
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 200 and size > 20 * MIB and digest == expected
    assert peak < 8 * MIB, f"the download held {peak / MIB:.1f} MiB at once"


async def test_the_download_headers(client, cast, setting):
    document_id = await _add(cast, setting, 'Rapport d\'été "final".pdf', files.pdf())
    await sign_in(client, cast.member)
    response = await client.get(f"/documents/{document_id}/content")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Rapport d\'ete _final_.pdf"')
    assert "filename*=UTF-8''Rapport%20d%27%C3%A9t%C3%A9%20%22final%22.pdf" in disposition
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    inline = await client.get(f"/documents/{document_id}/view")
    assert inline.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in inline.headers["content-security-policy"]


async def test_text_is_never_shown_inline(client, cast, setting):
    document_id = await _add(cast, setting, "notes.txt", b"<script>alert(1)</script>")
    await sign_in(client, cast.member)
    assert (await client.get(f"/documents/{document_id}/view")).status_code == 404
    download = await client.get(f"/documents/{document_id}/content")
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["content-type"].startswith("text/plain")


async def test_the_director_sees_no_board_paper_anywhere(client, cast, setting):
    await _add(
        cast,
        setting,
        "budget.pdf",
        files.pdf(),
        title="Budget figures",
        agenda_item_id=setting.internal_item,
    )
    hidden = await _add(
        cast,
        setting,
        "conduct.pdf",
        files.pdf(),
        title="Conduct evidence",
        visibility="board",
        agenda_item_id=setting.board_item,
    )
    await sign_in(client, cast.director)
    page = await client.get(f"/meetings/{setting.meeting_id}")
    assert "Budget figures" in page.text and "Item 1. Budget" in page.text
    assert "Conduct evidence" not in page.text and "conduct.pdf" not in page.text
    missing = await client.get("/documents/999999")
    refused = await client.get(f"/documents/{hidden}")
    assert refused.status_code == missing.status_code == 404
    assert refused.text == missing.text.replace("999999", str(hidden))
    await sign_in(client, cast.board)
    page = await client.get(f"/meetings/{setting.meeting_id}")
    assert "Conduct evidence" in page.text and "Item 2. Conduct of management" in page.text


async def test_the_pack_query_numbers_items_as_the_reader_sees_them(cast, setting):
    from governance.documents.queries import papers_for_pack, read_content

    await _add(cast, setting, "whole.pdf", files.pdf(), title="For the meeting")
    await _add(
        cast,
        setting,
        "conduct.pdf",
        files.pdf(),
        visibility="board",
        agenda_item_id=setting.board_item,
    )
    await _add(cast, setting, "budget.pdf", files.pdf(), agenda_item_id=setting.internal_item)
    # A third item after the Board-only one: the Director's numbering has no gap.
    from governance.meetings import services as meetings
    from governance.meetings.schemas import AgendaItemDetails

    chair = await viewer_for(cast.chair)
    last = await meetings.add_agenda_item(
        setting.meeting_id, AgendaItemDetails(title="Any other business"), chair
    )
    await _add(cast, setting, "aob.txt", b"Other business\n", agenda_item_id=last)
    director = await papers_for_pack(setting.meeting_id, await viewer_for(cast.director))
    board = await papers_for_pack(setting.meeting_id, await viewer_for(cast.board))
    assert [(p.file_name, p.agenda_position) for p in director] == [
        ("whole.pdf", None),
        ("budget.pdf", 1),
        ("aob.txt", 2),
    ]
    assert [(p.file_name, p.agenda_position) for p in board] == [
        ("whole.pdf", None),
        ("budget.pdf", 1),
        ("conduct.pdf", 2),
        ("aob.txt", 3),
    ]
    chunks = [chunk async for chunk in read_content(director[2].sha256)]
    assert b"".join(chunks) == b"Other business\n"


async def test_the_upload_form_shows_every_error(client, cast, setting):
    await sign_in(client, cast.chair)
    page = await client.get(f"/meetings/{setting.meeting_id}")
    assert 'enctype="multipart/form-data"' in page.text and "multiple" in page.text
    token = client.cookies.get("governance_csrf")
    response = await client.post(
        f"/meetings/{setting.meeting_id}/papers",
        files={"file": ("run.pdf", files.windows_executable())},
        data={"_csrf_token": token, "visibility": "public", "title": "x"},
    )
    assert response.status_code == 422
    assert "run.pdf: files of this type" in response.text
    assert "A paper here can be read at most" in response.text
    assert 'class="error-summary"' in response.text
    ok = await client.post(
        f"/meetings/{setting.meeting_id}/papers",
        files=[("file", ("a.pdf", files.pdf())), ("file", ("b.odt", files.odt()))],
        data={"_csrf_token": token, "visibility": "internal"},
    )
    assert ok.status_code == 302
    page = await client.get(f"/meetings/{setting.meeting_id}")
    assert "2 papers added." in page.text and "b.odt" in page.text
