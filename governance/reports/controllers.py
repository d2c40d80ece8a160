"""Report pages: drafting, submitting, the trail across both lines, and each line's inbox.
Each handler reads the form into the use case's command, calls one service, and redirects;
a refused form is shown again with every field's error."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from governance.accounts.auth import signed_in
from governance.accounts.policy import Viewer
from governance.core.errors import ConflictError, InvalidInput
from governance.core.http import (
    FormFailure,
    RowId,
    form_values,
    page,
    page_with_forms,
    redirect,
    submit_form,
)
from governance.core.paging import MAX_CURSOR_LENGTH
from governance.core.urls import path_for
from governance.documents.controllers import annexes_context
from governance.groups.dependencies import RequestViewer
from governance.groups.queries import get_group
from governance.reports import forms, queries, services
from governance.reports.schemas import (
    KINDS,
    MAX_ACTIONS_PER_RESPONSE,
    RESPONSE_LABELS,
    RESPONSES,
    ROUTE_LABELS,
    ROUTES,
    ReportDraft,
    ReportView,
)

FORM_CHOICES = {"kinds": KINDS, "routes": ROUTES, "route_labels": ROUTE_LABELS}


async def _trail(
    request: Request[Any, Any, Any],
    report: ReportView,
    viewer: Viewer,
    failure: FormFailure | None = None,
) -> Template:
    """The report page, with the response form of each delivery the viewer may answer."""
    choices = []
    if report.answerable:
        choices = await queries.response_owner_choices(report.group_id, viewer)
    context = {
        "report": report,
        "responses": RESPONSES,
        "response_labels": RESPONSE_LABELS,
        "owner_choices": choices,
        "action_slots": range(1, MAX_ACTIONS_PER_RESPONSE + 1),
        "user_id": viewer.user.id,
        **await annexes_context(report.id, report.visibility, viewer),
    }
    return page_with_forms(request, "reports/show.html", context, failure)


def _show(report_id: int, message: str) -> Redirect:
    return redirect(path_for("reports:show", report_id=report_id), message)


def _form_context(group: dict[str, Any], report: Any = None) -> dict[str, Any]:
    return {**FORM_CHOICES, "group": group, "report": report}


def _cursor(request: Request[Any, Any, Any]) -> str | None:
    """The page asked for; one too long to be ours is refused by the paging helper."""
    return str(request.query_params.get("cursor") or "")[: MAX_CURSOR_LENGTH + 1] or None


class ReportController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    guards = [signed_in]

    @get("/groups/{slug:str}/reports", name="reports:group")
    async def index(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template:
        listing = await queries.group_reports(slug, viewer, None, _cursor(request))
        return page(request, "reports/index.html", msgspec.structs.asdict(listing))

    @get("/groups/{slug:str}/reports/new", name="reports:new")
    async def new_form(
        self,
        request: Request[Any, Any, Any],
        viewer: RequestViewer,
        slug: FromPath[str],
        follows_up: FromQuery[int | None] = None,
    ) -> Template:
        group = await get_group(slug)
        services.authorise_drafting(viewer, group["id"])
        values = await queries.follow_up_values(follows_up, viewer)
        return page(request, "reports/form.html", {**_form_context(group), "values": values})

    @post("/groups/{slug:str}/reports/new", name="reports:create")
    async def create(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template | Redirect:
        group = await get_group(slug)

        async def act(command: ReportDraft, unreadable: dict[str, str]) -> int:
            return await services.create_report(slug, command, viewer, unreadable=unreadable)

        def done(report_id: int) -> Redirect:
            return _show(report_id, "Draft saved. Read it through, then submit it when ready.")

        context = _form_context(group)
        return await submit_form(request, ReportDraft, act, done, "reports/form.html", context)

    @get("/reports/{report_id:int}", name="reports:show")
    async def show(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, report_id: RowId
    ) -> Template:
        return await _trail(request, await services.open_report(report_id, viewer), viewer)

    @get("/reports/{report_id:int}/edit", name="reports:edit")
    async def edit_form(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, report_id: RowId
    ) -> Template:
        draft = await services.editable_draft(report_id, viewer)
        group = {"name": draft.group_name, "slug": draft.group_slug}
        values = {**msgspec.structs.asdict(draft.draft), "follows_up": draft.draft.follows_up or ""}
        return page(request, "reports/form.html", {**_form_context(group, draft), "values": values})

    @post("/reports/{report_id:int}/edit", name="reports:update")
    async def edit(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, report_id: RowId
    ) -> Template | Redirect:
        draft = queries.draft_view(await queries.report_row(report_id, viewer))
        group = {"name": draft.group_name, "slug": draft.group_slug}

        async def act(command: ReportDraft, unreadable: dict[str, str]) -> None:
            await services.update_report(report_id, command, viewer, unreadable=unreadable)

        def done(_: None) -> Redirect:
            return _show(report_id, "Draft saved.")

        context = _form_context(group, draft)
        return await submit_form(request, ReportDraft, act, done, "reports/form.html", context)

    @post("/reports/{report_id:int}/submit", name="reports:submit")
    async def submit(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, report_id: RowId
    ) -> Template | Redirect:
        try:
            delivery_ids = await services.submit_report(report_id, viewer)
        except (InvalidInput, ConflictError) as error:
            report = await services.open_report(report_id, viewer)
            return await _trail(request, report, viewer, FormFailure.of(error))
        lines = "both lines" if len(delivery_ids) == 2 else "its line"
        return _show(report_id, f"Submitted and delivered to {lines}. The text is now frozen.")

    @post("/reports/{report_id:int}/discard", name="reports:discard")
    async def discard(self, viewer: RequestViewer, report_id: RowId) -> Redirect:
        slug = await services.discard_draft(report_id, viewer)
        return redirect(path_for("reports:group", slug=slug), "Draft discarded.")

    @post("/deliveries/{delivery_id:int}/acknowledge", name="reports:acknowledge")
    async def acknowledge(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, delivery_id: RowId
    ) -> Template | Redirect:
        try:
            report_id = await services.acknowledge_delivery(delivery_id, viewer)
        except ConflictError as error:
            delivery = await queries.delivery_row(delivery_id, viewer)
            report = await services.open_report(delivery["report"], viewer)
            return await _trail(request, report, viewer, FormFailure.of(error))
        return _show(report_id, "Acknowledged. The group can see that you have it.")

    @post("/deliveries/{delivery_id:int}/respond", name="reports:respond")
    async def respond(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, delivery_id: RowId
    ) -> Template | Redirect:
        delivery = await queries.delivery_row(delivery_id, viewer)
        data = await request.form()
        command, unreadable, rows = forms.read_response(data, timezone=viewer.user.timezone)
        try:
            await services.respond_to_delivery(delivery_id, command, viewer, unreadable=unreadable)
        except (InvalidInput, ConflictError) as error:
            failure = FormFailure.of(error, f"delivery-{delivery_id}", form_values(data))
            failure = dataclasses.replace(failure, errors=forms.form_errors(failure.errors, rows))
            report = await services.open_report(delivery["report"], viewer)
            return await _trail(request, report, viewer, failure)
        return _show(delivery["report"], "Response recorded. The group has been told.")

    @get("/deliveries", name="reports:inbox")
    async def inbox(self, request: Request[Any, Any, Any], viewer: RequestViewer) -> Template:
        context = msgspec.structs.asdict(await queries.inbox(viewer))
        context.update({"viewer": viewer, "response_labels": RESPONSE_LABELS})
        return page(request, "reports/inbox.html", context)
