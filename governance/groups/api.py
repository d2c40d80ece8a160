"""JSON routes for groups: the same reading rules as the pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath

from governance.accounts.auth import current_user, signed_in
from governance.groups import queries, services
from governance.groups.queries import load_viewer


@dataclass
class MemberOut:
    user_id: int
    display_name: str
    role: str
    starts_on: dt.date
    ends_on: dt.date | None


@dataclass
class ReportingLineOut:
    id: int
    recipient: str
    cadence: str
    report_due_days: int
    response_days: int


@dataclass
class GroupSummaryOut:
    slug: str
    name: str
    member_count: int
    my_role: str | None


@dataclass
class GroupOut:
    slug: str
    name: str
    mandate: str
    quorum_rule: str
    quorum_count: int
    my_role: str | None
    members: list[MemberOut]
    reporting_lines: list[ReportingLineOut]


class GroupApiController(Controller):
    path = "/api/v1/groups"
    guards = [signed_in]
    tags = ["groups"]
    security = [{"bearer": []}]

    @get("/", summary="Working groups")
    async def list_groups(self, request: Request[Any, Any, Any]) -> list[GroupSummaryOut]:
        viewer = await queries.load_viewer(current_user(request))
        return [
            GroupSummaryOut(g["slug"], g["name"], g["member_count"], g["my_role"])
            for g in await services.list_groups(viewer)
        ]

    @get("/{slug:str}", summary="One working group with its current members and reporting lines")
    async def get_group(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> GroupOut:
        viewer = await queries.load_viewer(current_user(request))
        context = await services.group_page(slug, viewer)
        group = context["group"]
        return GroupOut(
            slug=group["slug"],
            name=group["name"],
            mandate=group["mandate"],
            quorum_rule=group["quorum_rule"],
            quorum_count=group["quorum_count"],
            my_role=context["my_role"],
            members=[
                MemberOut(m["user_id"], m["display_name"], m["role"], m["starts_on"], m["ends_on"])
                for m in context["current_members"]
            ],
            reporting_lines=[
                ReportingLineOut(
                    line["id"],
                    line["recipient"],
                    line["cadence"],
                    line["report_due_days"],
                    line["response_days"],
                )
                for line in context["lines"]
            ],
        )


@dataclass
class GroupRoleOut:
    group_id: int
    role: str


@dataclass
class MeOut:
    id: int
    email: str
    display_name: str
    timezone: str
    organisation_roles: list[str]
    group_roles: list[GroupRoleOut]


class MeApiController(Controller):
    path = "/api/v1/me"
    guards = [signed_in]
    tags = ["accounts"]
    security = [{"bearer": []}]

    @get("/", summary="The signed-in user and the roles they hold today")
    async def me(self, request: Request[Any, Any, Any]) -> MeOut:
        viewer = await load_viewer(current_user(request))
        user = viewer.user
        return MeOut(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            timezone=user.timezone,
            organisation_roles=user.organisation_roles,
            group_roles=[
                GroupRoleOut(group_id, role)
                for group_id, role in sorted(viewer.group_roles.items())
            ],
        )
