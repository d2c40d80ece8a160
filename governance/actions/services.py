"""The rules of action items: who will do what by when, and their progress.

Chairs and secretaries create actions, change their owners and move their due dates; owners,
chairs and secretaries change the status and add progress notes. The status moves
open → in progress → done, or from open straight to done, or from open or in progress to
dropped with a reason; done and dropped are final. An owner must be someone the policy
already lets read the action. Every change writes one audit event in its transaction, whose
summary never carries an action's title or text.

Each use case authorises, then finds every field's error at once, then writes, audits and
queues email in one write transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from governance.accounts import scopes
from governance.accounts.policy import CurrentUser, Viewer, strongest_roles
from governance.accounts.tables import User
from governance.actions import queries
from governance.actions.schemas import (
    ACTIVE_STATUSES,
    GROUP_SOURCE_TYPES,
    SOURCE_TYPES,
    TRANSITIONS,
    ActionPatch,
    ActionStatus,
    NewAction,
    ProgressNote,
    Reassignment,
    SourceType,
    StatusChange,
)
from governance.actions.tables import ActionItem, ActionOwner, ActionUpdate
from governance.core.audit import EventScope, record_event
from governance.core.clock import organisation_today, utcnow
from governance.core.contracts import NO_ERRORS, field_errors, refuse, trimmed
from governance.core.db import is_postgres, one_row, write_transaction
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.groups.tables import Membership, WorkingGroup
from governance.meetings.tables import Decision, Meeting
from governance.notifications import emails
from governance.notifications.audiences import readers
from governance.notifications.emails import ActionRef

NEEDS_CORRECTING = "The action needs correcting. Nothing has been saved."
NOT_AN_UPDATER = "Only the action's owners and the group's chair or secretary can update it."
NOT_A_MANAGER = "Only the group's chair or secretary can change owners or the due date."


def _summary(action_id: int, visibility: str) -> str:
    # Titles and text of actions stay out of the audit trail: a `board` or `group` title is
    # confidential, and the trail's metadata is shown to admins.
    return f"Action {action_id} ({visibility})"


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(ids))


# --- owners -----------------------------------------------------------------------------


async def _owners(owner_ids: list[int], group_id: int) -> dict[int, dict[str, Any]]:
    """The people these ids name, active or not, each with the `Viewer` they are today in
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


async def _owner_error(
    owner_ids: list[int],
    *,
    group_id: int,
    visibility: str,
    members_only: bool,
    staying: frozenset[int] = frozenset(),
) -> str | None:
    """Why these people cannot own the action, if they cannot. An owner sees what they own,
    so each must be someone the policy already lets read it: a `board` action is never
    given to the Director, a `group` action never leaves the group."""
    owners = await _owners(owner_ids, group_id)
    for owner_id in owner_ids:
        owner = owners.get(owner_id)
        if owner is None or not owner["is_active"]:
            return "Every owner must be a person with an active account."
        if owner_id in staying:
            continue
        viewer: Viewer = owner["viewer"]
        if members_only and not viewer.is_member_of(group_id):
            return "Choose owners from the group's current members."
        if not scopes.may_read(viewer, group_id, visibility):
            return (
                f"{owner['display_name']} may not read an action with this visibility; "
                "choose owners who may."
            )
    return None


# --- creating ---------------------------------------------------------------------------


async def _source_belongs(group_id: int, source_type: str, source_id: int | None) -> bool:
    if source_type == SourceType.MEETING:
        return bool(
            await Meeting.exists().where((Meeting.id == source_id) & (Meeting.group == group_id))
        )
    if source_type == SourceType.DECISION:
        return bool(
            await Decision.exists().where(
                (Decision.id == source_id) & (Decision.meeting.group == group_id)
            )
        )
    return True


async def _creation_errors(
    group_id: int,
    command: NewAction,
    unreadable: Mapping[str, str],
    *,
    allowed_sources: Iterable[str],
    members_only: bool,
) -> dict[str, str]:
    errors = {**field_errors(command), **unreadable}
    if "due_on" not in errors and command.due_on < organisation_today():
        errors.setdefault("due_on", "The due date cannot be in the past.")
    source_errors = queries.source_errors(command.source_type, command.source_id, allowed_sources)
    for name, message in source_errors.items():
        errors.setdefault(name, message)
    if (
        not source_errors
        and "source_id" not in errors
        and not await _source_belongs(group_id, command.source_type, command.source_id)
    ):
        errors["source_id"] = f"That {command.source_type} is not part of this group's record."
    if "owner_ids" not in errors and "visibility" not in errors:
        owner_error = await _owner_error(
            _unique(command.owner_ids),
            group_id=group_id,
            visibility=command.visibility,
            members_only=members_only,
        )
        if owner_error:
            errors["owner_ids"] = owner_error
    return errors


async def _insert(
    group_id: int,
    command: NewAction,
    actor: CurrentUser,
    *,
    allowed_sources: Iterable[str],
    members_only: bool,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> int:
    command = trimmed(command)
    async with write_transaction():
        if not await WorkingGroup.exists().where(WorkingGroup.id == group_id):
            raise NotFoundError("There is no working group at this address.")
        errors = await _creation_errors(
            group_id,
            command,
            unreadable,
            allowed_sources=allowed_sources,
            members_only=members_only,
        )
        refuse(errors, NEEDS_CORRECTING)
        now = utcnow()
        rows = await ActionItem.insert(
            ActionItem(
                group=group_id,
                title=command.title,
                description=command.description,
                source_type=command.source_type,
                source_id=command.source_id,
                due_on=command.due_on,
                status=ActionStatus.OPEN,
                visibility=command.visibility,
                created_by=actor.id,
                created_at=now,
                updated_at=now,
            )
        ).returning(ActionItem.id)
        action_id = int(rows[0]["id"])
        owner_ids = _unique(command.owner_ids)
        await ActionOwner.insert(*[ActionOwner(action=action_id, user=o) for o in owner_ids])
        source = command.source_type
        if command.source_id is not None:
            source = f"{command.source_type} {command.source_id}"
        await record_event(
            actor,
            "action.created",
            "action",
            action_id,
            f"{_summary(action_id, command.visibility)} created in group {group_id} from "
            f"{source}, due {command.due_on.isoformat()}, {len(owner_ids)} owner(s)",
            scope=EventScope(group_id, command.visibility),
        )
        ref = await _action_ref(action_id)
        for owner in await readers(owner_ids, group_id, command.visibility):
            await emails.action_assigned(owner.recipient, ref, change=0)
    return action_id


async def _action_ref(action_id: int) -> ActionRef:
    row = await one_row(
        ActionItem.select(
            ActionItem.id.as_alias("action_id"),
            ActionItem.group.as_alias("group_id"),
            ActionItem.group.name.as_alias("group_name"),
            ActionItem.title,
            ActionItem.visibility,
            ActionItem.due_on,
        ).where(ActionItem.id == action_id),
        queries.NOT_FOUND,
    )
    return ActionRef(**row)


async def _tell_reassigned(
    action_id: int, old_ids: list[int], new_ids: list[int], old_due_on: Any, change: int
) -> None:
    """New owners are told the action is theirs, former owners that it is no longer (if
    they may still read it), staying owners that its due date moved."""
    ref = await _action_ref(action_id)
    everyone = await readers({*old_ids, *new_ids}, ref.group_id, ref.visibility)
    for person in everyone:
        if person.id in new_ids and person.id not in old_ids:
            await emails.action_assigned(person.recipient, ref, change=change)
        elif person.id not in new_ids:
            await emails.action_unassigned(person.recipient, ref, change=change)
        elif old_due_on != ref.due_on:
            await emails.action_due_changed(
                person.recipient, ref, old_due_on=old_due_on, change=change
            )


async def insert_action(group_id: int, command: NewAction, actor: CurrentUser) -> int:
    """Creates an action with no permission check: the caller has decided who may.

    For other domains, such as a reporting line's response creating actions
    (`source_type="response"`, `source_id` the delivery's id). Owners may be any active
    users who may read it. Joins the caller's transaction when there is one.
    """
    return await _insert(group_id, command, actor, allowed_sources=SOURCE_TYPES, members_only=False)


def authorise_creation(viewer: Viewer, group_id: int) -> None:
    """Only the group's chair or secretary creates its actions."""
    if not viewer.leads(group_id):
        raise PermissionDenied("Only the group's chair or secretary can create actions.")


async def create_action(
    group_id: int,
    command: NewAction,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> int:
    """A chair or secretary creates an action of their group, directly or from one of its
    meetings or decisions; the owners are current members of the group. `unreadable` are
    the fields a form could not read: reported with the others, after the permission check."""
    authorise_creation(viewer, group_id)
    return await _insert(
        group_id,
        command,
        viewer.user,
        allowed_sources=GROUP_SOURCE_TYPES,
        members_only=True,
        unreadable=unreadable,
    )


# --- changing ---------------------------------------------------------------------------


async def _lock(action_id: int) -> None:
    """Holds the action's row until the change commits, so that two changes of one action
    queue instead of both working from what they read first. SQLite's write transactions
    are IMMEDIATE and already queue."""
    if is_postgres():
        await ActionItem.select(ActionItem.id).where(ActionItem.id == action_id).lock_rows()


async def _changeable(action_id: int, viewer: Viewer, *, manage: bool) -> dict[str, Any]:
    """The action's row, locked, if this viewer may change it (owners and leads update;
    only leads manage)."""
    await _lock(action_id)
    row = await queries.readable_row(action_id, viewer)
    leads = viewer.leads(row["group"])
    if manage and not leads:
        raise PermissionDenied(NOT_A_MANAGER)
    if not manage and not leads:
        owned = await ActionOwner.exists().where(
            (ActionOwner.action == action_id) & (ActionOwner.user == viewer.user.id)
        )
        if not owned:
            raise PermissionDenied(NOT_AN_UPDATER)
    return row


def _status_refusal(current: str, wanted: str) -> str:
    if current not in ACTIVE_STATUSES:
        return f"This action is {current}; its status is final."
    if current == wanted:
        return f"This action is already {current.replace('_', ' ')}."
    return (
        f"An action that is {current.replace('_', ' ')} cannot be moved to "
        f"{wanted.replace('_', ' ')}."
    )


async def _apply_status(row: dict[str, Any], command: StatusChange, viewer: Viewer) -> None:
    action_id, current = row["id"], row["status"]
    if command.status not in TRANSITIONS.get(current, ()):
        raise ConflictError(_status_refusal(current, command.status))
    note = command.note.strip()
    if command.status == ActionStatus.DROPPED and not note:
        reason = "Give the reason for dropping this action."
        raise InvalidInput(reason, {"note": reason})
    now = utcnow()
    changes: dict[Any, Any] = {ActionItem.status: command.status, ActionItem.updated_at: now}
    if command.status == ActionStatus.DONE:
        changes[ActionItem.completed_at] = now
    if command.status == ActionStatus.DROPPED:
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
            status_to=command.status,
            created_at=now,
        )
    )
    await record_event(
        viewer.user,
        "action.status_changed",
        "action",
        action_id,
        f"{_summary(action_id, row['visibility'])}: {current} → {command.status}",
        scope=EventScope(row["group"], row["visibility"]),
    )


async def update_status(
    action_id: int,
    command: StatusChange,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """Moves the action along open → in progress → done, or drops it with a reason (the note)."""
    async with write_transaction():
        row = await _changeable(action_id, viewer, manage=False)
        refuse(
            {**field_errors(command), **unreadable},
            "The change of status needs correcting. Nothing has been saved.",
        )
        await _apply_status(row, command, viewer)


async def add_progress(
    action_id: int,
    command: ProgressNote,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """A progress note by an owner, the chair or the secretary, while the action is open."""
    async with write_transaction():
        row = await _changeable(action_id, viewer, manage=False)
        refuse({**field_errors(command), **unreadable}, "Write a progress note first.")
        if row["status"] not in ACTIVE_STATUSES:
            raise ConflictError(f"This action is {row['status']}; it takes no more progress notes.")
        now = utcnow()
        await ActionUpdate.insert(
            ActionUpdate(
                action=action_id, author=viewer.user.id, body=command.body.strip(), created_at=now
            )
        )
        await ActionItem.update({ActionItem.updated_at: now}).where(ActionItem.id == action_id)
        await record_event(
            viewer.user,
            "action.progress_added",
            "action",
            action_id,
            f"Progress note on {_summary(action_id, row['visibility']).lower()}",
            scope=EventScope(row["group"], row["visibility"]),
        )


async def _reassignment_errors(
    row: dict[str, Any],
    command: Reassignment,
    old_owners: list[int],
    unreadable: Mapping[str, str],
) -> dict[str, str]:
    errors = {**field_errors(command), **unreadable}
    # An owner the form could not read leaves `owner_ids` None: only its error counts.
    owners = _unique(command.owner_ids) if "owner_ids" not in errors else []
    if "owner_ids" not in errors:
        message = await _owner_error(
            owners,
            group_id=row["group"],
            visibility=row["visibility"],
            members_only=True,
            staying=frozenset(old_owners),
        )
        if message:
            errors["owner_ids"] = message
    past = "due_on" not in errors and command.due_on < organisation_today()
    if past and command.due_on != row["due_on"]:
        errors["due_on"] = "The due date cannot be in the past."
    if not errors and set(owners) == set(old_owners) and command.due_on == row["due_on"]:
        errors["owner_ids"] = "Change the owners or the due date first."
    return errors


async def _names(user_ids: Iterable[int]) -> dict[int, str]:
    rows = await User.select(User.id, User.display_name).where(User.id.is_in(list(user_ids)))
    return {row["id"]: row["display_name"] for row in rows}


async def _apply_reassignment(
    row: dict[str, Any], command: Reassignment, old_ids: list[int], viewer: Viewer
) -> None:
    action_id, owners = row["id"], _unique(command.owner_ids)
    removed = [user_id for user_id in old_ids if user_id not in owners]
    added = [user_id for user_id in owners if user_id not in old_ids]
    if removed:
        await ActionOwner.delete().where(
            (ActionOwner.action == action_id) & ActionOwner.user.is_in(removed)
        )
    if added:
        await ActionOwner.insert(*[ActionOwner(action=action_id, user=u) for u in added])
    now = utcnow()
    await ActionItem.update({ActionItem.due_on: command.due_on, ActionItem.updated_at: now}).where(
        ActionItem.id == action_id
    )
    names = await _names({*old_ids, *owners})
    told, audited = [], []
    if set(owners) != set(old_ids):
        before = ", ".join(names.get(u, f"user {u}") for u in old_ids)
        after = ", ".join(names.get(u, f"user {u}") for u in owners)
        told.append(f"Owners: {before} → {after}.")
        audited.append(f"owners {', '.join(map(str, old_ids))} → {', '.join(map(str, owners))}")
    if command.due_on != row["due_on"]:
        told.append(f"Due date: {row['due_on']:%-d %b %Y} → {command.due_on:%-d %b %Y}.")
        audited.append(f"due {row['due_on'].isoformat()} → {command.due_on.isoformat()}")
    update = await ActionUpdate.insert(
        ActionUpdate(action=action_id, author=viewer.user.id, body=" ".join(told), created_at=now)
    ).returning(ActionUpdate.id)
    await _tell_reassigned(action_id, old_ids, owners, row["due_on"], int(update[0]["id"]))
    await record_event(
        viewer.user,
        "action.reassigned",
        "action",
        action_id,
        f"{_summary(action_id, row['visibility'])}: {'; '.join(audited)}",
        scope=EventScope(row["group"], row["visibility"]),
    )


async def _current_owner_ids(action_id: int) -> list[int]:
    rows = (
        await ActionOwner.select(ActionOwner.user)
        .where(ActionOwner.action == action_id)
        .order_by(ActionOwner.id)
    )
    return [row["user"] for row in rows]


async def _reassign(
    row: dict[str, Any],
    command: Reassignment,
    viewer: Viewer,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    if row["status"] not in ACTIVE_STATUSES:
        raise ConflictError(
            f"This action is {row['status']}; its owners and due date no longer change."
        )
    old_ids = await _current_owner_ids(row["id"])
    refuse(
        await _reassignment_errors(row, command, old_ids, unreadable),
        "The change needs correcting. Nothing has been saved.",
    )
    await _apply_reassignment(row, command, old_ids, viewer)


async def change_owners_and_due(
    action_id: int,
    command: Reassignment,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """The chair or secretary reassigns an open action or moves its due date.

    New owners are current members of the group (its present owners may stay). A new due
    date cannot be in the past; an overdue action keeps its date unless it is moved forward.
    """
    async with write_transaction():
        row = await _changeable(action_id, viewer, manage=True)
        await _reassign(row, command, viewer, unreadable)


async def patch_action(action_id: int, command: ActionPatch, viewer: Viewer) -> None:
    """A change of status and/or of owners and due date, all made or none (the API's PATCH)."""
    changes_owners = command.owner_ids is not None or command.due_on is not None
    async with write_transaction():
        row = await _changeable(action_id, viewer, manage=changes_owners)
        errors = field_errors(command)
        if not changes_owners and command.status is None:
            errors["status"] = "Send at least one of status, owner_ids, due_on."
        refuse(errors, "Nothing to change." if "status" in errors else NEEDS_CORRECTING)
        if changes_owners:
            owner_ids = command.owner_ids
            if owner_ids is None:
                owner_ids = await _current_owner_ids(action_id)
            reassignment = Reassignment(owner_ids=owner_ids, due_on=command.due_on or row["due_on"])
            await _reassign(row, reassignment, viewer)
        if command.status is not None:
            row = await queries.readable_row(action_id, viewer)
            await _apply_status(row, StatusChange(status=command.status, note=command.note), viewer)
