"""Meeting pages: scheduling, the agenda, attendance, minutes and decisions, and the public
version of approved minutes. Each handler reads its form into a command, calls one
service, and redirects; a refusal shows the form again with every field's error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from governance.accounts.auth import signed_in
from governance.accounts.policy import VISIBILITIES, Viewer
from governance.core.clock import zone
from governance.core.contracts import Confirmation, read_form
from governance.core.db import read_at_once
from governance.core.errors import ConflictError, InvalidInput
from governance.core.http import (
    FormFailure,
    RowId,
    form_page,
    form_values,
    page,
    page_with_forms,
    refuse_form,
    refused_to_page,
)
from governance.core.http import redirect as redirect_to
from governance.core.urls import path_for
from governance.documents.controllers import papers_context
from governance.groups.dependencies import RequestViewer
from governance.groups.queries import get_group
from governance.meetings import queries, services
from governance.meetings.forms import read_attendance, read_minutes
from governance.meetings.schemas import (
    APPROVAL_IS_FINAL,
    ATTENDANCE_MODES,
    HELD_IS_FINAL,
    REMOVAL_IS_FINAL,
    REPLY_LABELS,
    REPLY_MODES,
    AgendaItemDetails,
    AgendaMove,
    Approval,
    Cancellation,
    ConflictDeclaration,
    MeetingDetails,
    MeetingHead,
    MeetingStatus,
    NewComment,
    NewDecision,
    NewErratum,
    NoticeReply,
    PastMeetingFilters,
)
from governance.resolutions.queries import taken_since_last_meeting

VISIBILITY_LABELS = {
    "public": "Public, once the minutes are approved",
    "internal": "Internal: members, the Director and the Board",
    "board": "Board: members and the Board, never the Director",
    "group": "Group: current members only",
}
LABELS = {"visibilities": VISIBILITIES, "visibility_labels": VISIBILITY_LABELS}
# What the confirmation of each irreversible step says cannot be undone (the services' words).
IRREVERSIBLE = {
    "held_is_final": HELD_IS_FINAL,
    "removal_is_final": REMOVAL_IS_FINAL,
    "approval_is_final": APPROVAL_IS_FINAL,
}


def _local_input(value: Any, timezone: str) -> str:
    return value.astimezone(zone(timezone)).strftime("%Y-%m-%dT%H:%M") if value else ""


def _to_meeting(meeting_id: int, message: str) -> Redirect:
    return redirect_to(path_for("meetings:show", meeting_id=meeting_id), message)


async def _meeting_page(
    request: Request[Any, Any, Any],
    meeting_id: int,
    viewer: Viewer,
    failure: FormFailure | None = None,
) -> Template:
    meeting_row = await queries.readable_meeting(meeting_id, viewer)
    # Papers and resolutions need only the meeting's row: read with the page's own reads.
    meeting_page, papers, resolutions = await read_at_once(
        queries.meeting_page_of(meeting_row, viewer),
        papers_context(meeting_id, meeting_row["group"], viewer),
        _resolutions_since(meeting_row, viewer),
    )
    meeting_page.steps = services.meeting_steps(meeting_page)
    context = msgspec.structs.asdict(meeting_page)
    context.update(
        {
            **LABELS,
            **IRREVERSIBLE,
            "modes": ATTENDANCE_MODES,
            "reply_modes": REPLY_MODES,
            "reply_labels": REPLY_LABELS,
        }
    )
    context.update(papers)
    context["paper_agenda"] = [
        (item.id, (item.position, item.title)) for item in meeting_page.meeting.agenda
    ]
    context["resolutions_since"] = resolutions
    return page_with_forms(request, "meetings/show.html", context, failure)


async def _resolutions_since(meeting: Mapping[str, Any], viewer: Viewer) -> list[Any]:
    """The group's resolutions taken since its last meeting, for the minutes (none for a
    cancelled meeting)."""
    if meeting["status"] == MeetingStatus.CANCELLED:
        return []
    return await taken_since_last_meeting(meeting["group_slug"], meeting["starts_at"], viewer)


async def _act(
    request: Request[Any, Any, Any],
    viewer: Viewer,
    meeting_id: int,
    change: Change,
    success: str,
    form: str = "",
) -> Template | Redirect:
    """Runs one change from the submitted form; on a refusal (of the values or of the state)
    the meeting page is shown again, at its own address (the session keeps the refusal for
    the redirect's page view), with the reason beside the form that was sent."""
    data = await request.form()
    try:
        await change(data)
    except (InvalidInput, ConflictError) as error:
        failure = FormFailure.of(error, form, form_values(data))
        page_path = path_for("meetings:show", meeting_id=meeting_id)
        if redirected := await refused_to_page(request, page_path, failure):
            return redirected
        return await _meeting_page(request, meeting_id, viewer, failure)
    return _to_meeting(meeting_id, success)


Change = Callable[[Mapping[str, Any]], Awaitable[Any]]


def _filled(
    command_type: type[Any], use_case: Callable[..., Awaitable[Any]], target_id: int, viewer: Viewer
) -> Change:
    """The change a form asks for: its command, read from the form, given to the use case
    with the fields it could not read."""

    async def change(data: Mapping[str, Any]) -> None:
        command, unreadable = read_form(command_type, data)
        await use_case(target_id, command, viewer, unreadable=unreadable)

    return change


def _confirmed(use_case: Callable[..., Awaitable[Any]], target_id: int, viewer: Viewer) -> Change:
    """An irreversible step (a button with its "I understand" box): the use case refuses it
    until the box is ticked."""

    async def change(data: Mapping[str, Any]) -> None:
        confirmation, _ = read_form(Confirmation, data)
        await use_case(target_id, viewer, confirmation=confirmation)

    return change


def _plain(
    use_case: Callable[[int, Viewer], Awaitable[Any]], target_id: int, viewer: Viewer
) -> Change:
    """A change that takes no values (a button)."""

    async def change(data: Mapping[str, Any]) -> None:
        await use_case(target_id, viewer)

    return change


async def _meeting_form(
    request: Request[Any, Any, Any],
    data: Mapping[str, Any],
    error: InvalidInput,
    group: Mapping[str, Any],
    meeting: MeetingHead | None,
) -> Template | Redirect:
    """The meeting form refused: shown again at its own address (where it was posted)."""
    return await refuse_form(
        request,
        request.url.path,
        "meetings/form.html",
        form_values(data),
        error,
        {"group": group, "meeting": meeting},
        error.field_errors or {"title": error.message},
    )


FILTER_FIELDS = ("status", "since", "until")
FILTERS_MESSAGE = "A filter was not understood; the meetings are shown without filters."


class MeetingController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    guards = [signed_in]

    @get("/groups/{slug:str}/meetings", name="meetings:index")
    async def index(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template:
        filters, errors = read_form(PastMeetingFilters, request.query_params)
        if errors:
            filters = PastMeetingFilters()
        index = await queries.meetings_index(slug, viewer, filters)
        context = {**msgspec.structs.asdict(index.listing), "can_manage": index.can_manage}
        values = {name: request.query_params.get(name, "") for name in FILTER_FIELDS}
        if errors:
            return form_page(
                request, "meetings/index.html", values, errors, context, message=FILTERS_MESSAGE
            )
        return page(request, "meetings/index.html", {**context, "values": values})

    @get("/groups/{slug:str}/meetings/new", name="meetings:new")
    async def new_form(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template:
        group = await get_group(slug)
        services.authorise_scheduling(viewer, group["id"])
        return page(request, "meetings/form.html", {"group": group, "meeting": None})

    @post("/groups/{slug:str}/meetings/new", name="meetings:create")
    async def create(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template | Redirect:
        data = await request.form()
        command, unreadable = read_form(MeetingDetails, data, timezone=viewer.user.timezone)
        try:
            meeting_id = await services.schedule_meeting(
                slug, command, viewer, unreadable=unreadable
            )
        except InvalidInput as error:
            return await _meeting_form(request, data, error, await get_group(slug), None)
        return _to_meeting(meeting_id, "Meeting scheduled. Add its agenda below.")

    @get("/meetings/{meeting_id:int}", name="meetings:show")
    async def show(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template:
        return await _meeting_page(request, meeting_id, viewer)

    @get("/meetings/{meeting_id:int}/edit", name="meetings:edit-form")
    async def edit_form(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template:
        meeting = await services.editable_meeting_head(meeting_id, viewer)
        timezone = viewer.user.timezone
        values = {
            **msgspec.structs.asdict(meeting),
            "starts_at": _local_input(meeting.starts_at, timezone),
            "ends_at": _local_input(meeting.ends_at, timezone),
        }
        group = {"name": meeting.group_name, "slug": meeting.group_slug}
        return page(
            request, "meetings/form.html", {"group": group, "meeting": meeting, "values": values}
        )

    @post("/meetings/{meeting_id:int}/edit", name="meetings:edit")
    async def edit(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        data = await request.form()
        command, unreadable = read_form(MeetingDetails, data, timezone=viewer.user.timezone)
        try:
            await services.update_meeting(meeting_id, command, viewer, unreadable=unreadable)
        except InvalidInput as error:
            # A refused state (ConflictError) is not the form's fault: its error page says why.
            meeting = await services.managed_meeting_head(meeting_id, viewer)
            group = {"name": meeting.group_name, "slug": meeting.group_slug}
            return await _meeting_form(request, data, error, group, meeting)
        return _to_meeting(meeting_id, "Meeting updated; calendars will show the change.")

    @post("/meetings/{meeting_id:int}/held", name="meetings:held")
    async def held(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        change = _confirmed(services.mark_meeting_held, meeting_id, viewer)
        return await _act(request, viewer, meeting_id, change, "Meeting marked as held.", "held")

    @post("/meetings/{meeting_id:int}/cancel", name="meetings:cancel")
    async def cancel(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        change = _filled(Cancellation, services.cancel_meeting, meeting_id, viewer)
        success = "Meeting cancelled; calendars will show it as cancelled."
        return await _act(request, viewer, meeting_id, change, success, "cancel")

    # --- the notice and replies ---

    @post("/meetings/{meeting_id:int}/notice", name="meetings:send-notice")
    async def send_notice(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        change = _plain(services.send_meeting_notice, meeting_id, viewer)
        return await _act(
            request,
            viewer,
            meeting_id,
            change,
            "Notice sent to the group's members, with the agenda each may read and a calendar"
            " invitation.",
        )

    @post("/meetings/{meeting_id:int}/reply", name="meetings:reply")
    async def reply(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        change = _filled(NoticeReply, services.reply_to_notice, meeting_id, viewer)
        return await _act(request, viewer, meeting_id, change, "Your reply is recorded.", "reply")

    # --- agenda ---

    @post("/meetings/{meeting_id:int}/agenda", name="meetings:add-item")
    async def add_item(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        change = _filled(AgendaItemDetails, services.add_agenda_item, meeting_id, viewer)
        return await _act(request, viewer, meeting_id, change, "Agenda item added.", "agenda")

    @get("/agenda-items/{item_id:int}/edit", name="meetings:edit-item-form")
    async def edit_item_form(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, item_id: RowId
    ) -> Template:
        item = await services.managed_agenda_item(item_id, viewer)
        values = msgspec.structs.asdict(item.item)
        context = {"item": item.item, "meeting": item.meeting, "values": values, **LABELS}
        return page(request, "meetings/agenda_item_form.html", context)

    @post("/agenda-items/{item_id:int}/edit", name="meetings:edit-item")
    async def edit_item(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, item_id: RowId
    ) -> Template | Redirect:
        item = await queries.get_agenda_item(item_id, viewer)
        data = await request.form()
        command, unreadable = read_form(AgendaItemDetails, data)
        try:
            await services.update_agenda_item(item_id, command, viewer, unreadable=unreadable)
        except InvalidInput as error:
            return await refuse_form(
                request,
                path_for("meetings:edit-item-form", item_id=item_id),
                "meetings/agenda_item_form.html",
                form_values(data),
                error,
                {"item": item.item, "meeting": item.meeting, **LABELS},
                error.field_errors or {"title": error.message},
            )
        return _to_meeting(item.meeting.id, "Agenda item saved.")

    @post("/agenda-items/{item_id:int}/move", name="meetings:move-item")
    async def move_item(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, item_id: RowId
    ) -> Template | Redirect:
        item = await queries.get_agenda_item(item_id, viewer)

        change = _filled(AgendaMove, services.move_agenda_item, item_id, viewer)
        form = f"move-{item_id}"
        return await _act(request, viewer, item.meeting.id, change, "Agenda reordered.", form)

    @post("/agenda-items/{item_id:int}/remove", name="meetings:remove-item")
    async def remove_item(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, item_id: RowId
    ) -> Template | Redirect:
        item = await queries.get_agenda_item(item_id, viewer)

        change = _confirmed(services.remove_agenda_item, item_id, viewer)
        form = f"remove-{item_id}"
        return await _act(request, viewer, item.meeting.id, change, "Agenda item removed.", form)

    @post("/agenda-items/{item_id:int}/open", name="meetings:toggle-open")
    async def toggle_open(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, item_id: RowId
    ) -> Template | Redirect:
        item = await queries.get_agenda_item(item_id, viewer)
        is_open = not item.item.is_open

        async def change(data: Mapping[str, Any]) -> None:
            await services.set_item_open(item_id, is_open, viewer)

        message = (
            "Item left open; it can be carried to the next meeting."
            if is_open
            else "Item marked as settled."
        )
        return await _act(request, viewer, item.meeting.id, change, message)

    @post("/agenda-items/{item_id:int}/carry", name="meetings:carry")
    async def carry(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, item_id: RowId
    ) -> Template | Redirect:
        item = await queries.get_agenda_item(item_id, viewer)

        change = _plain(services.carry_item_forward, item_id, viewer)
        success = "Item carried to the next meeting's agenda."
        return await _act(request, viewer, item.meeting.id, change, success)

    @post("/agenda-items/{item_id:int}/conflicts", name="meetings:declare-conflict")
    async def declare(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, item_id: RowId
    ) -> Template | Redirect:
        item = await queries.get_agenda_item(item_id, viewer)

        change = _filled(ConflictDeclaration, services.declare_conflict, item_id, viewer)
        success = "Conflict of interest recorded."
        form = f"conflict-{item_id}"
        return await _act(request, viewer, item.meeting.id, change, success, form)

    # --- attendance ---

    @post("/meetings/{meeting_id:int}/attendance", name="meetings:attendance")
    async def attendance(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        async def change(data: Mapping[str, Any]) -> None:
            command, unreadable = read_attendance(data)
            await services.record_attendance(meeting_id, command, viewer, unreadable=unreadable)

        return await _act(request, viewer, meeting_id, change, "Attendance saved.", "attendance")

    # --- minutes ---

    @get("/meetings/{meeting_id:int}/minutes", name="meetings:minutes-form")
    async def minutes_form(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template:
        meeting = await services.writable_minutes_view(meeting_id, viewer)
        values: dict[str, Any] = {"summary": meeting.minutes.summary if meeting.minutes else ""}
        values.update({f"item_{item.id}": item.minutes for item in meeting.agenda})
        context = {"meeting": meeting, "values": values, **LABELS}
        return page(request, "meetings/minutes_form.html", context)

    @post("/meetings/{meeting_id:int}/minutes", name="meetings:save-minutes")
    async def save_minutes(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        data = await request.form()
        try:
            command, unreadable = read_minutes(data)
            await services.save_minutes(meeting_id, command, viewer, unreadable=unreadable)
        except InvalidInput as error:
            # A refused state change (minutes no longer a draft) is a ConflictError: the
            # 409 page, not this form.
            return await refuse_form(
                request,
                path_for("meetings:minutes-form", meeting_id=meeting_id),
                "meetings/minutes_form.html",
                form_values(data),
                error,
                {"meeting": await queries.meeting_view(meeting_id, viewer), **LABELS},
                error.field_errors or {"summary": error.message},
            )
        return _to_meeting(meeting_id, "Draft minutes saved.")

    @post("/meetings/{meeting_id:int}/minutes/circulate", name="meetings:circulate")
    async def circulate(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        change = _plain(services.circulate_minutes, meeting_id, viewer)
        success = "Minutes circulated; attendees have been told and can comment."
        return await _act(request, viewer, meeting_id, change, success)

    @post("/meetings/{meeting_id:int}/minutes/draft", name="meetings:return-to-draft")
    async def back_to_draft(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        change = _plain(services.return_minutes_to_draft, meeting_id, viewer)
        success = "Minutes returned to draft for editing."
        return await _act(request, viewer, meeting_id, change, success)

    @post("/meetings/{meeting_id:int}/minutes/approve", name="meetings:approve")
    async def approve(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        async def change(data: Mapping[str, Any]) -> None:
            command, unreadable = read_form(Approval, data)
            confirmation, _ = read_form(Confirmation, data)
            await services.approve_minutes(
                meeting_id, command, viewer, unreadable=unreadable, confirmation=confirmation
            )

        success = "Minutes approved and locked."
        return await _act(request, viewer, meeting_id, change, success, "approve")

    @post("/meetings/{meeting_id:int}/minutes/comments", name="meetings:comment")
    async def comment(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        change = _filled(NewComment, services.comment_on_minutes, meeting_id, viewer)
        return await _act(request, viewer, meeting_id, change, "Comment added.", "comment")

    @post("/meetings/{meeting_id:int}/minutes/errata", name="meetings:erratum")
    async def erratum(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        change = _filled(NewErratum, services.add_erratum, meeting_id, viewer)
        success = "Erratum appended to the approved minutes."
        return await _act(request, viewer, meeting_id, change, success, "erratum")

    # --- decisions ---

    @post("/meetings/{meeting_id:int}/decisions", name="meetings:decide")
    async def decide(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Template | Redirect:
        change = _filled(NewDecision, services.record_decision, meeting_id, viewer)
        return await _act(request, viewer, meeting_id, change, "Decision recorded.", "decision")


REPLY_TEMPLATE = "meetings/reply.html"


class NoticeReplyController(Controller):
    """A member's reply from the signed link in their notice, with no sign-in. The GET
    only shows the meeting and asks (mail scanners open links); the POST records."""

    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/notice-replies"

    @get("/{reply_token:str}", name="meetings:reply-by-link")
    async def confirm(
        self, request: Request[Any, Any, Any], reply_token: FromPath[str]
    ) -> Template:
        reply_page = await services.reply_page(reply_token)
        wanted = request.query_params.get("mode") or reply_page.reply or ""
        context = {"reply": reply_page, "values": {"mode": wanted}, "done": False}
        return page(request, REPLY_TEMPLATE, {**context, "reply_labels": REPLY_LABELS})

    @post("/{reply_token:str}", name="meetings:reply-by-link-save")
    async def record(self, request: Request[Any, Any, Any], reply_token: FromPath[str]) -> Template:
        data = await request.form()
        command, unreadable = read_form(NoticeReply, data)
        context: dict[str, Any] = {"reply_labels": REPLY_LABELS}
        try:
            await services.reply_by_link(reply_token, command, unreadable=unreadable)
        except InvalidInput as error:
            reply_page = await services.reply_page(reply_token)
            return form_page(
                request,
                REPLY_TEMPLATE,
                form_values(data),
                error.field_errors,
                {**context, "reply": reply_page, "done": False},
                message=error.message,
            )
        reply_page = await services.reply_page(reply_token)
        values = {"mode": reply_page.reply or ""}
        return page(
            request,
            REPLY_TEMPLATE,
            {**context, "reply": reply_page, "values": values, "done": True},
        )


class PublicMinutesController(Controller):
    """Approved minutes as anyone may read them, with no sign-in."""

    include_in_schema = False  # pages for people; the API is described at /schema

    @get("/public/meetings/{meeting_id:int}", name="meetings:public")
    async def show(self, request: Request[Any, Any, Any], meeting_id: RowId) -> Template:
        minutes = await queries.public_minutes(meeting_id)
        return page(request, "meetings/public.html", {"minutes": minutes})
