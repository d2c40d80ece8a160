"""Group pages, and the administrator's forms for groups, memberships and reporting lines.

Each form is read into its command (`groups/schemas.py`) and handed to one service, which
finds every field's error at once; a refused form is shown again with all of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from governance.accounts.auth import admin_only, current_user, signed_in
from governance.accounts.policy import GROUP_ROLES
from governance.core.clock import organisation_today
from governance.core.contracts import read_form
from governance.core.errors import InvalidInput
from governance.core.http import RowId, form_page, form_values, page, redirect
from governance.core.urls import path_for
from governance.groups import queries, services
from governance.groups.dependencies import RequestViewer
from governance.groups.schemas import (
    CADENCES,
    QUORUM_LABELS,
    QUORUM_RULES,
    GroupDetails,
    LineSettings,
    MembershipTerm,
    NewMembership,
)

FORM_CHOICES = {
    "quorum_rules": QUORUM_RULES,
    "quorum_labels": QUORUM_LABELS,
    "cadences": CADENCES,
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


def _refused(
    request: Request[Any, Any, Any],
    template: str,
    data: Mapping[str, Any],
    error: InvalidInput,
    context: Mapping[str, Any],
) -> Template:
    """The form again, with what was typed and every field's error; nothing saved."""
    return form_page(
        request, template, form_values(data), error.field_errors, {**FORM_CHOICES, **context}
    )


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
        values = {"quorum_rule": "majority", "quorum_count": 0}
        return page(request, GROUP_FORM, {**FORM_CHOICES, "values": values, "group": None})

    @post("/new", name="groups:create")
    async def create(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        data = await request.form()
        command, unreadable = read_form(GroupDetails, data)
        try:
            group = await services.create_group(
                command, current_user(request), unreadable=unreadable
            )
        except InvalidInput as error:
            return _refused(request, GROUP_FORM, data, error, {"group": None})
        return _group_page(
            group.slug, f"{group.name} created, with a Director line and a Board line."
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
        data = await request.form()
        command, unreadable = read_form(GroupDetails, data)
        try:
            saved = await services.update_group(
                group.id, command, current_user(request), unreadable=unreadable
            )
        except InvalidInput as error:
            return _refused(request, GROUP_FORM, data, error, {"group": group})
        return _group_page(saved.slug, "Group saved.")

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
        data = await request.form()
        command, unreadable = read_form(NewMembership, data)
        try:
            await services.add_membership(
                group.id, command, current_user(request), unreadable=unreadable
            )
        except InvalidInput as error:
            context = {"group": group, "membership": None}
            return _refused(request, MEMBERSHIP_FORM, data, error, context)
        return _group_page(group.slug, "Membership added.")

    @get("/memberships/{membership_id:int}", name="groups:membership-edit-form")
    async def edit_membership_form(
        self, request: Request[Any, Any, Any], membership_id: RowId
    ) -> Template:
        membership = await queries.get_membership(membership_id)
        group = await queries.group_record(membership.group_slug)
        context = {"group": group, "membership": membership, "values": _values(membership)}
        return page(request, MEMBERSHIP_FORM, {**FORM_CHOICES, **context})

    @post("/memberships/{membership_id:int}", name="groups:membership-edit")
    async def edit_membership(
        self, request: Request[Any, Any, Any], membership_id: RowId
    ) -> Template | Redirect:
        membership = await queries.get_membership(membership_id)
        data = await request.form()
        command, unreadable = read_form(MembershipTerm, data)
        try:
            await services.update_membership(
                membership_id, command, current_user(request), unreadable=unreadable
            )
        except InvalidInput as error:
            group = await queries.group_record(membership.group_slug)
            context = {"group": group, "membership": membership}
            return _refused(request, MEMBERSHIP_FORM, data, error, context)
        return _group_page(membership.group_slug, "Membership saved.")

    @get("/lines/{line_id:int}", name="groups:line-edit-form")
    async def edit_line_form(self, request: Request[Any, Any, Any], line_id: RowId) -> Template:
        line_page = await queries.line_page(line_id)
        context = {"line": line_page.line, "group": line_page.group}
        return page(
            request, LINE_FORM, {**FORM_CHOICES, **context, "values": _values(line_page.line)}
        )

    @post("/lines/{line_id:int}", name="groups:line-edit")
    async def edit_line(
        self, request: Request[Any, Any, Any], line_id: RowId
    ) -> Template | Redirect:
        line_page = await queries.line_page(line_id)
        data = await request.form()
        command, unreadable = read_form(LineSettings, data)
        try:
            await services.update_reporting_line(
                line_id, command, current_user(request), unreadable=unreadable
            )
        except InvalidInput as error:
            context = {"line": line_page.line, "group": line_page.group}
            return _refused(request, LINE_FORM, data, error, context)
        return _group_page(line_page.group.slug, "Reporting line saved.")
