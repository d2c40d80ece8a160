"""The rules of action items: who will do what by when, and their progress.

Who may read an action: whoever may read the group's content at the action's visibility
(`Viewer.readable_visibilities`), and its owners whatever their role. The rule is applied in
the query, so a list never fetches an action its reader may not see, and an action its reader
may not see is "not found", exactly like one that does not exist.

Chairs and secretaries create actions, change their owners and move their due dates; owners,
chairs and secretaries change the status and add progress notes. The status moves
open → in progress → done, or from open straight to done, or from open or in progress to
dropped with a reason; done and dropped are final. Every change writes one audit event in its
transaction, whose summary never carries an action's title or text.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from governance.accounts.policy import VISIBILITIES, CurrentUser, Viewer, strongest_roles
from governance.accounts.tables import User
from governance.actions.tables import ActionItem, ActionOwner, ActionUpdate
from governance.core.audit import record_event
from governance.core.clock import organisation_today, utcnow
from governance.core.db import is_postgres, write_transaction
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.groups.queries import get_group, members_on
from governance.groups.tables import Membership, WorkingGroup
from governance.meetings.tables import Decision, Meeting

ACTION_STATUSES = ("open", "in_progress", "done", "dropped")
ACTIVE_STATUSES = frozenset({"open", "in_progress"})
# Every change of status that is allowed; anything else is refused. Done and dropped are final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("in_progress", "done", "dropped"),
    "in_progress": ("done", "dropped"),
}
# Where an action comes from. "response" is a reporting line's response to a report (the id
# is the delivery's); the reports domain creates those through `insert_action`.
SOURCE_TYPES = ("group", "meeting", "decision", "response")
# What a chair or secretary may create an action from, on the group's own pages.
GROUP_SOURCE_TYPES = ("group", "meeting", "decision")
TITLE_MAX_LENGTH = 300
DESCRIPTION_MAX_LENGTH = 20000
NOTE_MAX_LENGTH = 5000
MAX_OWNERS = 50
NOT_FOUND = "There is no action at this address, or you cannot see it."
# Serial ids start at 1: asking the policy about group 0 asks what the viewer may read of a
# group they are not a member of.
_NOT_A_GROUP = 0


@dataclass(frozen=True)
class ActionFields:
    title: str
    description: str
    due_on: dt.date
    visibility: str
    owner_ids: list[int]


# --- reading rules ----------------------------------------------------------------------


def _owned_by(user_id: int) -> Any:
    return ActionItem.id.is_in(
        ActionOwner.select(ActionOwner.action).where(ActionOwner.user == user_id)
    )


def readable_condition(viewer: Viewer) -> Any:
    """The query condition for the actions this viewer may read: in each group they are a
    member of, the visibilities the policy gives them there; in any other group, what the
    policy gives them as Director or Board member (nothing to anyone else); and whatever
    they own."""
    condition = _owned_by(viewer.user.id)
    by_visibilities: dict[frozenset[str], list[int]] = defaultdict(list)
    for group_id in viewer.group_roles:
        by_visibilities[viewer.readable_visibilities(group_id)].append(group_id)
    for visibilities, group_ids in by_visibilities.items():
        if visibilities:
            condition = condition | (
                ActionItem.group.is_in(sorted(group_ids))
                & ActionItem.visibility.is_in(sorted(visibilities))
            )
    outside = viewer.readable_visibilities(_NOT_A_GROUP)
    if outside:
        condition = condition | (
            ActionItem.group.not_in(sorted(viewer.group_roles) or [_NOT_A_GROUP])
            & ActionItem.visibility.is_in(sorted(outside))
        )
    return condition


def _columns() -> tuple[Any, ...]:
    return (
        *ActionItem.all_columns(),
        ActionItem.group.name.as_alias("group_name"),
        ActionItem.group.slug.as_alias("group_slug"),
        ActionItem.created_by.display_name.as_alias("created_by_name"),
    )


def is_overdue(action: dict[str, Any], today: dt.date | None = None) -> bool:
    return action["status"] in ACTIVE_STATUSES and action["due_on"] < (
        today or organisation_today()
    )


async def _with_owners(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adds each action's owners (one query for all of them) and its overdue flag."""
    if not rows:
        return rows
    owners = (
        await ActionOwner.select(
            ActionOwner.action,
            ActionOwner.user,
            ActionOwner.user.display_name.as_alias("display_name"),
        )
        .where(ActionOwner.action.is_in([row["id"] for row in rows]))
        .order_by(ActionOwner.id)
    )
    by_action: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for owner in owners:
        by_action[owner["action"]].append(
            {"user_id": owner["user"], "display_name": owner["display_name"]}
        )
    today = organisation_today()
    for row in rows:
        row_owners = sorted(by_action[row["id"]], key=lambda o: o["display_name"].lower())
        row["owners"] = row_owners
        row["owner_ids"] = [o["user_id"] for o in row_owners]
        row["owner_names"] = [o["display_name"] for o in row_owners]
        row["is_overdue"] = is_overdue(row, today)
    return rows


def _overdue_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: (not row["is_overdue"], row["due_on"], row["id"]))


def _check_status_filter(status: str | None) -> None:
    if status is not None and status not in ACTION_STATUSES:
        raise InvalidInput(
            "Unknown status.", {"status": "Choose open, in progress, done or dropped."}
        )


async def get_action(action_id: int, viewer: Viewer) -> dict[str, Any]:
    """One action with its owners and its updates, oldest first; not found if unreadable."""
    row = (
        await ActionItem.select(*_columns())
        .where((ActionItem.id == action_id) & readable_condition(viewer))
        .first()
    )
    if row is None:
        raise NotFoundError(NOT_FOUND)
    [action] = await _with_owners([row])
    action["updates"] = (
        await ActionUpdate.select(
            *ActionUpdate.all_columns(),
            ActionUpdate.author.display_name.as_alias("author_name"),
        )
        .where(ActionUpdate.action == action_id)
        .order_by(ActionUpdate.created_at)
        .order_by(ActionUpdate.id)
    )
    action["is_owner"] = viewer.user.id in action["owner_ids"]
    action["can_manage"] = viewer.leads(action["group"])
    action["can_update"] = action["is_owner"] or action["can_manage"]
    action["next_statuses"] = TRANSITIONS.get(action["status"], ())
    return action  # type: ignore[no-any-return]


async def action_page(action_id: int, viewer: Viewer) -> dict[str, Any]:
    """Everything the action page shows, in a fixed number of queries: the action, where it
    came from, and for the chair or secretary the people it can be given to."""
    action = await get_action(action_id, viewer)
    source: dict[str, Any] = {"label": "Created directly on the group", "link": None}
    if action["source_type"] == "meeting":
        source = {"label": "A meeting", "link": f"/meetings/{action['source_id']}"}
    elif action["source_type"] == "decision":
        decision = (
            await Decision.select(Decision.meeting)
            .where(Decision.id == action["source_id"])
            .first()
        )
        source = {
            "label": "A decision of a meeting",
            "link": f"/meetings/{decision['meeting']}" if decision else None,
        }
    elif action["source_type"] == "response":
        source = {"label": "A reporting line's response to a report", "link": None}
    owner_choices: list[dict[str, Any]] = []
    if action["can_manage"] and action["status"] in ACTIVE_STATUSES:
        members = await members_on(action["group"], organisation_today())
        owner_choices = [{"user_id": m["user"], "display_name": m["display_name"]} for m in members]
        member_ids = {m["user"] for m in members}
        owner_choices += [o for o in action["owners"] if o["user_id"] not in member_ids]
    return {"action": action, "source": source, "owner_choices": owner_choices}


async def list_group_actions(
    slug: str, viewer: Viewer, status: str | None = None, owner_id: int | None = None
) -> dict[str, Any]:
    """A group's actions this viewer may read, overdue first then by due date."""
    _check_status_filter(status)
    group = await get_group(slug)
    query = ActionItem.select(*_columns()).where(
        (ActionItem.group == group["id"]) & readable_condition(viewer)
    )
    if status is not None:
        query = query.where(ActionItem.status == status)
    if owner_id is not None:
        query = query.where(_owned_by(owner_id))
    actions = _overdue_first(await _with_owners(await query))
    return {
        "group": group,
        "actions": actions,
        "can_read": bool(viewer.readable_visibilities(group["id"])),
        "can_manage": viewer.leads(group["id"]),
    }


async def my_actions(
    viewer: Viewer, status: str | None = None, group_slug: str | None = None
) -> list[dict[str, Any]]:
    """Actions assigned to me or created by me that I may still read, overdue first."""
    _check_status_filter(status)
    mine = _owned_by(viewer.user.id) | (ActionItem.created_by == viewer.user.id)
    query = ActionItem.select(*_columns()).where(mine & readable_condition(viewer))
    if status is not None:
        query = query.where(ActionItem.status == status)
    if group_slug:
        query = query.where(ActionItem.group.slug == group_slug)
    return _overdue_first(await _with_owners(await query))


async def actions_for_sources(
    source_type: str, source_ids: Iterable[int], viewer: Viewer
) -> dict[int, list[dict[str, Any]]]:
    """The readable actions that came from each of these sources, by source id, in order of
    due date; every id asked about is a key. Two queries whatever the number of sources."""
    ids = sorted(set(source_ids))
    found: dict[int, list[dict[str, Any]]] = {source_id: [] for source_id in ids}
    if not ids:
        return found
    rows = (
        await ActionItem.select(*_columns())
        .where(
            (ActionItem.source_type == source_type)
            & ActionItem.source_id.is_in(ids)
            & readable_condition(viewer)
        )
        .order_by(ActionItem.due_on)
        .order_by(ActionItem.id)
    )
    for row in await _with_owners(rows):
        found[row["source_id"]].append(row)
    return found


async def group_choices() -> list[dict[str, Any]]:
    """Every group's name and slug, for filters."""
    return await WorkingGroup.select(WorkingGroup.name, WorkingGroup.slug).order_by(  # type: ignore[no-any-return]
        WorkingGroup.name
    )


async def describe_source(
    group_id: int, source_type: str, source_id: int | None
) -> dict[str, Any] | None:
    """What an action of this group would come from, for the new-action form: a label, a
    link and the visibility to suggest; None for an action made directly on the group."""
    errors = _source_errors(source_type, source_id, GROUP_SOURCE_TYPES)
    if errors:
        raise InvalidInput("An action comes from a meeting or a decision of its group.", errors)
    if source_type == "group" or source_id is None:
        return None
    if source_type == "meeting":
        meeting = (
            await Meeting.select(Meeting.id, Meeting.title)
            .where((Meeting.id == source_id) & (Meeting.group == group_id))
            .first()
        )
        if meeting is None:
            raise NotFoundError("There is no such meeting in this group.")
        return {
            "label": f"Meeting: {meeting['title']}",
            "link": f"/meetings/{meeting['id']}",
            "visibility": "internal",
        }
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
    return {
        "label": f"A decision of the meeting: {decision['meeting_title']}",
        "link": f"/meetings/{decision['meeting']}",
        "visibility": decision["visibility"],
    }


# --- checks -----------------------------------------------------------------------------


def _text_error(
    value: str, label: str, max_length: int, *, required: bool, empty_message: str = ""
) -> str | None:
    if required and not value:
        return empty_message or f"{label} is required."
    if len(value) > max_length:
        return f"{label} must be at most {max_length} characters."
    # PostgreSQL cannot store a NUL character in text; refuse it instead of failing there.
    if "\x00" in value:
        return f"{label} contains a character that cannot be stored (NUL)."
    return None


def _field_errors(fields: ActionFields, today: dt.date) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, message in (
        ("title", _text_error(fields.title.strip(), "Title", TITLE_MAX_LENGTH, required=True)),
        (
            "description",
            _text_error(fields.description, "Description", DESCRIPTION_MAX_LENGTH, required=False),
        ),
    ):
        if message:
            errors[name] = message
    if fields.visibility not in VISIBILITIES:
        errors["visibility"] = "Choose a visibility from the list."
    if fields.due_on < today:
        errors["due_on"] = "The due date cannot be in the past."
    if not fields.owner_ids:
        errors["owner_ids"] = "Choose at least one owner."
    elif len(set(fields.owner_ids)) > MAX_OWNERS:
        errors["owner_ids"] = f"An action has at most {MAX_OWNERS} owners."
    return errors


def _source_errors(
    source_type: str, source_id: int | None, allowed: tuple[str, ...]
) -> dict[str, str]:
    if source_type not in allowed:
        return {"source_type": f"Choose one of: {', '.join(allowed)}."}
    if source_type == "group" and source_id is not None:
        return {"source_id": "An action made directly on the group has no source."}
    if source_type != "group" and source_id is None:
        return {"source_id": f"Say which {source_type} the action comes from."}
    return {}


async def _source_belongs(group_id: int, source_type: str, source_id: int | None) -> bool:
    if source_type == "meeting":
        return bool(
            await Meeting.exists().where((Meeting.id == source_id) & (Meeting.group == group_id))
        )
    if source_type == "decision":
        return bool(
            await Decision.exists().where(
                (Decision.id == source_id) & (Decision.meeting.group == group_id)
            )
        )
    return True


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(ids))


async def _owners(owner_ids: list[int], group_id: int) -> dict[int, dict[str, Any]]:
    """The users these ids name, active or not, each with the `Viewer` they are today in
    this group: two queries."""
    if not owner_ids:
        return {}
    users = await User.select(
        User.id,
        User.email,
        User.display_name,
        User.is_active,
        User.is_admin,
        User.is_director,
        User.is_board,
        User.timezone,
    ).where(User.id.is_in(owner_ids))
    memberships = await Membership.select(
        Membership.user, Membership.group, Membership.role, Membership.starts_on, Membership.ends_on
    ).where((Membership.group == group_id) & Membership.user.is_in(owner_ids))
    today = organisation_today()
    found = {}
    for user in users:
        held = [m for m in memberships if m["user"] == user["id"]]
        viewer = Viewer(CurrentUser.from_row(user), strongest_roles(held, today))
        found[user["id"]] = {**user, "viewer": viewer}
    return found


def _owner_error(
    owner_ids: list[int],
    owners: dict[int, dict[str, Any]],
    *,
    group_id: int,
    visibility: str,
    members_only: bool,
    staying: frozenset[int] = frozenset(),
) -> str | None:
    """Why these people cannot own the action, if they cannot. An owner sees what they own,
    so each must be someone the policy already lets read it: a `board` action is never
    given to the Director, a `group` action never leaves the group."""
    for owner_id in owner_ids:
        owner = owners.get(owner_id)
        if owner is None or not owner["is_active"]:
            return "Every owner must be a person with an active account."
        if owner_id in staying:
            continue
        viewer: Viewer = owner["viewer"]
        if members_only and not viewer.is_member_of(group_id):
            return "Choose owners from the group's current members."
        if visibility not in viewer.readable_visibilities(group_id):
            return (
                f"{owner['display_name']} may not read an action with this visibility; "
                "choose owners who may."
            )
    return None


def _summary(action_id: int, visibility: str) -> str:
    # Titles and text of actions stay out of the audit trail: a `board` or `group` title is
    # confidential, and the trail's metadata is shown to admins.
    return f"Action {action_id} ({visibility})"


# --- creating ---------------------------------------------------------------------------


async def _insert(
    group_id: int,
    fields: ActionFields,
    actor: CurrentUser,
    source_type: str,
    source_id: int | None,
    *,
    allowed_sources: tuple[str, ...],
    members_only: bool,
) -> int:
    errors = _field_errors(fields, organisation_today())
    source_errors = _source_errors(source_type, source_id, allowed_sources)
    errors.update(source_errors)
    owner_ids = _unique(fields.owner_ids)
    async with write_transaction():
        if not await WorkingGroup.exists().where(WorkingGroup.id == group_id):
            raise NotFoundError("There is no working group at this address.")
        if not source_errors and not await _source_belongs(group_id, source_type, source_id):
            errors["source_id"] = f"That {source_type} is not part of this group's record."
        if owner_ids and "owner_ids" not in errors and "visibility" not in errors:
            message = _owner_error(
                owner_ids,
                await _owners(owner_ids, group_id),
                group_id=group_id,
                visibility=fields.visibility,
                members_only=members_only,
            )
            if message:
                errors["owner_ids"] = message
        if errors:
            raise InvalidInput("The action needs correcting. Nothing has been saved.", errors)
        now = utcnow()
        rows = await ActionItem.insert(
            ActionItem(
                group=group_id,
                title=fields.title.strip(),
                description=fields.description,
                source_type=source_type,
                source_id=source_id,
                due_on=fields.due_on,
                status="open",
                visibility=fields.visibility,
                created_by=actor.id,
                created_at=now,
                updated_at=now,
            )
        ).returning(ActionItem.id)
        action_id = int(rows[0]["id"])
        await ActionOwner.insert(
            *[ActionOwner(action=action_id, user=owner_id) for owner_id in owner_ids]
        )
        source = source_type if source_id is None else f"{source_type} {source_id}"
        await record_event(
            actor,
            "action.created",
            "action",
            action_id,
            f"{_summary(action_id, fields.visibility)} created in group {group_id} from "
            f"{source}, due {fields.due_on.isoformat()}, {len(owner_ids)} owner(s)",
        )
    return action_id


async def insert_action(
    group_id: int,
    fields: ActionFields,
    actor: CurrentUser,
    *,
    source_type: str = "group",
    source_id: int | None = None,
) -> int:
    """Creates an action with no permission check: the caller has decided who may.

    For other domains, such as a reporting line's response creating actions
    (`source_type="response"`, `source_id` the delivery's id). Owners may be any active
    users. Joins the caller's transaction when there is one.
    """
    return await _insert(
        group_id,
        fields,
        actor,
        source_type,
        source_id,
        allowed_sources=SOURCE_TYPES,
        members_only=False,
    )


async def create_action(
    group_id: int,
    fields: ActionFields,
    viewer: Viewer,
    *,
    source_type: str = "group",
    source_id: int | None = None,
) -> int:
    """A chair or secretary creates an action of their group, directly or from one of its
    meetings or decisions; the owners are current members of the group."""
    if not viewer.leads(group_id):
        raise PermissionDenied("Only the group's chair or secretary can create actions.")
    return await _insert(
        group_id,
        fields,
        viewer.user,
        source_type,
        source_id,
        allowed_sources=GROUP_SOURCE_TYPES,
        members_only=True,
    )


# --- changing ---------------------------------------------------------------------------


async def _lock(action_id: int) -> None:
    """Holds the action's row until the change commits, so that two changes of one action
    queue instead of both working from what they read first. SQLite's write transactions
    are IMMEDIATE and already queue."""
    if is_postgres():
        await ActionItem.select(ActionItem.id).where(ActionItem.id == action_id).lock_rows()


async def _updatable(action_id: int, viewer: Viewer) -> dict[str, Any]:
    await _lock(action_id)
    action = await get_action(action_id, viewer)
    if not action["can_update"]:
        raise PermissionDenied(
            "Only the action's owners and the group's chair or secretary can update it."
        )
    return action


def _status_refusal(current: str, wanted: str) -> str:
    if current not in ACTIVE_STATUSES:
        return f"This action is {current}; its status is final."
    if current == wanted:
        return f"This action is already {current.replace('_', ' ')}."
    return (
        f"An action that is {current.replace('_', ' ')} cannot be moved to "
        f"{wanted.replace('_', ' ')}."
    )


async def update_status(action_id: int, new_status: str, note: str, viewer: Viewer) -> None:
    """Moves the action along open → in progress → done, or drops it with a reason (the note)."""
    note = note.strip()
    async with write_transaction():
        action = await _updatable(action_id, viewer)
        if new_status not in ACTION_STATUSES:
            raise InvalidInput(
                "Unknown status.", {"status": "Choose open, in progress, done or dropped."}
            )
        current = action["status"]
        if new_status not in TRANSITIONS.get(current, ()):
            raise ConflictError(_status_refusal(current, new_status))
        message = _text_error(
            note,
            "The note",
            NOTE_MAX_LENGTH,
            required=new_status == "dropped",
            empty_message="Give the reason for dropping this action.",
        )
        if message:
            raise InvalidInput(
                "Give the reason for dropping this action."
                if not note
                else "The note needs correcting.",
                {"note": message},
            )
        now = utcnow()
        changes: dict[Any, Any] = {ActionItem.status: new_status, ActionItem.updated_at: now}
        if new_status == "done":
            changes[ActionItem.completed_at] = now
        if new_status == "dropped":
            changes[ActionItem.drop_reason] = note
        # Only from the status read above: a change made meanwhile wins, this one is refused.
        changed = (
            await ActionItem.update(changes)
            .where((ActionItem.id == action_id) & (ActionItem.status == current))
            .returning(ActionItem.id)
        )
        if not changed:
            raise ConflictError("This action changed meanwhile. Reload it and try again.")
        await ActionUpdate.insert(
            ActionUpdate(
                action=action_id,
                author=viewer.user.id,
                body=note,
                status_from=current,
                status_to=new_status,
                created_at=now,
            )
        )
        await record_event(
            viewer.user,
            "action.status_changed",
            "action",
            action_id,
            f"{_summary(action_id, action['visibility'])}: {current} → {new_status}",
        )


async def add_progress(action_id: int, body: str, viewer: Viewer) -> None:
    """A progress note by an owner, the chair or the secretary, while the action is open."""
    body = body.strip()
    async with write_transaction():
        action = await _updatable(action_id, viewer)
        message = _text_error(
            body,
            "A progress note",
            NOTE_MAX_LENGTH,
            required=True,
            empty_message="A progress note cannot be empty.",
        )
        if message:
            raise InvalidInput("Write a progress note first.", {"body": message})
        if action["status"] not in ACTIVE_STATUSES:
            raise ConflictError(
                f"This action is {action['status']}; it takes no more progress notes."
            )
        now = utcnow()
        await ActionUpdate.insert(
            ActionUpdate(action=action_id, author=viewer.user.id, body=body, created_at=now)
        )
        await ActionItem.update({ActionItem.updated_at: now}).where(ActionItem.id == action_id)
        await record_event(
            viewer.user,
            "action.progress_added",
            "action",
            action_id,
            f"Progress note on {_summary(action_id, action['visibility']).lower()}",
        )


def _names(ids: list[int], names: dict[int, str]) -> str:
    return ", ".join(names.get(user_id, f"user {user_id}") for user_id in ids)


async def change_owners_and_due(
    action_id: int, owner_ids: list[int], due_on: dt.date, viewer: Viewer
) -> None:
    """The chair or secretary reassigns an open action or moves its due date.

    New owners are current members of the group (its present owners may stay). A new due
    date cannot be in the past; an overdue action keeps its date unless it is moved forward.
    """
    owners = _unique(owner_ids)
    async with write_transaction():
        await _lock(action_id)
        action = await get_action(action_id, viewer)
        if not action["can_manage"]:
            raise PermissionDenied(
                "Only the group's chair or secretary can change owners or the due date."
            )
        if action["status"] not in ACTIVE_STATUSES:
            raise ConflictError(
                f"This action is {action['status']}; its owners and due date no longer change."
            )
        today = organisation_today()
        errors: dict[str, str] = {}
        users: dict[int, dict[str, Any]] = {}
        if not owners:
            errors["owner_ids"] = "Choose at least one owner."
        elif len(owners) > MAX_OWNERS:
            errors["owner_ids"] = f"An action has at most {MAX_OWNERS} owners."
        else:
            users = await _owners(owners, action["group"])
            message = _owner_error(
                owners,
                users,
                group_id=action["group"],
                visibility=action["visibility"],
                members_only=True,
                staying=frozenset(action["owner_ids"]),
            )
            if message:
                errors["owner_ids"] = message
        if due_on < today and due_on != action["due_on"]:
            errors["due_on"] = "The due date cannot be in the past."
        same_owners = set(owners) == set(action["owner_ids"])
        if not errors and same_owners and due_on == action["due_on"]:
            errors["owner_ids"] = "Change the owners or the due date first."
        if errors:
            raise InvalidInput("The change needs correcting. Nothing has been saved.", errors)
        old_ids = action["owner_ids"]
        removed = [user_id for user_id in old_ids if user_id not in owners]
        added = [user_id for user_id in owners if user_id not in old_ids]
        if removed:
            await ActionOwner.delete().where(
                (ActionOwner.action == action_id) & ActionOwner.user.is_in(removed)
            )
        if added:
            await ActionOwner.insert(
                *[ActionOwner(action=action_id, user=user_id) for user_id in added]
            )
        now = utcnow()
        await ActionItem.update({ActionItem.due_on: due_on, ActionItem.updated_at: now}).where(
            ActionItem.id == action_id
        )
        names = {o["user_id"]: o["display_name"] for o in action["owners"]}
        names.update({user_id: user["display_name"] for user_id, user in users.items()})
        told = []
        audited = []
        if not same_owners:
            told.append(f"Owners: {_names(old_ids, names)} → {_names(owners, names)}.")
            audited.append(f"owners {', '.join(map(str, old_ids))} → {', '.join(map(str, owners))}")
        if due_on != action["due_on"]:
            told.append(f"Due date: {action['due_on']:%-d %b %Y} → {due_on:%-d %b %Y}.")
            audited.append(f"due {action['due_on'].isoformat()} → {due_on.isoformat()}")
        await ActionUpdate.insert(
            ActionUpdate(
                action=action_id, author=viewer.user.id, body=" ".join(told), created_at=now
            )
        )
        await record_event(
            viewer.user,
            "action.reassigned",
            "action",
            action_id,
            f"{_summary(action_id, action['visibility'])}: {'; '.join(audited)}",
        )
