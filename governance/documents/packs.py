"""The meeting pack for one reader: what goes in it, its cache, and sending it to members.

`meeting_pack` reads the meeting as this reader may read it (the same read as the meeting
page: a reader who may not see the meeting gets its "not found"), the papers this reader
may read (`documents.queries.papers_for_pack`), and the cache key over both; a pack with
that key already built is streamed from the database, otherwise it is built (in a worker
thread), stored as a document content (by its SHA-256) and recorded under the key. Nothing
of an item the reader may not read is fetched, so nothing of it can reach the PDF, its page
count or its key.

`send_papers` queues, for each current member of the group, an email that links to the
pack and lists the papers that member may read, with one dedupe key per meeting,
recipient and pack: sending again after nothing changed sends nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from governance.accounts.policy import CurrentUser, Viewer, Visibility
from governance.accounts.tables import User
from governance.core.audit import EventScope, record_event
from governance.core.clock import organisation_today, utcnow
from governance.core.db import write_transaction
from governance.core.errors import ConflictError, PermissionDenied
from governance.documents import queries as document_queries
from governance.documents import storage
from governance.documents.pack import (
    PDF,
    PackAgendaLine,
    PackCover,
    PackPaper,
    build_pack,
    cache_key,
    find_office_converter,
    ordered_papers,
)
from governance.documents.pack_tables import MeetingPack
from governance.documents.schemas import ScannedFile
from governance.groups.queries import load_viewer, members_on
from governance.meetings import queries as meeting_queries
from governance.meetings.schemas import MeetingView
from governance.notifications import emails
from governance.settings import get_settings


@dataclass(frozen=True)
class PackContents:
    """What one reader's pack is made of, before it is built."""

    meeting: MeetingView
    cover: PackCover
    agenda: list[PackAgendaLine]
    papers: list[PackPaper]

    @property
    def key(self) -> str:
        return cache_key(self.cover, self.agenda, self.papers)

    @property
    def file_name(self) -> str:
        day = meeting_queries.meeting_date(self.meeting.starts_at).isoformat()
        return f"papers-{self.meeting.group_slug}-{day}-meeting-{self.meeting.id}.pdf"


@dataclass(frozen=True)
class PackFile:
    """A built pack, ready to stream: its name, size and SHA-256, and its bytes in chunks."""

    file_name: str
    size: int
    sha256: str
    page_count: int
    media_type: str = PDF

    def chunks(self) -> AsyncIterator[bytes]:
        return document_queries.read_content(self.sha256)


def _when(meeting: MeetingView) -> str:
    """The meeting's time in the organisation's time zone, the same for every reader (a
    reader's own zone would give two readers who see the same thing two packs)."""
    zone_name = get_settings().timezone
    zone = ZoneInfo(zone_name)
    starts, ends = meeting.starts_at.astimezone(zone), meeting.ends_at.astimezone(zone)
    until = ends.strftime("%H:%M") if ends.date() == starts.date() else _long(ends)
    return f"{_long(starts)} to {until} ({zone_name})"


def _long(moment: dt.datetime) -> str:
    return moment.strftime("%A %-d %B %Y, %H:%M")


async def pack_contents(meeting_id: int, viewer: Viewer) -> PackContents:
    """The cover, agenda and papers of this reader's pack; not found if they may not read
    the meeting (the meeting page's own read and its own "not found")."""
    meeting = await meeting_queries.meeting_view(meeting_id, viewer)
    papers = await document_queries.papers_for_pack(meeting_id, viewer)
    cover = PackCover(
        group_name=meeting.group_name,
        meeting_title=meeting.title,
        when=_when(meeting),
        place=meeting.location or "No place given",
    )
    # Keyed by the item's number among those this reader reads, as the papers name it.
    agenda = [PackAgendaLine(key=item.position, title=item.title) for item in meeting.agenda]
    described = [
        PackPaper(
            title=paper.title,
            file_name=paper.file_name,
            media_type=paper.media_type,
            size=paper.size,
            sha256=paper.sha256,
            agenda_key=paper.agenda_position,
        )
        for paper in papers
    ]
    return PackContents(meeting, cover, agenda, ordered_papers(agenda, described))


async def cached_pack(key: str) -> dict[str, Any] | None:
    """The pack built under this key, if it is still stored."""
    row = await MeetingPack.select().where(MeetingPack.cache_key == key).first()
    if row is None or not await storage.content_is_stored(row["sha256"]):
        return None
    return row  # type: ignore[no-any-return]


async def meeting_pack(meeting_id: int, viewer: Viewer) -> PackFile:
    """This reader's pack: from the cache when one with the same contents was built, by
    anyone, in any process; built and cached otherwise."""
    contents = await pack_contents(meeting_id, viewer)
    key = contents.key
    row = await cached_pack(key)
    if row is None:
        row = await _build_and_store(contents, key)
    return PackFile(contents.file_name, int(row["size"]), row["sha256"], int(row["page_count"]))


class _BytesUpload:
    """A built pack handed to `storage.store` as the upload it expects."""

    def __init__(self, filename: str, data: bytes) -> None:
        self.filename = filename
        self._stream = io.BytesIO(data)

    async def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    async def seek(self, offset: int) -> int:
        return self._stream.seek(offset)


async def _paper_bytes(paper: PackPaper) -> bytes:
    return b"".join([chunk async for chunk in document_queries.read_content(paper.sha256)])


async def _build_and_store(contents: PackContents, key: str) -> dict[str, Any]:
    papers = [(paper, await _paper_bytes(paper)) for paper in contents.papers]
    pdf = await build_pack(contents.cover, contents.agenda, papers, find_office_converter())
    sha256 = hashlib.sha256(pdf).hexdigest()
    page_count = len(PdfReader(io.BytesIO(pdf)).pages)
    row: dict[str, Any] = {"sha256": sha256, "size": len(pdf), "page_count": page_count}
    async with write_transaction():
        scanned = ScannedFile(
            file_name=contents.file_name, media_type=PDF, size=len(pdf), sha256=sha256
        )
        await storage.store(_BytesUpload(contents.file_name, pdf), scanned)
        # Two processes may build the same pack at once: the first row stays, and both
        # rows would name the same bytes anyway.
        await MeetingPack.insert(
            MeetingPack(
                cache_key=key,
                sha256=sha256,
                size=len(pdf),
                page_count=page_count,
                created_at=utcnow(),
            )
        ).on_conflict(action="DO NOTHING")
    return row


# --- sending the papers -----------------------------------------------------------------


async def _member_viewers(group_id: int) -> list[Viewer]:
    """The group's current members with an active account, each with the roles they hold
    today, so each one's email says only what that member may read."""
    members = await members_on(group_id, organisation_today())
    if not members:
        return []
    rows = await User.select().where(
        User.id.is_in([member["user"] for member in members]) & (User.is_active == True)  # noqa: E712 - SQL comparison
    )
    return [await load_viewer(CurrentUser.from_row(row)) for row in rows]


PAPERS_OF_A_CANCELLED_MEETING = (
    "This meeting is cancelled: its papers are not sent. Nothing was sent."
)


async def send_papers(meeting_id: int, viewer: Viewer) -> int:
    """Queues the papers' email to every current member (chair or secretary only); returns
    how many emails were new. Each email lists the papers its recipient may read and links
    to their pack; its dedupe key holds that pack's key, so papers added or changed make a
    new email, and pressing again after no change sends nothing."""
    meeting = await meeting_queries.meeting_view(meeting_id, viewer)
    if not meeting.can_manage:
        raise PermissionDenied("Only the group's chair or secretary can send the papers.")
    if meeting.status == "cancelled":
        raise ConflictError(PAPERS_OF_A_CANCELLED_MEETING)
    group_id = await _group_id(meeting_id)
    members = await _member_viewers(group_id)
    packs = [(member, await pack_contents(meeting_id, member)) for member in members]
    async with write_transaction():
        sent = 0
        for member, contents in packs:
            sent += await emails.meeting_papers(
                emails.Recipient(member.user.id, member.user.email, member.user.display_name),
                meeting_id=meeting_id,
                group_name=meeting.group_name,
                meeting_title=meeting.title,
                when=contents.cover.when,
                paper_titles=[paper.title for paper in contents.papers],
                pack_key=contents.key,
                group_id=group_id,
            )
        await record_event(
            viewer.user,
            "meeting.papers_sent",
            "meeting",
            meeting_id,
            f"Papers of meeting {meeting_id} sent to {sent} members",
            scope=EventScope(group_id, Visibility.INTERNAL),
        )
    return sent


async def _group_id(meeting_id: int) -> int:
    return int((await meeting_queries.meeting_row(meeting_id))["group"])
