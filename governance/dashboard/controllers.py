from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from governance.accounts.auth import current_user, signed_in
from governance.core.http import page
from governance.dashboard.services import dashboard_for, group_overview
from governance.groups.queries import load_viewer


class DashboardController(Controller):
    guards = [signed_in]
    include_in_schema = False  # a page for people; the API is described at /schema

    @get("/", name="dashboard")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        viewer = await load_viewer(current_user(request))
        return page(
            request, "dashboard/index.html", {"viewer": viewer, **await dashboard_for(viewer)}
        )


class GroupOverviewController(Controller):
    """The group page reads several domains, so it lives here rather than in groups."""

    guards = [signed_in]
    include_in_schema = False

    @get("/groups/{slug:str}", name="dashboard:group")
    async def show(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        viewer = await load_viewer(current_user(request))
        return page(request, "groups/show.html", await group_overview(slug, viewer))
