"""Meeting pages: scheduling, the agenda, attendance, minutes and decisions, and the public
version of approved minutes. Each handler parses, calls one service, and redirects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from governance.accounts.auth import signed_in
from governance.accounts.policy import VISIBILITIES, Viewer
from governance.core.errors import ConflictError, InvalidInput, PermissionDenied, ServiceError
from governance.core.http import (
    FormFailure,
    form_page,
    form_values,
    page,
    page_with_forms,
    redirect,
)
from governance.groups.dependencies import current_viewer
from governance.meetings import services
from governance.meetings.forms import (
    read_agenda_item,
    read_approval,
    read_attendance,
    read_decision,
    read_meeting,
    read_minutes,
    read_position,
)

VISIBILITY_LABELS = {
    "public": "Public, once the minutes are approved",
    "internal": "Internal: members, the Director and the Board",
    "board": "Board: members and the Board, never the Director",
    "group": "Group: current members only",
}


def _local_input(value: Any, timezone: str) -> str:
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M") if value else ""


async def _meeting_page(
    request: Request[Any, Any, Any],
    meeting_id: int,
    viewer: Viewer,
    failure: FormFailure | None = None,
) -> Template:
    context = await services.meeting_page(meeting_id, viewer)
    context.update(
        {
            "visibilities": VISIBILITIES,
            "visibility_labels": VISIBILITY_LABELS,
            "modes": services.ATTENDANCE_MODES,
        }
    )
    return page_with_forms(request, "meetings/show.html", context, failure)


async def _act(
    request: Request[Any, Any, Any],
    meeting_id: int,
    action: Callable[[Viewer], Awaitable[Any]],
    success: str,
    form: str = "",
    values: Mapping[str, Any] | None = None,
) -> Template | Redirect:
    """Runs one change; on a refused change shows the meeting page again with the reason."""
    viewer = await current_viewer(request)
    try:
        await action(viewer)
    except (InvalidInput, ConflictError) as error:
        return await _meeting_page(request, meeting_id, viewer, FormFailure.of(error, form, values))
    return redirect(f"/meetings/{meeting_id}", success)


class MeetingController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    guards = [signed_in]

    @get("/groups/{slug:str}/meetings")
    async def index(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        viewer = await current_viewer(request)
        context = await services.list_meetings(slug, viewer)
        context["can_manage"] = viewer.leads(context["group"]["id"])
        return page(request, "meetings/index.html", context)

    @get("/groups/{slug:str}/meetings/new")
    async def new_form(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        viewer = await current_viewer(request)
        group = (await services.list_meetings(slug, viewer))["group"]
        if not viewer.leads(group["id"]):
            raise PermissionDenied("Only the group's chair or secretary can schedule meetings.")
        return page(request, "meetings/form.html", {"group": group, "meeting": None})

    @post("/groups/{slug:str}/meetings/new")
    async def create(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        group = (await services.list_meetings(slug, viewer))["group"]
        if not viewer.leads(group["id"]):
            raise PermissionDenied("Only the group's chair or secretary can schedule meetings.")
        data = await request.form()
        fields, errors = read_meeting(data, viewer.user.timezone)
        if errors:
            return form_page(
                request,
                "meetings/form.html",
                form_values(data),
                errors,
                {"group": group, "meeting": None},
            )
        meeting_id = await services.schedule_meeting(slug, fields, viewer)
        return redirect(f"/meetings/{meeting_id}", "Meeting scheduled. Add its agenda below.")

    @get("/meetings/{meeting_id:int}", name="meetings:show")
    async def show(self, request: Request[Any, Any, Any], meeting_id: FromPath[int]) -> Template:
        return await _meeting_page(request, meeting_id, await current_viewer(request))

    @get("/meetings/{meeting_id:int}/edit")
    async def edit_form(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Template:
        viewer = await current_viewer(request)
        meeting = await services.get_meeting(meeting_id, viewer)
        if not viewer.leads(meeting["group"]):
            raise PermissionDenied("Only the group's chair or secretary can change a meeting.")
        timezone = viewer.user.timezone
        values = {
            **meeting,
            "starts_at": _local_input(meeting["starts_at"], timezone),
            "ends_at": _local_input(meeting["ends_at"], timezone),
        }
        group = {"name": meeting["group_name"], "slug": meeting["group_slug"]}
        return page(
            request, "meetings/form.html", {"group": group, "meeting": meeting, "values": values}
        )

    @post("/meetings/{meeting_id:int}/edit")
    async def edit(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        meeting = await services.get_meeting(meeting_id, viewer)
        data = await request.form()
        fields, errors = read_meeting(data, viewer.user.timezone)
        group = {"name": meeting["group_name"], "slug": meeting["group_slug"]}
        if not errors:
            try:
                await services.update_meeting(meeting_id, fields, viewer)
            except ServiceError as error:
                if isinstance(error, PermissionDenied):
                    raise
                errors = error.field_errors or {"title": error.message}
        if errors:
            return form_page(
                request,
                "meetings/form.html",
                form_values(data),
                errors,
                {"group": group, "meeting": meeting},
            )
        return redirect(
            f"/meetings/{meeting_id}", "Meeting updated; calendars will show the change."
        )

    @post("/meetings/{meeting_id:int}/held")
    async def held(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Template | Redirect:
        return await _act(
            request,
            meeting_id,
            lambda v: services.mark_meeting_held(meeting_id, v),
            "Meeting marked as held.",
        )

    @post("/meetings/{meeting_id:int}/cancel")
    async def cancel(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Template | Redirect:
        data = await request.form()
        reason = str(data.get("reason", ""))
        return await _act(
            request,
            meeting_id,
            lambda v: services.cancel_meeting(meeting_id, reason, v),
            "Meeting cancelled; calendars will show it as cancelled.",
            form="cancel",
            values=form_values(data),
        )

    # --- agenda ---

    @post("/meetings/{meeting_id:int}/agenda")
    async def add_item(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Template | Redirect:
        data = await request.form()
        fields, errors = read_agenda_item(data)
        if errors:
            viewer = await current_viewer(request)
            return await _meeting_page(
                request,
                meeting_id,
                viewer,
                failure=FormFailure(
                    errors=errors,
                    values=form_values(data),
                    form="agenda",
                    message="The agenda item needs correcting. Nothing has been saved.",
                    status_code=422,
                ),
            )
        return await _act(
            request,
            meeting_id,
            lambda v: services.add_agenda_item(meeting_id, fields, v),
            "Agenda item added.",
            form="agenda",
            values=form_values(data),
        )

    @get("/agenda-items/{item_id:int}/edit")
    async def edit_item_form(
        self, request: Request[Any, Any, Any], item_id: FromPath[int]
    ) -> Template:
        viewer = await current_viewer(request)
        item, meeting = await services.get_agenda_item(item_id, viewer)
        if not viewer.leads(meeting["group"]):
            raise PermissionDenied("Only the group's chair or secretary can change the agenda.")
        return page(
            request,
            "meetings/agenda_item_form.html",
            {
                "item": item,
                "meeting": meeting,
                "values": item,
                "visibilities": VISIBILITIES,
                "visibility_labels": VISIBILITY_LABELS,
            },
        )

    @post("/agenda-items/{item_id:int}/edit")
    async def edit_item(
        self, request: Request[Any, Any, Any], item_id: FromPath[int]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        item, meeting = await services.get_agenda_item(item_id, viewer)
        data = await request.form()
        fields, errors = read_agenda_item(data)
        if not errors:
            try:
                await services.update_agenda_item(item_id, fields, viewer)
            except (InvalidInput, ConflictError) as error:
                errors = error.field_errors or {"title": error.message}
        if errors:
            return form_page(
                request,
                "meetings/agenda_item_form.html",
                form_values(data),
                errors,
                {
                    "item": item,
                    "meeting": meeting,
                    "visibilities": VISIBILITIES,
                    "visibility_labels": VISIBILITY_LABELS,
                },
            )
        return redirect(f"/meetings/{meeting['id']}", "Agenda item saved.")

    @post("/agenda-items/{item_id:int}/move")
    async def move_item(
        self, request: Request[Any, Any, Any], item_id: FromPath[int]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        _, meeting = await services.get_agenda_item(item_id, viewer)
        data = await request.form()
        position, errors = read_position(data)
        if errors:
            return await _meeting_page(
                request,
                meeting["id"],
                viewer,
                failure=FormFailure(
                    errors=errors, form="move", message=errors["position"], status_code=422
                ),
            )
        return await _act(
            request,
            meeting["id"],
            lambda v: services.move_agenda_item(item_id, position, v),
            "Agenda reordered.",
            form="move",
        )

    @post("/agenda-items/{item_id:int}/remove")
    async def remove_item(
        self, request: Request[Any, Any, Any], item_id: FromPath[int]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        _, meeting = await services.get_agenda_item(item_id, viewer)
        return await _act(
            request,
            meeting["id"],
            lambda v: services.remove_agenda_item(item_id, v),
            "Agenda item removed.",
        )

    @post("/agenda-items/{item_id:int}/open")
    async def toggle_open(
        self, request: Request[Any, Any, Any], item_id: FromPath[int]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        item, meeting = await services.get_agenda_item(item_id, viewer)
        is_open = not item["is_open"]
        message = (
            "Item left open; it can be carried to the next meeting."
            if is_open
            else "Item marked as settled."
        )
        return await _act(
            request, meeting["id"], lambda v: services.set_item_open(item_id, is_open, v), message
        )

    @post("/agenda-items/{item_id:int}/carry")
    async def carry(
        self, request: Request[Any, Any, Any], item_id: FromPath[int]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        _, meeting = await services.get_agenda_item(item_id, viewer)
        return await _act(
            request,
            meeting["id"],
            lambda v: services.carry_item_forward(item_id, v),
            "Item carried to the next meeting's agenda.",
        )

    @post("/agenda-items/{item_id:int}/conflicts")
    async def declare(
        self, request: Request[Any, Any, Any], item_id: FromPath[int]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        _, meeting = await services.get_agenda_item(item_id, viewer)
        data = await request.form()
        raw_user = str(data.get("user_id", "")).strip()
        user_id = int(raw_user) if raw_user.isdigit() else viewer.user.id
        description = str(data.get("description", "")).strip()
        return await _act(
            request,
            meeting["id"],
            lambda v: services.declare_conflict(item_id, user_id, description, v),
            "Conflict of interest recorded.",
            form="conflict",
        )

    # --- attendance ---

    @post("/meetings/{meeting_id:int}/attendance")
    async def attendance(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        context = await services.meeting_page(meeting_id, viewer)
        data = await request.form()
        entries, guests, errors = read_attendance(data, [m["user"] for m in context["members"]])
        if errors:
            return await _meeting_page(
                request,
                meeting_id,
                viewer,
                failure=FormFailure(
                    errors=errors,
                    values=form_values(data),
                    form="attendance",
                    message="Attendance needs correcting. Nothing has been saved.",
                    status_code=422,
                ),
            )
        return await _act(
            request,
            meeting_id,
            lambda v: services.record_attendance(meeting_id, entries, guests, v),
            "Attendance saved.",
            form="attendance",
            values=form_values(data),
        )

    # --- minutes ---

    @get("/meetings/{meeting_id:int}/minutes")
    async def minutes_form(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Template:
        viewer = await current_viewer(request)
        context = await services.meeting_page(meeting_id, viewer)
        if not context["can_manage"]:
            raise PermissionDenied("Only the group's chair or secretary can write the minutes.")
        values: dict[str, Any] = {"summary": context["minutes"]["summary"]}
        values.update({f"item_{item['id']}": item["minutes_text"] for item in context["items"]})
        return page(
            request,
            "meetings/minutes_form.html",
            {**context, "values": values, "visibility_labels": VISIBILITY_LABELS},
        )

    @post("/meetings/{meeting_id:int}/minutes")
    async def save_minutes(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        data = await request.form()
        summary, item_texts, errors = read_minutes(data)
        if not errors:
            try:
                await services.save_minutes(meeting_id, summary, item_texts, viewer)
            except (InvalidInput, ConflictError) as error:
                errors = error.field_errors or {"summary": error.message}
        if errors:
            context = await services.meeting_page(meeting_id, viewer)
            return form_page(
                request,
                "meetings/minutes_form.html",
                form_values(data),
                errors,
                {**context, "visibility_labels": VISIBILITY_LABELS},
            )
        return redirect(f"/meetings/{meeting_id}", "Draft minutes saved.")

    @post("/meetings/{meeting_id:int}/minutes/circulate")
    async def circulate(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Template | Redirect:
        return await _act(
            request,
            meeting_id,
            lambda v: services.circulate_minutes(meeting_id, v),
            "Minutes circulated; attendees have been told and can comment.",
        )

    @post("/meetings/{meeting_id:int}/minutes/draft")
    async def back_to_draft(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Template | Redirect:
        return await _act(
            request,
            meeting_id,
            lambda v: services.return_minutes_to_draft(meeting_id, v),
            "Minutes returned to draft for editing.",
        )

    @post("/meetings/{meeting_id:int}/minutes/approve")
    async def approve(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Template | Redirect:
        data = await request.form()
        method, approving, errors = read_approval(data)
        if errors:
            viewer = await current_viewer(request)
            return await _meeting_page(
                request,
                meeting_id,
                viewer,
                failure=FormFailure(
                    errors=errors,
                    values=form_values(data),
                    form="approve",
                    message="Say how the minutes were approved.",
                    status_code=422,
                ),
            )
        return await _act(
            request,
            meeting_id,
            lambda v: services.approve_minutes(meeting_id, method, approving, v),
            "Minutes approved and locked.",
            form="approve",
            values=form_values(data),
        )

    @post("/meetings/{meeting_id:int}/minutes/comments")
    async def comment(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Template | Redirect:
        data = await request.form()
        body = str(data.get("body", ""))
        return await _act(
            request,
            meeting_id,
            lambda v: services.comment_on_minutes(meeting_id, body, v),
            "Comment added.",
            form="comment",
            values=form_values(data),
        )

    @post("/meetings/{meeting_id:int}/minutes/errata")
    async def erratum(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Template | Redirect:
        data = await request.form()
        body = str(data.get("body", ""))
        visibility = str(data.get("visibility", "internal"))
        return await _act(
            request,
            meeting_id,
            lambda v: services.add_erratum(meeting_id, body, v, visibility),
            "Erratum appended to the approved minutes.",
            form="erratum",
            values=form_values(data),
        )

    # --- decisions ---

    @post("/meetings/{meeting_id:int}/decisions")
    async def decide(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Template | Redirect:
        data = await request.form()
        fields, errors = read_decision(data)
        if errors:
            viewer = await current_viewer(request)
            return await _meeting_page(
                request,
                meeting_id,
                viewer,
                failure=FormFailure(
                    errors=errors,
                    values=form_values(data),
                    form="decision",
                    message="The decision needs correcting. Nothing has been saved.",
                    status_code=422,
                ),
            )
        return await _act(
            request,
            meeting_id,
            lambda v: services.record_decision(meeting_id, fields, v),
            "Decision recorded.",
            form="decision",
            values=form_values(data),
        )


class PublicMinutesController(Controller):
    """Approved minutes as anyone may read them, with no sign-in."""

    include_in_schema = False  # pages for people; the API is described at /schema

    @get("/public/meetings/{meeting_id:int}")
    async def show(self, request: Request[Any, Any, Any], meeting_id: FromPath[int]) -> Template:
        return page(request, "meetings/public.html", await services.public_minutes(meeting_id))
