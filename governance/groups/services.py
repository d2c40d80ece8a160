"""Working groups, memberships and reporting lines: reading them and changing them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from piccolo.query.functions.aggregate import Count

from governance.accounts.policy import CurrentUser, Viewer, membership_is_current
from governance.accounts.tables import User
from governance.core.audit import SYSTEM, Actor, record_event
from governance.core.clock import organisation_today, utcnow
from governance.core.db import write_transaction
from governance.core.errors import InvalidInput, NotFoundError, PermissionDenied
from governance.groups.queries import current_on, get_group
from governance.groups.tables import Membership, ReportingLine, WorkingGroup

QUORUM_RULES = ("majority", "two_thirds", "fixed")
CADENCES = ("monthly", "quarterly", "half_yearly", "yearly")
RECIPIENTS = ("director", "board")
RECIPIENT_NAMES = {"director": "Executive Director", "board": "Board"}
# Words the admin addresses use next to a group's slug (/admin/groups/lines/{id},
# /admin/groups/memberships/{id}, /admin/groups/new): a group with one of these as its slug
# could not be reached at /admin/groups/{slug}/edit.
# Words used in addresses next to a group's slug, and the organisation-wide scope.
RESERVED_SLUGS = frozenset({"new", "edit", "lines", "memberships", "organisation"})


@dataclass(frozen=True)
class GroupFields:
    name: str
    slug: str
    mandate: str
    quorum_rule: str
    quorum_count: int


@dataclass(frozen=True)
class LineFields:
    cadence: str
    report_due_days: int
    response_days: int


DEFAULT_GROUPS = (
    GroupFields(
        name="Working Group on Wellbeing",
        slug="wellbeing",
        mandate=(
            "The Working Group on Wellbeing looks after the wellbeing of staff and volunteers: "
            "workload, psychological safety and support after difficult work.\n\n"
            "It reports to the **Executive Director** and directly to the **Board**."
        ),
        quorum_rule="majority",
        quorum_count=0,
    ),
    GroupFields(
        name="Working Group on Non-Discrimination, Diversity and Inclusion",
        slug="ndi",
        mandate=(
            "The Working Group on Non-Discrimination, Diversity and Inclusion reviews policies and "
            "practice for fairness and inclusion, and recommends changes.\n\n"
            "It reports to the **Executive Director** and directly to the **Board**."
        ),
        quorum_rule="majority",
        quorum_count=0,
    ),
)
DEFAULT_LINE = LineFields(cadence="quarterly", report_due_days=30, response_days=30)


# --- who holds what ---------------------------------------------------------------------


def quorum_needed(rule: str, fixed_count: int, members: int) -> int:
    if rule == "fixed":
        return fixed_count
    if rule == "two_thirds":
        return -(-2 * members // 3)
    return members // 2 + 1


def describe_quorum(rule: str, fixed_count: int) -> str:
    if rule == "fixed":
        return f"at least {fixed_count} members present"
    if rule == "two_thirds":
        return "at least two thirds of current members present"
    return "more than half of current members present"


# --- reading ----------------------------------------------------------------------------


async def list_groups(viewer: Viewer) -> list[dict[str, Any]]:
    """Every group with its number of current members: two queries whatever the number of
    groups or memberships, counted by the database rather than fetched and counted here."""
    groups = await WorkingGroup.select(
        WorkingGroup.id, WorkingGroup.name, WorkingGroup.slug
    ).order_by(WorkingGroup.name)
    counts = await (
        Membership.select(Membership.group, Count(distinct=[Membership.user], alias="members"))
        .where(current_on(organisation_today()))
        .group_by(Membership.group)
    )
    members = {row["group"]: int(row["members"]) for row in counts}
    for group in groups:
        group["member_count"] = members.get(group["id"], 0)
        group["my_role"] = viewer.group_roles.get(group["id"])
    return groups


async def group_page(slug: str, viewer: Viewer) -> dict[str, Any]:
    """Everything the group page shows, in a fixed number of queries."""
    group = await get_group(slug)
    today = organisation_today()
    memberships = (
        await Membership.select(
            Membership.id,
            Membership.role,
            Membership.starts_on,
            Membership.ends_on,
            Membership.user.id.as_alias("user_id"),
            Membership.user.display_name.as_alias("display_name"),
            Membership.user.email.as_alias("email"),
        )
        .where(Membership.group == group["id"])
        .order_by(Membership.starts_on, ascending=False)
    )
    current, former, future = [], [], []
    for membership in memberships:
        if membership_is_current(membership["starts_on"], membership["ends_on"], today):
            current.append(membership)
        elif membership["starts_on"] > today:
            future.append(membership)
        else:
            former.append(membership)
    current.sort(
        key=lambda m: (["chair", "secretary", "member"].index(m["role"]), m["display_name"])
    )
    lines = (
        await ReportingLine.select()
        .where(ReportingLine.group == group["id"])
        .order_by(ReportingLine.recipient, ascending=False)
    )
    for line in lines:
        line["recipient_name"] = RECIPIENT_NAMES.get(line["recipient"], line["recipient"])
    return {
        "group": group,
        "current_members": current,
        "future_members": future,
        "former_members": former,
        "lines": lines,
        "quorum": describe_quorum(group["quorum_rule"], group["quorum_count"]),
        "quorum_needed": quorum_needed(group["quorum_rule"], group["quorum_count"], len(current)),
        "my_role": viewer.group_roles.get(group["id"]),
    }


async def get_reporting_line(line_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    line = (
        await ReportingLine.select(
            *ReportingLine.all_columns(), ReportingLine.group.slug.as_alias("group_slug")
        )
        .where(ReportingLine.id == line_id)
        .first()
    )
    if line is None:
        raise NotFoundError("There is no such reporting line.")
    line["recipient_name"] = RECIPIENT_NAMES[line["recipient"]]
    return line, await get_group(line["group_slug"])


async def my_memberships(user_id: int) -> list[dict[str, Any]]:
    return (
        await Membership.select(
            Membership.id,
            Membership.role,
            Membership.starts_on,
            Membership.ends_on,
            Membership.group.name.as_alias("group_name"),
            Membership.group.slug.as_alias("group_slug"),
        )
        .where(Membership.user == user_id)
        .order_by(Membership.starts_on, ascending=False)
    )


# --- changing ---------------------------------------------------------------------------


def _require_admin(actor: CurrentUser) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator can change groups and memberships.")


async def _check_name_and_slug(fields: GroupFields, group_id: int | None) -> None:
    errors: dict[str, str] = {}
    if fields.slug in RESERVED_SLUGS:
        errors["slug"] = "This short name is used by the service's own addresses; choose another."
    for column, name, label in (
        (WorkingGroup.name, "name", "name"),
        (WorkingGroup.slug, "slug", "short name"),
    ):
        query = WorkingGroup.exists().where(column == getattr(fields, name))
        if group_id is not None:
            query = query.where(WorkingGroup.id != group_id)
        if name not in errors and await query:
            errors[name] = f"Another group already has this {label}."
    if errors:
        raise InvalidInput("Some values need correcting.", errors)


async def create_group(fields: GroupFields, actor: Actor, line: LineFields = DEFAULT_LINE) -> int:
    """A new group, with both reporting lines: every group reports to the Director and the Board."""
    if isinstance(actor, CurrentUser):
        _require_admin(actor)
    async with write_transaction():
        await _check_name_and_slug(fields, None)
        rows = await WorkingGroup.insert(
            WorkingGroup(**vars(fields), created_at=utcnow())
        ).returning(WorkingGroup.id)
        group_id = int(rows[0]["id"])
        for recipient in RECIPIENTS:
            await ReportingLine.insert(
                ReportingLine(group=group_id, recipient=recipient, **vars(line))
            )
        await record_event(
            actor,
            "group.created",
            "working_group",
            group_id,
            f"Group {fields.name} created with Director and Board lines",
        )
    return group_id


async def update_group(group_id: int, fields: GroupFields, actor: CurrentUser) -> None:
    _require_admin(actor)
    async with write_transaction():
        if not await WorkingGroup.exists().where(WorkingGroup.id == group_id):
            raise NotFoundError("There is no such working group.")
        await _check_name_and_slug(fields, group_id)
        await WorkingGroup.update(
            {getattr(WorkingGroup, k): v for k, v in vars(fields).items()}
        ).where(WorkingGroup.id == group_id)
        await record_event(
            actor, "group.updated", "working_group", group_id, f"Group {fields.name} updated"
        )


async def update_reporting_line(line_id: int, fields: LineFields, actor: CurrentUser) -> None:
    _require_admin(actor)
    async with write_transaction():
        line = (
            await ReportingLine.select(ReportingLine.recipient, ReportingLine.group)
            .where(ReportingLine.id == line_id)
            .first()
        )
        if line is None:
            raise NotFoundError("There is no such reporting line.")
        await ReportingLine.update(
            {getattr(ReportingLine, k): v for k, v in vars(fields).items()}
        ).where(ReportingLine.id == line_id)
        await record_event(
            actor,
            "reporting_line.updated",
            "reporting_line",
            line_id,
            f"{RECIPIENT_NAMES[line['recipient']]} line: {fields.cadence}, report due "
            f"{fields.report_due_days} days after each period, response in "
            f"{fields.response_days} days",
        )


@dataclass(frozen=True)
class MembershipFields:
    role: str
    starts_on: dt.date
    ends_on: dt.date | None


def _check_term(fields: MembershipFields) -> None:
    if fields.ends_on is not None and fields.ends_on < fields.starts_on:
        raise InvalidInput(
            "The term ends before it starts.",
            {"ends_on": "The end date must be on or after the start date."},
        )


async def add_membership(
    group_id: int, user_email: str, fields: MembershipFields, actor: Actor
) -> int:
    if isinstance(actor, CurrentUser):
        _require_admin(actor)
    _check_term(fields)
    async with write_transaction():
        user = (
            await User.select(User.id, User.display_name)
            .where(User.email == user_email.strip().lower())
            .first()
        )
        if user is None:
            raise InvalidInput(
                "No account has that email.",
                {"email": "No account has this email. Invite the person first."},
            )
        group = (
            await WorkingGroup.select(WorkingGroup.name).where(WorkingGroup.id == group_id).first()
        )
        if group is None:
            raise NotFoundError("There is no such working group.")
        overlapping = await Membership.select(Membership.starts_on, Membership.ends_on).where(
            (Membership.user == user["id"]) & (Membership.group == group_id)
        )
        for existing in overlapping:
            if _terms_overlap(
                existing["starts_on"], existing["ends_on"], fields.starts_on, fields.ends_on
            ):
                raise InvalidInput(
                    "This person already has a membership of this group in that period.",
                    {"starts_on": "Overlaps an existing term; end or change that one first."},
                )
        rows = await Membership.insert(
            Membership(user=user["id"], group=group_id, **vars(fields))
        ).returning(Membership.id)
        membership_id = int(rows[0]["id"])
        await record_event(
            actor,
            "membership.created",
            "membership",
            membership_id,
            f"{user['display_name']} joins {group['name']} as {fields.role} from {fields.starts_on}"
            + (f" to {fields.ends_on}" if fields.ends_on else ""),
        )
    return membership_id


def _terms_overlap(
    start_a: dt.date, end_a: dt.date | None, start_b: dt.date, end_b: dt.date | None
) -> bool:
    return (end_b is None or start_a <= end_b) and (end_a is None or start_b <= end_a)


async def get_membership(membership_id: int) -> dict[str, Any]:
    row = (
        await Membership.select(
            *Membership.all_columns(),
            Membership.user.display_name.as_alias("display_name"),
            Membership.user.email.as_alias("email"),
            Membership.group.slug.as_alias("group_slug"),
            Membership.group.name.as_alias("group_name"),
        )
        .where(Membership.id == membership_id)
        .first()
    )
    if row is None:
        raise NotFoundError("There is no such membership.")
    return row  # type: ignore[no-any-return]


async def update_membership(
    membership_id: int, fields: MembershipFields, actor: CurrentUser
) -> None:
    _require_admin(actor)
    _check_term(fields)
    async with write_transaction():
        existing = await get_membership(membership_id)
        others = await Membership.select(Membership.starts_on, Membership.ends_on).where(
            (Membership.user == existing["user"])
            & (Membership.group == existing["group"])
            & (Membership.id != membership_id)
        )
        if any(
            _terms_overlap(o["starts_on"], o["ends_on"], fields.starts_on, fields.ends_on)
            for o in others
        ):
            raise InvalidInput(
                "This person already has another membership of this group in that period.",
                {"starts_on": "Overlaps another term of this person."},
            )
        await Membership.update({getattr(Membership, k): v for k, v in vars(fields).items()}).where(
            Membership.id == membership_id
        )
        await record_event(
            actor,
            "membership.updated",
            "membership",
            membership_id,
            f"{existing['display_name']} in {existing['group_name']}: "
            f"{fields.role} from {fields.starts_on}"
            + (f" to {fields.ends_on}" if fields.ends_on else ", open-ended"),
        )


async def seed_default_groups() -> list[int]:
    """Creates the two founding groups with both lines if they are not there. Safe to repeat."""
    created = []
    for fields in DEFAULT_GROUPS:
        if not await WorkingGroup.exists().where(WorkingGroup.slug == fields.slug):
            created.append(await create_group(fields, SYSTEM))
    return created
