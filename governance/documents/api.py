"""JSON routes for documents (papers and annexes), with the same rules as the pages.

An upload is a `multipart/form-data` body: one or more `file` parts and the fields of
`NewDocuments`. Each file is checked by its content while it is read; a refused one (type
not allowed, empty, over the size limit, a bad name) is answered 422 naming every problem,
and nothing is stored. A body over the route's limit is 413. A document the caller may not
read, or held by something they may not read, is 404, the same as one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from litestar import Controller, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter
from litestar.response import Stream

from governance.accounts.auth import signed_in
from governance.core.contracts import MAX_ROW_ID
from governance.core.errors import InvalidInput, problem_responses
from governance.core.urls import path_for
from governance.documents import queries, services, serving
from governance.documents.schemas import (
    DocumentView,
    HolderKind,
    NewDocuments,
    NewVersion,
    Upload,
    upload_body_limit,
)
from governance.groups.dependencies import RequestViewer

DocumentId = Annotated[
    int, PathParameter(ge=1, le=MAX_ROW_ID, description="The document's id", title="Document id")
]
MeetingId = Annotated[
    int, PathParameter(ge=1, le=MAX_ROW_ID, description="The meeting's id", title="Meeting id")
]
ReportId = Annotated[
    int, PathParameter(ge=1, le=MAX_ROW_ID, description="The report's id", title="Report id")
]

ResolutionId = Annotated[
    int,
    PathParameter(ge=1, le=MAX_ROW_ID, description="The resolution's id", title="Resolution id"),
]

READ_ERRORS = problem_responses(400, 401, 404)
UPLOAD_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 422)
WITHDRAW_ERRORS = problem_responses(400, 401, 403, 404, 409)


@dataclass
class DocumentUpload:
    """An upload's body: the files, and the fields every file of it takes."""

    file: list[UploadFile] = field(default_factory=list)
    title: str = ""
    visibility: str = "internal"
    agenda_item_id: int | None = None


@dataclass
class VersionUpload:
    file: UploadFile | None = None
    title: str = ""


Multipart = Body(media_type=RequestEncodingType.MULTI_PART)


def _agenda_item(data: DocumentUpload) -> dict[str, str]:
    item = data.agenda_item_id
    if item is not None and not 1 <= item <= MAX_ROW_ID:
        return {"agenda_item_id": "Choose an item of this meeting's agenda."}
    return {}


async def _upload(kind: str, holder_id: int, data: DocumentUpload, viewer: Any) -> Response[Upload]:
    unreadable = _agenda_item(data)
    command = NewDocuments(
        title=data.title,
        visibility=data.visibility,
        agenda_item_id=None if unreadable else data.agenda_item_id,
    )
    ids = await services.add_documents(
        kind, holder_id, data.file, command, viewer, unreadable=unreadable
    )
    views = [await queries.get_document(document_id, viewer) for document_id in ids]
    return Response(
        Upload(documents=views),
        status_code=201,
        headers={"Location": path_for("api:documents:show", document_id=ids[0])},
    )


BODY_LIMIT = upload_body_limit()


class DocumentApiController(Controller):
    path = "/api/v1"
    guards = [signed_in]
    tags = ["documents"]
    security = [{"bearer": []}]

    @post(
        "/meetings/{meeting_id:int}/documents",
        name="api:documents:add-to-meeting",
        summary="Add papers to a meeting or one of its agenda items (chair or secretary)",
        responses=UPLOAD_ERRORS,
        status_code=201,
        request_max_body_size=BODY_LIMIT,
    )
    async def add_to_meeting(
        self,
        viewer: RequestViewer,
        meeting_id: MeetingId,
        data: Annotated[DocumentUpload, Multipart],
    ) -> Response[Upload]:
        return await _upload(HolderKind.MEETING, meeting_id, data, viewer)

    @post(
        "/meetings/{meeting_id:int}/minutes/documents",
        name="api:documents:add-to-minutes",
        summary="Add annexes to a meeting's minutes (chair or secretary)",
        responses=UPLOAD_ERRORS,
        status_code=201,
        request_max_body_size=BODY_LIMIT,
    )
    async def add_to_minutes(
        self,
        viewer: RequestViewer,
        meeting_id: MeetingId,
        data: Annotated[DocumentUpload, Multipart],
    ) -> Response[Upload]:
        return await _upload(HolderKind.MINUTES, meeting_id, data, viewer)

    @post(
        "/reports/{report_id:int}/documents",
        name="api:documents:add-to-report",
        summary="Add annexes to a draft report (chair or secretary)",
        responses=UPLOAD_ERRORS,
        status_code=201,
        request_max_body_size=BODY_LIMIT,
    )
    async def add_to_report(
        self,
        viewer: RequestViewer,
        report_id: ReportId,
        data: Annotated[DocumentUpload, Multipart],
    ) -> Response[Upload]:
        return await _upload(HolderKind.REPORT, report_id, data, viewer)

    @post(
        "/resolutions/{resolution_id:int}/documents",
        name="api:documents:add-to-resolution",
        summary="Add papers to an open written resolution (chair or secretary)",
        responses=UPLOAD_ERRORS,
        status_code=201,
        request_max_body_size=BODY_LIMIT,
    )
    async def add_to_resolution(
        self,
        viewer: RequestViewer,
        resolution_id: ResolutionId,
        data: Annotated[DocumentUpload, Multipart],
    ) -> Response[Upload]:
        return await _upload(HolderKind.RESOLUTION, resolution_id, data, viewer)

    @get(
        "/documents/{document_id:int}",
        name="api:documents:show",
        responses=READ_ERRORS,
        summary="A document's metadata: title, file name, type, size, SHA-256, version",
    )
    async def get_document(self, viewer: RequestViewer, document_id: DocumentId) -> DocumentView:
        return await queries.get_document(document_id, viewer)

    @get(
        "/documents/{document_id:int}/content",
        name="api:documents:content",
        responses=READ_ERRORS,
        summary="A document's content, as an attachment",
        media_type="application/octet-stream",
    )
    async def get_content(self, viewer: RequestViewer, document_id: DocumentId) -> Stream:
        return serving.download(await queries.get_document(document_id, viewer))

    @post(
        "/documents/{document_id:int}/versions",
        name="api:documents:new-version",
        summary="Upload a new version of a paper (chair or secretary)",
        responses=UPLOAD_ERRORS,
        status_code=201,
        request_max_body_size=BODY_LIMIT,
    )
    async def add_version(
        self,
        viewer: RequestViewer,
        document_id: DocumentId,
        data: Annotated[VersionUpload, Multipart],
    ) -> Response[DocumentView]:
        if isinstance(data.file, list):
            raise InvalidInput("Upload one file.", {"file": "Upload one file as the new version."})
        new_id = await services.add_version(
            document_id, data.file, NewVersion(title=data.title), viewer
        )
        return Response(
            await queries.get_document(new_id, viewer),
            status_code=201,
            headers={"Location": path_for("api:documents:show", document_id=new_id)},
        )

    @delete(
        "/documents/{document_id:int}",
        name="api:documents:withdraw",
        responses=WITHDRAW_ERRORS,
        summary="Withdraw a paper, every version of it (chair or secretary); its history stays",
        status_code=200,
    )
    async def withdraw(self, viewer: RequestViewer, document_id: DocumentId) -> DocumentView:
        await services.withdraw_document(document_id, viewer)
        return await queries.get_document(document_id, viewer)
