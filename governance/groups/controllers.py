"""Group pages, and the administrator's forms for groups, memberships and reporting lines.

Each form is read into its command (`groups/schemas.py`) and handed to one service, which
finds every field's error at once; a refused form is shown again with all of them, at its
page's own address (Post/Redirect/Get)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from governance.accounts.auth import admin_only, as_signed_in, signed_in
from governance.accounts.policy import GROUP_ROLES
from governance.core.clock import organisation_today
from governance.core.http import CommandT, ResultT, RowId, page, redirect, submit_form
from governance.core.urls import path_for
from governance.groups import queries, services
from governance.groups.dependencies import RequestViewer
from governance.groups.schemas import (
    DECISION_RULE_LABELS,
    QUORUM_LABELS,
    RESOLUTION_RULE_LABELS,
    Cadence,
    DecisionRule,
    GroupDetails,
    GroupRecord,
    LineSettings,
    MembershipTerm,
    NewMembership,
    QuorumRule,
    ResolutionRule,
)

FORM_CHOICES = {
    "quorum_rules": list(QuorumRule),
    "quorum_labels": QUORUM_LABELS,
    "decision_rules": list(DecisionRule),
    "decision_rule_labels": DECISION_RULE_LABELS,
    "resolution_rules": list(ResolutionRule),
    "resolution_rule_labels": RESOLUTION_RULE_LABELS,
    "cadences": list(Cadence),
    "roles": GROUP_ROLES,
}
GROUP_FORM = "groups/form.html"
MEMBERSHIP_FORM = "groups/membership_form.html"
LINE_FORM = "groups/line_form.html"


def _values(record: msgspec.Struct) -> dict[str, Any]:
    """A view's fields, to fill a form."""
    return msgspec.structs.asdict(record)


def _group_page(slug: str, message: str) -> Redirect:
    return redirect(path_for("groups:show", slug=slug), message)


def _back_to_group(slug: str, message: str) -> Callable[[object], Redirect]:
    """What a saved form does: back to the group's page, with this message."""
    return lambda _: _group_page(slug, message)


async def _submit(
    request: Request[Any, Any, Any],
    command_type: type[CommandT],
    change: Callable[..., Awaitable[ResultT]],
    done: Callable[[ResultT], Redirect],
    template: str,
    context: dict[str, Any],
) -> Template | Redirect:
    """The form handed to one service as the signed-in administrator; every form here is
    posted to its own page's address, where a refused one is shown again."""
    act = as_signed_in(request, change)
    return await submit_form(
        request, command_type, act, done, template, context, shown_at=request.url.path
    )


async def _membership_context(membership_id: int) -> dict[str, Any]:
    """The membership's form: the term, and its group's name and address."""
    membership = await queries.get_membership(membership_id)
    group = {"name": membership.group_name, "slug": membership.group_slug}
    return {**FORM_CHOICES, "group": group, "membership": membership}


async def _line_context(line_id: int) -> dict[str, Any]:
    """The line's form: the line and its group."""
    line_page = await queries.line_page(line_id)
    return {**FORM_CHOICES, "line": line_page.line, "group": line_page.group}


class GroupController(Controller):
    path = "/groups"
    guards = [signed_in]
    include_in_schema = False  # pages for people; the API is described at /schema

    @get("/", name="groups:index")
    async def index(self, request: Request[Any, Any, Any], viewer: RequestViewer) -> Template:
        groups = await queries.list_groups(viewer)
        return page(request, "groups/index.html", {"groups": groups})


class GroupAdminController(Controller):
    path = "/admin/groups"
    guards = [admin_only]
    include_in_schema = False

    @get("/new", name="groups:new")
    async def new_form(self, request: Request[Any, Any, Any]) -> Template:
        values = {
            "quorum_rule": "majority",
            "quorum_count": 0,
            "decision_rule": "simple_majority",
            "resolution_rule": "majority",
        }
        return page(request, GROUP_FORM, {**FORM_CHOICES, "values": values, "group": None})

    @post("/new", name="groups:create")
    async def create(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        def done(group: GroupRecord) -> Redirect:
            return _group_page(
                group.slug, f"{group.name} created, with a Director line and a Board line."
            )

        context = {**FORM_CHOICES, "group": None}
        return await _submit(
            request, GroupDetails, services.create_group, done, GROUP_FORM, context
        )

    @get("/{slug:str}/edit", name="groups:edit-form")
    async def edit_form(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        group = await queries.group_record(slug)
        context = {**FORM_CHOICES, "values": _values(group), "group": group}
        return page(request, GROUP_FORM, context)

    @post("/{slug:str}/edit", name="groups:edit")
    async def edit(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> Template | Redirect:
        group = await queries.group_record(slug)
        change = partial(services.update_group, group.id)
        context = {**FORM_CHOICES, "group": group}

        def done(saved: GroupRecord) -> Redirect:
            return _group_page(saved.slug, "Group saved.")

        return await _submit(request, GroupDetails, change, done, GROUP_FORM, context)

    @get("/{slug:str}/memberships/new", name="groups:membership-new")
    async def new_membership_form(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> Template:
        group = await queries.group_record(slug)
        values = {"role": "member", "starts_on": organisation_today().isoformat()}
        context = {**FORM_CHOICES, "group": group, "membership": None, "values": values}
        return page(request, MEMBERSHIP_FORM, context)

    @post("/{slug:str}/memberships/new", name="groups:membership-add")
    async def add_membership(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> Template | Redirect:
        group = await queries.group_record(slug)
        context = {**FORM_CHOICES, "group": group, "membership": None}
        done = _back_to_group(group.slug, "Membership added.")
        change = partial(services.add_membership, group.id)
        return await _submit(request, NewMembership, change, done, MEMBERSHIP_FORM, context)

    @get("/memberships/{membership_id:int}", name="groups:membership-edit-form")
    async def edit_membership_form(
        self, request: Request[Any, Any, Any], membership_id: RowId
    ) -> Template:
        context = await _membership_context(membership_id)
        values = _values(context["membership"])
        return page(request, MEMBERSHIP_FORM, {**context, "values": values})

    @post("/memberships/{membership_id:int}", name="groups:membership-edit")
    async def edit_membership(
        self, request: Request[Any, Any, Any], membership_id: RowId
    ) -> Template | Redirect:
        context = await _membership_context(membership_id)
        change = partial(services.update_membership, membership_id)
        done = _back_to_group(context["group"]["slug"], "Membership saved.")
        return await _submit(request, MembershipTerm, change, done, MEMBERSHIP_FORM, context)

    @get("/lines/{line_id:int}", name="groups:line-edit-form")
    async def edit_line_form(self, request: Request[Any, Any, Any], line_id: RowId) -> Template:
        context = await _line_context(line_id)
        return page(request, LINE_FORM, {**context, "values": _values(context["line"])})

    @post("/lines/{line_id:int}", name="groups:line-edit")
    async def edit_line(
        self, request: Request[Any, Any, Any], line_id: RowId
    ) -> Template | Redirect:
        context = await _line_context(line_id)
        change = partial(services.update_reporting_line, line_id)
        done = _back_to_group(context["group"].slug, "Reporting line saved.")
        return await _submit(request, LineSettings, change, done, LINE_FORM, context)
