"""JSON routes for groups and the signed-in user: the same reading rules as the pages, and
the views of `groups/schemas.py` as answers."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath

from governance.accounts.auth import signed_in
from governance.groups import queries
from governance.groups.dependencies import RequestViewer
from governance.groups.schemas import GroupSummaryView, GroupView, MeView


class GroupApiController(Controller):
    path = "/api/v1/groups"
    guards = [signed_in]
    tags = ["groups"]
    security = [{"bearer": []}]

    @get("/", name="api:groups:list", summary="Working groups")
    async def list_groups(self, viewer: RequestViewer) -> list[GroupSummaryView]:
        return await queries.list_groups(viewer)

    @get(
        "/{slug:str}",
        name="api:groups:show",
        summary="One working group with its current members and reporting lines",
    )
    async def get_group(self, viewer: RequestViewer, slug: FromPath[str]) -> GroupView:
        return await queries.group_view(slug, viewer)


class MeApiController(Controller):
    path = "/api/v1/me"
    guards = [signed_in]
    tags = ["accounts"]
    security = [{"bearer": []}]

    @get("/", name="api:me", summary="The signed-in user and the roles they hold today")
    async def me(self, viewer: RequestViewer) -> MeView:
        return queries.about_me(viewer)
