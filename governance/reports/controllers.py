"""Report pages: drafting, submitting, the trail across both lines, and each line's inbox."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from governance.accounts.auth import signed_in
from governance.accounts.policy import Viewer
from governance.core.clock import organisation_today
from governance.core.errors import ConflictError, InvalidInput, PermissionDenied
from governance.core.http import (
    FormFailure,
    form_page,
    form_values,
    page,
    page_with_forms,
    redirect,
)
from governance.groups.dependencies import current_viewer
from governance.groups.queries import members_on
from governance.reports import services
from governance.reports.forms import MAX_ACTIONS_PER_RESPONSE, read_report, read_response

FORM_CHOICES = {
    "kinds": services.KINDS,
    "routes": services.ROUTES,
    "route_labels": services.ROUTE_LABELS,
}
RESPONSE_LABELS = {
    "accepted": "Accepted",
    "partially_accepted": "Partially accepted",
    "declined": "Declined",
    "noted": "Noted",
}


async def _owner_choices(report: dict[str, Any], viewer: Viewer) -> list[dict[str, Any]]:
    """Who can own an action that comes of a response: the responder, or a group member."""
    members = await members_on(report["group"], organisation_today())
    choices = [{"user": viewer.user.id, "display_name": f"{viewer.user.display_name} (me)"}]
    choices += [m for m in members if m["user"] != viewer.user.id]
    return choices


async def _trail(
    request: Request[Any, Any, Any],
    report_id: int,
    viewer: Viewer,
    failure: FormFailure | None = None,
    *,
    failed_delivery: int | None = None,
) -> Template:
    context = await services.report_page(report_id, viewer)
    context.update(
        {
            "responses": services.RESPONSES,
            "response_labels": RESPONSE_LABELS,
            "owner_choices": await _owner_choices(context["report"], viewer)
            if any(d["can_act"] for d in context["deliveries"])
            else [],
            "action_slots": range(1, MAX_ACTIONS_PER_RESPONSE + 1),
            "failed_delivery": failed_delivery,
            "today": organisation_today(),
        }
    )
    return page_with_forms(request, "reports/show.html", context, failure)


class ReportController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    guards = [signed_in]

    @get("/groups/{slug:str}/reports", name="reports:group")
    async def index(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        context = await services.group_reports(slug, await current_viewer(request))
        context["next_due_sentences"] = [
            services.describe_next_due(entry) for entry in context["schedules"]
        ]
        return page(request, "reports/index.html", context)

    @get("/groups/{slug:str}/reports/new")
    async def new_form(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        follows_up: FromQuery[int | None] = None,
    ) -> Template:
        viewer = await current_viewer(request)
        context = await services.group_reports(slug, viewer)
        if not context["can_draft"]:
            raise PermissionDenied("Only the group's chair or secretary can draft reports.")
        values = {"kind": "recommendation", "route": "both", "follows_up": follows_up or ""}
        return page(
            request,
            "reports/form.html",
            {**FORM_CHOICES, "group": context["group"], "report": None, "values": values},
        )

    @post("/groups/{slug:str}/reports/new")
    async def create(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        context = await services.group_reports(slug, viewer)
        if not context["can_draft"]:
            raise PermissionDenied("Only the group's chair or secretary can draft reports.")
        data = await request.form()
        fields, errors = read_report(data)
        report_id = None
        if not errors:
            try:
                report_id = await services.create_report(slug, fields, viewer)
            except InvalidInput as error:
                errors = error.field_errors
        if errors or report_id is None:
            return form_page(
                request,
                "reports/form.html",
                form_values(data),
                errors,
                {**FORM_CHOICES, "group": context["group"], "report": None},
            )
        return redirect(
            f"/reports/{report_id}", "Draft saved. Read it through, then submit it when ready."
        )

    @get("/reports/{report_id:int}", name="reports:show")
    async def show(self, request: Request[Any, Any, Any], report_id: FromPath[int]) -> Template:
        return await _trail(request, report_id, await current_viewer(request))

    @get("/reports/{report_id:int}/edit")
    async def edit_form(
        self, request: Request[Any, Any, Any], report_id: FromPath[int]
    ) -> Template:
        viewer = await current_viewer(request)
        report = await services.get_report(report_id, viewer)
        if report["status"] != "draft":
            raise ConflictError(
                "A submitted report can never be changed. Write a follow-up report instead."
            )
        if not viewer.leads(report["group"]):
            raise PermissionDenied("Only the group's chair or secretary can change a draft.")
        group = {"name": report["group_name"], "slug": report["group_slug"]}
        values = {**report, "follows_up": report["follows_up"] or ""}
        return page(
            request,
            "reports/form.html",
            {**FORM_CHOICES, "group": group, "report": report, "values": values},
        )

    @post("/reports/{report_id:int}/edit")
    async def edit(
        self, request: Request[Any, Any, Any], report_id: FromPath[int]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        report = await services.get_report(report_id, viewer)
        data = await request.form()
        fields, errors = read_report(data)
        if not errors:
            try:
                await services.update_report(report_id, fields, viewer)
            except InvalidInput as error:
                errors = error.field_errors
        if errors:
            group = {"name": report["group_name"], "slug": report["group_slug"]}
            return form_page(
                request,
                "reports/form.html",
                form_values(data),
                errors,
                {**FORM_CHOICES, "group": group, "report": report},
            )
        return redirect(f"/reports/{report_id}", "Draft saved.")

    @post("/reports/{report_id:int}/submit")
    async def submit(
        self, request: Request[Any, Any, Any], report_id: FromPath[int]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        try:
            delivery_ids = await services.submit_report(report_id, viewer)
        except (InvalidInput, ConflictError) as error:
            return await _trail(request, report_id, viewer, FormFailure.of(error))
        lines = "both lines" if len(delivery_ids) == 2 else "its line"
        return redirect(
            f"/reports/{report_id}", f"Submitted and delivered to {lines}. The text is now frozen."
        )

    @post("/reports/{report_id:int}/discard")
    async def discard(self, request: Request[Any, Any, Any], report_id: FromPath[int]) -> Redirect:
        viewer = await current_viewer(request)
        report = await services.get_report(report_id, viewer)
        await services.discard_draft(report_id, viewer)
        return redirect(f"/groups/{report['group_slug']}/reports", "Draft discarded.")

    @post("/deliveries/{delivery_id:int}/acknowledge")
    async def acknowledge(
        self, request: Request[Any, Any, Any], delivery_id: FromPath[int]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        report_id = await services.report_id_of_delivery(delivery_id, viewer)
        try:
            await services.acknowledge_delivery(delivery_id, viewer)
        except ConflictError as error:
            return await _trail(
                request,
                report_id,
                viewer,
                failure=FormFailure(message=error.message, status_code=409),
            )
        return redirect(
            f"/reports/{report_id}", "Acknowledged. The group can see that you have it."
        )

    @post("/deliveries/{delivery_id:int}/respond")
    async def respond(
        self, request: Request[Any, Any, Any], delivery_id: FromPath[int]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        report_id = await services.report_id_of_delivery(delivery_id, viewer)
        report = await services.get_report(report_id, viewer)
        data = await request.form()
        owners = {choice["user"] for choice in await _owner_choices(report, viewer)}
        fields, errors = read_response(data, owners)
        if not errors:
            try:
                await services.respond_to_delivery(delivery_id, fields, viewer)
            except (InvalidInput, ConflictError) as error:
                if isinstance(error, ConflictError):
                    return await _trail(
                        request,
                        report_id,
                        viewer,
                        failure=FormFailure(message=error.message, status_code=409),
                    )
                errors = error.field_errors or {"response": error.message}
        if errors:
            return await _trail(
                request,
                report_id,
                viewer,
                failure=FormFailure(
                    errors=errors,
                    values=form_values(data),
                    message="The response needs correcting. Nothing has been recorded.",
                    status_code=422,
                ),
                failed_delivery=delivery_id,
            )
        return redirect(f"/reports/{report_id}", "Response recorded. The group has been told.")

    @get("/deliveries")
    async def inbox(self, request: Request[Any, Any, Any]) -> Template:
        viewer = await current_viewer(request)
        if not (viewer.user.is_director or viewer.user.is_board):
            raise PermissionDenied("This page is for the Executive Director and the Board.")
        return page(
            request,
            "reports/inbox.html",
            {**await services.inbox(viewer), "viewer": viewer, "response_labels": RESPONSE_LABELS},
        )
