"""JSON routes for reports and deliveries (DESIGN.md §8), with the same rules as the pages.

The request bodies are the commands of `reports/schemas.py` and the answers its views: a
body of the wrong shape or type is answered 400 before a handler runs; values of the right
type that break a rule (an empty title, an unknown line, a due date in the past) are
answered 422 with every field's error, in the words the forms use, and nothing is changed.
A path id no row can have is a 400 (`core.http.RowId`). A report or delivery the caller may
not read is 404, the same as one that does not exist: the Director never learns of a
Board-only report, not even as a count.

A submitted report never changes: there is no route that edits, withdraws or deletes one
(PATCH, PUT or DELETE on a report is answered 405), and submitting it again is 409.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from governance.accounts.auth import signed_in
from governance.accounts.policy import LINES
from governance.core.errors import problem_responses
from governance.core.http import RowId
from governance.core.paging import DEFAULT_PAGE_SIZE, MAX_CURSOR_LENGTH, MAX_PAGE_SIZE
from governance.core.urls import path_for
from governance.groups.dependencies import RequestViewer
from governance.reports import board_line, queries, services
from governance.reports.schemas import (
    DELIVERY_STATES,
    DecidedAtMeeting,
    DeliveryFilters,
    DeliveryListView,
    DeliveryView,
    LineResponse,
    Objection,
    ReportDraft,
    ReportListView,
    ReportStatus,
    ReportView,
)

LineParameter = Annotated[
    str | None,
    QueryParameter(
        description="Only the deliveries of this line: director or board",
        schema_extra={"enum": list(LINES)},
    ),
]
StateParameter = Annotated[
    str | None,
    QueryParameter(
        # `state` is a name Litestar reserves for the application state.
        name="state",
        description="Only the deliveries in this state: " + ", ".join(DELIVERY_STATES),
        schema_extra={"enum": list(DELIVERY_STATES)},
    ),
]

# The error answers of these routes, as the OpenAPI description declares them.
READ_ERRORS = problem_responses(400, 401, 404)
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 422)
# A filter that names no line or state is refused with a 422.
FILTERED_LIST_ERRORS = problem_responses(400, 401, 422)
# A group's list that pages: an unknown group is a 404, a cursor it did not make a 422.
GROUP_LIST_ERRORS = problem_responses(400, 401, 404, 422)


class ReportApiController(Controller):
    path = "/api/v1"
    guards = [signed_in]
    tags = ["reports"]
    security = [{"bearer": []}]

    @get(
        "/groups/{slug:str}/reports",
        name="api:reports:list",
        responses=GROUP_LIST_ERRORS,
        summary="A group's reports the caller may read, each line's delivery state, and each "
        "line's reporting schedule",
        description="`limit` reports a page, newest first, of one `status` if given; `older` "
        "and `newer` in the answer are opaque cursors to pass as `cursor` (null: none).",
    )
    async def list_reports(
        self,
        viewer: RequestViewer,
        slug: FromPath[str],
        status: FromQuery[ReportStatus | None] = None,
        cursor: Annotated[str, QueryParameter(max_length=MAX_CURSOR_LENGTH)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    ) -> ReportListView:
        return await queries.group_reports(slug, viewer, status, cursor or None, limit)

    @post(
        "/groups/{slug:str}/reports",
        name="api:reports:create",
        responses=WRITE_ERRORS,
        summary="Draft a report or recommendation (chair or secretary)",
        description="A draft is read only by the group's members until it is submitted.",
        status_code=201,
    )
    async def draft_report(
        self, viewer: RequestViewer, slug: FromPath[str], data: JSONBody[ReportDraft]
    ) -> Response[ReportView]:
        report_id = await services.create_report(slug, data, viewer)
        return Response(
            await queries.get_report(report_id, viewer),
            status_code=201,
            headers={"Location": path_for("api:reports:show", report_id=report_id)},
        )

    @get(
        "/reports/{report_id:int}",
        name="api:reports:show",
        responses=READ_ERRORS,
        summary="A report with both lines side by side: each delivery's state, response and "
        "the actions that came of it",
        description="Opening a submitted report as the Director, or as a Board member, "
        "records that line's read receipt the first time, as the page does.",
    )
    async def get_report(self, viewer: RequestViewer, report_id: RowId) -> ReportView:
        return await services.open_report(report_id, viewer)

    @post(
        "/reports/{report_id:int}/submit",
        name="api:reports:submit",
        responses=WRITE_ERRORS,
        summary="Submit a draft: freeze its text and deliver it along its lines",
        description="Refused for an empty report, and for a periodic report whose period has "
        "not ended or already has its report (422, unless it follows that report up as a "
        "correction), and for one already submitted (409). A submitted report can never be "
        "edited, withdrawn or deleted.",
        status_code=200,
    )
    async def submit_report(self, viewer: RequestViewer, report_id: RowId) -> ReportView:
        await services.submit_report(report_id, viewer)
        return await queries.get_report(report_id, viewer)

    @get(
        "/deliveries",
        name="api:reports:deliveries",
        responses=FILTERED_LIST_ERRORS,
        summary="Deliveries of the submitted reports the caller may read, by line and state",
        description="For the Director and the Board, their lines' deliveries (the Board also "
        "sees the Director line's); for members, their groups' reports' deliveries. `limit` "
        "a page, soonest due first; `older`/`newer` in the answer are opaque cursors to pass "
        "as `cursor`. `counts` and `overdue` count them all. `since`/`until`: delivered on "
        "or after, on or before (dates in the organisation's time zone; a range ending "
        "before it starts is a 422).",
    )
    async def list_deliveries(
        self,
        viewer: RequestViewer,
        line: LineParameter = None,
        delivery_state: StateParameter = None,
        cursor: Annotated[str, QueryParameter(max_length=MAX_CURSOR_LENGTH)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        since: FromQuery[dt.date | None] = None,
        until: FromQuery[dt.date | None] = None,
    ) -> DeliveryListView:
        filters = DeliveryFilters(
            line=line or "", state=delivery_state or "", since=since, until=until
        )
        return await queries.list_deliveries(viewer, filters, cursor or None, limit)

    @post(
        "/deliveries/{delivery_id:int}/acknowledge",
        name="api:reports:acknowledge",
        responses=WRITE_ERRORS,
        summary="Acknowledge a delivery on the caller's line",
        status_code=200,
    )
    async def acknowledge(self, viewer: RequestViewer, delivery_id: RowId) -> DeliveryView:
        await services.acknowledge_delivery(delivery_id, viewer)
        return await queries.get_delivery(delivery_id, viewer)

    @post(
        "/deliveries/{delivery_id:int}/respond",
        name="api:reports:respond",
        responses=WRITE_ERRORS,
        summary="Respond on the caller's line, with any actions that come of it",
        description="Once per line: a response cannot be changed. Declining or partly "
        "accepting needs a rationale.",
        status_code=201,
    )
    async def respond(
        self, viewer: RequestViewer, delivery_id: RowId, data: JSONBody[LineResponse]
    ) -> DeliveryView:
        await services.respond_to_delivery(delivery_id, data, viewer)
        return await queries.get_delivery(delivery_id, viewer)


class BoardLineApiController(Controller):
    """How the Board line decides: a proposed Board response, concurred with by other
    Board members until the rule is met (`reports/board_line.py`). Board members only: to
    anyone else a proposal is not found, the same as one that does not exist."""

    path = "/api/v1"
    guards = [signed_in]
    tags = ["reports"]
    security = [{"bearer": []}]

    @post(
        "/deliveries/{delivery_id:int}/proposal",
        name="api:reports:propose",
        responses=WRITE_ERRORS,
        summary="Propose the Board's response (a Board member), for other members to concur",
        description="Nothing is recorded on the delivery until enough Board members concur "
        "(GOVERNANCE_BOARD_CONCURRENCES, by default a majority of the Board with the "
        "proposer counting as one). One pending proposal per delivery (409).",
        status_code=201,
    )
    async def propose(
        self, viewer: RequestViewer, delivery_id: RowId, data: JSONBody[LineResponse]
    ) -> DeliveryView:
        await board_line.propose_board_response(delivery_id, data, viewer)
        return await queries.get_delivery(delivery_id, viewer)

    @post(
        "/board-proposals/{proposal_id:int}/concur",
        name="api:reports:concur",
        responses=WRITE_ERRORS,
        summary="Concur with a proposed Board response (another Board member)",
        description="Once per member; never the proposer (409). At the number needed the "
        "proposal is recorded as the Board line's response.",
        status_code=200,
    )
    async def concur(self, viewer: RequestViewer, proposal_id: RowId) -> DeliveryView:
        delivery_id = await board_line.concur_with_proposal(proposal_id, viewer)
        return await queries.get_delivery(delivery_id, viewer)

    @post(
        "/board-proposals/{proposal_id:int}/object",
        name="api:reports:object",
        responses=WRITE_ERRORS,
        summary="Object to a proposed Board response, with an optional reason",
        description="Once the objections leave too few Board members to meet the rule, the "
        "proposal lapses.",
        status_code=200,
    )
    async def object(
        self, viewer: RequestViewer, proposal_id: RowId, data: JSONBody[Objection]
    ) -> DeliveryView:
        delivery_id = await board_line.object_to_proposal(proposal_id, data, viewer)
        return await queries.get_delivery(delivery_id, viewer)

    @post(
        "/board-proposals/{proposal_id:int}/withdraw",
        name="api:reports:withdraw",
        responses=WRITE_ERRORS,
        summary="Withdraw a pending proposed Board response (its proposer)",
        status_code=200,
    )
    async def withdraw(self, viewer: RequestViewer, proposal_id: RowId) -> DeliveryView:
        delivery_id = await board_line.withdraw_proposal(proposal_id, viewer)
        return await queries.get_delivery(delivery_id, viewer)

    @post(
        "/board-proposals/{proposal_id:int}/decided-at-meeting",
        name="api:reports:decided-at-meeting",
        responses=WRITE_ERRORS,
        summary="Record a proposed Board response as decided at a Board meeting",
        description="Any current Board member names the meeting and its date (not in the "
        "future); the proposal is recorded as the Board line's response.",
        status_code=200,
    )
    async def decided_at_meeting(
        self, viewer: RequestViewer, proposal_id: RowId, data: JSONBody[DecidedAtMeeting]
    ) -> DeliveryView:
        delivery_id = await board_line.record_decided_at_meeting(proposal_id, data, viewer)
        return await queries.get_delivery(delivery_id, viewer)
