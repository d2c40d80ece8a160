"""The meeting pack's routes: the page link "Download the papers (one PDF)", the chair's
"Send the papers" button, and the same pack through the API. Thin adapters over
`documents/packs.py`; a reader who may not read the meeting gets its "not found"."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import PathParameter
from litestar.response import Redirect, Stream

from governance.accounts.auth import signed_in
from governance.core.contracts import MAX_ROW_ID
from governance.core.errors import problem_responses
from governance.core.exports import content_disposition
from governance.core.http import RowId, redirect
from governance.core.urls import path_for
from governance.documents import packs
from governance.groups.dependencies import RequestViewer

MeetingId = Annotated[
    int, PathParameter(ge=1, le=MAX_ROW_ID, description="The meeting's id", title="Meeting id")
]


def pack_response(pack: packs.PackFile) -> Stream:
    """The pack streamed a stored chunk at a time, as a download that is never sniffed."""
    return Stream(
        pack.chunks(),
        media_type=pack.media_type,
        headers={
            "content-disposition": content_disposition(pack.file_name),
            "content-length": str(pack.size),
            "cache-control": "private, no-store",
            "x-content-type-options": "nosniff",
            "content-security-policy": "default-src 'none'; sandbox",
            "x-pack-sha256": pack.sha256,
        },
    )


class MeetingPackController(Controller):
    include_in_schema = False  # pages and files for people; the API is described at /schema
    path = "/meetings"
    guards = [signed_in]

    @get("/{meeting_id:int}/pack", name="documents:pack")
    async def download_pack(self, viewer: RequestViewer, meeting_id: RowId) -> Stream:
        return pack_response(await packs.meeting_pack(meeting_id, viewer))

    @post("/{meeting_id:int}/papers/send", name="documents:send-papers")
    async def send_papers(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Redirect:
        sent = await packs.send_papers(meeting_id, viewer)
        message = (
            f"Papers sent to {sent} member{'s' if sent != 1 else ''}."
            if sent
            else "Every member already has these papers; nothing was sent."
        )
        return redirect(path_for("meetings:show", meeting_id=meeting_id), message)


class MeetingPackApiController(Controller):
    path = "/api/v1"
    guards = [signed_in]
    tags = ["documents"]
    security = [{"bearer": []}]

    @get(
        "/meetings/{meeting_id:int}/pack",
        name="api:documents:pack",
        responses=problem_responses(400, 401, 404),
        media_type="application/pdf",
        summary="The meeting's papers as one PDF, as the caller may read them",
        description="A cover, the agenda as the caller sees it, then each paper the caller "
        "may read in agenda order with a bookmark each. Built on first request and cached "
        "by content. A meeting the caller may not read is 404, as one that does not exist.",
    )
    async def download_pack(self, viewer: RequestViewer, meeting_id: MeetingId) -> Stream:
        return pack_response(await packs.meeting_pack(meeting_id, viewer))
