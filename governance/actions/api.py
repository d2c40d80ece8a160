"""JSON routes for action items (DESIGN.md §8), with the same rules as the pages.

Every route builds the caller's `Viewer` and calls the same services as the HTML pages.
Request bodies are msgspec Structs: a body of the wrong shape or type is answered 400 before
a handler runs; values of the right type that break a rule (an empty title, a due date in the
past, a status that cannot follow the current one) are answered 422 or 409 with a JSON
problem, and nothing is changed. An action the caller may not read is 404, the same as one
that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from governance.accounts.auth import signed_in
from governance.accounts.policy import VISIBILITIES, Viewer
from governance.actions import services
from governance.actions.services import ACTION_STATUSES, GROUP_SOURCE_TYPES, ActionFields
from governance.core.db import write_transaction
from governance.core.errors import InvalidInput
from governance.core.http import MAX_ROW_ID
from governance.groups.dependencies import current_viewer
from governance.groups.queries import get_group

RowId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ROW_ID)]
# A path id no row can have is a 400 here, on SQLite as on PostgreSQL, instead of a number
# the database driver cannot bind.
ActionId = Annotated[
    int, PathParameter(ge=1, le=MAX_ROW_ID, description="The action's id", title="Action id")
]


def _choice(values: tuple[str, ...], description: str) -> msgspec.Meta:
    """A string the service checks against `values` (a 422 with the field's error if not);
    the choices are listed in the OpenAPI schema."""
    return msgspec.Meta(
        extra_json_schema={"description": description, "extra": {"enum": list(values)}}
    )


Visibility = Annotated[str, _choice(VISIBILITIES, "Who may read the action")]
Status = Annotated[str, _choice(ACTION_STATUSES, "The action's new status")]
SourceType = Annotated[str, _choice(GROUP_SOURCE_TYPES, "Where the action comes from")]


# --- request bodies ---------------------------------------------------------------------


class ActionIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new action of the group. `source_type` "meeting" or "decision" needs `source_id`,
    a meeting or decision of this group; owners are the group's current members."""

    title: str
    due_on: dt.date
    owner_ids: list[RowId]
    description: str = ""
    visibility: Visibility = "internal"
    source_type: SourceType = "group"
    source_id: RowId | None = None


class ActionPatch(msgspec.Struct, forbid_unknown_fields=True):
    """A change of status (with `note`, which is required as the reason when dropping),
    and/or, for the chair or secretary, new owners and due date. Fields left out are not
    changed; all the changes are made or none."""

    status: Status | None = None
    note: str = ""
    owner_ids: list[RowId] | None = None
    due_on: dt.date | None = None


class ProgressIn(msgspec.Struct, forbid_unknown_fields=True):
    body: str


# --- responses --------------------------------------------------------------------------


@dataclass
class OwnerOut:
    user_id: int
    display_name: str


@dataclass
class ActionSummaryOut:
    id: int
    group_slug: str
    title: str
    status: str
    visibility: str
    due_on: dt.date
    # Past its due date and still open or in progress.
    is_overdue: bool
    owners: list[OwnerOut]
    source_type: str
    source_id: int | None
    completed_at: dt.datetime | None


@dataclass
class ActionListOut:
    group_slug: str
    group_name: str
    # Whether the caller chairs or is secretary of the group, and so may create actions.
    can_manage: bool
    actions: list[ActionSummaryOut]


@dataclass
class ActionUpdateOut:
    id: int
    author_name: str
    body: str
    # Both empty for a progress note or a change of owners or due date.
    status_from: str
    status_to: str
    created_at: dt.datetime


@dataclass
class ActionOut:
    id: int
    group_slug: str
    group_name: str
    title: str
    description: str
    status: str
    visibility: str
    due_on: dt.date
    is_overdue: bool
    drop_reason: str
    owners: list[OwnerOut]
    source_type: str
    source_id: int | None
    created_by_name: str
    created_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None
    # May change the status and add progress notes (an owner, the chair or the secretary).
    can_update: bool
    # May change owners and the due date (the chair or the secretary).
    can_manage: bool
    updates: list[ActionUpdateOut]


def _owners(action: dict[str, Any]) -> list[OwnerOut]:
    return [OwnerOut(o["user_id"], o["display_name"]) for o in action["owners"]]


def _summary(action: dict[str, Any]) -> ActionSummaryOut:
    return ActionSummaryOut(
        id=action["id"],
        group_slug=action["group_slug"],
        title=action["title"],
        status=action["status"],
        visibility=action["visibility"],
        due_on=action["due_on"],
        is_overdue=action["is_overdue"],
        owners=_owners(action),
        source_type=action["source_type"],
        source_id=action["source_id"],
        completed_at=action["completed_at"],
    )


def _action_out(action: dict[str, Any]) -> ActionOut:
    return ActionOut(
        id=action["id"],
        group_slug=action["group_slug"],
        group_name=action["group_name"],
        title=action["title"],
        description=action["description"],
        status=action["status"],
        visibility=action["visibility"],
        due_on=action["due_on"],
        is_overdue=action["is_overdue"],
        drop_reason=action["drop_reason"],
        owners=_owners(action),
        source_type=action["source_type"],
        source_id=action["source_id"],
        created_by_name=action["created_by_name"],
        created_at=action["created_at"],
        updated_at=action["updated_at"],
        completed_at=action["completed_at"],
        can_update=action["can_update"],
        can_manage=action["can_manage"],
        updates=[
            ActionUpdateOut(
                id=u["id"],
                author_name=u["author_name"],
                body=u["body"],
                status_from=u["status_from"],
                status_to=u["status_to"],
                created_at=u["created_at"],
            )
            for u in action["updates"]
        ],
    )


async def _action_view(action_id: int, viewer: Viewer) -> ActionOut:
    return _action_out(await services.get_action(action_id, viewer))


# --- routes -----------------------------------------------------------------------------


class ActionApiController(Controller):
    path = "/api/v1"
    guards = [signed_in]
    tags = ["actions"]
    security = [{"bearer": []}]

    @get(
        "/groups/{slug:str}/actions",
        summary="A group's actions the caller may read, overdue first",
        description="Filter by `status` and by `owner_id`. A caller who may not read the "
        "group's content gets only the actions they own.",
    )
    async def list_actions(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        status: FromQuery[str | None] = None,
        owner_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_ROW_ID)] = None,
    ) -> ActionListOut:
        viewer = await current_viewer(request)
        context = await services.list_group_actions(slug, viewer, status or None, owner_id)
        group = context["group"]
        return ActionListOut(
            group_slug=group["slug"],
            group_name=group["name"],
            can_manage=context["can_manage"],
            actions=[_summary(a) for a in context["actions"]],
        )

    @post(
        "/groups/{slug:str}/actions",
        summary="Create an action (chair or secretary)",
        status_code=201,
    )
    async def create_action(
        self, request: Request[Any, Any, Any], slug: FromPath[str], data: JSONBody[ActionIn]
    ) -> Response[ActionOut]:
        viewer = await current_viewer(request)
        group = await get_group(slug)
        fields = ActionFields(
            title=data.title,
            description=data.description,
            due_on=data.due_on,
            visibility=data.visibility,
            owner_ids=list(data.owner_ids),
        )
        action_id = await services.create_action(
            group["id"], fields, viewer, source_type=data.source_type, source_id=data.source_id
        )
        return Response(
            await _action_view(action_id, viewer),
            status_code=201,
            headers={"Location": f"/api/v1/actions/{action_id}"},
        )

    @get(
        "/actions/{action_id:int}",
        summary="An action with its owners and its progress",
    )
    async def get_action(self, request: Request[Any, Any, Any], action_id: ActionId) -> ActionOut:
        return await _action_view(action_id, await current_viewer(request))

    @patch(
        "/actions/{action_id:int}",
        summary="Change an action's status, or (chair or secretary) its owners and due date",
    )
    async def update_action(
        self, request: Request[Any, Any, Any], action_id: ActionId, data: JSONBody[ActionPatch]
    ) -> ActionOut:
        viewer = await current_viewer(request)
        # One transaction: a refused status change leaves a change of owners unmade too.
        async with write_transaction():
            action = await services.get_action(action_id, viewer)
            changes_owners = data.owner_ids is not None or data.due_on is not None
            if not changes_owners and data.status is None:
                raise InvalidInput(
                    "Nothing to change.",
                    {"status": "Send at least one of status, owner_ids, due_on."},
                )
            if changes_owners:
                await services.change_owners_and_due(
                    action_id,
                    action["owner_ids"] if data.owner_ids is None else list(data.owner_ids),
                    data.due_on or action["due_on"],
                    viewer,
                )
            if data.status is not None:
                await services.update_status(action_id, data.status, data.note, viewer)
        return await _action_view(action_id, viewer)

    @post(
        "/actions/{action_id:int}/updates",
        summary="Add a progress note (an owner, the chair or the secretary)",
        status_code=201,
    )
    async def add_update(
        self, request: Request[Any, Any, Any], action_id: ActionId, data: JSONBody[ProgressIn]
    ) -> ActionOut:
        viewer = await current_viewer(request)
        await services.add_progress(action_id, data.body, viewer)
        return await _action_view(action_id, viewer)
