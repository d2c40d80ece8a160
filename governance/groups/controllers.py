"""Group pages, and the administrator's forms for groups, memberships and reporting lines."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from governance.accounts.auth import admin_only, current_user, signed_in
from governance.accounts.policy import GROUP_ROLES
from governance.core.clock import organisation_today
from governance.core.errors import InvalidInput
from governance.core.http import RowId, form_page, form_values, page, redirect
from governance.groups import queries, services
from governance.groups.forms import read_group, read_line, read_membership

FORM_CHOICES = {
    "quorum_rules": services.QUORUM_RULES,
    "cadences": services.CADENCES,
    "roles": GROUP_ROLES,
}


class GroupController(Controller):
    path = "/groups"
    guards = [signed_in]
    include_in_schema = False  # pages for people; the API is described at /schema

    @get("/")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        viewer = await queries.load_viewer(current_user(request))
        groups = await services.list_groups(viewer)
        return page(request, "groups/index.html", {"groups": groups})


class GroupAdminController(Controller):
    path = "/admin/groups"
    guards = [admin_only]
    include_in_schema = False

    @get("/new")
    async def new_form(self, request: Request[Any, Any, Any]) -> Template:
        values = {"quorum_rule": "majority", "quorum_count": 0}
        return page(request, "groups/form.html", {**FORM_CHOICES, "values": values, "group": None})

    @post("/new")
    async def create(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        data = await request.form()
        fields, errors = read_group(data)
        if not errors:
            try:
                await services.create_group(fields, current_user(request))
            except InvalidInput as error:
                errors = error.field_errors
        if errors:
            return form_page(
                request,
                "groups/form.html",
                form_values(data),
                errors,
                {**FORM_CHOICES, "group": None},
            )
        return redirect(
            f"/groups/{fields.slug}",
            f"{fields.name} created, with a Director line and a Board line.",
        )

    @get("/{slug:str}/edit")
    async def edit_form(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        group = await queries.get_group(slug)
        return page(request, "groups/form.html", {**FORM_CHOICES, "values": group, "group": group})

    @post("/{slug:str}/edit")
    async def edit(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> Template | Redirect:
        group = await queries.get_group(slug)
        data = await request.form()
        fields, errors = read_group(data)
        if not errors:
            try:
                await services.update_group(group["id"], fields, current_user(request))
            except InvalidInput as error:
                errors = error.field_errors
        if errors:
            return form_page(
                request,
                "groups/form.html",
                form_values(data),
                errors,
                {**FORM_CHOICES, "group": group},
            )
        return redirect(f"/groups/{fields.slug}", "Group saved.")

    @get("/{slug:str}/memberships/new")
    async def new_membership_form(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> Template:
        group = await queries.get_group(slug)
        values = {"role": "member", "starts_on": organisation_today().isoformat()}
        return page(
            request,
            "groups/membership_form.html",
            {**FORM_CHOICES, "group": group, "membership": None, "values": values},
        )

    @post("/{slug:str}/memberships/new")
    async def add_membership(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> Template | Redirect:
        group = await queries.get_group(slug)
        data = await request.form()
        fields, errors = read_membership(data)
        email = str(data.get("email", "")).strip()
        if not email:
            errors["email"] = "Email is required."
        if not errors:
            try:
                await services.add_membership(group["id"], email, fields, current_user(request))
            except InvalidInput as error:
                errors = error.field_errors
        if errors:
            return form_page(
                request,
                "groups/membership_form.html",
                form_values(data),
                errors,
                {**FORM_CHOICES, "group": group, "membership": None},
            )
        return redirect(f"/groups/{slug}", "Membership added.")

    @get("/memberships/{membership_id:int}")
    async def edit_membership_form(
        self, request: Request[Any, Any, Any], membership_id: RowId
    ) -> Template:
        membership = await services.get_membership(membership_id)
        group = await queries.get_group(membership["group_slug"])
        return page(
            request,
            "groups/membership_form.html",
            {**FORM_CHOICES, "group": group, "membership": membership, "values": membership},
        )

    @post("/memberships/{membership_id:int}")
    async def edit_membership(
        self, request: Request[Any, Any, Any], membership_id: RowId
    ) -> Template | Redirect:
        membership = await services.get_membership(membership_id)
        data = await request.form()
        fields, errors = read_membership(data)
        if not errors:
            try:
                await services.update_membership(membership_id, fields, current_user(request))
            except InvalidInput as error:
                errors = error.field_errors
        if errors:
            group = await queries.get_group(membership["group_slug"])
            return form_page(
                request,
                "groups/membership_form.html",
                {**form_values(data), "email": membership["email"]},
                errors,
                {**FORM_CHOICES, "group": group, "membership": membership},
            )
        return redirect(f"/groups/{membership['group_slug']}", "Membership saved.")

    @get("/lines/{line_id:int}")
    async def edit_line_form(self, request: Request[Any, Any, Any], line_id: RowId) -> Template:
        line, group = await services.get_reporting_line(line_id)
        return page(
            request,
            "groups/line_form.html",
            {**FORM_CHOICES, "line": line, "group": group, "values": line},
        )

    @post("/lines/{line_id:int}")
    async def edit_line(
        self, request: Request[Any, Any, Any], line_id: RowId
    ) -> Template | Redirect:
        line, group = await services.get_reporting_line(line_id)
        data = await request.form()
        fields, errors = read_line(data)
        if errors:
            return form_page(
                request,
                "groups/line_form.html",
                form_values(data),
                errors,
                {**FORM_CHOICES, "line": line, "group": group},
            )
        await services.update_reporting_line(line_id, fields, current_user(request))
        return redirect(f"/groups/{group['slug']}", "Reporting line saved.")
