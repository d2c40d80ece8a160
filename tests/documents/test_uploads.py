"""Uploading papers: what is accepted (type by content), every refusal (nothing stored),
dedupe by SHA-256, versions and withdrawal with their audit events, frozen holders."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from governance.accounts.services import issue_api_token
from governance.core.tables import AuditEvent
from governance.documents.tables import Document, DocumentBlob, DocumentContent
from governance.meetings.tables import Minutes
from governance.reports.tables import Report
from tests.documents import files
from tests.helpers import found


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def chair_token(cast) -> dict[str, str]:
    return bearer(await issue_api_token("chair@example.org"))


BOUNDARY = "documents-test-boundary"


def multipart(parts: list[tuple[str, bytes]], fields: dict[str, Any]) -> bytes:
    """A multipart body written by hand, so that a file name goes as it is (httpx would
    percent-encode its control characters)."""
    body = b""
    for key, value in fields.items():
        body += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
        ).encode()
    for name, content in parts:
        quoted = name.replace('"', "%22")
        body += (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"'
                "\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    return body + f"--{BOUNDARY}--\r\n".encode()


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    url: str,
    parts: list[tuple[str, bytes]],
    **fields: Any,
) -> httpx.Response:
    return await client.post(
        url,
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        content=multipart(parts, fields),
    )


async def stored() -> tuple[int, int, int, int]:
    return (
        await Document.count(),
        await DocumentContent.count(),
        await DocumentBlob.count(),
        await AuditEvent.count().where(AuditEvent.entity_type == "document"),
    )


ACCEPTED = [
    ("agenda.pdf", files.pdf, "application/pdf"),
    ("notes.odt", files.odt, "application/vnd.oasis.opendocument.text"),
    (
        "budget.docx",
        files.docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("chart.png", files.png, "image/png"),
    ("notes.txt", lambda: "Plain text, naïve café.\n".encode(), "text/plain"),
    ("figures.csv", lambda: b"a,b\n1,2\n", "text/csv"),
    ("readme.md", lambda: b"# Heading\n\nText.\n", "text/markdown"),
]


@pytest.mark.parametrize(("name", "make", "media_type"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
async def test_allowed_types_are_recognised_by_content(
    client, cast, setting, name, make, media_type
):
    content = make()
    response = await upload(
        client,
        await chair_token(cast),
        f"/api/v1/meetings/{setting.meeting_id}/documents",
        [(name, content)],
    )
    assert response.status_code == 201, response.text
    document = response.json()["documents"][0]
    assert document["media_type"] == media_type
    assert document["size"] == len(content)
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    assert document["file_name"] == name and document["title"] == name
    assert document["version"] == 1 and document["series"] == document["id"]


REFUSED = [
    ("report.pdf", files.windows_executable(), "not accepted"),
    ("report.pdf", files.elf(), "not accepted"),
    ("data.pdf", files.binary_junk(), "not of a type accepted"),
    ("empty.pdf", b"", "empty"),
    ("../etc/passwd.txt", b"text", "path separator"),
    ("dir\\name.txt", b"text", "path separator"),
    ("bad\x07name.txt", b"text", "control"),
    ("rtl\u202eftp.exe.txt", b"text", "control"),
    ("nul\x00.txt", b"text", "control"),
]


@pytest.mark.parametrize(("name", "content", "reason"), REFUSED)
async def test_refusals_store_nothing(client, cast, setting, name, content, reason):
    headers = await chair_token(cast)
    before = await stored()
    response = await upload(
        client, headers, f"/api/v1/meetings/{setting.meeting_id}/documents", [(name, content)]
    )
    assert response.status_code in {400, 422}, response.text
    if response.status_code == 422:
        assert reason in response.json()["errors"]["file"]
    assert await stored() == before


async def test_one_bad_file_refuses_the_whole_post(client, cast, setting):
    before = await stored()
    response = await upload(
        client,
        await chair_token(cast),
        f"/api/v1/meetings/{setting.meeting_id}/documents",
        [("good.pdf", files.pdf()), ("bad.pdf", files.windows_executable())],
    )
    assert response.status_code == 422
    assert "bad.pdf" in response.json()["errors"]["file"]
    assert await stored() == before


async def test_over_the_limit_is_refused_while_reading(client, cast, setting, monkeypatch):
    from governance.documents import services

    monkeypatch.setattr(services, "max_upload_bytes", lambda: 4096)
    before = await stored()
    big = b"%PDF-1.4\n" + b"x" * 5000
    response = await upload(
        client,
        await chair_token(cast),
        f"/api/v1/meetings/{setting.meeting_id}/documents",
        [("big.pdf", big)],
    )
    assert response.status_code == 422
    assert "larger than the limit of 4 KiB" in response.json()["errors"]["file"]
    assert await stored() == before


async def test_a_body_over_the_route_limit_is_413(client, cast, setting):
    from governance.documents.api import BODY_LIMIT

    response = await upload(
        client,
        await chair_token(cast),
        f"/api/v1/meetings/{setting.meeting_id}/documents",
        [("huge.txt", b"a" * (BODY_LIMIT + 10))],
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_visibility_only_narrows_the_holder(client, cast, setting):
    headers = await chair_token(cast)
    url = f"/api/v1/meetings/{setting.meeting_id}/documents"
    on_board_item = await upload(
        client,
        headers,
        url,
        [("a.pdf", files.pdf())],
        agenda_item_id=setting.board_item,
        visibility="internal",
    )
    public = await upload(client, headers, url, [("a.pdf", files.pdf())], visibility="public")
    assert on_board_item.status_code == 422 and "visibility" in on_board_item.json()["errors"]
    assert public.status_code == 422 and "visibility" in public.json()["errors"]
    fine = await upload(
        client,
        headers,
        url,
        [("a.pdf", files.pdf())],
        agenda_item_id=setting.board_item,
        visibility="group",
    )
    assert fine.status_code == 201


async def test_only_the_chair_or_secretary_adds(client, cast, setting):
    token = bearer(await issue_api_token("member@example.org"))
    response = await upload(
        client, token, f"/api/v1/meetings/{setting.meeting_id}/documents", [("a.pdf", files.pdf())]
    )
    assert response.status_code == 403


async def test_the_same_bytes_twice_are_stored_once(client, cast, setting):
    headers = await chair_token(cast)
    content = b"%PDF-1.4\n" + bytes(range(256)) * 9000  # a little over 2 MiB: three chunks
    url = f"/api/v1/meetings/{setting.meeting_id}/documents"
    first = await upload(client, headers, url, [("one.pdf", content)])
    second = await upload(client, headers, url, [("two.pdf", content)])
    assert first.status_code == second.status_code == 201
    assert await Document.count() == 2
    assert await DocumentContent.count() == 1
    assert await DocumentBlob.count() == 3
    download = await client.get(
        f"/api/v1/documents/{second.json()['documents'][0]['id']}/content", headers=headers
    )
    assert download.content == content


async def test_several_files_at_once_each_a_paper(client, cast, setting):
    response = await upload(
        client,
        await chair_token(cast),
        f"/api/v1/meetings/{setting.meeting_id}/documents",
        [("a.pdf", files.pdf("A")), ("b.odt", files.odt()), ("c.pdf", files.pdf("C"))],
    )
    assert response.status_code == 201
    assert [d["file_name"] for d in response.json()["documents"]] == ["a.pdf", "b.odt", "c.pdf"]


async def test_versions_keep_the_history_and_are_audited(client, cast, setting):
    headers = await chair_token(cast)
    first = await upload(
        client,
        headers,
        f"/api/v1/meetings/{setting.meeting_id}/documents",
        [("paper.pdf", files.pdf("v1"))],
        title="Budget paper",
    )
    document_id = first.json()["documents"][0]["id"]
    second = await client.post(
        f"/api/v1/documents/{document_id}/versions",
        headers=headers,
        files={"file": ("paper-v2.pdf", files.pdf("v2"))},
    )
    assert second.status_code == 201, second.text
    new = second.json()
    assert new["version"] == 2 and new["series"] == document_id and new["title"] == "Budget paper"
    withdrawn = await client.delete(f"/api/v1/documents/{new['id']}", headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    again = await client.delete(f"/api/v1/documents/{new['id']}", headers=headers)
    assert again.status_code == 409
    events = (
        await AuditEvent.select(AuditEvent.action, AuditEvent.summary)
        .where(AuditEvent.entity_type == "document")
        .order_by(AuditEvent.sequence)
    )
    assert [e["action"] for e in events] == [
        "document.added",
        "document.versioned",
        "document.withdrawn",
    ]
    assert all("Budget paper" not in e["summary"] for e in events)
    assert new["sha256"] in events[1]["summary"]
    # Both versions stay readable on the page of the paper.
    page = await client.get(f"/api/v1/documents/{document_id}", headers=headers)
    assert page.status_code == 200 and page.json()["withdrawn_at"]


async def test_frozen_holders_freeze_their_papers(client, cast, setting):
    headers = await chair_token(cast)
    paper = await upload(
        client,
        headers,
        f"/api/v1/meetings/{setting.meeting_id}/documents",
        [("paper.pdf", files.pdf())],
    )
    annex = await upload(
        client,
        headers,
        f"/api/v1/reports/{setting.report_id}/documents",
        [("annex.pdf", files.pdf())],
    )
    paper_id = paper.json()["documents"][0]["id"]
    annex_id = annex.json()["documents"][0]["id"]
    await Minutes.update({Minutes.status: "approved"}).where(Minutes.meeting == setting.meeting_id)
    await Report.update({Report.status: "submitted"}).where(Report.id == setting.report_id)
    before = await stored()
    for document_id in (paper_id, annex_id):
        version = await client.post(
            f"/api/v1/documents/{document_id}/versions",
            headers=headers,
            files={"file": ("new.pdf", files.pdf("new"))},
        )
        removal = await client.delete(f"/api/v1/documents/{document_id}", headers=headers)
        assert version.status_code == 409 and removal.status_code == 409
        assert "can no longer change" in version.json()["detail"]
    for url in (
        f"/api/v1/meetings/{setting.meeting_id}/documents",
        f"/api/v1/reports/{setting.report_id}/documents",
        f"/api/v1/meetings/{setting.meeting_id}/minutes/documents",
    ):
        added = await upload(client, headers, url, [("more.pdf", files.pdf())])
        assert added.status_code == 409, url
    assert await stored() == before


async def test_the_report_hash_covers_its_annexes(client, cast, setting):
    from governance.documents.tables import Document
    from governance.integrity import mismatched_records
    from governance.reports import services as reports
    from governance.reports.integrity import content_hash
    from tests.factories import viewer_for

    headers = await chair_token(cast)
    annex = await upload(
        client,
        headers,
        f"/api/v1/reports/{setting.report_id}/documents",
        [("annex.pdf", files.pdf("annex"))],
    )
    assert annex.status_code == 201
    annex_sha = annex.json()["documents"][0]["sha256"]
    await reports.submit_report(setting.report_id, await viewer_for(cast.chair))
    row = found(await Report.select().where(Report.id == setting.report_id).first())
    without = content_hash({**row, "to_director": True, "to_board": True})
    assert row["content_hash"] != without
    assert await mismatched_records() == []
    api = await client.get(f"/api/v1/reports/{setting.report_id}", headers=headers)
    assert api.json()["integrity"] == "ok"
    # An annex's hash changed behind the service's back: the report no longer matches.
    await Document.update({Document.sha256: "0" * 64}).where(Document.sha256 == annex_sha)
    assert [m.kind for m in await mismatched_records()] == ["report"]
    api = await client.get(f"/api/v1/reports/{setting.report_id}", headers=headers)
    assert api.json()["integrity"] == "mismatch"
