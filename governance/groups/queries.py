"""Reads of groups and memberships, returning views: those every domain shares (who is a
member on a day, the viewer of a request, a group by its address), and the groups' own pages
(the list of groups, a group with its members and lines, a membership, a line)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count

from governance.accounts.policy import (
    ROLE_RANK,
    CurrentUser,
    Viewer,
    membership_is_current,
    strongest_roles,
)
from governance.core.clock import organisation_today
from governance.core.db import PreparedSelect, one_row, read_at_once
from governance.core.errors import NotFoundError
from governance.groups.schemas import (
    DecisionRule,
    GroupPage,
    GroupRecord,
    GroupRoleView,
    GroupSummaryView,
    GroupView,
    LinePage,
    MembershipView,
    MeView,
    QuorumRule,
    ReportingLineView,
    TermView,
)
from governance.groups.tables import Membership, ReportingLine, WorkingGroup

NO_SUCH_GROUP = "There is no working group at this address."
NO_SUCH_LINE = "There is no such reporting line."
NO_SUCH_MEMBERSHIP = "There is no such membership."


def current_on(day: dt.date) -> Any:
    """The SQL condition for a membership current on `day`: the query form of
    policy.membership_is_current (from its first day to the end of its last)."""
    return (Membership.starts_on <= day) & (
        Membership.ends_on.is_null() | (Membership.ends_on >= day)
    )


_MEMBERS_ON = PreparedSelect(
    lambda group_id, on: Membership.select(
        Membership.user,
        Membership.role,
        Membership.starts_on,
        Membership.ends_on,
        Membership.user.display_name.as_alias("display_name"),
    ).where((Membership.group == group_id) & current_on(on))
)


async def members_on(group_id: int, on: dt.date) -> list[dict[str, Any]]:
    """Memberships current on a day, one per person (their first), with the member's name,
    sorted by name: one query."""
    rows = await _MEMBERS_ON.run(group_id=group_id, on=on)
    by_user: dict[int, dict[str, Any]] = {}
    for row in rows:
        if membership_is_current(row["starts_on"], row["ends_on"], on):
            by_user.setdefault(row["user"], row)
    return sorted(by_user.values(), key=lambda m: m["display_name"])


_MEMBERSHIPS_OF = PreparedSelect(
    lambda user_id: Membership.select(
        Membership.group, Membership.role, Membership.starts_on, Membership.ends_on
    ).where(Membership.user == user_id)
)


async def load_viewer(user: CurrentUser) -> Viewer:
    """The user with the roles they hold today in each group: one query."""
    rows = await _MEMBERSHIPS_OF.run(user_id=user.id)
    return Viewer(user=user, group_roles=strongest_roles(rows, organisation_today()))


_GROUP_BY_SLUG = PreparedSelect(
    lambda slug: WorkingGroup.select().where(WorkingGroup.slug == slug).limit(1)
)


async def get_group(slug: str) -> dict[str, Any]:
    """A group by its slug; not found if there is none."""
    rows = await _GROUP_BY_SLUG.run(slug=slug)
    if not rows:
        raise NotFoundError(NO_SUCH_GROUP)
    return rows[0]


def _record(row: dict[str, Any]) -> GroupRecord:
    return msgspec.convert(row, GroupRecord)


async def group_record(slug: str) -> GroupRecord:
    """A group's own details by its slug; not found if there is none."""
    return _record(await get_group(slug))


_EVERY_GROUP = PreparedSelect(
    lambda: WorkingGroup.select(WorkingGroup.id, WorkingGroup.name, WorkingGroup.slug).order_by(
        WorkingGroup.name
    )
)
_MEMBER_COUNTS = PreparedSelect(
    lambda today: (
        Membership.select(Membership.group, Count(distinct=[Membership.user], alias="members"))
        .where(current_on(today))
        .group_by(Membership.group)
    )
)


async def list_groups(viewer: Viewer) -> list[GroupSummaryView]:
    """Every group with its number of current members: two selects read at once, whatever
    the number of groups or memberships, counted by the database rather than fetched and
    counted here."""
    groups, counts = await read_at_once(
        _EVERY_GROUP.run(), _MEMBER_COUNTS.run(today=organisation_today())
    )
    members = {row["group"]: int(row["members"]) for row in counts}
    return [
        GroupSummaryView(
            slug=group["slug"],
            name=group["name"],
            member_count=members.get(group["id"], 0),
            my_role=viewer.group_roles.get(group["id"]),
        )
        for group in groups
    ]


def _membership_columns() -> tuple[Any, ...]:
    """A membership with its person's and its group's names (the names its view uses)."""
    joined = {
        "user_id": Membership.user.id,
        "display_name": Membership.user.display_name,
        "email": Membership.user.email,
        "group_slug": Membership.group.slug,
        "group_name": Membership.group.name,
    }
    return (*Membership.all_columns(), *(column.as_alias(name) for name, column in joined.items()))


def _membership(row: dict[str, Any]) -> MembershipView:
    return msgspec.convert(row, MembershipView)


def _line(row: dict[str, Any]) -> ReportingLineView:
    return msgspec.convert(row, ReportingLineView)


def _never_begins(membership: MembershipView) -> bool:
    """A term ended before it began (the person's account was deactivated first)."""
    return membership.ends_on is not None and membership.ends_on < membership.starts_on


def _by_term(memberships: list[MembershipView], today: dt.date) -> dict[str, list[MembershipView]]:
    """Current terms (leads first, then by name), terms starting later, and former ones."""
    terms: dict[str, list[MembershipView]] = {"current": [], "future": [], "former": []}
    for membership in memberships:
        if membership_is_current(membership.starts_on, membership.ends_on, today):
            terms["current"].append(membership)
        elif membership.starts_on > today and not _never_begins(membership):
            terms["future"].append(membership)
        else:
            terms["former"].append(membership)
    terms["current"].sort(key=lambda m: (ROLE_RANK[m.role], m.display_name))
    return terms


_TERMS_IN = PreparedSelect(
    lambda group_id: (
        Membership.select(*_membership_columns())
        .where(Membership.group == group_id)
        .order_by(Membership.starts_on, ascending=False)
    )
)
_LINES_OF = PreparedSelect(
    lambda group_id: (
        ReportingLine.select()
        .where(ReportingLine.group == group_id)
        .order_by(ReportingLine.recipient, ascending=False)
    )
)


async def group_page(slug: str, viewer: Viewer) -> GroupPage:
    """Everything the group page shows of the group itself, in three queries."""
    return await group_page_of(await get_group(slug), viewer)


async def group_page_of(row: dict[str, Any], viewer: Viewer) -> GroupPage:
    """The group page of a group already read (`get_group`): two queries."""
    group = _record(row)
    rows = await _TERMS_IN.run(group_id=group.id)
    terms = _by_term([_membership(row) for row in rows], organisation_today())
    lines = await _LINES_OF.run(group_id=group.id)
    rule = QuorumRule(group.quorum_rule)
    return GroupPage(
        group=group,
        current_members=terms["current"],
        future_members=terms["future"],
        former_members=terms["former"],
        lines=[_line(line) for line in lines],
        quorum=rule.describe(group.quorum_count),
        quorum_needed=rule.needed(group.quorum_count, len(terms["current"])),
        decisions_carried_by=DecisionRule(group.decision_rule).label,
        my_role=viewer.group_roles.get(group.id),
    )


async def group_view(slug: str, viewer: Viewer) -> GroupView:
    """One group with its current members and both reporting lines, for the API."""
    page = await group_page(slug, viewer)
    return msgspec.convert(
        {
            **msgspec.structs.asdict(page.group),
            "my_role": page.my_role,
            "members": page.current_members,
            "reporting_lines": page.lines,
        },
        GroupView,
        from_attributes=True,
    )


def about_me(viewer: Viewer) -> MeView:
    """The signed-in user and the roles they hold today (no query: the viewer has them)."""
    roles = [
        GroupRoleView(group_id=group_id, role=role)
        for group_id, role in sorted(viewer.group_roles.items())
    ]
    me = msgspec.convert(viewer.user, MeView, from_attributes=True)
    return msgspec.structs.replace(me, group_roles=roles)


async def line_page(line_id: int) -> LinePage:
    """A reporting line and its group; not found if there is no such line."""
    query = ReportingLine.select(
        *ReportingLine.all_columns(), ReportingLine.group.slug.as_alias("group_slug")
    ).where(ReportingLine.id == line_id)
    row = await one_row(query, NO_SUCH_LINE)
    return LinePage(line=_line(row), group=_record(await get_group(row["group_slug"])))


async def membership_row(membership_id: int) -> dict[str, Any]:
    """A membership with its person's and group's names; not found if there is none."""
    query = Membership.select(*_membership_columns()).where(Membership.id == membership_id)
    return await one_row(query, NO_SUCH_MEMBERSHIP)


async def get_membership(membership_id: int) -> MembershipView:
    return _membership(await membership_row(membership_id))


_TERMS_OF = PreparedSelect(
    lambda user_id: (
        Membership.select(*_membership_columns())
        .where(Membership.user == user_id)
        .order_by(Membership.starts_on, ascending=False)
    )
)


async def my_terms(user_id: int) -> list[TermView]:
    """Every term this person has served or will serve, newest first."""
    return msgspec.convert(await _TERMS_OF.run(user_id=user_id), list[TermView])
