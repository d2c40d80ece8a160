"""The rules of documents: adding papers and annexes, new versions, withdrawing.

The group's chair or secretary adds documents to its meetings, agenda items, minutes and
draft reports; a document's visibility can only narrow what holds it. Each file is read
and checked before anything is written (type by content, size, name), so a refused upload
stores nothing; then one write transaction stores the contents not stored yet, records
the documents and writes one audit event per document, with names and hashes, never
contents. Once what holds a paper is frozen (approved minutes, a submitted report), its
papers are too: no new version, no withdrawal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from governance.accounts import scopes
from governance.accounts.policy import Viewer
from governance.core.audit import EventScope, record_event
from governance.core.clock import utcnow
from governance.core.contracts import NO_ERRORS, field_errors, refuse, trimmed
from governance.core.db import write_transaction
from governance.core.errors import ConflictError, NotFoundError, PermissionDenied
from governance.documents import queries, storage
from governance.documents.schemas import (
    ALREADY_WITHDRAWN,
    MAX_FILES_PER_POST,
    NEEDS_CORRECTING,
    NOT_A_MANAGER,
    HolderKind,
    NewDocuments,
    NewVersion,
    ScannedFile,
    max_upload_bytes,
)
from governance.documents.storage import Refused, UploadedFile
from governance.documents.tables import Document


def _summary(document_id: int, scanned: ScannedFile, version: int) -> str:
    # The file's name and hash, never its content or title (a title can be confidential,
    # as a name can be: names are shown to readers of the trail who read the document).
    return (
        f"Document {document_id} version {version}: {scanned.file_name} "
        f"({scanned.media_type}, {scanned.size} bytes, sha256 {scanned.sha256})"
    )


def _authorise(viewer: Viewer, group_id: int) -> None:
    if not viewer.leads(group_id):
        raise PermissionDenied(NOT_A_MANAGER)


def _require_changeable(held_by: Mapping[str, Any]) -> None:
    if held_by["frozen"]:
        raise ConflictError(queries.frozen_message(held_by["kind"]))


async def scan_all(files: Sequence[UploadedFile]) -> tuple[list[ScannedFile], list[str]]:
    """Every file read and checked; the problems of those refused, each naming its file."""
    scanned: list[ScannedFile] = []
    problems: list[str] = []
    limit = max_upload_bytes()
    for upload in files:
        try:
            scanned.append(await storage.scan(upload, limit))
        except Refused as refusal:
            problems.append(str(refusal))
    return scanned, problems


def _file_errors(files: Sequence[UploadedFile], problems: list[str]) -> dict[str, str]:
    if not files:
        return {"file": "Choose at least one file to upload."}
    if len(files) > MAX_FILES_PER_POST:
        return {"file": f"Upload at most {MAX_FILES_PER_POST} files at once."}
    return {"file": " ".join(problems)} if problems else {}


async def _item_of(meeting_id: int, item_id: int, viewer: Viewer) -> dict[str, Any] | None:
    """The agenda item as a holder, if it is an item of that meeting this viewer reads."""
    try:
        item = await queries.holder(HolderKind.AGENDA_ITEM, item_id, viewer)
    except NotFoundError:
        return None
    return item if item["meeting"] == meeting_id else None


async def _target(
    kind: str, holder_id: int, command: NewDocuments, viewer: Viewer
) -> tuple[dict[str, Any], dict[str, str]]:
    """What the documents will be held by (a meeting's agenda item when the command names
    one), once the viewer may add to it and it is not frozen; and the error of a named
    item that is not one of the meeting's."""
    held_by = await queries.holder(kind, holder_id, viewer)
    _authorise(viewer, held_by["group"])
    _require_changeable(held_by)
    if command.agenda_item_id is None:
        return held_by, {}
    if kind != HolderKind.MEETING:
        return held_by, {"agenda_item_id": "Only a meeting's papers belong to an agenda item."}
    item = await _item_of(holder_id, command.agenda_item_id, viewer)
    if item is None:
        return held_by, {"agenda_item_id": "Choose an item of this meeting's agenda."}
    return item, {}


def _visibility_error(held_by: Mapping[str, Any], visibility: str) -> dict[str, str]:
    if scopes.narrows(held_by["visibility"], visibility):
        return {}
    allowed = ", ".join(scopes.narrowed_visibilities(held_by["visibility"]))
    return {
        "visibility": f"A paper here can be read at most by those who read what holds it: "
        f"choose {allowed}."
    }


def _columns(held_by: Mapping[str, Any]) -> dict[str, Any]:
    """The holder's part of a document's row."""
    return {
        "group": held_by["group"],
        "holder_kind": held_by["kind"],
        "holder_id": held_by["id"],
        "meeting": held_by.get("meeting"),
        "agenda_item": held_by.get("agenda_item"),
        "minutes": held_by.get("minutes"),
        "report": held_by.get("report"),
        "resolution": held_by.get("resolution"),
    }


async def _record(
    held_by: Mapping[str, Any],
    upload: UploadedFile,
    scanned: ScannedFile,
    fields: Mapping[str, Any],
    viewer: Viewer,
) -> int:
    """Stores one file's content (unless stored) and records it as a document version;
    inside the write transaction. `fields`: title, visibility, series (None: a new paper)
    and version."""
    await storage.store(upload, scanned)
    rows = await Document.insert(
        Document(
            **_columns(held_by),
            series=fields["series"] or 0,
            version=fields["version"],
            title=fields["title"] or scanned.file_name,
            file_name=scanned.file_name,
            media_type=scanned.media_type,
            size=scanned.size,
            sha256=scanned.sha256,
            visibility=fields["visibility"],
            added_by=viewer.user.id,
            added_at=utcnow(),
        )
    ).returning(Document.id)
    document_id = int(rows[0]["id"])
    if not fields["series"]:
        await Document.update({Document.series: document_id}).where(Document.id == document_id)
    action = "document.added" if fields["version"] == 1 else "document.versioned"
    await record_event(
        viewer.user,
        action,
        "document",
        document_id,
        f"{_summary(document_id, scanned, fields['version'])} on {held_by['kind']} {held_by['id']}",
        scope=EventScope(held_by["group"], fields["visibility"]),
    )
    return document_id


async def _store_all(
    held_by: Mapping[str, Any],
    files: Sequence[UploadedFile],
    scanned: Sequence[ScannedFile],
    fields: Mapping[str, Any],
    viewer: Viewer,
) -> list[int]:
    try:
        async with write_transaction():
            return [
                await _record(held_by, upload, found, fields, viewer)
                for upload, found in zip(files, scanned, strict=True)
            ]
    except Refused as refusal:
        refuse({"file": str(refusal)}, NEEDS_CORRECTING)
        raise


async def add_documents(
    kind: str,
    holder_id: int,
    files: Sequence[UploadedFile],
    command: NewDocuments,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> list[int]:
    """The group's chair or secretary adds one or more files to a meeting (or one of its
    agenda items), to minutes (`holder_id` the meeting's) or to a draft report; each file
    a paper of its own. Every field's and every file's error at once; nothing is stored
    unless everything is right. Returns the new documents' ids."""
    command = trimmed(command)
    held_by, errors = await _target(kind, holder_id, command, viewer)
    errors = {**field_errors(command), **unreadable, **errors}
    if "visibility" not in errors:
        errors.update(_visibility_error(held_by, command.visibility))
    scanned, problems = await scan_all(files) if len(files) <= MAX_FILES_PER_POST else ([], [])
    errors.update(_file_errors(files, problems))
    if len(files) > 1 and command.title:
        errors["title"] = "Leave the title empty when uploading several files: each is named."
    refuse(errors, NEEDS_CORRECTING)
    fields = {"title": command.title, "visibility": command.visibility, "series": None}
    return await _store_all(held_by, files, scanned, {**fields, "version": 1}, viewer)


async def check_papers(
    files: Sequence[UploadedFile],
) -> tuple[list[ScannedFile], dict[str, str]]:
    """Reads and checks the files a record carries when it is proposed (a written
    resolution's papers), before the record exists, so that their errors are shown with
    the record's own and nothing is stored unless all is right. No file: nothing to do."""
    if not files:
        return [], {}
    if len(files) > MAX_FILES_PER_POST:
        return [], _file_errors(files, [])
    scanned, problems = await scan_all(files)
    return scanned, _file_errors(files, problems)


async def store_papers(
    kind: str,
    holder_id: int,
    files: Sequence[UploadedFile],
    scanned: Sequence[ScannedFile],
    viewer: Viewer,
) -> list[int]:
    """Adds the files `check_papers` accepted to the record just created, in the caller's
    write transaction: each a paper named by its file, of the record's visibility, with its
    audit event, under the same rules as `add_documents`. Returns the new documents' ids."""
    held_by = await queries.holder(kind, holder_id, viewer)
    _authorise(viewer, held_by["group"])
    _require_changeable(held_by)
    fields = {"title": "", "visibility": held_by["visibility"], "series": None, "version": 1}
    return await _store_all(held_by, files, scanned, fields, viewer)


async def _changeable_document(document_id: int, viewer: Viewer) -> tuple[Any, Any]:
    row = await queries.document_row(document_id, viewer)
    held_by = await queries.holder_of(row, viewer)
    _authorise(viewer, row["group"])
    _require_changeable(held_by)
    return row, held_by


async def add_version(
    document_id: int,
    upload: UploadedFile | None,
    command: NewVersion,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> int:
    """A new version of a paper (named by any of its versions): the old ones stay listed.
    Keeps the paper's visibility; the title, if left empty, is the current one's."""
    command = trimmed(command)
    row, held_by = await _changeable_document(document_id, viewer)
    versions = await queries.series_rows(row["series"], viewer)
    current = versions[0]
    if current["withdrawn_at"] is not None:
        raise ConflictError(ALREADY_WITHDRAWN)
    files = [upload] if upload is not None else []
    scanned, problems = await scan_all(files)
    errors = {**field_errors(command), **unreadable, **_file_errors(files, problems)}
    refuse(errors, NEEDS_CORRECTING)
    fields = {
        "title": command.title or current["title"],
        "visibility": current["visibility"],
        "series": row["series"],
        "version": int(current["version"]) + 1,
    }
    ids = await _store_all(held_by, files, scanned, fields, viewer)
    return ids[0]


async def withdraw_document(document_id: int, viewer: Viewer) -> int:
    """Withdraws a paper (every version of it): it leaves the lists and the pack, and its
    page keeps its history. Returns the paper's series id."""
    row, held_by = await _changeable_document(document_id, viewer)
    async with write_transaction():
        updated = (
            await Document.update(
                {Document.withdrawn_at: utcnow(), Document.withdrawn_by: viewer.user.id}
            )
            .where((Document.series == row["series"]) & Document.withdrawn_at.is_null())
            .returning(Document.id)
        )
        if not updated:
            raise ConflictError(ALREADY_WITHDRAWN)
        await record_event(
            viewer.user,
            "document.withdrawn",
            "document",
            row["series"],
            f"Document {row['series']} withdrawn ({len(updated)} version(s), latest "
            f"{row['file_name']}, sha256 {row['sha256']}) from {held_by['kind']} "
            f"{held_by['id']}",
            scope=EventScope(row["group"], row["visibility"]),
        )
    return int(row["series"])
