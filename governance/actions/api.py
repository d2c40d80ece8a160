"""JSON routes for action items (DESIGN.md §8), with the same rules as the pages.

The request bodies are the commands of `actions/schemas.py` and the answers its views: a
body of the wrong shape or type is answered 400 before a handler runs; values of the right
type that break a rule (an empty title, a due date in the past, a status that cannot follow
the current one) are answered 422 or 409 with a JSON problem naming every field, and nothing
is changed. An action the caller may not read is 404, the same as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from governance.accounts.auth import signed_in
from governance.actions import queries, services
from governance.actions.schemas import (
    ActionListView,
    ActionPatch,
    ActionView,
    NewAction,
    ProgressNote,
)
from governance.core.contracts import MAX_ROW_ID
from governance.core.errors import problem_responses
from governance.core.paging import DEFAULT_PAGE_SIZE, MAX_CURSOR_LENGTH, MAX_PAGE_SIZE
from governance.core.urls import path_for
from governance.groups.dependencies import RequestViewer
from governance.groups.queries import get_group

# A path id no row can have is a 400 here, on SQLite as on PostgreSQL, instead of a number
# the database driver cannot bind.
ActionId = Annotated[
    int, PathParameter(ge=1, le=MAX_ROW_ID, description="The action's id", title="Action id")
]

# The error answers of these routes, as the OpenAPI description declares them.
READ_ERRORS = problem_responses(400, 401, 404)
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 422)
# A filter that names no status is refused with a 422.
FILTERED_READ_ERRORS = problem_responses(400, 401, 404, 422)


class ActionApiController(Controller):
    path = "/api/v1"
    guards = [signed_in]
    tags = ["actions"]
    security = [{"bearer": []}]

    @get(
        "/groups/{slug:str}/actions",
        name="api:actions:list",
        responses=FILTERED_READ_ERRORS,
        summary="A group's actions the caller may read, by due date, a page at a time",
        description="Filter by `status`, by `owner_id` and by due date (`due_from`, `due_to`: "
        "on or after, on or before; a range ending before it starts is a 422). A caller who "
        "may not read the group's content gets only the actions they own. `limit` actions a "
        "page, soonest due first; `older` (the page after) and `newer` (the one before) in "
        "the answer are opaque cursors to pass as `cursor` (null: none). `overdue_count` "
        "counts them all.",
    )
    async def list_actions(
        self,
        viewer: RequestViewer,
        slug: FromPath[str],
        status: FromQuery[str | None] = None,
        owner_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_ROW_ID)] = None,
        cursor: Annotated[str, QueryParameter(max_length=MAX_CURSOR_LENGTH)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        due_from: FromQuery[dt.date | None] = None,
        due_to: FromQuery[dt.date | None] = None,
    ) -> ActionListView:
        return await queries.paged_group_actions(
            slug, viewer, status or None, owner_id, cursor or None, limit, (due_from, due_to)
        )

    @post(
        "/groups/{slug:str}/actions",
        name="api:actions:create",
        responses=WRITE_ERRORS,
        summary="Create an action (chair or secretary)",
        status_code=201,
    )
    async def create_action(
        self, viewer: RequestViewer, slug: FromPath[str], data: JSONBody[NewAction]
    ) -> Response[ActionView]:
        group = await get_group(slug)
        action_id = await services.create_action(group["id"], data, viewer)
        return Response(
            await queries.get_action(action_id, viewer),
            status_code=201,
            headers={"Location": path_for("api:actions:show", action_id=action_id)},
        )

    @get(
        "/actions/{action_id:int}",
        name="api:actions:show",
        responses=READ_ERRORS,
        summary="An action with its owners and its progress",
    )
    async def get_action(self, viewer: RequestViewer, action_id: ActionId) -> ActionView:
        return await queries.get_action(action_id, viewer)

    @patch(
        "/actions/{action_id:int}",
        name="api:actions:update",
        responses=WRITE_ERRORS,
        summary="Change an action's status, or (chair or secretary) its owners and due date",
    )
    async def update_action(
        self, viewer: RequestViewer, action_id: ActionId, data: JSONBody[ActionPatch]
    ) -> ActionView:
        await services.patch_action(action_id, data, viewer)
        return await queries.get_action(action_id, viewer)

    @post(
        "/actions/{action_id:int}/updates",
        name="api:actions:add-update",
        responses=WRITE_ERRORS,
        summary="Add a progress note (an owner, the chair or the secretary)",
        status_code=201,
    )
    async def add_update(
        self, viewer: RequestViewer, action_id: ActionId, data: JSONBody[ProgressNote]
    ) -> ActionView:
        await services.add_progress(action_id, data, viewer)
        return await queries.get_action(action_id, viewer)
