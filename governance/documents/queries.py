"""Reads of documents, each with the reader's visibility in the query (scopes.documents).

A paper is a series of versions; its current version is its newest, and a withdrawn
paper (every version withdrawn at once) is listed nowhere but on its own page, which keeps
its history.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from governance.accounts import scopes
from governance.accounts.policy import Viewer, Visibility
from governance.core.clock import utcnow
from governance.core.db import PreparedSelect, one_row, read_at_once
from governance.core.errors import ConflictError
from governance.core.urls import path_for
from governance.documents import storage
from governance.documents.schemas import (
    FROZEN,
    NO_SUCH_DOCUMENT,
    DocumentPage,
    DocumentView,
    HolderKind,
    PaperForPack,
)
from governance.documents.tables import Document
from governance.meetings import queries as meetings
from governance.meetings.tables import AgendaItem, Minutes
from governance.reports import queries as reports
from governance.resolutions.schemas import accepts_votes
from governance.resolutions.tables import WrittenResolution

# A meeting (and its minutes) is read by its group's members, the Director and the Board:
# the visibility its papers narrow.
MEETING_VISIBILITY = Visibility.INTERNAL
NO_MINUTES = "This meeting has no minutes yet: start them before adding annexes."
# The resolutions domain's own words for one its reader may not read.
NO_SUCH_HOLDER = "There is no such written resolution."


def _columns() -> tuple[Any, ...]:
    return (*Document.all_columns(), Document.added_by.display_name.as_alias("added_by_name"))


def view_of(row: Mapping[str, Any]) -> DocumentView:
    return DocumentView(
        id=row["id"],
        series=row["series"],
        version=row["version"],
        title=row["title"],
        file_name=row["file_name"],
        media_type=row["media_type"],
        size=int(row["size"]),
        sha256=row["sha256"],
        visibility=row["visibility"],
        group_id=row["group"],
        holder_kind=row["holder_kind"],
        holder_id=row["holder_id"],
        meeting_id=row["meeting"],
        agenda_item_id=row["agenda_item"],
        report_id=row["report"],
        resolution_id=row["resolution"],
        added_by=row["added_by_name"] or "",
        added_at=row["added_at"],
        withdrawn_at=row["withdrawn_at"],
        content_url=path_for("documents:content", document_id=row["id"]),
    )


async def document_row(document_id: int, viewer: Viewer) -> dict[str, Any]:
    """The document's row if this viewer may read it; not found otherwise, in one query
    whether it is hidden or missing."""
    query = Document.select(*_columns()).where(
        (Document.id == document_id) & scopes.documents(viewer)
    )
    return await one_row(query, NO_SUCH_DOCUMENT)


async def get_document(document_id: int, viewer: Viewer) -> DocumentView:
    return view_of(await document_row(document_id, viewer))


async def series_rows(series: int, viewer: Viewer) -> list[dict[str, Any]]:
    """Every version of a paper this viewer reads, newest first."""
    return (
        await Document.select(*_columns())
        .where((Document.series == series) & scopes.documents(viewer))
        .order_by(Document.version, ascending=False)
    )


# --- what holds a document ---------------------------------------------------------------


async def _meeting_holder(meeting_id: int, viewer: Viewer) -> dict[str, Any]:
    meeting = await meetings.readable_meeting(meeting_id, viewer)
    return {
        "kind": HolderKind.MEETING,
        "id": meeting_id,
        "group": meeting["group"],
        "visibility": MEETING_VISIBILITY,
        "meeting": meeting_id,
        "frozen": await meetings.is_locked(meeting_id),
        "title": meeting["title"],
        "url": path_for("meetings:show", meeting_id=meeting_id),
    }


async def _item_holder(item_id: int, viewer: Viewer) -> dict[str, Any]:
    item, meeting = await meetings.readable_item(item_id, viewer)
    return {
        "kind": HolderKind.AGENDA_ITEM,
        "id": item_id,
        "group": meeting["group"],
        "visibility": item["visibility"],
        "meeting": meeting["id"],
        "agenda_item": item_id,
        "frozen": await meetings.is_locked(meeting["id"]),
        "title": f"{meeting['title']}: {item['title']}",
        "url": path_for("meetings:show", meeting_id=meeting["id"]),
    }


async def _minutes_holder(meeting_id: int, viewer: Viewer) -> dict[str, Any]:
    holder = await _meeting_holder(meeting_id, viewer)
    minutes = (
        await Minutes.select(Minutes.id, Minutes.status)
        .where(Minutes.meeting == meeting_id)
        .first()
    )
    if minutes is None:
        raise ConflictError(NO_MINUTES)
    return {
        **holder,
        "kind": HolderKind.MINUTES,
        "id": minutes["id"],
        "minutes": minutes["id"],
        "frozen": minutes["status"] == "approved",
        "title": f"Minutes of {holder['title']}",
    }


async def _report_holder(report_id: int, viewer: Viewer) -> dict[str, Any]:
    report = await reports.report_row(report_id, viewer)
    return {
        "kind": HolderKind.REPORT,
        "id": report_id,
        "group": report["group"],
        "visibility": report["visibility"],
        "report": report_id,
        "frozen": report["status"] != "draft",
        "title": report["title"],
        "url": path_for("reports:show", report_id=report_id),
    }


async def _resolution_holder(resolution_id: int, viewer: Viewer) -> dict[str, Any]:
    """A written resolution, read as `scopes.resolutions` allows (the resolutions domain
    reads documents, so its table is read here rather than through its queries); its papers
    change only while it is open for votes."""
    resolution = await one_row(
        WrittenResolution.select(
            WrittenResolution.group,
            WrittenResolution.title,
            WrittenResolution.visibility,
            WrittenResolution.status,
            WrittenResolution.closes_at,
        ).where((WrittenResolution.id == resolution_id) & scopes.resolutions(viewer)),
        NO_SUCH_HOLDER,
    )
    return {
        "kind": HolderKind.RESOLUTION,
        "id": resolution_id,
        "group": resolution["group"],
        "visibility": resolution["visibility"],
        "resolution": resolution_id,
        "frozen": not accepts_votes(resolution["status"], resolution["closes_at"], utcnow()),
        "title": resolution["title"],
        "url": path_for("resolutions:show", resolution_id=resolution_id),
    }


async def holder(kind: str, holder_id: int, viewer: Viewer) -> dict[str, Any]:
    """What holds (or will hold) a document, if this viewer may read it: its group, the
    visibility a document on it narrows, whether it is frozen, its title and page. A
    minutes holder is named by its meeting's id. Not found otherwise."""
    if kind == HolderKind.MEETING:
        return await _meeting_holder(holder_id, viewer)
    if kind == HolderKind.AGENDA_ITEM:
        return await _item_holder(holder_id, viewer)
    if kind == HolderKind.MINUTES:
        return await _minutes_holder(holder_id, viewer)
    if kind == HolderKind.RESOLUTION:
        return await _resolution_holder(holder_id, viewer)
    return await _report_holder(holder_id, viewer)


async def holder_of(row: Mapping[str, Any], viewer: Viewer) -> dict[str, Any]:
    """The holder of a document already read."""
    if row["holder_kind"] == HolderKind.MINUTES:
        return await holder(HolderKind.MINUTES, row["meeting"], viewer)
    return await holder(row["holder_kind"], row["holder_id"], viewer)


def frozen_message(kind: str) -> str:
    return FROZEN[HolderKind(kind)]


async def document_page(document_id: int, viewer: Viewer) -> DocumentPage:
    """A document with every version of its paper: three to five queries."""
    row = await document_row(document_id, viewer)
    versions = await series_rows(row["series"], viewer)
    held_by = await holder_of(row, viewer)
    return DocumentPage(
        document=view_of(row),
        versions=[view_of(version) for version in versions],
        holder_title=held_by["title"],
        holder_url=held_by["url"],
        can_manage=viewer.leads(row["group"]),
        frozen=bool(held_by["frozen"]),
    )


# --- lists --------------------------------------------------------------------------------


def current_versions(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The newest version of each paper that is not withdrawn, in the order each paper was
    first added."""
    newest: dict[int, dict[str, Any]] = {}
    for row in rows:
        held = newest.get(row["series"])
        if held is None or row["version"] > held["version"]:
            newest[row["series"]] = dict(row)
    papers = [row for row in newest.values() if row["withdrawn_at"] is None]
    return sorted(papers, key=lambda row: row["series"])


async def held_documents(kind: str, holder_id: int, viewer: Viewer) -> list[DocumentView]:
    """The current papers of minutes (by their id), a report or a written resolution that
    this viewer reads."""
    rows = await Document.select(*_columns()).where(
        (Document.holder_kind == kind)
        & (Document.holder_id == holder_id)
        & scopes.documents(viewer)
    )
    return [view_of(row) for row in current_versions(rows)]


# The meeting page's reads, built once per viewer (and group) and run with the meeting.
_ANNEXES = PreparedSelect(
    lambda viewer, meeting_id: Document.select(*_columns()).where(
        (Document.holder_kind == HolderKind.MINUTES)
        & (Document.meeting == meeting_id)
        & scopes.documents(viewer)
    )
)
_MEETING_PAPERS = PreparedSelect(
    lambda viewer, meeting_id: Document.select(*_columns()).where(
        (Document.meeting == meeting_id)
        & Document.holder_kind.is_in([HolderKind.MEETING, HolderKind.AGENDA_ITEM])
        & scopes.documents(viewer)
    )
)
_READABLE_ITEMS = PreparedSelect(
    lambda viewer, group_id, meeting_id: (
        AgendaItem.select(AgendaItem.id, AgendaItem.title)
        .where(
            (AgendaItem.meeting == meeting_id)
            & scopes.readable_in_group(viewer, group_id, AgendaItem.visibility)
        )
        .order_by(AgendaItem.position)
    )
)


async def minutes_annexes(meeting_id: int, viewer: Viewer) -> list[DocumentView]:
    """The current annexes of a meeting's minutes that this viewer reads."""
    rows = await _ANNEXES.run(viewer, meeting_id=meeting_id)
    return [view_of(row) for row in current_versions(rows)]


async def _numbered_items(meeting_id: int, group_id: int, viewer: Viewer) -> dict[int, Any]:
    """The agenda items this viewer reads, numbered 1 to n in agenda order, as the meeting
    page numbers them: a hidden item leaves no gap."""
    items = await _READABLE_ITEMS.run(viewer, group_id, meeting_id=meeting_id)
    return {item["id"]: (number, item["title"]) for number, item in enumerate(items, start=1)}


async def agenda_choices(meeting_id: int, viewer: Viewer) -> list[tuple[int, Any]]:
    """The agenda items of a meeting this viewer reads, as (id, (number, title))."""
    meeting = await meetings.readable_meeting(meeting_id, viewer)
    numbered = await _numbered_items(meeting_id, meeting["group"], viewer)
    return list(numbered.items())


async def meeting_papers(
    meeting_id: int, viewer: Viewer, group_id: int | None = None
) -> list[tuple[DocumentView, Any]]:
    """The current papers of a meeting this viewer reads, each with its agenda item's
    number and title (None for the meeting's own papers), in agenda order with the
    meeting's own papers first: two queries, three without the meeting's group (which
    is then read, with the viewer's access to the meeting)."""
    if group_id is None:
        group_id = (await meetings.readable_meeting(meeting_id, viewer))["group"]
    rows, numbered = await read_at_once(
        _MEETING_PAPERS.run(viewer, meeting_id=meeting_id),
        _numbered_items(meeting_id, group_id, viewer),
    )
    papers = [
        (view_of(row), numbered.get(row["agenda_item"]))
        for row in current_versions(rows)
        if row["agenda_item"] is None or row["agenda_item"] in numbered
    ]
    papers.sort(key=lambda paper: (paper[1][0] if paper[1] else 0, paper[0].series))
    return papers


async def papers_for_pack(meeting_id: int, viewer: Viewer) -> list[PaperForPack]:
    """The papers of a meeting's pack as this reader may read them: the current version of
    each, the meeting's own papers first, then each agenda item's in agenda order, with the
    item's number among the items this reader reads (so the Director's numbering has no gap
    where a Board-only item is) and its title. Not found if the reader may not read the
    meeting."""
    return [
        PaperForPack(
            document_id=paper.id,
            title=paper.title,
            file_name=paper.file_name,
            media_type=paper.media_type,
            size=paper.size,
            sha256=paper.sha256,
            visibility=paper.visibility,
            agenda_position=item[0] if item else None,
            agenda_title=item[1] if item else None,
        )
        for paper, item in await meeting_papers(meeting_id, viewer)
    ]


def read_content(sha256: str) -> AsyncIterator[bytes]:
    """A stored content, one chunk (at most 1 MiB) at a time; read only what a query of
    this module let the reader see."""
    return storage.read_content(sha256)


async def documents_added_by(user_id: int) -> list[dict[str, Any]]:
    """Every document a person added, for their personal-data export: names and hashes,
    never contents."""
    return (
        await Document.select(
            Document.id,
            Document.title,
            Document.file_name,
            Document.media_type,
            Document.size,
            Document.sha256,
            Document.holder_kind,
            Document.holder_id,
            Document.version,
            Document.added_at,
            Document.withdrawn_at,
        )
        .where(Document.added_by == user_id)
        .order_by(Document.id)
    )


async def annex_hashes(report_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The current annexes of these reports, for their content hashes: each one's file
    name and SHA-256, in the order they were added, by report (no visibility: the hash is
    of the whole record). One query."""
    if not report_ids:
        return {}
    rows = await Document.select(*_columns()).where(
        (Document.holder_kind == HolderKind.REPORT) & Document.holder_id.is_in(report_ids)
    )
    by_report: dict[int, list[dict[str, Any]]] = {}
    for row in current_versions(rows):
        by_report.setdefault(row["holder_id"], []).append(
            {"series": row["series"], "file_name": row["file_name"], "sha256": row["sha256"]}
        )
    return by_report
