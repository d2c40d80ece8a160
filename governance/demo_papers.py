"""The demo's meeting papers, made here rather than downloaded: small PDFs (WeasyPrint,
from short HTML) and one OpenDocument text (built with zipfile), added through the
documents services so each has its audit event, one of them Board-only."""

from __future__ import annotations

import datetime as dt
import functools
import io
import zipfile

from governance.accounts.policy import Viewer
from governance.documents import services as documents
from governance.documents.schemas import HolderKind, NewDocuments
from governance.documents.tables import Document

ODT_MEDIA_TYPE = "application/vnd.oasis.opendocument.text"

# (title, file name, text); the text becomes a short paper.
SURVEY = (
    "Wellbeing survey summary Q3",
    "wellbeing-survey-summary-q3.pdf",
    "312 staff answered (64%). Workload is the first concern; 71% feel supported "
    "by their line manager.",
)
TERMS = (
    "Terms of reference draft",
    "terms-of-reference-draft.pdf",
    "The group meets monthly, reports quarterly to the Director and the Board, and "
    "reviews these terms each year.",
)
BUDGET = (
    "Budget note",
    "budget-note.pdf",
    "The group's budget for the year is 4,500 EUR: surveys, a workshop and "
    "refreshments for meetings.",
)
BOARD_BRIEFING = (
    "Briefing for the Board",
    "board-briefing.pdf",
    "Summary of the concerns raised, for the Board only: three accounts, names withheld.",
)
ACTION_LOG = ("Action log", "action-log.odt", "Open actions and their owners, by meeting.")


class _BytesUpload:
    """A made paper handed to the documents services as the upload they expect."""

    def __init__(self, filename: str, data: bytes) -> None:
        self.filename = filename
        self._stream = io.BytesIO(data)

    async def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    async def seek(self, offset: int) -> int:
        return self._stream.seek(offset)


@functools.cache
def paper_pdf(title: str, text: str) -> bytes:
    """A one-page PDF; made once per process (the demo is seeded in many tests, and the
    same bytes are then stored once, by SHA-256)."""
    from weasyprint import HTML  # imported here: slow to import, needed by the demo only

    html = f"<html><body><h1>{title}</h1><p>{text}</p></body></html>"
    return bytes(HTML(string=html).write_pdf())


@functools.cache
def paper_odt(text: str) -> bytes:
    """A minimal valid OpenDocument text: `mimetype` first and stored uncompressed, then
    the content and the manifest."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ODT_MEDIA_TYPE, zipfile.ZIP_STORED)
        archive.writestr(
            "content.xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<office:document-content office:version="1.3" '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
            f"<office:body><office:text><text:p>{text}</text:p></office:text></office:body>"
            "</office:document-content>",
        )
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest manifest:version="1.3" '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODT_MEDIA_TYPE}"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
    return buffer.getvalue()


async def _add(
    meeting_id: int,
    item_id: int | None,
    paper: tuple[str, str, bytes],
    visibility: str,
    chair: Viewer,
) -> None:
    title, file_name, data = paper
    command = NewDocuments(title=title, visibility=visibility, agenda_item_id=item_id)
    upload = _BytesUpload(file_name, data)
    await documents.add_documents(HolderKind.MEETING, meeting_id, [upload], command, chair)


def _pdf(paper: tuple[str, str, str]) -> tuple[str, str, bytes]:
    title, file_name, text = paper
    return title, file_name, paper_pdf(title, text)


async def seed_demo_papers(
    meeting_id: int, item_ids: list[int], starts_at: dt.datetime, chair: Viewer
) -> None:
    """The papers of one meeting, by the demo's agenda (public, internal, board, group
    items), added a week before it started."""
    await _add(meeting_id, None, _pdf(TERMS), "internal", chair)
    await _add(meeting_id, None, _pdf(BUDGET), "internal", chair)
    await _add(meeting_id, item_ids[0], _pdf(SURVEY), "public", chair)
    title, file_name, text = ACTION_LOG
    await _add(meeting_id, item_ids[1], (title, file_name, paper_odt(text)), "internal", chair)
    await _add(meeting_id, item_ids[2], _pdf(BOARD_BRIEFING), "board", chair)
    # Demo history only, as the demo back-dates its reports.
    await Document.update({Document.added_at: starts_at - dt.timedelta(days=7)}).where(
        Document.meeting == meeting_id
    )
