"""JSON routes for written resolutions, with the same rules as the pages.

The request bodies are the commands of `resolutions/schemas.py` and the answers its views:
a body of the wrong shape or type is answered 400 before a handler runs; values that break
a rule are answered 422 with a JSON problem naming every field; a vote on a closed
resolution, a second vote or a withdrawal after the close is 409; nothing is changed. A
resolution the caller may not read is 404, the same as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody, PathParameter

from governance.accounts.auth import signed_in
from governance.core.contracts import MAX_ROW_ID
from governance.core.errors import problem_responses
from governance.core.urls import path_for
from governance.groups.dependencies import RequestViewer
from governance.resolutions import queries, services
from governance.resolutions.schemas import (
    NewResolution,
    NewVote,
    ResolutionListView,
    ResolutionView,
)

ResolutionId = Annotated[
    int,
    PathParameter(ge=1, le=MAX_ROW_ID, description="The resolution's id", title="Resolution id"),
]
READ_ERRORS = problem_responses(400, 401, 404)
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 422)


class ResolutionApiController(Controller):
    path = "/api/v1"
    guards = [signed_in]
    tags = ["resolutions"]
    security = [{"bearer": []}]

    @get(
        "/groups/{slug:str}/resolutions",
        name="api:resolutions:list",
        responses=READ_ERRORS,
        summary="A group's written resolutions the caller may read, newest first",
    )
    async def list_resolutions(
        self, viewer: RequestViewer, slug: FromPath[str]
    ) -> ResolutionListView:
        return await queries.group_resolutions(slug, viewer)

    @post(
        "/groups/{slug:str}/resolutions",
        name="api:resolutions:create",
        responses=WRITE_ERRORS,
        summary="Put a written resolution to the group's members (chair or secretary)",
        status_code=201,
    )
    async def propose(
        self, viewer: RequestViewer, slug: FromPath[str], data: JSONBody[NewResolution]
    ) -> Response[ResolutionView]:
        resolution_id = await services.propose_resolution(slug, data, viewer)
        return Response(
            await queries.resolution_view(resolution_id, viewer),
            status_code=201,
            headers={"Location": path_for("api:resolutions:show", resolution_id=resolution_id)},
        )

    @get(
        "/resolutions/{resolution_id:int}",
        name="api:resolutions:show",
        responses=READ_ERRORS,
        summary="A written resolution with its votes and outcome",
    )
    async def show(self, viewer: RequestViewer, resolution_id: ResolutionId) -> ResolutionView:
        return await queries.resolution_view(resolution_id, viewer)

    @post(
        "/resolutions/{resolution_id:int}/votes",
        name="api:resolutions:vote",
        responses=WRITE_ERRORS,
        summary="Vote for, against or abstain (a current member; once, final)",
        status_code=201,
    )
    async def vote(
        self, viewer: RequestViewer, resolution_id: ResolutionId, data: JSONBody[NewVote]
    ) -> ResolutionView:
        await services.cast_vote(resolution_id, data, viewer)
        return await queries.resolution_view(resolution_id, viewer)

    @post(
        "/resolutions/{resolution_id:int}/withdraw",
        name="api:resolutions:withdraw",
        responses=WRITE_ERRORS,
        summary="Withdraw an open resolution (chair or secretary)",
        status_code=200,
    )
    async def withdraw(self, viewer: RequestViewer, resolution_id: ResolutionId) -> ResolutionView:
        await services.withdraw_resolution(resolution_id, viewer)
        return await queries.resolution_view(resolution_id, viewer)
