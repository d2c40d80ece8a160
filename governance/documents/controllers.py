"""Document pages: the upload forms of meetings, minutes, reports and written resolutions,
a document's page with its versions, its download and its sandboxed inline view. A refused
upload shows the form again with every problem; nothing is stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Stream, Template

from governance.accounts import scopes
from governance.accounts.auth import signed_in
from governance.accounts.policy import Viewer
from governance.core.contracts import read_form
from governance.core.db import read_at_once
from governance.core.errors import InvalidInput, NotFoundError
from governance.core.http import RowId, form_page, page, redirect
from governance.documents import queries, services, serving
from governance.documents.schemas import (
    MAX_FILES_PER_POST,
    NO_SUCH_DOCUMENT,
    HolderKind,
    NewDocuments,
    NewVersion,
    human_size,
    max_upload_bytes,
    upload_body_limit,
)
from governance.groups.dependencies import RequestViewer

VISIBILITY_LABELS = {
    "public": "Public, once published",
    "internal": "Internal: members, the Director and the Board",
    "board": "Board: members and the Board, never the Director",
    "group": "Group: current members only",
}
BODY_LIMIT = upload_body_limit()


def uploaded_files(data: Mapping[str, Any]) -> list[UploadFile]:
    """The files a form sent; a file input left empty sends a part with no name."""
    getall = getattr(data, "getall", None)
    parts = getall("file", []) if getall else [data.get("file")]
    return [part for part in parts if isinstance(part, UploadFile) and part.filename]


def _typed(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if not isinstance(value, UploadFile)}


UPLOAD_FIELD_IDS = {
    "file": "paper-file",
    "title": "paper-title",
    "agenda_item_id": "paper-item",
    "visibility": "paper-visibility",
}


def upload_context(held_by: Mapping[str, Any]) -> dict[str, Any]:
    """What an upload form needs: the visibilities it may offer and the limits."""
    return {
        "paper_visibilities": scopes.narrowed_visibilities(held_by["visibility"]),
        "paper_visibility_labels": VISIBILITY_LABELS,
        "max_upload": human_size(max_upload_bytes()),
        "max_files": MAX_FILES_PER_POST,
    }


async def papers_context(meeting_id: int, group_id: int, viewer: Viewer) -> dict[str, Any]:
    """What the meeting page shows of its papers and its minutes' annexes (none until it
    has minutes), and its upload forms' choices: read together."""
    papers, annexes = await read_at_once(
        queries.meeting_papers(meeting_id, viewer, group_id),
        queries.minutes_annexes(meeting_id, viewer),
    )
    return {
        "papers": papers,
        "minutes_annexes": annexes,
        **upload_context({"visibility": queries.MEETING_VISIBILITY}),
    }


async def annexes_context(report_id: int, visibility: str, viewer: Viewer) -> dict[str, Any]:
    """What a report's page shows of its annexes, and its upload form's choices."""
    return {
        "annexes": await queries.held_documents(HolderKind.REPORT, report_id, viewer),
        **upload_context({"visibility": visibility}),
    }


async def _add(
    request: Request[Any, Any, Any], viewer: Viewer, kind: str, holder_id: int
) -> Template | Redirect:
    data = await request.form()
    files = uploaded_files(data)
    command, unreadable = read_form(NewDocuments, data)
    try:
        ids = await services.add_documents(
            kind, holder_id, files, command, viewer, unreadable=unreadable
        )
    except InvalidInput as error:
        held_by = await queries.holder(kind, holder_id, viewer)
        agenda = []
        if kind == HolderKind.MEETING:
            agenda = [item for _, item in await queries.agenda_choices(holder_id, viewer)]
        context = {
            "holder": held_by,
            "kind": kind,
            "holder_id": holder_id,
            "agenda": agenda,
            **upload_context(held_by),
            # The error summary's links: the upload page's form is named "paper".
            "error_ids": UPLOAD_FIELD_IDS,
        }
        return form_page(
            request,
            "documents/upload.html",
            _typed(data),
            error.field_errors,
            context,
            error.message,
        )
    held_by = await queries.holder(kind, holder_id, viewer)
    count = "One paper" if len(ids) == 1 else f"{len(ids)} papers"
    return redirect(held_by["url"], f"{count} added.")


class DocumentController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    guards = [signed_in]

    @post(
        "/meetings/{meeting_id:int}/papers",
        name="documents:meeting-add",
        request_max_body_size=BODY_LIMIT,
    )
    async def add_to_meeting(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        return await _add(request, viewer, HolderKind.MEETING, meeting_id)

    @post(
        "/meetings/{meeting_id:int}/minutes/annexes",
        name="documents:minutes-add",
        request_max_body_size=BODY_LIMIT,
    )
    async def add_to_minutes(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        return await _add(request, viewer, HolderKind.MINUTES, meeting_id)

    @post(
        "/reports/{report_id:int}/annexes",
        name="documents:report-add",
        request_max_body_size=BODY_LIMIT,
    )
    async def add_to_report(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, report_id: RowId
    ) -> Template | Redirect:
        return await _add(request, viewer, HolderKind.REPORT, report_id)

    @post(
        "/resolutions/{resolution_id:int}/papers",
        name="documents:resolution-add",
        request_max_body_size=BODY_LIMIT,
    )
    async def add_to_resolution(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, resolution_id: RowId
    ) -> Template | Redirect:
        return await _add(request, viewer, HolderKind.RESOLUTION, resolution_id)

    @get("/documents/{document_id:int}", name="documents:show")
    async def show(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, document_id: RowId
    ) -> Template:
        return page(
            request,
            "documents/show.html",
            {"page": await queries.document_page(document_id, viewer)},
        )

    @get("/documents/{document_id:int}/content", name="documents:content")
    async def content(self, viewer: RequestViewer, document_id: RowId) -> Stream:
        return serving.download(await queries.get_document(document_id, viewer))

    @get("/documents/{document_id:int}/view", name="documents:inline")
    async def inline(self, viewer: RequestViewer, document_id: RowId) -> Stream:
        document = await queries.get_document(document_id, viewer)
        if not document.shows_inline:
            raise NotFoundError(NO_SUCH_DOCUMENT)
        return serving.inline(document)

    @post(
        "/documents/{document_id:int}/versions",
        name="documents:new-version",
        request_max_body_size=BODY_LIMIT,
    )
    async def new_version(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, document_id: RowId
    ) -> Template | Redirect:
        data = await request.form()
        files = uploaded_files(data)
        command, unreadable = read_form(NewVersion, data)
        if len(files) > 1:
            unreadable = {**unreadable, "file": "Upload one file as the new version."}
        try:
            new_id = await services.add_version(
                document_id, files[0] if files else None, command, viewer, unreadable=unreadable
            )
        except InvalidInput as error:
            context = {"page": await queries.document_page(document_id, viewer)}
            return form_page(
                request,
                "documents/show.html",
                _typed(data),
                error.field_errors,
                context,
                error.message,
            )
        return redirect(f"/documents/{new_id}", "New version added; the earlier ones stay listed.")

    @post("/documents/{document_id:int}/withdraw", name="documents:withdraw")
    async def withdraw(self, viewer: RequestViewer, document_id: RowId) -> Redirect:
        await services.withdraw_document(document_id, viewer)
        return redirect(
            f"/documents/{document_id}", "Paper withdrawn. Its history stays on this page."
        )
