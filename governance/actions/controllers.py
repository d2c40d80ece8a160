"""Action pages: my actions, a group's actions and their CSV export, one action with its
progress, and the forms that change it. Each handler reads the form into the use case's
command, calls one service, and redirects; a refused form is shown again with every
field's error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from governance.accounts.auth import signed_in
from governance.accounts.policy import VISIBILITIES, VISIBILITY_LABELS
from governance.actions import queries, services
from governance.actions.schemas import (
    ACTION_STATUSES,
    ActionSource,
    ActionSummaryView,
    GroupActionFilters,
    MyActionFilters,
    NewAction,
    ProgressNote,
    Reassignment,
    SourceView,
    StatusChange,
    due_range_errors,
)
from governance.core.clock import organisation_today, utc_text
from governance.core.contracts import ascii_int, command_from_form, read_form
from governance.core.contracts import form_values as form_values_of
from governance.core.db import read_at_once
from governance.core.errors import ConflictError, InvalidInput, ServiceError
from governance.core.exports import CSV_MEDIA_TYPE, attachment, csv_bytes
from governance.core.http import (
    FormFailure,
    RowId,
    form_page,
    form_values,
    page,
    page_with_forms,
    redirect,
    refuse_form,
    refused_to_page,
)
from governance.core.urls import path_for
from governance.groups.dependencies import RequestViewer
from governance.groups.queries import get_group, members_on

CSV_HEADER = ["title", "status", "owners", "due", "completed (UTC)", "source"]
FILTER_MESSAGE = "A filter was not understood and has been left out."
MY_ACTION_FILTERS = ("status", "group", "due_from", "due_to", "cursor")


def _values_with_owners(data: Mapping[str, Any], owner_ids: list[int] | None) -> dict[str, Any]:
    """What was typed, with every owner ticked (a form sends one value per checkbox)."""
    return {**form_values(data), "owner_ids": owner_ids or []}


def _source_text(action: ActionSummaryView) -> str:
    if action.source_type == "group" or action.source_id is None:
        return "group"
    return f"{action.source_type} {action.source_id}"


def csv_rows(actions: list[ActionSummaryView]) -> list[list[Any]]:
    return [
        [
            action.title,
            action.status,
            "; ".join(action.owner_names),
            action.due_on.isoformat(),
            utc_text(action.completed_at),
            _source_text(action),
        ]
        for action in actions
    ]


async def _action_page(
    request: Request[Any, Any, Any],
    action_id: int,
    viewer: RequestViewer,
    failure: FormFailure | None = None,
) -> Template:
    context = msgspec.structs.asdict(await queries.action_page(action_id, viewer))
    context["visibility_labels"] = VISIBILITY_LABELS
    return page_with_forms(request, "actions/show.html", context, failure)


async def _act(
    request: Request[Any, Any, Any],
    viewer: RequestViewer,
    action_id: int,
    change: Callable[[Mapping[str, Any]], Awaitable[Any]],
    success: str,
    form: str,
) -> Template | Redirect:
    """Runs one change from the submitted form; on a refusal (of the values or of the state)
    the action page is shown again, at its own address (the session keeps the refusal for
    the redirect's page view), with the reason beside the form that was sent."""
    data = await request.form()
    try:
        await change(data)
    except (InvalidInput, ConflictError) as error:
        owner_ids = [ascii_int(v) for v in form_values_of(data, "owner_ids")]
        values = _values_with_owners(data, [v for v in owner_ids if v is not None])
        failure = FormFailure.of(error, form, values)
        page_path = path_for("actions:show", action_id=action_id)
        if redirected := await refused_to_page(request, page_path, failure):
            return redirected
        return await _action_page(request, action_id, viewer, failure)
    return redirect(path_for("actions:show", action_id=action_id), success)


def _new_action_address(slug: str, command: NewAction, source: SourceView | None) -> str:
    """The new action form's own address, naming the meeting or decision it comes from (a
    source that could not be found is left out: the form then comes from the group)."""
    address = path_for("actions:new", slug=slug)
    if source is None:
        return address
    query = urlencode({"source_type": command.source_type, "source_id": command.source_id})
    return f"{address}?{query}"


async def _form_context(group: dict[str, Any], source: Any) -> dict[str, Any]:
    return {
        "group": group,
        "source": source,
        "members": await members_on(group["id"], organisation_today()),
        "visibilities": VISIBILITIES,
        "visibility_labels": VISIBILITY_LABELS,
        "today": organisation_today(),
    }


def _list_page(
    request: Request[Any, Any, Any],
    template: str,
    context: dict[str, Any],
    values: dict[str, Any],
    errors: Mapping[str, str],
) -> Template:
    if errors:
        return form_page(request, template, values, errors, context, message=FILTER_MESSAGE)
    return page(request, template, {**context, "values": values})


class ActionController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    guards = [signed_in]

    @get("/actions", name="actions:mine")
    async def mine(self, request: Request[Any, Any, Any], viewer: RequestViewer) -> Template:
        filters, errors = read_form(MyActionFilters, request.query_params)
        errors = {**errors, **due_range_errors(filters)}
        # A filter not understood is left out (and said so); the others still apply.
        kept = {
            name: getattr(filters, name)
            for name in MY_ACTION_FILTERS
            if name not in errors and not (name == "due_from" and "due_to" in errors)
        }
        listing, groups = await read_at_once(
            queries.paged_my_actions(viewer, MyActionFilters(**kept)), queries.group_choices()
        )
        context = {
            "actions": listing.actions,
            "groups": groups,
            "statuses": ACTION_STATUSES,
            "overdue_count": listing.overdue_count,
            "user_id": viewer.user.id,
            "paging": {"older": listing.older, "newer": listing.newer},
        }
        values = {name: request.query_params.get(name, "") for name in MY_ACTION_FILTERS}
        return _list_page(request, "actions/mine.html", context, values, errors)

    @get("/groups/{slug:str}/actions", name="actions:group")
    async def index(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template:
        filters, errors = read_form(GroupActionFilters, request.query_params)
        errors = {**errors, **due_range_errors(filters)}
        status = "" if "status" in errors else filters.status
        owner_id = None if "owner" in errors else filters.owner
        cursor = "" if "cursor" in errors else filters.cursor
        no_range = "due_to" in errors
        due = (
            None if no_range or "due_from" in errors else filters.due_from,
            None if no_range else filters.due_to,
        )
        listing = await queries.paged_group_actions(
            slug, viewer, status or None, owner_id, cursor or None, due=due
        )
        group = await get_group(slug)
        context = {
            "group": group,
            "actions": listing.actions,
            "can_manage": listing.can_manage,
            "can_read": listing.can_read,
            "owner_choices": await queries.owner_choices(
                group["id"], [o for a in listing.actions for o in a.owners]
            ),
            "statuses": ACTION_STATUSES,
            "overdue_count": listing.overdue_count,
            "paging": {"older": listing.older, "newer": listing.newer},
        }
        values = {
            "status": status,
            "owner": owner_id or "",
            "due_from": request.query_params.get("due_from", ""),
            "due_to": request.query_params.get("due_to", ""),
        }
        return _list_page(request, "actions/index.html", context, values, errors)

    @get("/groups/{slug:str}/actions.csv", name="actions:group-csv")
    async def export(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Response[bytes]:
        filters = command_from_form(
            GroupActionFilters, request.query_params, message="A filter was not understood."
        )
        listing = await queries.list_group_actions(
            slug, viewer, filters.status or None, filters.owner
        )
        body = csv_bytes(CSV_HEADER, csv_rows(listing.actions))
        filename = f"actions-{listing.group_slug}-{organisation_today().isoformat()}.csv"
        return attachment(body, CSV_MEDIA_TYPE, filename)

    @get("/groups/{slug:str}/actions/new", name="actions:new")
    async def new_form(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template:
        group = await get_group(slug)
        services.authorise_creation(viewer, group["id"])
        source = command_from_form(
            ActionSource,
            request.query_params,
            message="An action comes from a meeting or a decision of its group.",
        )
        # A meeting or decision of another group, or none at all, is "not found".
        described = await queries.describe_source(group["id"], source.source_type, source.source_id)
        values: dict[str, Any] = {
            "visibility": described.visibility if described else "internal",
            "source_type": source.source_type,
            "source_id": source.source_id or "",
            "owner_ids": [],
        }
        context = await _form_context(group, described)
        return page(request, "actions/form.html", {**context, "values": values})

    @post("/groups/{slug:str}/actions/new", name="actions:create")
    async def create(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template | Redirect:
        group = await get_group(slug)
        data = await request.form()
        command, unreadable = read_form(NewAction, data)
        try:
            action_id = await services.create_action(
                group["id"], command, viewer, unreadable=unreadable
            )
        except InvalidInput as error:
            errors = error.field_errors or {"title": error.message}
            try:
                source = await queries.describe_source(
                    group["id"], command.source_type, command.source_id
                )
            except ServiceError:
                source = None
            return await refuse_form(
                request,
                _new_action_address(slug, command, source),
                "actions/form.html",
                _values_with_owners(data, command.owner_ids),
                error,
                await _form_context(group, source),
                errors,
            )
        return redirect(
            path_for("actions:show", action_id=action_id),
            "Action created; its owners can follow it here.",
        )

    @get("/actions/{action_id:int}", name="actions:show")
    async def show(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, action_id: RowId
    ) -> Template:
        return await _action_page(request, action_id, viewer)

    @post("/actions/{action_id:int}/status", name="actions:status")
    async def change_status(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, action_id: RowId
    ) -> Template | Redirect:
        async def change(data: Mapping[str, Any]) -> None:
            command, errors = read_form(StatusChange, data)
            await services.update_status(action_id, command, viewer, unreadable=errors)

        status = str((await request.form()).get("status", ""))
        return await _act(
            request,
            viewer,
            action_id,
            change,
            f"Status changed to {status.replace('_', ' ')}.",
            "status",
        )

    @post("/actions/{action_id:int}/progress", name="actions:progress")
    async def progress(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, action_id: RowId
    ) -> Template | Redirect:
        async def change(data: Mapping[str, Any]) -> None:
            command, errors = read_form(ProgressNote, data)
            await services.add_progress(action_id, command, viewer, unreadable=errors)

        return await _act(request, viewer, action_id, change, "Progress note added.", "progress")

    @post("/actions/{action_id:int}/owners", name="actions:owners")
    async def reassign(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, action_id: RowId
    ) -> Template | Redirect:
        async def change(data: Mapping[str, Any]) -> None:
            command, errors = read_form(Reassignment, data)
            await services.change_owners_and_due(action_id, command, viewer, unreadable=errors)

        return await _act(
            request, viewer, action_id, change, "Owners and due date saved.", "owners"
        )
