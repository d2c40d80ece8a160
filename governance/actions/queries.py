"""Reads of action items, returning views, with visibility applied in the query.

Who may read an action: whoever may read the group's content at the action's visibility,
and its owners whatever their role (`accounts.scopes.actions`). An action its reader may
not see is "not found", exactly like one that does not exist, in the same single query.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from piccolo.query.functions.aggregate import Count

from governance.accounts import scopes
from governance.accounts.policy import Viewer
from governance.actions.schemas import (
    ACTION_STATUSES,
    ACTIVE_STATUSES,
    DUE_RANGE_MESSAGE,
    GROUP_SOURCE_TYPES,
    ActionListView,
    ActionPage,
    ActionSummaryView,
    ActionUpdateView,
    ActionView,
    GroupActionFilters,
    MyActionFilters,
    OwnerView,
    SourceType,
    SourceView,
    due_range_errors,
)
from governance.actions.tables import ActionItem, ActionOwner, ActionUpdate
from governance.core.clock import organisation_today
from governance.core.contracts import refuse
from governance.core.db import PreparedSelect, read_at_once
from governance.core.errors import InvalidInput, NotFoundError
from governance.core.http import query_choice
from governance.core.paging import PageAt, decode_cursor, keyset_page, page_from, page_of
from governance.core.urls import path_for
from governance.groups.queries import get_group, members_on
from governance.groups.tables import WorkingGroup
from governance.meetings.tables import Decision, Meeting

NOT_FOUND = "There is no action at this address, or you cannot see it."
STATUS_MESSAGE = "Choose open, in progress, done or dropped."


def _columns() -> tuple[Any, ...]:
    return (
        *ActionItem.all_columns(),
        ActionItem.group.name.as_alias("group_name"),
        ActionItem.group.slug.as_alias("group_slug"),
        ActionItem.created_by.display_name.as_alias("created_by_name"),
    )


def is_overdue(status: str, due_on: dt.date, today: dt.date | None = None) -> bool:
    """Past its due date and still open or in progress."""
    return status in ACTIVE_STATUSES and due_on < (today or organisation_today())


def status_filter(status: str | None) -> str | None:
    """A status to filter by; empty means any."""
    return query_choice(status, ACTION_STATUSES, "status", STATUS_MESSAGE)


def _owners_where(condition: Any) -> Any:
    return ActionOwner.select(
        ActionOwner.action,
        ActionOwner.user,
        ActionOwner.user.display_name.as_alias("display_name"),
    ).where(condition)


_OWNERS_OF = PreparedSelect(lambda action_ids: _owners_where(ActionOwner.action.is_in(action_ids)))


async def _owners_of(action_ids: list[int]) -> dict[int, list[OwnerView]]:
    """Each action's owners, sorted by name: one query for all of them."""
    if not action_ids:
        return defaultdict(list)
    return _owners_by_action(await _OWNERS_OF.run(action_ids=list(action_ids)))


def _owners_by_action(rows: list[dict[str, Any]]) -> dict[int, list[OwnerView]]:
    by_action: dict[int, list[OwnerView]] = defaultdict(list)
    for row in rows:
        by_action[row["action"]].append(OwnerView(row["user"], row["display_name"]))
    for owners in by_action.values():
        owners.sort(key=lambda owner: (owner.display_name.lower(), owner.user_id))
    return by_action


def _summary(row: dict[str, Any], owners: list[OwnerView], today: dt.date) -> ActionSummaryView:
    return ActionSummaryView(
        id=row["id"],
        group_slug=row["group_slug"],
        group_name=row["group_name"],
        title=row["title"],
        status=row["status"],
        visibility=row["visibility"],
        due_on=row["due_on"],
        is_overdue=is_overdue(row["status"], row["due_on"], today),
        owners=owners,
        source_type=row["source_type"],
        source_id=row["source_id"],
        created_by=row["created_by"],
        created_by_name=row["created_by_name"],
        completed_at=row["completed_at"],
    )


async def _summaries(rows: list[dict[str, Any]]) -> list[ActionSummaryView]:
    return _summaries_with(rows, await _owners_of([row["id"] for row in rows]))


def _summaries_with(
    rows: list[dict[str, Any]], owners: dict[int, list[OwnerView]]
) -> list[ActionSummaryView]:
    today = organisation_today()
    return [_summary(row, owners[row["id"]], today) for row in rows]


def _overdue_first(actions: list[ActionSummaryView]) -> list[ActionSummaryView]:
    return sorted(actions, key=lambda a: (not a.is_overdue, a.due_on, a.id))


async def readable_row(action_id: int, viewer: Viewer) -> dict[str, Any]:
    """The action's row if this viewer may read it; not found otherwise (one query)."""
    row = (
        await ActionItem.select(*_columns())
        .where((ActionItem.id == action_id) & scopes.actions(viewer))
        .first()
    )
    if row is None:
        raise NotFoundError(NOT_FOUND)
    return row  # type: ignore[no-any-return]


async def _updates(action_id: int) -> list[ActionUpdateView]:
    rows = (
        await ActionUpdate.select(
            *ActionUpdate.all_columns(), ActionUpdate.author.display_name.as_alias("author_name")
        )
        .where(ActionUpdate.action == action_id)
        .order_by(ActionUpdate.created_at)
        .order_by(ActionUpdate.id)
    )
    return [
        ActionUpdateView(
            id=u["id"],
            author_name=u["author_name"],
            body=u["body"],
            status_from=u["status_from"],
            status_to=u["status_to"],
            created_at=u["created_at"],
        )
        for u in rows
    ]


async def get_action(action_id: int, viewer: Viewer) -> ActionView:
    """One action with its owners and its updates, oldest first; not found if unreadable."""
    return await _view(await readable_row(action_id, viewer), viewer)


async def _view(row: dict[str, Any], viewer: Viewer) -> ActionView:
    action_id = row["id"]
    owners = (await _owners_of([action_id]))[action_id]
    can_manage = viewer.leads(row["group"])
    is_owner = viewer.user.id in {owner.user_id for owner in owners}
    return ActionView(
        id=row["id"],
        group_slug=row["group_slug"],
        group_name=row["group_name"],
        title=row["title"],
        description=row["description"],
        status=row["status"],
        visibility=row["visibility"],
        due_on=row["due_on"],
        is_overdue=is_overdue(row["status"], row["due_on"]),
        drop_reason=row["drop_reason"],
        owners=owners,
        source_type=row["source_type"],
        source_id=row["source_id"],
        created_by=row["created_by"],
        created_by_name=row["created_by_name"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        completed_at=row["completed_at"],
        can_update=can_manage or is_owner,
        can_manage=can_manage,
        is_owner=is_owner,
        updates=await _updates(action_id),
    )


async def _source_of(action: dict[str, Any]) -> SourceView:
    if action["source_type"] == SourceType.MEETING:
        link = path_for("meetings:show", meeting_id=action["source_id"])
        return SourceView(label="A meeting", link=link)
    if action["source_type"] == SourceType.DECISION:
        decision = (
            await Decision.select(Decision.meeting)
            .where(Decision.id == action["source_id"])
            .first()
        )
        if decision is None:
            return SourceView(label="A decision of a meeting")
        link = path_for("meetings:show", meeting_id=decision["meeting"])
        return SourceView(label="A decision of a meeting", link=link)
    if action["source_type"] == SourceType.RESPONSE:
        return SourceView(label="A reporting line's response to a report")
    return SourceView(label="Created directly on the group")


async def owner_choices(group_id: int, current: Iterable[OwnerView] = ()) -> list[OwnerView]:
    """The group's current members, and anyone else who already owns the action(s)."""
    members = await members_on(group_id, organisation_today())
    choices = {m["user"]: m["display_name"] for m in members}
    for owner in current:
        choices.setdefault(owner.user_id, owner.display_name)
    return [
        OwnerView(user_id, name)
        for user_id, name in sorted(choices.items(), key=lambda c: (c[1].lower(), c[0]))
    ]


async def action_page(action_id: int, viewer: Viewer) -> ActionPage:
    """Everything the action page shows, in a fixed number of queries."""
    row = await readable_row(action_id, viewer)
    action = await _view(row, viewer)
    choices: list[OwnerView] = []
    if action.can_manage and action.status in ACTIVE_STATUSES:
        choices = await owner_choices(row["group"], action.owners)
    return ActionPage(action=action, source=await _source_of(row), owner_choices=choices)


async def list_group_actions(
    slug: str, viewer: Viewer, status: str | None = None, owner_id: int | None = None
) -> ActionListView:
    """A group's actions this viewer may read, overdue first then by due date."""
    status = status_filter(status)
    group = await get_group(slug)
    query = ActionItem.select(*_columns()).where(
        (ActionItem.group == group["id"]) & scopes.actions(viewer)
    )
    if status is not None:
        query = query.where(ActionItem.status == status)
    if owner_id is not None:
        query = query.where(
            ActionItem.id.is_in(
                ActionOwner.select(ActionOwner.action).where(ActionOwner.user == owner_id)
            )
        )
    return ActionListView(
        group_slug=group["slug"],
        group_name=group["name"],
        can_manage=viewer.leads(group["id"]),
        can_read=scopes.reads_group_content(viewer, group["id"]),
        actions=_overdue_first(await _summaries(await query)),
    )


async def paged_group_actions(
    slug: str,
    viewer: Viewer,
    status: str | None = None,
    owner_id: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
    due: tuple[dt.date | None, dt.date | None] = (None, None),
) -> ActionListView:
    """A page of a group's actions this viewer may read (the visibility in the query, so a
    page is full: no gap where a hidden one is), by due date, soonest first, due between
    the `due` dates if given, and how many of them all are overdue: three queries at any
    page."""
    status = status_filter(status)
    refuse(due_range_errors(GroupActionFilters(due_from=due[0], due_to=due[1])), DUE_RANGE_MESSAGE)
    group = await get_group(slug)
    condition = (ActionItem.group == group["id"]) & scopes.actions(viewer) & _due_between(*due)
    if status is not None:
        condition = condition & (ActionItem.status == status)
    if owner_id is not None:
        condition = condition & ActionItem.id.is_in(
            ActionOwner.select(ActionOwner.action).where(ActionOwner.user == owner_id)
        )
    query = ActionItem.select(*_columns()).where(condition)
    found = await keyset_page(
        query, ActionItem.due_on, ActionItem.id, cursor, limit, descending=False
    )
    overdue = await ActionItem.count().where(
        condition
        & ActionItem.status.is_in(list(ACTIVE_STATUSES))
        & (ActionItem.due_on < organisation_today())
    )
    return ActionListView(
        group_slug=group["slug"],
        group_name=group["name"],
        can_manage=viewer.leads(group["id"]),
        can_read=scopes.reads_group_content(viewer, group["id"]),
        actions=await _summaries(found.rows),
        older=found.older,
        newer=found.newer,
        overdue_count=overdue,
    )


def _due_between(due_from: dt.date | None, due_to: dt.date | None) -> Any:
    """Due on or after `due_from` and on or before `due_to` (either may be absent)."""
    condition: Any = ActionItem.id.is_not_null()
    if due_from is not None:
        condition = condition & (ActionItem.due_on >= due_from)
    if due_to is not None:
        condition = condition & (ActionItem.due_on <= due_to)
    return condition


def _mine(viewer: Viewer, by: tuple[bool, bool, bool, bool], values: dict[str, Any]) -> Any:
    """Assigned to me or created by me, that I may still read, with the filters `by` names
    (status, group, due from, due to) on `values` (or a prepared select's placeholders)."""
    by_status, by_group, by_from, by_to = by
    owned = ActionItem.id.is_in(
        ActionOwner.select(ActionOwner.action).where(ActionOwner.user == viewer.user.id)
    )
    condition = (owned | (ActionItem.created_by == viewer.user.id)) & scopes.actions(viewer)
    if by_status:
        condition = condition & (ActionItem.status == values["status"])
    if by_group:
        condition = condition & (ActionItem.group.slug == values["group_slug"])
    if by_from:
        condition = condition & (ActionItem.due_on >= values["due_from"])
    if by_to:
        condition = condition & (ActionItem.due_on <= values["due_to"])
    return condition


# Built once per viewer and filter (every signed-in view of the dashboard asks for it).
_MY_ACTIONS = PreparedSelect(
    lambda viewer, by, **values: ActionItem.select(*_columns()).where(_mine(viewer, by, values))
)
# The owners of those same actions, chosen by the same condition rather than by the ids
# found, so that both are read at once.
_OWNERS_OF_MY_ACTIONS = PreparedSelect(
    lambda viewer, by, **values: _owners_where(
        ActionOwner.action.is_in(ActionItem.select(ActionItem.id).where(_mine(viewer, by, values)))
    )
)
_MY_ACTIONS_PAGE = PreparedSelect(
    lambda viewer, by, at, *, after_due, after_id, **values: page_of(
        ActionItem.select(*_columns()).where(_mine(viewer, by, values)),
        ActionItem.due_on,
        ActionItem.id,
        at,
        after_due,
        after_id,
    )
)
_MY_OVERDUE = PreparedSelect(
    lambda viewer, by, *, today, **values: ActionItem.select(Count()).where(
        _mine(viewer, by, values)
        & ActionItem.status.is_in(list(ACTIVE_STATUSES))
        & (ActionItem.due_on < today)
    )
)


async def my_actions(
    viewer: Viewer, status: str | None = None, group_slug: str | None = None
) -> list[ActionSummaryView]:
    """Actions assigned to me or created by me that I may still read, overdue first."""
    status = status_filter(status)
    by = (status is not None, bool(group_slug), False, False)
    values = {"status": status or "", "group_slug": group_slug or ""}
    rows, owners = await read_at_once(
        _MY_ACTIONS.run(viewer, by, **values), _OWNERS_OF_MY_ACTIONS.run(viewer, by, **values)
    )
    return _overdue_first(_summaries_with(rows, _owners_by_action(owners)))


async def paged_my_actions(
    viewer: Viewer, filters: MyActionFilters, limit: int | None = None
) -> ActionListView:
    """A page of My actions (assigned to me or created by me, that I may still read, the
    reading rule and every filter in the query, so a page has no gap), soonest due first,
    and how many of them all are overdue: the page and the count are read together, then
    the page's owners."""
    refuse(due_range_errors(filters), DUE_RANGE_MESSAGE)
    status = status_filter(filters.status or None)
    by = (status is not None, bool(filters.group), bool(filters.due_from), bool(filters.due_to))
    values = {
        "status": status or "",
        "group_slug": filters.group,
        "due_from": filters.due_from or dt.date.min,
        "due_to": filters.due_to or dt.date.max,
    }
    cursor = decode_cursor(filters.cursor or None)
    at = PageAt.of(cursor, limit, descending=False)
    after = {
        "after_due": cursor.value if cursor else dt.date.min,
        "after_id": cursor.row_id if cursor else 0,
    }
    rows, overdue = await read_at_once(
        _MY_ACTIONS_PAGE.run(viewer, by, at, **after, **values),
        _MY_OVERDUE.run(viewer, by, today=organisation_today(), **values),
    )
    found = page_from(rows, ActionItem.due_on, ActionItem.id, at, cursor)
    return ActionListView(
        group_slug="",
        group_name="",
        can_manage=False,
        can_read=True,
        actions=await _summaries(found.rows),
        older=found.older,
        newer=found.newer,
        overdue_count=overdue[0]["count"],
    )


async def actions_for_sources(
    source_type: str, source_ids: Iterable[int], viewer: Viewer
) -> dict[int, list[ActionSummaryView]]:
    """The readable actions that came from each of these sources, by source id, in order of
    due date; every id asked about is a key. Two queries whatever the number of sources."""
    ids = sorted(set(source_ids))
    found: dict[int, list[ActionSummaryView]] = {source_id: [] for source_id in ids}
    if not ids:
        return found
    rows = (
        await ActionItem.select(*_columns())
        .where(
            (ActionItem.source_type == source_type)
            & ActionItem.source_id.is_in(ids)
            & scopes.actions(viewer)
        )
        .order_by(ActionItem.due_on)
        .order_by(ActionItem.id)
    )
    for action in await _summaries(rows):
        if action.source_id is not None:
            found[action.source_id].append(action)
    return found


_GROUP_CHOICES = PreparedSelect(
    lambda: WorkingGroup.select(WorkingGroup.name, WorkingGroup.slug).order_by(WorkingGroup.name)
)


async def group_choices() -> list[dict[str, Any]]:
    """Every group's name and slug, for filters."""
    return await _GROUP_CHOICES.run()


def source_errors(
    source_type: str, source_id: int | None, allowed: Iterable[str] = GROUP_SOURCE_TYPES
) -> dict[str, str]:
    """Why this pair does not name where an action comes from, if it does not."""
    allowed = tuple(allowed)
    if source_type not in allowed:
        return {"source_type": f"Choose one of: {', '.join(allowed)}."}
    if source_type == SourceType.GROUP and source_id is not None:
        return {"source_id": "An action made directly on the group has no source."}
    if source_type != SourceType.GROUP and source_id is None:
        return {"source_id": f"Say which {source_type} the action comes from."}
    return {}


async def describe_source(
    group_id: int, source_type: str, source_id: int | None
) -> SourceView | None:
    """What an action of this group would come from, for the new-action form: a label, a
    link and the visibility to suggest; None for an action made directly on the group."""
    errors = source_errors(source_type, source_id)
    if errors:
        raise InvalidInput("An action comes from a meeting or a decision of its group.", errors)
    if source_type == SourceType.GROUP or source_id is None:
        return None
    if source_type == SourceType.MEETING:
        meeting = (
            await Meeting.select(Meeting.id, Meeting.title)
            .where((Meeting.id == source_id) & (Meeting.group == group_id))
            .first()
        )
        if meeting is None:
            raise NotFoundError("There is no such meeting in this group.")
        link = path_for("meetings:show", meeting_id=meeting["id"])
        return SourceView(label=f"Meeting: {meeting['title']}", link=link)
    decision = (
        await Decision.select(
            Decision.id,
            Decision.meeting,
            Decision.agenda_item.visibility.as_alias("visibility"),
            Decision.meeting.title.as_alias("meeting_title"),
        )
        .where((Decision.id == source_id) & (Decision.meeting.group == group_id))
        .first()
    )
    if decision is None:
        raise NotFoundError("There is no such decision in this group.")
    return SourceView(
        label=f"A decision of the meeting: {decision['meeting_title']}",
        link=path_for("meetings:show", meeting_id=decision["meeting"]),
        visibility=decision["visibility"],
    )
