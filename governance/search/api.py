"""JSON search (`GET /api/v1/search`), with the same rules as the page.

The answer holds only what the caller may read; a query that finds only hidden records
answers exactly like one that finds nothing. An over-long `q`, or a value of the wrong
type, is a 400; a missing or blank `q`, or one that breaks a rule (control characters,
`from` after `to`), is a 422 naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from governance.accounts.auth import signed_in
from governance.core.contracts import checked
from governance.core.errors import problem_responses
from governance.groups.dependencies import RequestViewer
from governance.search import queries
from governance.search.schemas import (
    DEFAULT_LIMIT,
    MAX_CURSOR,
    MAX_LIMIT,
    QUERY_MAX_LENGTH,
    SEARCH_KINDS,
    SearchKind,
    SearchQuery,
    SearchResults,
)

SEARCH_ERRORS = problem_responses(400, 401, 422)


class SearchApiController(Controller):
    path = "/api/v1"
    guards = [signed_in]
    tags = ["search"]
    security = [{"bearer": []}]

    @get(
        "/search",
        name="api:search",
        responses=SEARCH_ERRORS,
        summary="Search what the caller may read",
        description="Every word of `q` must appear (words are letters and digits; no "
        f"search syntax). Kinds: {', '.join(SEARCH_KINDS)}. Page on with `cursor`, the "
        "answer's `next_cursor`.",
    )
    async def search(
        self,
        viewer: RequestViewer,
        # Missing or blank is a 422 naming the field (by the command's rule), like a form.
        q: Annotated[str, QueryParameter(max_length=QUERY_MAX_LENGTH)] = "",
        kind: FromQuery[SearchKind | None] = None,
        group: Annotated[str | None, QueryParameter(max_length=80)] = None,
        date_from: Annotated[dt.date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[dt.date | None, QueryParameter(name="to")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[int, QueryParameter(ge=0, le=MAX_CURSOR)] = 0,
    ) -> SearchResults:
        query = SearchQuery(
            q=q,
            kind=kind or "",
            group=group or "",
            date_from=date_from,
            date_to=date_to,
            limit=limit,
            cursor=cursor,
        )
        return await queries.search(checked(query, "The search was not understood."), viewer)
