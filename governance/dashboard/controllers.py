"""The signed-in person's home page: what is theirs, per role; and the group page. Both read
several domains, so they live here rather than in one of them."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from governance.accounts.auth import signed_in
from governance.core.http import page
from governance.dashboard.queries import dashboard_for, group_overview
from governance.groups.dependencies import RequestViewer
from governance.notifications.controllers import tasks_of_request


class DashboardController(Controller):
    guards = [signed_in]
    include_in_schema = False  # a page for people; the API is described at /schema

    @get("/", name="dashboard:index")
    async def index(self, request: Request[Any, Any, Any], viewer: RequestViewer) -> Template:
        context = msgspec.structs.asdict(await dashboard_for(viewer))
        tasks = await tasks_of_request(request, viewer)
        return page(request, "dashboard/index.html", {"viewer": viewer, "tasks": tasks, **context})


class GroupOverviewController(Controller):
    """The group page reads several domains, so it lives here rather than in groups."""

    guards = [signed_in]
    include_in_schema = False

    @get("/groups/{slug:str}", name="groups:show")
    async def show(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template:
        overview = await group_overview(slug, viewer)
        return page(request, "groups/show.html", overview.context())
