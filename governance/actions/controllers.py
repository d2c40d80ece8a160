"""Action pages: my actions, a group's actions and their CSV export, one action with its
progress, and the forms that change it. Each handler parses, calls one service, and
redirects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from governance.accounts.auth import signed_in
from governance.accounts.policy import VISIBILITIES, Viewer
from governance.actions import services
from governance.actions.forms import (
    read_action,
    read_group_filters,
    read_my_filters,
    read_owners_and_due,
    read_progress,
    read_source,
    read_status_change,
)
from governance.core.clock import organisation_today
from governance.core.errors import ConflictError, InvalidInput, PermissionDenied, ServiceError
from governance.core.exports import CSV_MEDIA_TYPE, attachment, csv_bytes
from governance.core.http import (
    FormFailure,
    form_page,
    form_values,
    page,
    page_with_forms,
    redirect,
)
from governance.groups.dependencies import current_viewer
from governance.groups.queries import get_group, members_on

VISIBILITY_LABELS = {
    "public": "Public: may be published",
    "internal": "Internal: members, the Director and the Board",
    "board": "Board: members and the Board, never the Director",
    "group": "Group: current members only",
}
CSV_HEADER = ["title", "status", "owners", "due", "completed (UTC)", "source"]


def _values_with_owners(data: Mapping[str, Any], owner_ids: list[int]) -> dict[str, Any]:
    """What was typed, with every owner ticked (a form sends one value per checkbox)."""
    return {**form_values(data), "owner_ids": owner_ids}


def _owner_choices(
    members: list[dict[str, Any]], actions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The group's current members, and anyone else who owns one of the listed actions."""
    choices = {m["user"]: m["display_name"] for m in members}
    for action in actions:
        for owner in action["owners"]:
            choices.setdefault(owner["user_id"], owner["display_name"])
    return [
        {"user_id": user_id, "display_name": name}
        for user_id, name in sorted(choices.items(), key=lambda c: c[1].lower())
    ]


def _source_text(action: dict[str, Any]) -> str:
    if action["source_type"] == "group" or action["source_id"] is None:
        return "group"
    return f"{action['source_type']} {action['source_id']}"


def _utc_text(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def csv_rows(actions: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            action["title"],
            action["status"],
            "; ".join(action["owner_names"]),
            action["due_on"].isoformat(),
            _utc_text(action["completed_at"]),
            _source_text(action),
        ]
        for action in actions
    ]


async def _action_page(
    request: Request[Any, Any, Any],
    action_id: int,
    viewer: Viewer,
    failure: FormFailure | None = None,
) -> Template:
    context = await services.action_page(action_id, viewer)
    context["visibility_labels"] = VISIBILITY_LABELS
    return page_with_forms(request, "actions/show.html", context, failure)


async def _act(
    request: Request[Any, Any, Any],
    action_id: int,
    action: Callable[[Viewer], Awaitable[Any]],
    success: str,
    form: str,
    values: Mapping[str, Any],
) -> Template | Redirect:
    """Runs one change; on a refused change shows the action page again with the reason."""
    viewer = await current_viewer(request)
    try:
        await action(viewer)
    except (InvalidInput, ConflictError) as error:
        return await _action_page(request, action_id, viewer, FormFailure.of(error, form, values))
    return redirect(f"/actions/{action_id}", success)


async def _form_context(group: dict[str, Any], source: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "group": group,
        "source": source,
        "members": await members_on(group["id"], organisation_today()),
        "visibilities": VISIBILITIES,
        "visibility_labels": VISIBILITY_LABELS,
        "today": organisation_today(),
    }


def _require_leader(viewer: Viewer, group: dict[str, Any]) -> None:
    if not viewer.leads(group["id"]):
        raise PermissionDenied("Only the group's chair or secretary can create actions.")


class ActionController(Controller):
    guards = [signed_in]

    @get("/actions")
    async def mine(self, request: Request[Any, Any, Any]) -> Template:
        viewer = await current_viewer(request)
        status, group_slug, errors = read_my_filters(request.query_params)
        actions = await services.my_actions(viewer, status, group_slug)
        context = {
            "actions": actions,
            "groups": await services.group_choices(),
            "statuses": services.ACTION_STATUSES,
            "overdue_count": sum(action["is_overdue"] for action in actions),
            "user_id": viewer.user.id,
        }
        values = {"status": status or "", "group": group_slug or ""}
        if errors:
            return form_page(
                request,
                "actions/mine.html",
                values,
                errors,
                context,
                message="A filter was not understood and has been left out.",
            )
        return page(request, "actions/mine.html", {**context, "values": values})

    @get("/groups/{slug:str}/actions")
    async def index(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        viewer = await current_viewer(request)
        status, owner_id, errors = read_group_filters(request.query_params)
        context = await services.list_group_actions(slug, viewer, status, owner_id)
        members = await members_on(context["group"]["id"], organisation_today())
        context.update(
            {
                "owner_choices": _owner_choices(members, context["actions"]),
                "statuses": services.ACTION_STATUSES,
                "overdue_count": sum(action["is_overdue"] for action in context["actions"]),
            }
        )
        values = {"status": status or "", "owner": owner_id or ""}
        if errors:
            return form_page(
                request,
                "actions/index.html",
                values,
                errors,
                context,
                message="A filter was not understood and has been left out.",
            )
        return page(request, "actions/index.html", {**context, "values": values})

    @get("/groups/{slug:str}/actions.csv")
    async def export(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[bytes]:
        viewer = await current_viewer(request)
        status, owner_id, errors = read_group_filters(request.query_params)
        if errors:
            raise InvalidInput("A filter was not understood.", errors)
        context = await services.list_group_actions(slug, viewer, status, owner_id)
        body = csv_bytes(CSV_HEADER, csv_rows(context["actions"]))
        filename = f"actions-{context['group']['slug']}-{organisation_today().isoformat()}.csv"
        return attachment(body, CSV_MEDIA_TYPE, filename)

    @get("/groups/{slug:str}/actions/new")
    async def new_form(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        viewer = await current_viewer(request)
        group = await get_group(slug)
        _require_leader(viewer, group)
        source_type, source_id, errors = read_source(request.query_params)
        if errors:
            raise InvalidInput("An action comes from a meeting or a decision of its group.", errors)
        # A meeting or decision of another group, or none at all, is "not found".
        source = await services.describe_source(group["id"], source_type, source_id)
        context = await _form_context(group, source)
        values: dict[str, Any] = {
            "visibility": source["visibility"] if source else "internal",
            "source_type": source_type,
            "source_id": source_id or "",
            "owner_ids": [],
        }
        return page(request, "actions/form.html", {**context, "values": values})

    @post("/groups/{slug:str}/actions/new")
    async def create(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> Template | Redirect:
        viewer = await current_viewer(request)
        group = await get_group(slug)
        _require_leader(viewer, group)
        data = await request.form()
        fields, errors = read_action(data)
        source_type, source_id, source_errors = read_source(data)
        errors.update(source_errors)
        if not errors:
            try:
                action_id = await services.create_action(
                    group["id"], fields, viewer, source_type=source_type, source_id=source_id
                )
            except InvalidInput as error:
                errors = error.field_errors or {"title": error.message}
        if errors:
            try:
                source = await services.describe_source(group["id"], source_type, source_id)
            except ServiceError:
                source = None
            return form_page(
                request,
                "actions/form.html",
                _values_with_owners(data, fields.owner_ids),
                errors,
                await _form_context(group, source),
            )
        return redirect(f"/actions/{action_id}", "Action created; its owners can follow it here.")

    @get("/actions/{action_id:int}")
    async def show(self, request: Request[Any, Any, Any], action_id: FromPath[int]) -> Template:
        return await _action_page(request, action_id, await current_viewer(request))

    @post("/actions/{action_id:int}/status")
    async def change_status(
        self, request: Request[Any, Any, Any], action_id: FromPath[int]
    ) -> Template | Redirect:
        data = await request.form()
        status, note, errors = read_status_change(data)
        if errors:
            viewer = await current_viewer(request)
            # Someone who may not change the action learns nothing from the form's errors.
            if not (await services.get_action(action_id, viewer))["can_update"]:
                raise PermissionDenied(
                    "Only the action's owners and the group's chair or secretary can update it."
                )
            return await _action_page(
                request,
                action_id,
                viewer,
                failure=FormFailure(
                    errors=errors,
                    values=form_values(data),
                    form="status",
                    message="The change of status needs correcting. Nothing has been saved.",
                    status_code=422,
                ),
            )
        return await _act(
            request,
            action_id,
            lambda v: services.update_status(action_id, status, note, v),
            f"Status changed to {status.replace('_', ' ')}.",
            form="status",
            values=form_values(data),
        )

    @post("/actions/{action_id:int}/progress")
    async def progress(
        self, request: Request[Any, Any, Any], action_id: FromPath[int]
    ) -> Template | Redirect:
        data = await request.form()
        body, _errors = read_progress(data)
        # The service says what is missing, after checking who is asking.
        return await _act(
            request,
            action_id,
            lambda v: services.add_progress(action_id, body, v),
            "Progress note added.",
            form="progress",
            values=form_values(data),
        )

    @post("/actions/{action_id:int}/owners")
    async def reassign(
        self, request: Request[Any, Any, Any], action_id: FromPath[int]
    ) -> Template | Redirect:
        data = await request.form()
        owner_ids, due_on, errors = read_owners_and_due(data)
        values = _values_with_owners(data, owner_ids)
        if errors:
            viewer = await current_viewer(request)
            if not (await services.get_action(action_id, viewer))["can_manage"]:
                raise PermissionDenied(
                    "Only the group's chair or secretary can change owners or the due date."
                )
            return await _action_page(
                request,
                action_id,
                viewer,
                failure=FormFailure(
                    errors=errors,
                    values=values,
                    form="owners",
                    message="The change needs correcting. Nothing has been saved.",
                    status_code=422,
                ),
            )
        return await _act(
            request,
            action_id,
            lambda v: services.change_owners_and_due(action_id, owner_ids, due_on, v),
            "Owners and due date saved.",
            form="owners",
            values=values,
        )
