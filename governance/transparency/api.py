"""JSON routes for transparency reports (DESIGN.md §8), with the same rules as the pages.

Reading needs no sign-in for published public editions, exactly like /transparency; any
other report asked for without credentials is 401, and one the caller may not read is 404,
the same as one that does not exist (the Director never learns of a board edition). A
report's figures are always those of its edition, suppression applied
(`editions.present`): the "report" member is the published document whose SHA-256 the
report carries.

The request bodies are the commands of `transparency/schemas.py` and the answers its
`TransparencyReportView`: a body of the wrong shape is answered 400 before a handler runs;
values of the right type that break a rule are 422 with every field's error. A published
report never changes: refreshing it, changing its narrative, approving or publishing it
again is 409.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Response, get, patch, post
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter

from governance.accounts.auth import signed_in
from governance.accounts.policy import Viewer
from governance.core.contracts import MAX_ROW_ID
from governance.core.errors import problem_responses
from governance.core.urls import path_for
from governance.groups.dependencies import RequestViewer
from governance.transparency import queries, services
from governance.transparency.dependencies import READER, RequestReader, sign_in_for_more
from governance.transparency.figures import EDITIONS
from governance.transparency.schemas import (
    STATUSES,
    GenerateReport,
    NarrativeChange,
    ReportFilters,
    TransparencyListView,
    TransparencyReportView,
)

TransparencyId = Annotated[
    int,
    PathParameter(ge=1, le=MAX_ROW_ID, description="The report's id", title="Report id"),
]
ScopeFilter = Annotated[
    str | None,
    # `scope` cannot name a handler's argument in Litestar; the query keeps the name.
    QueryParameter(name="scope", description="A group's short name, or organisation"),
]
PeriodFilter = Annotated[str | None, QueryParameter(description="A quarter (2026-Q3) or a year")]
EditionFilter = Annotated[
    str | None,
    QueryParameter(description="board or public", schema_extra={"enum": list(EDITIONS)}),
]
StatusFilter = Annotated[
    str | None,
    QueryParameter(
        # `status` cannot name a handler's argument in Litestar; the query keeps the name.
        name="status",
        description="draft, approved or published",
        schema_extra={"enum": list(STATUSES)},
    ),
]

# The error answers of these routes, as the OpenAPI description declares them.
READ_ERRORS = problem_responses(400, 401, 404)
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 422)
# A filter that names no period, edition or status is refused with a 422; a group that does
# not exist is a 404.
FILTERED_LIST_ERRORS = problem_responses(400, 401, 404, 422)


def _workflow_step(
    step: str,
    take: Callable[[int, Viewer], Awaitable[Any]],
    summary: str,
    description: str | None = None,
) -> HTTPRouteHandler:
    """The route of one step of a report's workflow that takes no body (refresh, approve,
    publish): POST /api/v1/transparency-reports/{report_id}/{step}, answered with the
    report."""

    async def handler(
        self: Controller, viewer: RequestViewer, report_id: TransparencyId
    ) -> TransparencyReportView:
        await take(report_id, viewer)
        return await queries.report_for_api(report_id, viewer)

    handler.__name__ = handler.__qualname__ = step
    return post(
        f"/transparency-reports/{{report_id:int}}/{step}",
        guards=[signed_in],
        name=f"api:transparency:{step}",
        responses=WRITE_ERRORS,
        summary=summary,
        description=description,
        status_code=200,
    )(handler)


class TransparencyApiController(Controller):
    path = "/api/v1"
    tags = ["transparency"]
    security = [{"bearer": []}, {}]
    dependencies = READER

    @get(
        "/transparency-reports",
        name="api:transparency:list",
        responses=FILTERED_LIST_ERRORS,
        summary="Transparency reports the caller may read, newest period first",
        description="Without credentials: the published public editions. Filters: scope (a "
        "group's short name or organisation), period, edition, status.",
    )
    async def list_reports(
        self,
        reader: RequestReader,
        report_scope: ScopeFilter = None,
        period: PeriodFilter = None,
        edition: EditionFilter = None,
        report_status: StatusFilter = None,
    ) -> TransparencyListView:
        filters = ReportFilters(
            scope=report_scope or "",
            period=period or "",
            edition=edition or "",
            status=report_status or "",
        )
        return await queries.list_for_api(reader, filters)

    @post(
        "/transparency-reports",
        guards=[signed_in],
        name="api:transparency:generate",
        responses={
            **WRITE_ERRORS,
            200: ResponseSpec(
                data_container=TransparencyReportView,
                description="The period's unpublished report, refreshed",
                generate_examples=False,
            ),
        },
        summary="Generate a draft (or refresh the period's draft, or make a new version)",
        description="For a group: its chair or secretary. For the organisation: a Board member "
        "or an administrator. 201 when a report was added, 200 when the period's unpublished "
        "report was refreshed.",
        status_code=201,
    )
    async def generate(
        self, viewer: RequestViewer, data: JSONBody[GenerateReport]
    ) -> Response[TransparencyReportView]:
        generated = await services.generate_report(data, viewer)
        location = path_for("api:transparency:show", report_id=generated.report_id)
        view = await queries.generated_for_api(generated.report_id, viewer)
        return Response(
            view, status_code=201 if generated.created else 200, headers={"Location": location}
        )

    @get(
        "/transparency-reports/{report_id:int}",
        name="api:transparency:show",
        responses=READ_ERRORS,
        summary="A transparency report with its figures, as its edition shows them",
        description="`report` is the published document: anyone can check `sha256` against "
        "the SHA-256 of its canonical JSON encoding (keys sorted, no spaces, UTF-8).",
    )
    async def get_report(
        self, reader: RequestReader, report_id: TransparencyId
    ) -> TransparencyReportView:
        with sign_in_for_more(reader):
            return await queries.report_for_api(report_id, reader)

    @patch(
        "/transparency-reports/{report_id:int}",
        guards=[signed_in],
        name="api:transparency:update",
        responses=WRITE_ERRORS,
        summary="Change an unpublished report's narrative",
    )
    async def update_narrative(
        self, viewer: RequestViewer, report_id: TransparencyId, data: JSONBody[NarrativeChange]
    ) -> TransparencyReportView:
        await services.update_narrative(report_id, data, viewer)
        return await queries.report_for_api(report_id, viewer)

    refresh = _workflow_step(
        "refresh",
        services.refresh_report,
        "Recompute an unpublished report's figures from the records",
    )
    approve = _workflow_step(
        "approve",
        services.approve_report,
        "Approve a draft (the group's chair; for the organisation, a Board member)",
        "Refused (409) before the period has ended, for figures generated before it ended, "
        "and for a report already approved or published.",
    )
    publish = _workflow_step(
        "publish",
        services.publish_report,
        "Publish an approved report: freeze it under its SHA-256 and tell the Board",
    )


__all__ = ["TransparencyApiController"]
