"""JSON routes for pulses, their runs and results, with the same rules as the pages: a
pulse or run the caller may not read is 404, like one that does not exist; results carry
only figures that survive suppression, and never a response."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody, PathParameter

from governance.accounts.auth import signed_in
from governance.core.contracts import MAX_ROW_ID
from governance.core.errors import problem_responses
from governance.core.urls import path_for
from governance.groups.dependencies import RequestViewer
from governance.groups.queries import get_group
from governance.pulses import queries, services
from governance.pulses.schemas import (
    NewPulse,
    NewRun,
    PulseListView,
    PulseView,
    RunResultsView,
    TrendPoint,
)

PulseId = Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID, title="Pulse id")]
RunId = Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID, title="Run id")]
READ_ERRORS = problem_responses(400, 401, 404)
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 422)


class PulseApiController(Controller):
    path = "/api/v1"
    guards = [signed_in]
    tags = ["pulses"]
    security = [{"bearer": []}]

    @get(
        "/pulses",
        name="api:pulses:list",
        responses=READ_ERRORS,
        summary="The pulses the caller may read",
    )
    async def list_pulses(self, viewer: RequestViewer) -> PulseListView:
        return await queries.pulse_list(viewer)

    @get(
        "/pulses/{pulse_id:int}",
        name="api:pulses:show",
        responses=READ_ERRORS,
        summary="A pulse with its questions and the runs the caller may read",
    )
    async def show_pulse(self, viewer: RequestViewer, pulse_id: PulseId) -> PulseView:
        return await queries.pulse_page(pulse_id, viewer)

    @post(
        "/groups/{slug:str}/pulses",
        name="api:pulses:create",
        responses=WRITE_ERRORS,
        summary="Create a pulse from the library (chair or secretary)",
        status_code=201,
    )
    async def create_pulse(
        self, viewer: RequestViewer, slug: FromPath[str], data: JSONBody[NewPulse]
    ) -> Response[PulseView]:
        group = await get_group(slug)
        pulse_id = await services.create_pulse(group["id"], data, viewer)
        return Response(
            await queries.pulse_page(pulse_id, viewer),
            status_code=201,
            headers={"Location": path_for("api:pulses:show", pulse_id=pulse_id)},
        )

    @post(
        "/pulses/{pulse_id:int}/runs",
        name="api:pulses:launch",
        responses=WRITE_ERRORS,
        summary="Launch a run to the staff roster (chair or secretary)",
        status_code=201,
    )
    async def launch_run(
        self, viewer: RequestViewer, pulse_id: PulseId, data: JSONBody[NewRun]
    ) -> Response[RunResultsView]:
        run_id = await services.launch_run(pulse_id, data, viewer)
        return Response(
            await queries.run_results(run_id, viewer),
            status_code=201,
            headers={"Location": path_for("api:pulses:results", run_id=run_id)},
        )

    @get(
        "/pulses/runs/{run_id:int}/results",
        name="api:pulses:results",
        responses=READ_ERRORS,
        summary="A run's results: only figures drawn from enough responses",
    )
    async def results(self, viewer: RequestViewer, run_id: RunId) -> RunResultsView:
        return await queries.run_results(run_id, viewer)

    @get(
        "/pulses/{pulse_id:int}/trend",
        name="api:pulses:trend",
        responses=READ_ERRORS,
        summary="Each readable run's means and eNPS; null where suppressed",
    )
    async def trend(self, viewer: RequestViewer, pulse_id: PulseId) -> list[TrendPoint]:
        points, _ = await queries.trend(pulse_id, viewer)
        return points
