"""JSON routes for groups and the signed-in user: the same reading rules as the pages, and
the views of `groups/schemas.py` as answers."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath

from governance.accounts.auth import signed_in
from governance.core.errors import problem_responses
from governance.groups import queries
from governance.groups.dependencies import RequestViewer
from governance.groups.schemas import GroupSummaryView, GroupView, MeView

# The error answers of these routes, as the OpenAPI description declares them.
SIGNED_IN_ERRORS = problem_responses(401)
READ_ERRORS = problem_responses(400, 401, 404)


class GroupApiController(Controller):
    path = "/api/v1/groups"
    guards = [signed_in]
    tags = ["groups"]
    security = [{"bearer": []}]

    @get("/", name="api:groups:list", responses=SIGNED_IN_ERRORS, summary="Working groups")
    async def list_groups(self, viewer: RequestViewer) -> list[GroupSummaryView]:
        return await queries.list_groups(viewer)

    @get(
        "/{slug:str}",
        name="api:groups:show",
        responses=READ_ERRORS,
        summary="One working group with its current members and reporting lines",
    )
    async def get_group(self, viewer: RequestViewer, slug: FromPath[str]) -> GroupView:
        return await queries.group_view(slug, viewer)


class MeApiController(Controller):
    path = "/api/v1/me"
    guards = [signed_in]
    tags = ["accounts"]
    security = [{"bearer": []}]

    @get(
        "/",
        name="api:me",
        responses=SIGNED_IN_ERRORS,
        summary="The signed-in user and the roles they hold today",
    )
    async def me(self, viewer: RequestViewer) -> MeView:
        return queries.about_me(viewer)
