"""Pulse pages: the list, a pulse with its questions, runs and trend, a run's results and
their CSV, the staff roster (admins), and the answer form reached from an email link with
no sign-in. Each handler reads the form into the command, calls one service, redirects."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template

from governance.accounts.auth import signed_in
from governance.accounts.policy import VISIBILITY_LABELS
from governance.core.clock import organisation_today
from governance.core.contracts import read_form, row_id
from governance.core.errors import ConflictError, InvalidInput, PermissionDenied, ServiceError
from governance.core.exports import CSV_MEDIA_TYPE, attachment, csv_bytes
from governance.core.http import (
    FormFailure,
    RowId,
    form_values,
    kept_refusal,
    page,
    page_with_forms,
    redirect,
    refused_to_page,
)
from governance.core.urls import path_for
from governance.groups.dependencies import RequestViewer
from governance.groups.queries import get_group
from governance.pulses import queries, services, snapshot
from governance.pulses.schemas import (
    CADENCES,
    KINDS,
    RUN_VISIBILITIES,
    THEMES,
    NewPulse,
    NewQuestion,
    NewRun,
    QuestionChange,
    ResultsAnnex,
    ResultsPaper,
    RunResultsView,
)

CSV_HEADER = ["cut", "question", "responses", "mean", "eNPS", "distribution"]
ROSTER_BODY_LIMIT = 3_000_000
# The paper form's one choice carries both fields of the command.
PAPER_FIELD_IDS = {"meeting_id": "place", "agenda_item_id": "place"}


def results_csv_rows(view: RunResultsView) -> list[list[Any]]:
    """The figures as shown: a suppressed run or cut has a row saying so and nothing else."""
    if view.suppressed:
        return [["all", "", f"fewer than {view.threshold}", "", "", ""]]

    def rows_of(cut: str, questions: list[Any]) -> list[list[Any]]:
        return [
            [
                cut,
                q.prompt,
                "" if q.answered is None else q.answered,
                "" if q.mean is None else q.mean,
                "" if q.enps is None else q.enps,
                "; ".join(f"{label}: {count}" for label, count in q.distribution),
            ]
            for q in questions
        ]

    rows = rows_of("all", view.questions)
    for cut in view.cuts:
        name = f"{cut.question} = {cut.option}"
        if cut.suppressed:
            rows.append([name, "", cut.responses, "", "", ""])
        else:
            rows.extend(rows_of(name, cut.questions))
    return rows


def _labels() -> dict[str, Any]:
    return {
        "themes": THEMES,
        "cadences": CADENCES,
        "kinds": KINDS,
        "visibilities": RUN_VISIBILITIES,
        "visibility_labels": VISIBILITY_LABELS,
    }


async def _pulse_page(
    request: Request[Any, Any, Any],
    pulse_id: int,
    viewer: RequestViewer,
    failure: FormFailure | None = None,
) -> Template:
    view = await queries.pulse_page(pulse_id, viewer)
    points, chart = await queries.trend(pulse_id, viewer)
    context = {
        **msgspec.structs.asdict(view),
        "questions": view.questions,
        "runs": view.runs,
        "trend": points,
        "chart": chart,
        "today": organisation_today(),
        **_labels(),
    }
    return page_with_forms(request, "pulses/show.html", context, failure)


async def _refused_on_pulse(
    request: Request[Any, Any, Any], pulse_id: int, viewer: RequestViewer, failure: FormFailure
) -> Template | Redirect:
    """A form of the pulse page refused: the page is shown again at its own address (the
    session keeps the refusal for the redirect's page view), or here for a token's client."""
    shown_at = path_for("pulses:show", pulse_id=pulse_id)
    if redirected := await refused_to_page(request, shown_at, failure):
        return redirected
    return await _pulse_page(request, pulse_id, viewer, failure)


async def _refused_on_results(
    request: Request[Any, Any, Any], run_id: int, viewer: RequestViewer, error: InvalidInput
) -> Template | Redirect:
    """A form of a run's results page refused: shown again at the page's own address."""
    values = form_values(await request.form())
    failure = FormFailure.of(error, values=values)
    shown_at = path_for("pulses:results", run_id=run_id)
    if redirected := await refused_to_page(request, shown_at, failure):
        return redirected
    return await _results_page(request, run_id, viewer, error, values)


async def _results_page(
    request: Request[Any, Any, Any],
    run_id: int,
    viewer: RequestViewer,
    error: InvalidInput | None = None,
    values: dict[str, Any] | None = None,
) -> Template:
    view = await queries.run_results(run_id, viewer)
    context: dict[str, Any] = {
        "results": view,
        "places": await queries.agenda_places(view.group_id, viewer),
        "drafts": await queries.draft_places(view.group_id, viewer),
        "quote": "\n".join(snapshot.summary_lines(view)),
        "values": values or {},
    }
    if error is not None:
        context.update(
            errors=error.field_errors, form_error=error.message, error_ids=PAPER_FIELD_IDS
        )
    elif kept_refusal(request) is not None:
        # `page` shows the refused form kept for this view; its summary links the same way.
        context["error_ids"] = PAPER_FIELD_IDS
    return page(
        request, "pulses/results.html", context, status_code=422 if error is not None else 200
    )


class PulseController(Controller):
    include_in_schema = False
    guards = [signed_in]

    @get("/pulses", name="pulses:index")
    async def index(self, request: Request[Any, Any, Any], viewer: RequestViewer) -> Template:
        listing = await queries.pulse_list(viewer)
        return page(
            request,
            "pulses/index.html",
            {
                "pulses": listing.pulses,
                "is_admin": viewer.user.is_admin,
                "startable_groups": await queries.startable_groups(viewer),
            },
        )

    @get("/groups/{slug:str}/pulses/new", name="pulses:new")
    async def new_form(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template:
        group = await get_group(slug)
        if not viewer.leads(group["id"]):
            raise PermissionDenied(services.NOT_A_LEADER)
        values = {"theme": "wellbeing", "cadence": "quarterly", "visibility": "internal"}
        return page(request, "pulses/new.html", {"group": group, "values": values, **_labels()})

    @post("/groups/{slug:str}/pulses/new", name="pulses:create")
    async def create(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template | Redirect:
        group = await get_group(slug)
        data = await request.form()
        command, unreadable = read_form(NewPulse, data)
        try:
            pulse_id = await services.create_pulse(group["id"], command, viewer, unreadable)
        except InvalidInput as error:
            failure = FormFailure.of(error, values=form_values(data))
            if redirected := await refused_to_page(request, request.url.path, failure):
                return redirected
            return page(
                request,
                "pulses/new.html",
                {
                    "group": group,
                    "values": form_values(data),
                    "errors": error.field_errors,
                    "form_error": error.message,
                    **_labels(),
                },
                status_code=422,
            )
        return redirect(
            path_for("pulses:show", pulse_id=pulse_id),
            "Pulse created from the library; edit its questions before the first run.",
        )

    @get("/pulses/{pulse_id:int}", name="pulses:show")
    async def show(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, pulse_id: RowId
    ) -> Template:
        return await _pulse_page(request, pulse_id, viewer)

    @post("/pulses/{pulse_id:int}/questions", name="pulses:add-question")
    async def add_question(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, pulse_id: RowId
    ) -> Template | Redirect:
        data = await request.form()
        command, unreadable = read_form(NewQuestion, data)
        try:
            await services.add_question(pulse_id, command, viewer, unreadable)
        except (InvalidInput, ConflictError) as error:
            failure = FormFailure.of(error, "add-question", form_values(data))
            return await _refused_on_pulse(request, pulse_id, viewer, failure)
        return redirect(path_for("pulses:show", pulse_id=pulse_id), "Question added.")

    @post("/pulses/questions/{question_id:int}", name="pulses:change-question")
    async def change_question(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, question_id: RowId
    ) -> Template | Redirect:
        data = await request.form()
        command, unreadable = read_form(QuestionChange, data)
        # The page to show a refusal on (the form says which pulse it was on).
        pulse_id = row_id(str(data.get("pulse_id") or "")) or 0
        try:
            pulse_id = await services.change_question(question_id, command, viewer, unreadable)
        except (InvalidInput, ConflictError) as error:
            if not pulse_id:
                raise
            failure = FormFailure.of(error, f"question-{question_id}", form_values(data))
            return await _refused_on_pulse(request, pulse_id, viewer, failure)
        return redirect(path_for("pulses:show", pulse_id=pulse_id), "Question saved.")

    @post("/pulses/questions/{question_id:int}/remove", name="pulses:remove-question")
    async def remove_question(self, viewer: RequestViewer, question_id: RowId) -> Redirect:
        pulse_id = await services.remove_question(question_id, viewer)
        return redirect(path_for("pulses:show", pulse_id=pulse_id), "Question removed.")

    @post("/pulses/{pulse_id:int}/runs", name="pulses:launch")
    async def launch(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, pulse_id: RowId
    ) -> Template | Redirect:
        data = await request.form()
        command, unreadable = read_form(NewRun, data)
        try:
            run_id = await services.launch_run(pulse_id, command, viewer, unreadable)
        except (InvalidInput, ConflictError) as error:
            failure = FormFailure.of(error, "launch", form_values(data))
            return await _refused_on_pulse(request, pulse_id, viewer, failure)
        return redirect(
            path_for("pulses:results", run_id=run_id),
            "Run launched: each person on the staff roster is sent their own link.",
        )

    @get("/pulses/runs/{run_id:int}", name="pulses:results")
    async def results(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, run_id: RowId
    ) -> Template:
        return await _results_page(request, run_id, viewer)

    @post("/pulses/runs/{run_id:int}/paper", name="pulses:paper")
    async def put_on_agenda(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, run_id: RowId
    ) -> Template | Redirect:
        data = await request.form()
        # One choice on the form names the meeting and, after a slash, one of its items.
        meeting, _, item = str(data.get("place") or "").partition("/")
        fields = {"meeting_id": meeting, "agenda_item_id": item}
        command, unreadable = read_form(ResultsPaper, fields)
        try:
            document_id = await services.put_results_on_agenda(run_id, command, viewer, unreadable)
        except InvalidInput as error:
            return await _refused_on_results(request, run_id, viewer, error)
        return redirect(
            path_for("documents:show", document_id=document_id),
            "The results, as they stand now, are on the meeting's agenda as a paper.",
        )

    @post("/pulses/runs/{run_id:int}/annex", name="pulses:annex")
    async def quote_in_report(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, run_id: RowId
    ) -> Template | Redirect:
        data = await request.form()
        command, unreadable = read_form(ResultsAnnex, data)
        try:
            document_id = await services.quote_results_in_report(
                run_id, command, viewer, unreadable
            )
        except InvalidInput as error:
            return await _refused_on_results(request, run_id, viewer, error)
        return redirect(
            path_for("documents:show", document_id=document_id),
            "The results, as they stand now, are quoted in the draft report as an annex.",
        )

    @get("/pulses/runs/{run_id:int}/results.csv", name="pulses:results-csv")
    async def results_csv(self, viewer: RequestViewer, run_id: RowId) -> Response[bytes]:
        view = await queries.run_results(run_id, viewer)
        body = csv_bytes(CSV_HEADER, results_csv_rows(view))
        return attachment(body, CSV_MEDIA_TYPE, f"pulse-run-{run_id}-results.csv")


class StaffRosterController(Controller):
    include_in_schema = False
    guards = [signed_in]

    @get("/pulses/roster", name="pulses:roster")
    async def roster(self, request: Request[Any, Any, Any], viewer: RequestViewer) -> Template:
        if not viewer.user.is_admin:
            raise PermissionDenied("Only an admin can import the staff roster.")
        return page(request, "pulses/roster.html", {"counts": await queries.roster_counts()})

    @post("/pulses/roster", name="pulses:roster-import", request_max_body_size=ROSTER_BODY_LIMIT)
    async def import_roster(
        self, request: Request[Any, Any, Any], viewer: RequestViewer
    ) -> Template | Redirect:
        data = await request.form()
        # A file chosen cannot be put back in a form, so a refused roster is shown here, where
        # it was posted, rather than redirected to its page (Post/Redirect/Get).
        upload = data.get("roster")
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        try:
            imported = await services.import_roster(content, viewer)
        except InvalidInput as error:
            if not viewer.user.is_admin:
                raise
            return page(
                request,
                "pulses/roster.html",
                {
                    "counts": await queries.roster_counts(),
                    "form_error": error.message,
                    "problems": error.field_errors.get("roster", "").splitlines(),
                },
                status_code=422,
            )
        return redirect(
            path_for("pulses:roster"),
            (
                f"Roster imported: {imported.added} added, {imported.reactivated} back, "
                f"{imported.deactivated} no longer invited; {imported.active} addresses in all."
            ),
        )


class PulseAnswerController(Controller):
    """The answer form, reached from an email link; no account, no sign-in."""

    include_in_schema = False

    @get("/pulse/answer/{token:str}", name="pulses:answer")
    async def form(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        return await self._form(request, token)

    async def _form(
        self,
        request: Request[Any, Any, Any],
        token: str,
        values: dict[str, Any] | None = None,
        error: InvalidInput | None = None,
    ) -> Template:
        try:
            invitation = await services.invitation_for(token)
        except ServiceError as refusal:
            status = 410 if isinstance(refusal, ConflictError) else 404
            return page(
                request,
                "pulses/answer_refused.html",
                {"reason": refusal.message},
                status_code=status,
            )
        view = await queries.answer_form(invitation["run"])
        context = {"form": view, "token": token, "values": values or {}}
        if error is not None:
            context.update(errors=error.field_errors, form_error=error.message)
        return page(request, "pulses/answer.html", context, status_code=422 if error else 200)

    @post("/pulse/answer/{token:str}", name="pulses:submit")
    async def submit(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        data = await request.form()
        answers = {key: str(value) for key, value in data.items() if isinstance(value, str)}
        try:
            await services.answer_pulse(token, answers)
        except InvalidInput as error:
            return await self._form(request, token, answers, error)
        except ServiceError:
            return await self._form(request, token)
        return page(request, "pulses/answer_thanks.html", {})
