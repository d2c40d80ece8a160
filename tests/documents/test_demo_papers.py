"""The demo's meetings carry papers made by the demo (PDFs and an ODT), added through the
documents services (each with its audit event), one of them Board-only, which the
Director's pack leaves out; and seeding twice adds none again."""

from __future__ import annotations

import pytest

from governance.accounts.policy import CurrentUser
from governance.accounts.tables import User
from governance.core.tables import AuditEvent
from governance.demo import seed_demo
from governance.documents import queries
from governance.documents.tables import Document
from governance.groups.queries import load_viewer
from governance.groups.services import seed_default_groups
from tests.helpers import found

pytestmark = pytest.mark.slow


async def _viewer(email: str):
    row = await User.select().where(User.email == email).first()
    return await load_viewer(CurrentUser.from_row(found(row)))


async def test_the_demo_has_papers_and_a_board_only_one_the_director_does_not_get():
    await seed_default_groups()
    await seed_demo()
    papers = await Document.select().order_by(Document.id)
    assert {row["media_type"] for row in papers} == {
        "application/pdf",
        "application/vnd.oasis.opendocument.text",
    }
    assert "Wellbeing survey summary Q3" in {row["title"] for row in papers}
    added = await AuditEvent.count().where(AuditEvent.action == "document.added")
    assert added == len(papers)
    board_only = [row for row in papers if row["visibility"] == "board"]
    assert len(board_only) == 1
    meeting_id = board_only[0]["meeting"]
    director_pack = await queries.papers_for_pack(meeting_id, await _viewer("director@example.org"))
    board_pack = await queries.papers_for_pack(meeting_id, await _viewer("board@example.org"))
    assert board_only[0]["id"] in {paper.document_id for paper in board_pack}
    assert board_only[0]["id"] not in {paper.document_id for paper in director_pack}
    assert len(director_pack) == len(board_pack) - 1
    await seed_demo()
    assert await Document.count() == len(papers)
