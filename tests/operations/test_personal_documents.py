"""A person's data and the documents they added: the export lists each one (title, file
name, size, SHA-256, what holds it, when), never its contents; after erasure, document
pages name the pseudonym where they named the person who added it."""

from __future__ import annotations

import json

import httpx

from governance.accounts.tables import User
from governance.core.audit import SYSTEM
from governance.core.db import write_transaction
from governance.documents import services as documents
from governance.documents.schemas import HolderKind, NewDocuments
from governance.groups.queries import get_group
from governance.operations.queries import personal_data, personal_data_json
from governance.operations.services import erase_person
from tests.conftest import Cast
from tests.documents import files
from tests.documents.files import MemoryUpload
from tests.factories import make_meeting, make_membership, make_user, viewer_for
from tests.helpers import sign_in

SUBJECT_NAME = "Riley Quartermain"
SUBJECT_EMAIL = "riley.quartermain@example.org"
PAPER_TEXT = "Confidential budget figures 4500"


async def _subject_with_a_paper(cast: Cast) -> tuple[int, int, int, bytes]:
    """The subject, secretary of the other group, adds a paper to its meeting; the
    subject's id, the meeting's, the document's and the paper's bytes."""
    subject = await make_user(SUBJECT_EMAIL, SUBJECT_NAME)
    await make_membership(subject, (await get_group("ndi"))["id"], "secretary")
    meeting = await make_meeting("ndi", subject, title="NDI meeting")
    content = files.pdf(PAPER_TEXT)
    [document] = await documents.add_documents(
        HolderKind.MEETING,
        meeting,
        [MemoryUpload("budget-note.pdf", content)],
        NewDocuments(title="Budget note", visibility="internal"),
        await viewer_for(subject),
    )
    return subject, meeting, document, content


async def test_the_export_lists_the_documents_added_never_their_contents(cast: Cast):
    subject, meeting, _document, content = await _subject_with_a_paper(cast)

    text = personal_data_json(await personal_data(subject)).decode()
    [added] = json.loads(text)["documents_added"]

    assert added["title"] == "Budget note"
    assert added["file_name"] == "budget-note.pdf"
    assert added["size"] == len(content)
    assert len(added["sha256"]) == 64
    assert added["holder"] == f"meeting {meeting}"
    assert added["added_at"]
    assert "%PDF" not in text and "data" not in added
    assert json.loads(personal_data_json(await personal_data(cast.chair)))["documents_added"] == []


async def test_after_erasure_document_pages_show_the_pseudonym(
    cast: Cast, client: httpx.AsyncClient
):
    subject, meeting, document, _content = await _subject_with_a_paper(cast)
    async with write_transaction():
        await User.update({User.is_active: False}).where(User.id == subject)

    outcome = await erase_person(SUBJECT_EMAIL, SYSTEM)

    await sign_in(client, cast.board)
    pages = [
        await client.get(f"/documents/{document}"),
        await client.get(f"/meetings/{meeting}"),
        await client.get(f"/api/v1/documents/{document}"),
    ]
    assert [page.status_code for page in pages] == [200, 200, 200], [p.url for p in pages]
    for page in pages:
        assert SUBJECT_NAME not in page.text and SUBJECT_EMAIL not in page.text
    assert outcome.pseudonym in pages[0].text
