"""The decision register's pages and CSV files: the organisation's (`/decisions`) and one
group's (`/groups/{slug}/decisions`), filtered by group, outcome and date range. A filter
that cannot be read shows the page again, unfiltered, with every field's error (422)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from governance.accounts.auth import signed_in
from governance.actions.queries import group_choices
from governance.core.clock import organisation_today
from governance.core.errors import InvalidInput
from governance.core.exports import CSV_MEDIA_TYPE, attachment
from governance.core.http import page
from governance.groups.dependencies import RequestViewer
from governance.register import queries
from governance.register.schemas import OUTCOME_CHOICES, RegisterFilters, RegisterView

TEMPLATE = "register/index.html"
FILTER_FIELDS = ("group", "outcome", "since", "until")


def _filters(request: Request[Any, Any, Any], slug: str | None) -> RegisterFilters:
    raw = {name: request.query_params.get(name) for name in FILTER_FIELDS}
    return queries.read_filters(slug or raw["group"], raw["outcome"], raw["since"], raw["until"])


async def _register(viewer: Any, slug: str | None, filters: RegisterFilters) -> RegisterView:
    if slug:
        return await queries.group_register(slug, viewer, filters)
    return await queries.organisation_register(viewer, filters)


async def _page(request: Request[Any, Any, Any], viewer: Any, slug: str | None) -> Template:
    values = {name: request.query_params.get(name, "") for name in FILTER_FIELDS}
    errors: dict[str, str] = {}
    status = 200
    try:
        filters = _filters(request, slug)
    except InvalidInput as refused:
        errors, status = refused.field_errors, 422
        filters = RegisterFilters(group=slug or "")
    register = await _register(viewer, slug, filters)
    context = {
        **msgspec.structs.asdict(register),
        "groups": await group_choices(),
        "outcomes": OUTCOME_CHOICES,
        "values": values,
        "errors": errors,
        "form_error": "A filter was not understood; the whole register is shown."
        if errors
        else None,
    }
    return page(request, TEMPLATE, context, status_code=status)


def _csv(register: RegisterView) -> Response[bytes]:
    scope = register.group_slug or "organisation"
    filename = f"decisions-{scope}-{organisation_today().isoformat()}.csv"
    return attachment(queries.register_csv(register), CSV_MEDIA_TYPE, filename)


class RegisterController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    guards = [signed_in]

    @get("/decisions", name="register:organisation")
    async def organisation(
        self, request: Request[Any, Any, Any], viewer: RequestViewer
    ) -> Template:
        return await _page(request, viewer, None)

    @get("/decisions.csv", name="register:organisation-csv")
    async def organisation_csv(
        self, request: Request[Any, Any, Any], viewer: RequestViewer
    ) -> Response[bytes]:
        return _csv(await _register(viewer, None, _filters(request, None)))

    @get("/groups/{slug:str}/decisions", name="register:group")
    async def group(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template:
        return await _page(request, viewer, slug)

    @get("/groups/{slug:str}/decisions.csv", name="register:group-csv")
    async def group_csv(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Response[bytes]:
        return _csv(await _register(viewer, slug, _filters(request, slug)))
