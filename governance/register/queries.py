"""Reads of the decision register, with visibility applied in the query
(`accounts.scopes.decisions`): a decision its reader may not read is never fetched, so it
leaves no row, no number and no count behind. Three queries whatever the amount of data:
the decisions, then the actions that came of them (two)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from governance.accounts import scopes
from governance.accounts.policy import Viewer
from governance.actions.queries import actions_for_sources
from governance.actions.schemas import SourceType
from governance.core.clock import organisation_zone
from governance.core.errors import InvalidInput
from governance.core.exports import csv_bytes
from governance.core.http import query_choice
from governance.groups.queries import get_group
from governance.meetings.queries import meeting_date, outcome
from governance.meetings.tables import Decision
from governance.register.schemas import (
    CSV_HEADER,
    DATE_MESSAGE,
    NO_VOTE,
    OUTCOME_CHOICES,
    OUTCOME_MESSAGE,
    RegisterActionView,
    RegisterEntryView,
    RegisterFilters,
    RegisterView,
)
from governance.resolutions.queries import decided_for_register


def _date(raw: str | None, name: str, errors: dict[str, str]) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = DATE_MESSAGE
        return None


def read_filters(
    group: str | None = None,
    outcome_filter: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> RegisterFilters:
    """The filters of a query string; every unreadable one named at once (a 422)."""
    errors: dict[str, str] = {}
    try:
        chosen = query_choice(outcome_filter, OUTCOME_CHOICES, "outcome", OUTCOME_MESSAGE)
    except InvalidInput as refused:
        errors.update(refused.field_errors)
        chosen = None
    filters = RegisterFilters(
        group=group or "",
        outcome=chosen or "",
        since=_date(since, "since", errors),
        until=_date(until, "until", errors),
    )
    if filters.since and filters.until and filters.since > filters.until:
        errors["until"] = "The end of the range comes before its start."
    if errors:
        raise InvalidInput("Unknown filter.", errors)
    return filters


def _columns() -> tuple[Any, ...]:
    meeting = Decision.meeting
    return (
        Decision.id,
        Decision.text,
        Decision.votes_for,
        Decision.votes_against,
        Decision.votes_abstain,
        Decision.quorum_met,
        meeting.id.as_alias("meeting_id"),
        meeting.title.as_alias("meeting_title"),
        meeting.starts_at.as_alias("starts_at"),
        meeting._.group._.slug.as_alias("group_slug"),
        meeting._.group._.name.as_alias("group_name"),
        meeting._.group._.decision_rule.as_alias("decision_rule"),
        Decision.agenda_item.title.as_alias("item_title"),
    )


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=organisation_zone())


def _condition(viewer: Viewer, group_id: int | None, filters: RegisterFilters) -> Any:
    condition = scopes.decisions(viewer)
    if group_id is not None:
        condition = condition & (Decision.meeting.group == group_id)
    if filters.since:
        condition = condition & (Decision.meeting.starts_at >= _midnight(filters.since))
    if filters.until:
        end = _midnight(filters.until + dt.timedelta(days=1))
        condition = condition & (Decision.meeting.starts_at < end)
    return condition


def _outcome_of(row: dict[str, Any]) -> str | None:
    return outcome(
        row["decision_rule"], row["votes_for"], row["votes_against"], row["votes_abstain"]
    )


def _wanted(filters: RegisterFilters, result: str | None) -> bool:
    if not filters.outcome:
        return True
    return (result or NO_VOTE) == filters.outcome


WRITTEN_RESOLUTION = "written resolution"


def _in_range(day: dt.date, filters: RegisterFilters) -> bool:
    return (not filters.since or day >= filters.since) and (
        not filters.until or day <= filters.until
    )


async def _resolution_entries(
    viewer: Viewer, group_id: int | None, filters: RegisterFilters
) -> list[tuple[dt.datetime, RegisterEntryView]]:
    """Written resolutions decided between meetings, as entries (numbered later), each with
    the moment it closed: one query."""
    found = []
    for row in await decided_for_register(viewer, group_id):
        decided_on = meeting_date(row["closed_at"])
        if not _in_range(decided_on, filters):
            continue
        entry = RegisterEntryView(
            number=0,
            decided_on=decided_on,
            meeting_id=None,
            meeting_title="Written resolution",
            group_slug=row["group_slug"],
            group_name=row["group_name"],
            item_title=row["title"],
            text=row["text"],
            votes_for=row["votes_for"],
            votes_against=row["votes_against"],
            votes_abstain=row["votes_abstain"],
            outcome="carried" if row["status"] == "carried" else "not carried",
            quorum_met=bool(row["quorum_met"]),
            actions=[],
            kind=WRITTEN_RESOLUTION,
            resolution_id=row["id"],
        )
        found.append((row["closed_at"], entry))
    return found


def _decision_entry(row: dict[str, Any], actions: list[Any]) -> RegisterEntryView:
    return RegisterEntryView(
        number=0,
        decided_on=meeting_date(row["starts_at"]),
        meeting_id=row["meeting_id"],
        meeting_title=row["meeting_title"],
        group_slug=row["group_slug"],
        group_name=row["group_name"],
        item_title=row["item_title"],
        text=row["text"],
        votes_for=row["votes_for"],
        votes_against=row["votes_against"],
        votes_abstain=row["votes_abstain"],
        outcome=_outcome_of(row),
        quorum_met=bool(row["quorum_met"]),
        actions=[
            RegisterActionView(
                id=a.id, title=a.title, status=a.status, due_on=a.due_on, is_overdue=a.is_overdue
            )
            for a in actions
        ],
    )


async def _entries(
    condition: Any, filters: RegisterFilters, viewer: Viewer, group_id: int | None = None
) -> list[RegisterEntryView]:
    rows = (
        await Decision.select(*_columns())
        .where(condition)
        .order_by(Decision.meeting.starts_at)
        .order_by(Decision.created_at)
        .order_by(Decision.id)
    )
    actions = await actions_for_sources(SourceType.DECISION, [r["id"] for r in rows], viewer)
    dated = await _resolution_entries(viewer, group_id, filters)
    dated.extend((row["starts_at"], _decision_entry(row, actions[row["id"]])) for row in rows)
    dated.sort(key=lambda pair: pair[0])  # stable: a meeting's decisions keep their order
    # Numbered among the decisions this reader reads, before the outcome filter, so that a
    # number means the same decision whatever is filtered.
    entries = [
        msgspec.structs.replace(entry, number=number)
        for number, (_, entry) in enumerate(dated, start=1)
        if _wanted(filters, entry.outcome)
    ]
    entries.reverse()  # newest first
    return entries


async def group_register(slug: str, viewer: Viewer, filters: RegisterFilters) -> RegisterView:
    """One group's decisions this reader may read, newest first; not found for no group."""
    group = await get_group(slug)
    condition = _condition(viewer, group["id"], filters)
    entries = await _entries(condition, filters, viewer, group["id"])
    return RegisterView(
        group_slug=group["slug"], group_name=group["name"], filters=filters, entries=entries
    )


async def organisation_register(viewer: Viewer, filters: RegisterFilters) -> RegisterView:
    """Every group's decisions this reader may read (or one group's, by the filter)."""
    if filters.group:
        return await group_register(filters.group, viewer, filters)
    entries = await _entries(_condition(viewer, None, filters), filters, viewer)
    return RegisterView(group_slug=None, group_name=None, filters=filters, entries=entries)


def register_csv(register: RegisterView) -> bytes:
    """The register as CSV (formula-guarded by `core.exports`), oldest first."""
    rows = [
        (
            entry.number,
            entry.decided_on.isoformat(),
            entry.group_name,
            entry.meeting_title,
            entry.item_title,
            entry.text,
            entry.votes_for,
            entry.votes_against,
            entry.votes_abstain,
            entry.outcome or NO_VOTE,
            "yes" if entry.quorum_met else "no",
            "; ".join(f"{a.title} ({a.status.replace('_', ' ')})" for a in entry.actions),
        )
        for entry in reversed(register.entries)
    ]
    return csv_bytes(CSV_HEADER, rows)
