"""JSON routes of the decision register, with the same rules as the pages: filters by
`group`, `outcome` (carried, not carried, no vote) and a date range (`since`, `until`,
YYYY-MM-DD); a filter that cannot be read is a 422 naming it; an unknown group a 404."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from governance.accounts.auth import signed_in
from governance.core.errors import problem_responses
from governance.groups.dependencies import RequestViewer
from governance.register import queries
from governance.register.schemas import RegisterView

READ_ERRORS = problem_responses(400, 401, 404, 422)
Filter = Annotated[str | None, QueryParameter(max_length=80)]


class RegisterApiController(Controller):
    path = "/api/v1"
    guards = [signed_in]
    tags = ["decisions"]
    security = [{"bearer": []}]

    @get(
        "/decisions",
        name="api:register:organisation",
        responses=READ_ERRORS,
        summary="Every decision the caller may read, newest first",
    )
    async def organisation(
        self,
        viewer: RequestViewer,
        group: Filter = None,
        outcome: Filter = None,
        since: Filter = None,
        until: Filter = None,
    ) -> RegisterView:
        filters = queries.read_filters(group, outcome, since, until)
        return await queries.organisation_register(viewer, filters)

    @get(
        "/groups/{slug:str}/decisions",
        name="api:register:group",
        responses=READ_ERRORS,
        summary="A group's decisions the caller may read, newest first",
    )
    async def group(
        self,
        viewer: RequestViewer,
        slug: FromPath[str],
        outcome: Filter = None,
        since: Filter = None,
        until: Filter = None,
    ) -> RegisterView:
        filters = queries.read_filters(slug, outcome, since, until)
        return await queries.group_register(slug, viewer, filters)
