"""The signed-in person's home page: what is theirs, per role; the group page (both read
several domains, so they live here rather than in one of them); and the Markdown preview
that every long-text field of every domain offers."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import MediaType
from litestar.params import FromPath
from litestar.response import Response, Template

from governance.accounts.auth import signed_in
from governance.core.http import page
from governance.core.markdown import render_markdown
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


# The longest text a preview renders: longer than any field the service stores.
PREVIEW_MAX_CHARACTERS = 200_000


class MarkdownPreviewController(Controller):
    """What a long text will look like once saved: the same `markdown` filter as every page.

    A form's "Preview" button posts the form here (`preview_field` names the field to
    show). Without JavaScript the button opens this page in a new tab, so what was typed
    stays in the form; with JavaScript (nav.js) the form asks for `?fragment=1` and shows
    the rendered HTML under the field. Nothing is saved."""

    guards = [signed_in]
    include_in_schema = False

    @post("/preview", name="markdown:preview", status_code=200)
    async def preview(self, request: Request[Any, Any, Any]) -> Template | Response[str]:
        form = await request.form()
        field = str(form.get("preview_field") or "")
        source = str(form.get(field) or "") if field else ""
        too_long = len(source) > PREVIEW_MAX_CHARACTERS
        rendered = render_markdown("" if too_long else source)
        if request.query_params.get("fragment"):
            body = "<p>Too long to preview.</p>" if too_long else str(rendered)
            return Response(body, media_type=MediaType.HTML)
        context = {"rendered": rendered, "too_long": too_long, "empty": not source.strip()}
        return page(request, "dashboard/preview.html", context)
