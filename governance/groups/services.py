"""The rules of working groups, memberships and reporting lines.

Only an administrator creates and changes groups, memberships and lines (the seeding of the
founding groups and the demo act as the system). Every group reports along both lines, to
the Executive Director and to the Board, from the day it is created. A group's name and
short name are its own; the short name is used in addresses, so the words those addresses
use next to it are refused. A person's terms of membership of one group never overlap.

Each use case authorises, then finds every field's error at once, then writes and audits in
one write transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec

from governance.accounts.policy import LINES, CurrentUser, Line
from governance.accounts.services import on_deactivation
from governance.accounts.tables import User
from governance.core.audit import SYSTEM, Actor, record_event
from governance.core.clock import organisation_today, utcnow
from governance.core.contracts import NO_ERRORS, field_errors, refuse, trimmed
from governance.core.db import columns_from, one_row, write_transaction
from governance.core.errors import PermissionDenied
from governance.core.forms import SLUG_PATTERN
from governance.groups.queries import NO_SUCH_LINE, membership_row
from governance.groups.schemas import (
    GroupDetails,
    GroupRecord,
    LineSettings,
    MembershipTerm,
    NewMembership,
    QuorumRule,
)
from governance.groups.tables import (
    Membership,
    ReportingLine,
    ReportingLineSettings,
    WorkingGroup,
)
from governance.notifications import emails
from governance.notifications.queries import load_subscribers

# Words used in addresses next to a group's slug (/admin/groups/lines/{id},
# /admin/groups/memberships/{id}, /admin/groups/new, …/edit), and the organisation-wide
# scope of transparency reports: a group with one of these as its slug could not be reached.
RESERVED_SLUGS = frozenset({"new", "edit", "lines", "memberships", "organisation"})
NOT_AN_ADMIN = "Only an administrator can change groups and memberships."
NO_SUCH_GROUP = "There is no such working group."

DEFAULT_GROUPS = (
    GroupDetails(
        name="Working Group on Wellbeing",
        slug="wellbeing",
        mandate=(
            "The Working Group on Wellbeing looks after the wellbeing of staff and volunteers: "
            "workload, psychological safety and support after difficult work.\n\n"
            "It reports to the **Executive Director** and directly to the **Board**."
        ),
    ),
    GroupDetails(
        name="Working Group on Non-Discrimination, Diversity and Inclusion",
        slug="ndi",
        mandate=(
            "The Working Group on Non-Discrimination, Diversity and Inclusion reviews policies and "
            "practice for fairness and inclusion, and recommends changes.\n\n"
            "It reports to the **Executive Director** and directly to the **Board**."
        ),
    ),
)
DEFAULT_LINE = LineSettings(cadence="quarterly", report_due_days=30, response_days=30)


def quorum_needed(rule: str, fixed_count: int, members: int) -> int:
    """Members who must be present for a quorum under the group's rule (meetings ask)."""
    return QuorumRule(rule).needed(fixed_count, members)


def _authorise(actor: Actor) -> None:
    """Administrators change groups; the system (seeding, the demo) may too."""
    if isinstance(actor, CurrentUser) and not actor.is_admin:
        raise PermissionDenied(NOT_AN_ADMIN)


# --- groups -----------------------------------------------------------------------------


def _normalised(command: GroupDetails) -> GroupDetails:
    command = trimmed(command)
    return msgspec.structs.replace(command, slug=command.slug.lower())


async def _taken(column: Any, value: str, group_id: int | None) -> bool:
    query = WorkingGroup.exists().where(column == value)
    if group_id is not None:
        query = query.where(WorkingGroup.id != group_id)
    return bool(await query)


async def _group_errors(
    command: GroupDetails, group_id: int | None, unreadable: Mapping[str, str]
) -> dict[str, str]:
    errors = {**field_errors(command), **unreadable}
    if "slug" not in errors and not SLUG_PATTERN.match(command.slug):
        errors["slug"] = "Short name may use lower-case letters, digits and single hyphens."
    if "slug" not in errors and command.slug in RESERVED_SLUGS:
        errors["slug"] = "This short name is used by the service's own addresses; choose another."
    if (
        "quorum_count" not in errors
        and command.quorum_rule == QuorumRule.FIXED
        and command.quorum_count < 1
    ):
        errors["quorum_count"] = "A fixed quorum needs a number of members of at least 1."
    if "name" not in errors and await _taken(WorkingGroup.name, command.name, group_id):
        errors["name"] = "Another group already has this name."
    if "slug" not in errors and await _taken(WorkingGroup.slug, command.slug, group_id):
        errors["slug"] = "Another group already has this short name."
    return errors


def _record(group_id: int, command: GroupDetails, created_at: dt.datetime) -> GroupRecord:
    fields = {**msgspec.structs.asdict(command), "id": group_id, "created_at": created_at}
    return msgspec.convert(fields, GroupRecord)


async def create_group(
    command: GroupDetails,
    actor: Actor,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
    line: LineSettings = DEFAULT_LINE,
) -> GroupRecord:
    """A new group, with both reporting lines: every group reports to the Director and the
    Board."""
    _authorise(actor)
    command = _normalised(command)
    async with write_transaction():
        refuse(await _group_errors(command, None, unreadable))
        created_at = utcnow()
        rows = await WorkingGroup.insert(
            WorkingGroup(columns_from(WorkingGroup, command), created_at=created_at)
        ).returning(WorkingGroup.id)
        group_id = int(rows[0]["id"])
        lines = await ReportingLine.insert(
            *[
                ReportingLine(
                    columns_from(ReportingLine, line), group=group_id, recipient=recipient
                )
                for recipient in LINES
            ]
        ).returning(ReportingLine.id)
        for row in lines:
            await _record_settings(row["id"], line, created_at)
        await record_event(
            actor,
            "group.created",
            "working_group",
            group_id,
            f"Group {command.name} created with Director and Board lines",
        )
    return _record(group_id, command, created_at)


async def update_group(
    group_id: int,
    command: GroupDetails,
    actor: Actor,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> GroupRecord:
    """New details of a group. Its short name may change, and with it its address; its
    reporting lines stay as they are."""
    _authorise(actor)
    command = _normalised(command)
    async with write_transaction():
        query = WorkingGroup.select(WorkingGroup.created_at).where(WorkingGroup.id == group_id)
        found = await one_row(query, NO_SUCH_GROUP)
        refuse(await _group_errors(command, group_id, unreadable))
        await WorkingGroup.update(columns_from(WorkingGroup, command)).where(
            WorkingGroup.id == group_id
        )
        await record_event(
            actor, "group.updated", "working_group", group_id, f"Group {command.name} updated"
        )
    return _record(group_id, command, found["created_at"])


async def seed_default_groups() -> list[int]:
    """Creates the two founding groups with both lines if they are not there. Safe to repeat."""
    created = []
    for command in DEFAULT_GROUPS:
        if not await WorkingGroup.exists().where(WorkingGroup.slug == command.slug):
            created.append((await create_group(command, SYSTEM)).id)
    return created


# --- reporting lines --------------------------------------------------------------------


async def _record_settings(line_id: int, command: LineSettings, made_at: dt.datetime) -> None:
    """A new version of the line's schedule: it applies to the periods that start after
    today, so the period under way keeps the cadence and due days it began with."""
    await ReportingLineSettings.insert(
        ReportingLineSettings(
            line=line_id,
            cadence=command.cadence,
            report_due_days=command.report_due_days,
            made_at=made_at,
        )
    )


async def update_reporting_line(
    line_id: int,
    command: LineSettings,
    actor: CurrentUser,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """A line's cadence and its days; the group's other line keeps its own. A new cadence
    or number of due days applies to the periods that have not started yet; the days allowed
    for a response apply to the reports delivered from now on."""
    _authorise(actor)
    async with write_transaction():
        query = ReportingLine.select(
            ReportingLine.recipient, ReportingLine.cadence, ReportingLine.report_due_days
        ).where(ReportingLine.id == line_id)
        line = await one_row(query, NO_SUCH_LINE)
        refuse({**field_errors(command), **unreadable})
        await ReportingLine.update(columns_from(ReportingLine, command)).where(
            ReportingLine.id == line_id
        )
        rescheduled = (line["cadence"], line["report_due_days"]) != (
            command.cadence,
            command.report_due_days,
        )
        if rescheduled:
            await _record_settings(line_id, command, utcnow())
        await record_event(
            actor,
            "reporting_line.updated",
            "reporting_line",
            line_id,
            f"{Line(line['recipient']).label} line: {command.cadence}, report due "
            f"{command.report_due_days} days after each period, response in "
            f"{command.response_days} days"
            + ("; the new schedule applies to periods not yet started" if rescheduled else ""),
        )


# --- memberships ------------------------------------------------------------------------


def _terms_overlap(
    start_a: dt.date, end_a: dt.date | None, start_b: dt.date, end_b: dt.date | None
) -> bool:
    return (end_b is None or start_a <= end_b) and (end_a is None or start_b <= end_a)


def _term_errors(
    command: MembershipTerm | NewMembership, unreadable: Mapping[str, str]
) -> dict[str, str]:
    errors = {**field_errors(command), **unreadable}
    ends_on, starts_on = command.ends_on, command.starts_on
    if not {"starts_on", "ends_on"} & set(errors) and ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = "The end date must be on or after the start date."
    return errors


async def _overlaps(
    user_id: int, group_id: int, term: MembershipTerm, other_than: int | None = None
) -> bool:
    """Whether this person already has a term of this group that overlaps this one."""
    query = Membership.select(Membership.starts_on, Membership.ends_on).where(
        (Membership.user == user_id) & (Membership.group == group_id)
    )
    if other_than is not None:
        query = query.where(Membership.id != other_than)
    return any(
        _terms_overlap(row["starts_on"], row["ends_on"], term.starts_on, term.ends_on)
        for row in await query
    )


def _describe_term(term: MembershipTerm, open_ended: str = "") -> str:
    return f"{term.role} from {term.starts_on}" + (
        f" to {term.ends_on}" if term.ends_on else open_ended
    )


async def _joining(
    group_id: int, command: NewMembership, unreadable: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The person and the group of a new membership, or one error with every field's."""
    query = WorkingGroup.select(WorkingGroup.name).where(WorkingGroup.id == group_id)
    group = await one_row(query, NO_SUCH_GROUP)
    errors = _term_errors(command, unreadable)
    user = None
    if "email" not in errors:
        user = (
            await User.select(User.id, User.display_name)
            .where(User.email == command.email.lower())
            .first()
        )
        if user is None:
            errors["email"] = "No account has this email. Invite the person first."
    if (
        user is not None
        and not {"starts_on", "ends_on"} & set(errors)
        and await _overlaps(user["id"], group_id, command.term)
    ):
        errors["starts_on"] = "Overlaps an existing term; end or change that one first."
    refuse(errors)
    assert user is not None
    return user, group


# What other domains do, in the same transaction, when a person joins a group (the meeting
# notices already out reach them): registered by those domains, which import this one.
JoiningStep = Callable[[Mapping[str, Any]], Awaitable[object]]
JOINING_STEPS: list[JoiningStep] = []


def on_joining(step: JoiningStep) -> JoiningStep:
    JOINING_STEPS.append(step)
    return step


async def add_membership(
    group_id: int,
    command: NewMembership,
    actor: Actor,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> int:
    """A person joins the group for a term that overlaps none of theirs in it."""
    _authorise(actor)
    command = trimmed(command)
    async with write_transaction():
        user, group = await _joining(group_id, command, unreadable)
        rows = await Membership.insert(
            Membership(columns_from(Membership, command.term), user=user["id"], group=group_id)
        ).returning(Membership.id)
        membership_id = int(rows[0]["id"])
        await record_event(
            actor,
            "membership.created",
            "membership",
            membership_id,
            f"{user['display_name']} joins {group['name']} as {_describe_term(command.term)}",
        )
        membership = await membership_row(membership_id)
        await _tell_joined(membership)
        for step in JOINING_STEPS:
            await step(membership)
    return membership_id


def _term_of(row: Mapping[str, Any]) -> tuple[str, dt.date, dt.date | None]:
    return row["role"], row["starts_on"], row["ends_on"]


async def _tell_joined(membership: Mapping[str, Any]) -> None:
    """The new member is told, if they are an active user who has not turned this off."""
    for subscriber in (await load_subscribers([membership["user"]])).values():
        await emails.membership_added(
            subscriber.recipient,
            membership_id=membership["id"],
            group_slug=membership["group_slug"],
            group_name=membership["group_name"],
            role=membership["role"],
            starts_on=membership["starts_on"],
            ends_on=membership["ends_on"],
        )


async def _tell_term_changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """The member is told of a new role or term (nothing when nothing changed)."""
    if _term_of(before) == _term_of(after):
        return
    for subscriber in (await load_subscribers([after["user"]])).values():
        await emails.membership_changed(
            subscriber.recipient,
            membership_id=after["id"],
            group_slug=after["group_slug"],
            group_name=after["group_name"],
            before=_term_of(before),
            after=_term_of(after),
        )


async def update_membership(
    membership_id: int,
    command: MembershipTerm,
    actor: CurrentUser,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """A term's new role and dates, overlapping no other term of the person in the group."""
    _authorise(actor)
    async with write_transaction():
        existing = await membership_row(membership_id)
        errors = _term_errors(command, unreadable)
        if not {"starts_on", "ends_on"} & set(errors) and await _overlaps(
            existing["user"], existing["group"], command, other_than=membership_id
        ):
            errors["starts_on"] = "Overlaps another term of this person."
        refuse(errors)
        await Membership.update(columns_from(Membership, command)).where(
            Membership.id == membership_id
        )
        await record_event(
            actor,
            "membership.updated",
            "membership",
            membership_id,
            f"{existing['display_name']} in {existing['group_name']}: "
            + _describe_term(command, ", open-ended"),
        )
        await _tell_term_changed(existing, await membership_row(membership_id))


@on_deactivation
async def end_memberships_of_deactivated(user_id: int, actor: CurrentUser) -> str:
    """A deactivated account is no member from the day it is deactivated: its current
    terms end the day before, and terms that have not begun never start. Recorded in the
    deactivation's audit event; quorum and rosters follow from the memberships."""
    today = organisation_today()
    yesterday = today - dt.timedelta(days=1)
    rows = await Membership.select(Membership.id, Membership.starts_on, Membership.ends_on).where(
        (Membership.user == user_id)
        & (Membership.ends_on.is_null() | (Membership.ends_on >= today))
    )
    for row in rows:
        # A term not yet begun ends the day before it would have started: never current.
        ends_on = yesterday if row["starts_on"] < today else row["starts_on"] - dt.timedelta(days=1)
        await Membership.update({Membership.ends_on: ends_on}).where(Membership.id == row["id"])
    if not rows:
        return ""
    ids = ", ".join(str(row["id"]) for row in rows)
    return f"memberships {ids} ended on {yesterday.isoformat()}"
