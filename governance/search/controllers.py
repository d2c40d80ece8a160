"""The search page (`/search`), reached from the search box in every signed-in page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from governance.accounts.auth import signed_in
from governance.core.contracts import read_form
from governance.core.http import form_page, page
from governance.groups.dependencies import RequestViewer
from governance.search import queries
from governance.search.schemas import KIND_LABELS, SearchQuery

TEMPLATE = "search/index.html"


class SearchController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    guards = [signed_in]

    @get("/search", name="search:index")
    async def index(self, request: Request[Any, Any, Any], viewer: RequestViewer) -> Template:
        params = request.query_params
        context: dict[str, Any] = {
            "kinds": KIND_LABELS,
            "groups": await queries.group_choices(),
            "results": None,
        }
        values = {
            name: params.get(name, "") for name in ("q", "kind", "group", "date_from", "date_to")
        }
        if "q" not in params:  # the page as the search box opens it: nothing asked yet
            return page(request, TEMPLATE, {**context, "values": values})
        query, errors = read_form(SearchQuery, params)
        errors.update(queries.query_errors(query) if not errors else {})
        if errors:
            return form_page(
                request, TEMPLATE, values, errors, context, message="The search needs correcting."
            )
        context["results"] = await queries.search(query, viewer)
        return page(request, TEMPLATE, {**context, "values": values})
