"""The rules of a group's proceedings: scheduling, the agenda, attendance, minutes and
decisions, and the personal calendar feed.

Chairs and secretaries manage a meeting; its readers are the group's current members, the
Director and the Board (`queries`). Every use case authorises (a meeting its caller may
not read is "not found", one they may read but not run is refused before any value is
looked at), refuses a change the meeting's state does not allow, then finds every field's
error at once, then writes and audits in one write transaction. The audit summaries never
carry the title of an agenda item, which may be confidential.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from governance.accounts import scopes
from governance.accounts.policy import CurrentUser, Viewer, Visibility
from governance.accounts.tables import User
from governance.core.audit import Actor, EventScope, SystemActor, record_event
from governance.core.clock import utcnow
from governance.core.contracts import (
    NO_ERRORS,
    Confirmation,
    field_errors,
    field_specs,
    refuse,
    trimmed,
    unconfirmed,
)
from governance.core.contracts import value_error as rule_error
from governance.core.db import one_row, write_transaction
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.core.isolation import SkippedItems
from governance.groups.queries import get_group, members_on
from governance.meetings import notices, queries
from governance.meetings.integrity import seal_minutes
from governance.meetings.queries import meeting_date
from governance.meetings.schemas import (
    APPROVAL_IS_FINAL,
    AUTO_NOTICE_DAYS,
    CONFIRM_FIRST,
    COUNTS_TOWARDS_QUORUM,
    EARLIEST_YEAR,
    GUEST_NAME,
    HELD_IS_FINAL,
    ITEM_MINUTES,
    LATEST_YEAR,
    REMOVAL_IS_FINAL,
    AgendaEntry,
    AgendaItemDetails,
    AgendaItemPage,
    AgendaMove,
    AgendaReplacement,
    Approval,
    ApprovalMethod,
    AttendanceMode,
    AttendanceRecord,
    Cancellation,
    ConflictDeclaration,
    MeetingDetails,
    MeetingHead,
    MeetingPage,
    MeetingPatch,
    MeetingStage,
    MeetingStatus,
    MeetingSteps,
    MeetingView,
    MinutesDraft,
    MinutesStatus,
    NewComment,
    NewDecision,
    NewErratum,
    NoticeReply,
    ReplyPage,
    rule_of,
)
from governance.meetings.tables import (
    AgendaItem,
    Attendance,
    CalendarFeed,
    ConflictOfInterest,
    Decision,
    Erratum,
    Meeting,
    MeetingReply,
    Minutes,
    MinutesComment,
)
from governance.notifications import emails
from governance.notifications.audiences import member_readers

NOT_A_LEADER = "Only the group's chair or secretary can do this."
MEETING_NEEDS_CORRECTING = "The meeting needs correcting. Nothing has been saved."
ITEM_NEEDS_CORRECTING = "The agenda item needs correcting. Nothing has been saved."
AGENDA_NEEDS_CORRECTING = "The agenda needs correcting. Nothing has been saved."
ATTENDANCE_NEEDS_CORRECTING = "Attendance needs correcting. Nothing has been saved."
NOT_MEMBERS_ON_THE_DAY = (
    "Only people who were members of the group on the meeting date can be recorded;"
    " add anyone else as a guest."
)
MINUTES_NEED_CORRECTING = "The minutes need correcting. Nothing has been saved."
NOT_OF_THIS_MEETING = "An agenda item in the form is not part of this meeting."
DECISION_NEEDS_CORRECTING = "The decision needs correcting. Nothing has been saved."
APPROVAL_NEEDS_CORRECTING = "Say how the minutes were approved. Nothing has been changed."
NOT_A_LATER_MEETING = "Minutes are approved at a later, held meeting of the same group."
AGENDA_FROZEN = "The agenda can only change while the meeting is scheduled."
RECORD_LOCKED = (
    "The minutes of this meeting are approved and locked: the meeting, its attendance,"
    " agenda, conflicts of interest, decisions and items can no longer change."
    " Add an erratum to the minutes instead."
)
NOT_YET_HELD = (
    "Decisions are recorded at a meeting that is held or in progress; this one has not started yet."
)
DETAILS_FROZEN = "A meeting's title, times and place can only change while it is scheduled."


# --- what a meeting's state allows ------------------------------------------------------
# Each rule is written once, here: the use cases below refuse with it, and `meeting_steps`
# asks it what the meeting's page may offer.


def held_refusal(status: str, starts_at: dt.datetime, now: dt.datetime) -> str | None:
    """Why the meeting cannot be marked held now, or None."""
    if status != MeetingStatus.SCHEDULED:
        return f"Only a scheduled meeting can be marked held; this one is {status}."
    if starts_at > now:
        return "A meeting cannot be marked held before it has started."
    return None


def cancel_refusal(status: str) -> str | None:
    if status != MeetingStatus.SCHEDULED:
        return f"Only a scheduled meeting can be cancelled; this one is {status}."
    return None


def details_open(status: str) -> bool:
    """A meeting's title, times and place change only while it is scheduled."""
    return status == MeetingStatus.SCHEDULED


def agenda_open(status: str) -> bool:
    """The agenda changes only while the meeting is scheduled."""
    return status == MeetingStatus.SCHEDULED


def circulate_refusal(status: str, minutes_status: str) -> str | None:
    if minutes_status != MinutesStatus.DRAFT:
        return f"Only draft minutes can be circulated; these are {minutes_status}."
    if status != MeetingStatus.HELD:
        return "Minutes can be circulated once the meeting is marked held."
    return None


def approve_refusal(minutes_status: str) -> str | None:
    if minutes_status == MinutesStatus.APPROVED:
        return "These minutes are already approved."
    if minutes_status != MinutesStatus.CIRCULATED:
        return "Minutes must be circulated before they can be approved."
    return None


def meeting_stage(status: str, starts_at: dt.datetime, now: dt.datetime) -> MeetingStage:
    if status == MeetingStatus.CANCELLED:
        return MeetingStage.CANCELLED
    if status == MeetingStatus.HELD:
        return MeetingStage.AFTER
    return MeetingStage.BEFORE if starts_at > now else MeetingStage.DURING


def meeting_steps(page: MeetingPage, now: dt.datetime | None = None) -> MeetingSteps:
    """What the meeting's page may offer its reader now: exactly what the use cases below
    would accept from them, by the same rules."""
    now = now or utcnow()
    meeting = page.meeting
    status, minutes = meeting.status, meeting.minutes
    minutes_status = minutes.status if minutes else ""
    stage = meeting_stage(status, meeting.starts_at, now)
    live = status != MeetingStatus.CANCELLED and not meeting.locked
    leads = meeting.can_manage and live
    notice_sent = meeting.expected is not None and meeting.expected.notice_sent_at is not None
    return MeetingSteps(
        stage=stage,
        edit_details=leads and details_open(status),
        send_notice=leads
        and meeting.expected is not None
        and not notice_sent
        and is_upcoming(status, meeting.starts_at, now),
        mark_held=leads and held_refusal(status, meeting.starts_at, now) is None,
        cancel=leads and cancel_refusal(status) is None,
        change_agenda=leads and agenda_open(status),
        change_items=leads,
        declare_conflict=page.is_member and live,
        upload_papers=leads,
        record_attendance=leads,
        record_decision=leads and meeting.takes_decisions and bool(meeting.agenda),
        write_minutes=leads and minutes_status == MinutesStatus.DRAFT,
        circulate_minutes=leads
        and minutes is not None
        and circulate_refusal(status, minutes_status) is None,
        return_to_draft=leads and minutes_status == MinutesStatus.CIRCULATED,
        approve_minutes=meeting.can_manage
        and minutes is not None
        and approve_refusal(minutes_status) is None,
        comment=page.is_member
        and not meeting.locked
        and minutes_status == MinutesStatus.CIRCULATED,
        add_erratum=meeting.can_manage and minutes_status == MinutesStatus.APPROVED,
        create_action=meeting.can_manage and status != MeetingStatus.CANCELLED,
    )


# --- who may ----------------------------------------------------------------------------


def authorise_management(viewer: Viewer, group_id: int, message: str = NOT_A_LEADER) -> None:
    """Only the group's chair or secretary runs its meetings."""
    if not viewer.leads(group_id):
        raise PermissionDenied(message)


def authorise_scheduling(viewer: Viewer, group_id: int) -> None:
    authorise_management(
        viewer, group_id, "Only the group's chair or secretary can schedule meetings."
    )


async def _managed_meeting(meeting_id: int, viewer: Viewer) -> dict[str, Any]:
    """The meeting's row, if the viewer may read it (else not found) and run it (else
    refused)."""
    meeting = await queries.readable_meeting(meeting_id, viewer)
    authorise_management(viewer, meeting["group"])
    return meeting


async def require_unlocked(meeting_id: int) -> None:
    """The one guard of the record: once a meeting's minutes are approved, nothing of the
    meeting changes (its details, attendance, agenda, conflicts, decisions, items' states);
    the only change left is an erratum appended to the minutes."""
    if await queries.is_locked(meeting_id):
        raise ConflictError(RECORD_LOCKED)


async def _changeable_meeting(meeting_id: int, viewer: Viewer) -> dict[str, Any]:
    """A meeting the viewer runs and whose record is not locked."""
    meeting = await _managed_meeting(meeting_id, viewer)
    await require_unlocked(meeting_id)
    return meeting


async def _changeable_item(item_id: int, viewer: Viewer) -> tuple[dict[str, Any], dict[str, Any]]:
    """An agenda item the viewer manages, of a meeting whose record is not locked."""
    item, meeting = await queries.readable_item(item_id, viewer)
    authorise_management(viewer, meeting["group"])
    await require_unlocked(meeting["id"])
    return item, meeting


async def managed_meeting_view(meeting_id: int, viewer: Viewer, message: str) -> MeetingView:
    """A meeting for a form only the chair or secretary is shown."""
    meeting = await queries.meeting_view(meeting_id, viewer)
    if not meeting.can_manage:
        raise PermissionDenied(message)
    return meeting


async def managed_agenda_item(item_id: int, viewer: Viewer) -> AgendaItemPage:
    """An agenda item, for its form, shown only to the chair or secretary."""
    page = await queries.get_agenda_item(item_id, viewer)
    if not page.can_manage:
        raise PermissionDenied("Only the group's chair or secretary can change the agenda.")
    # The form is offered only while it could be saved.
    await require_unlocked(page.meeting.id)
    if page.meeting.status != MeetingStatus.SCHEDULED:
        raise ConflictError(AGENDA_FROZEN)
    return page


async def managed_meeting_head(meeting_id: int, viewer: Viewer) -> MeetingHead:
    """A meeting for its edit form, shown only to the chair or secretary."""
    meeting = await queries.readable_meeting(meeting_id, viewer)
    authorise_management(
        viewer, meeting["group"], "Only the group's chair or secretary can change a meeting."
    )
    return queries.head(meeting)


async def editable_meeting_head(meeting_id: int, viewer: Viewer) -> MeetingHead:
    """A meeting for its edit form, offered only while the form could be saved."""
    meeting = await queries.readable_meeting(meeting_id, viewer)
    authorise_management(
        viewer, meeting["group"], "Only the group's chair or secretary can change a meeting."
    )
    await require_unlocked(meeting_id)
    _require_details_open(meeting)
    return queries.head(meeting)


async def writable_minutes_view(meeting_id: int, viewer: Viewer) -> MeetingView:
    """A meeting for its minutes form, offered only while the draft can be saved."""
    meeting = await managed_meeting_view(
        meeting_id, viewer, "Only the group's chair or secretary can write the minutes."
    )
    if meeting.locked:
        raise ConflictError(RECORD_LOCKED)
    if meeting.minutes is None or meeting.minutes.status != MinutesStatus.DRAFT:
        raise ConflictError("Only draft minutes can be written; return them to draft first.")
    return meeting


# --- meetings ---------------------------------------------------------------------------


def _moment_error(moment: dt.datetime, label: str) -> str | None:
    try:
        utc = moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST_YEAR <= utc.year <= LATEST_YEAR:
        return f"{label} must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}."
    return None


def _details_errors(command: MeetingDetails, unreadable: Mapping[str, str]) -> dict[str, str]:
    """Every field's error, with the times' own rules: a real year, the end after the start."""
    errors = {**field_errors(command), **unreadable}
    for spec in field_specs(MeetingDetails):
        if spec.name in {"starts_at", "ends_at"} and spec.name not in errors and spec.rule:
            message = _moment_error(getattr(command, spec.name), spec.rule.label)
            if message:
                errors[spec.name] = message
    if not {"starts_at", "ends_at"} & set(errors) and command.ends_at <= command.starts_at:
        errors["ends_at"] = "The end must be after the start."
    return errors


def _in_utc(command: MeetingDetails) -> MeetingDetails:
    return msgspec.structs.replace(
        command,
        starts_at=command.starts_at.astimezone(dt.UTC),
        ends_at=command.ends_at.astimezone(dt.UTC),
    )


async def schedule_meeting(
    slug: str, command: MeetingDetails, viewer: Viewer, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> int:
    """A chair or secretary schedules a meeting of their group, with empty draft minutes."""
    group = await get_group(slug)
    authorise_scheduling(viewer, group["id"])
    command = trimmed(command)
    refuse(_details_errors(command, unreadable), MEETING_NEEDS_CORRECTING)
    command = _in_utc(command)
    now = utcnow()
    async with write_transaction():
        rows = await Meeting.insert(
            Meeting(
                group=group["id"],
                title=command.title,
                starts_at=command.starts_at,
                ends_at=command.ends_at,
                location=command.location,
                status=MeetingStatus.SCHEDULED,
                created_at=now,
                updated_at=now,
            )
        ).returning(Meeting.id)
        meeting_id = int(rows[0]["id"])
        await Minutes.insert(
            Minutes(meeting=meeting_id, status=MinutesStatus.DRAFT, updated_at=now)
        )
        await record_event(
            viewer.user,
            "meeting.scheduled",
            "meeting",
            meeting_id,
            f"{group['name']}: meeting '{command.title}' scheduled for "
            f"{command.starts_at:%Y-%m-%d %H:%M} UTC",
            scope=EventScope(group["id"], Visibility.INTERNAL),
        )
        await notices.tell_scheduled(
            await queries.meeting_row(meeting_id), viewer.user.display_name
        )
    return meeting_id


async def _meeting_scope(meeting_id: int, visibility: str = Visibility.INTERNAL) -> EventScope:
    """Who may see an event about this meeting (or one of its items, at the item's
    visibility) in the audit trail: the meeting's group at that visibility."""
    meeting = await one_row(
        Meeting.select(Meeting.group).where(Meeting.id == meeting_id), queries.NOT_FOUND
    )
    return EventScope(meeting["group"], visibility)


async def _item_scope(item_id: int) -> EventScope:
    item = await one_row(
        AgendaItem.select(
            AgendaItem.meeting.group.as_alias("group_id"), AgendaItem.visibility
        ).where(AgendaItem.id == item_id),
        queries.NOT_FOUND,
    )
    return EventScope(item["group_id"], item["visibility"])


def _require_not_cancelled(meeting: Mapping[str, Any]) -> None:
    if meeting["status"] == MeetingStatus.CANCELLED:
        raise ConflictError("This meeting was cancelled; schedule a new one instead.")


def _require_details_open(meeting: Mapping[str, Any]) -> None:
    """Once held, the meeting's day decides who its members were (attendance, quorum): its
    details stay as they were."""
    _require_not_cancelled(meeting)
    if not details_open(meeting["status"]):
        raise ConflictError(DETAILS_FROZEN)


def _calendar_changes(meeting: Mapping[str, Any], command: MeetingDetails) -> tuple[bool, bool]:
    """(whether calendars should show a change: title, times or place; whether members are
    told: times or place)."""
    told = (command.starts_at, command.ends_at, command.location) != (
        meeting["starts_at"],
        meeting["ends_at"],
        meeting["location"],
    )
    return told or command.title != meeting["title"], told


async def _write_details(
    meeting: Mapping[str, Any], command: MeetingDetails, viewer: Viewer
) -> None:
    command = _in_utc(command)
    shown, told = _calendar_changes(meeting, command)
    await Meeting.update(
        {
            Meeting.title: command.title,
            Meeting.starts_at: command.starts_at,
            Meeting.ends_at: command.ends_at,
            Meeting.location: command.location,
            # Raised only by a change calendars show, so saving the same details twice
            # neither moves the SEQUENCE nor tells anyone twice.
            Meeting.calendar_sequence: meeting["calendar_sequence"] + int(shown),
            Meeting.updated_at: utcnow(),
        }
    ).where(Meeting.id == meeting["id"])
    await record_event(
        viewer.user,
        "meeting.updated",
        "meeting",
        meeting["id"],
        f"Meeting '{command.title}' updated",
        scope=EventScope(meeting["group"], Visibility.INTERNAL),
    )
    if told:
        await notices.tell_changed(dict(meeting), await queries.meeting_row(meeting["id"]))


async def update_meeting(
    meeting_id: int,
    command: MeetingDetails,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """New title, times or place; calendars show the change (their sequence goes up)."""
    command = trimmed(command)
    async with write_transaction():
        meeting = await _changeable_meeting(meeting_id, viewer)
        _require_details_open(meeting)
        refuse(_details_errors(command, unreadable), MEETING_NEEDS_CORRECTING)
        await _write_details(meeting, command, viewer)


def _patched(meeting: Mapping[str, Any], command: MeetingPatch) -> MeetingDetails | None:
    """The meeting's details with the patch's changes, or None if it changes none."""
    if all(
        value is None
        for value in (command.title, command.starts_at, command.ends_at, command.location)
    ):
        return None
    return MeetingDetails(
        title=meeting["title"] if command.title is None else command.title,
        starts_at=command.starts_at or meeting["starts_at"],
        ends_at=command.ends_at or meeting["ends_at"],
        location=meeting["location"] if command.location is None else command.location,
    )


def _patch_errors(command: MeetingPatch, details: MeetingDetails | None) -> dict[str, str]:
    errors = {k: v for k, v in field_errors(command).items() if k in {"status", "cancel_reason"}}
    if details is None and command.status is None:
        raise InvalidInput(
            "Nothing to change.",
            {"title": "Send at least one of title, starts_at, ends_at, location, status."},
        )
    if details is not None:
        errors.update(_details_errors(details, NO_ERRORS))
    if command.status == MeetingStatus.CANCELLED and "cancel_reason" not in errors:
        reason = field_errors(Cancellation(reason=command.cancel_reason)).get("reason")
        if reason:
            errors["cancel_reason"] = reason
    return errors


async def patch_meeting(meeting_id: int, command: MeetingPatch, viewer: Viewer) -> None:
    """Changes the details and/or the status (held, or cancelled with a reason): all the
    changes are made or none."""
    command = trimmed(command)
    async with write_transaction():
        meeting = await _changeable_meeting(meeting_id, viewer)
        details = _patched(meeting, command)
        if details is not None:
            _require_details_open(meeting)
        refuse(_patch_errors(command, details), MEETING_NEEDS_CORRECTING)
        if details is not None:
            await _write_details(meeting, details, viewer)
            meeting = await queries.meeting_row(meeting_id)
        if command.status == MeetingStatus.HELD:
            await _mark_held(meeting, viewer)
        elif command.status == MeetingStatus.CANCELLED:
            await _cancel(meeting, command.cancel_reason, viewer)


async def _mark_held(meeting: Mapping[str, Any], viewer: Viewer) -> None:
    refusal = held_refusal(meeting["status"], meeting["starts_at"], utcnow())
    if refusal:
        raise ConflictError(refusal)
    await Meeting.update({Meeting.status: MeetingStatus.HELD, Meeting.updated_at: utcnow()}).where(
        Meeting.id == meeting["id"]
    )
    await record_event(
        viewer.user,
        "meeting.held",
        "meeting",
        meeting["id"],
        f"Meeting '{meeting['title']}' marked held",
        scope=EventScope(meeting["group"], Visibility.INTERNAL),
    )


async def mark_meeting_held(
    meeting_id: int, viewer: Viewer, *, confirmation: Confirmation | None = None
) -> None:
    """Marks a started meeting held; a page's caller must have confirmed (`HELD_IS_FINAL`)."""
    async with write_transaction():
        meeting = await _changeable_meeting(meeting_id, viewer)
        refusal = held_refusal(meeting["status"], meeting["starts_at"], utcnow())
        if refusal:
            raise ConflictError(refusal)
        refuse(unconfirmed(confirmation, HELD_IS_FINAL), CONFIRM_FIRST)
        await _mark_held(meeting, viewer)


async def _cancel(meeting: Mapping[str, Any], reason: str, viewer: Viewer) -> None:
    refusal = cancel_refusal(meeting["status"])
    if refusal:
        raise ConflictError(refusal)
    await Meeting.update(
        {
            Meeting.status: MeetingStatus.CANCELLED,
            Meeting.cancel_reason: reason.strip(),
            Meeting.calendar_sequence: meeting["calendar_sequence"] + 1,
            Meeting.updated_at: utcnow(),
        }
    ).where(Meeting.id == meeting["id"])
    await record_event(
        viewer.user,
        "meeting.cancelled",
        "meeting",
        meeting["id"],
        f"Meeting '{meeting['title']}' cancelled",
        scope=EventScope(meeting["group"], Visibility.INTERNAL),
    )
    await notices.tell_cancelled(await queries.meeting_row(meeting["id"]))


async def cancel_meeting(
    meeting_id: int,
    command: Cancellation,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """Cancels a scheduled meeting, with the reason members and calendars are shown."""
    async with write_transaction():
        meeting = await _changeable_meeting(meeting_id, viewer)
        refuse({**field_errors(command), **unreadable}, "Give a reason for cancelling.")
        await _cancel(meeting, command.reason, viewer)


# --- agenda -----------------------------------------------------------------------------


def _item_summary(item_id: int, visibility: str) -> str:
    # Titles of confidential items stay out of the audit trail.
    return f"Agenda item {item_id} ({visibility})"


def _require_scheduled(meeting: Mapping[str, Any]) -> None:
    if not agenda_open(meeting["status"]):
        raise ConflictError(AGENDA_FROZEN)


async def _next_position(meeting_id: int) -> int:
    last = (
        await AgendaItem.select(AgendaItem.position)
        .where(AgendaItem.meeting == meeting_id)
        .order_by(AgendaItem.position, ascending=False)
        .first()
    )
    return int(last["position"]) + 1 if last else 1


async def _insert_item(
    meeting_id: int, details: AgendaItemDetails, position: int, carried_from: int | None = None
) -> int:
    rows = await AgendaItem.insert(
        AgendaItem(
            meeting=meeting_id,
            position=position,
            title=details.title,
            visibility=details.visibility,
            notes=details.notes.strip(),
            carried_from=carried_from,
        )
    ).returning(AgendaItem.id)
    return int(rows[0]["id"])


async def _add_item(
    meeting_id: int, details: AgendaItemDetails, position: int, viewer: Viewer
) -> int:
    item_id = await _insert_item(meeting_id, details, position)
    await record_event(
        viewer.user,
        "agenda_item.added",
        "meeting",
        meeting_id,
        _item_summary(item_id, details.visibility) + " added",
        scope=await _meeting_scope(meeting_id, details.visibility),
    )
    return item_id


async def _write_item(
    item_id: int, meeting_id: int, details: AgendaItemDetails, viewer: Viewer
) -> None:
    await AgendaItem.update(
        {
            AgendaItem.title: details.title,
            AgendaItem.visibility: details.visibility,
            AgendaItem.notes: details.notes.strip(),
        }
    ).where(AgendaItem.id == item_id)
    await record_event(
        viewer.user,
        "agenda_item.updated",
        "meeting",
        meeting_id,
        _item_summary(item_id, details.visibility) + " updated",
        scope=await _meeting_scope(meeting_id, details.visibility),
    )


async def _remove_items(
    meeting_id: int, items: Iterable[Mapping[str, Any]], viewer: Viewer
) -> None:
    """Removes these items of the meeting; none may carry a decision."""
    items = list(items)
    if not items:
        return
    ids = [item["id"] for item in items]
    if await Decision.exists().where(Decision.agenda_item.is_in(ids)):
        raise ConflictError("A decision was recorded on this item; it cannot be removed.")
    await AgendaItem.delete().where(AgendaItem.id.is_in(ids))
    for item in items:
        await record_event(
            viewer.user,
            "agenda_item.removed",
            "meeting",
            meeting_id,
            _item_summary(item["id"], item["visibility"]) + " removed",
            scope=await _meeting_scope(meeting_id, item["visibility"]),
        )


async def _number(order: list[int], current: Mapping[int, int]) -> None:
    """Gives the items positions 1 to n in this order, writing only those that change."""
    for position, item_id in enumerate(order, start=1):
        if current.get(item_id) != position:
            await AgendaItem.update({AgendaItem.position: position}).where(AgendaItem.id == item_id)


async def _move(meeting_id: int, item_id: int, position: int, viewer: Viewer) -> None:
    await AgendaItem.update({AgendaItem.position: position}).where(AgendaItem.id == item_id)
    await record_event(
        viewer.user,
        "agenda_item.moved",
        "meeting",
        meeting_id,
        f"Agenda item {item_id} moved to position {position}",
        scope=await _item_scope(item_id),
    )


async def _positions(meeting_id: int) -> dict[int, int]:
    """The meeting's items and their positions, in agenda order."""
    rows = (
        await AgendaItem.select(AgendaItem.id, AgendaItem.position)
        .where(AgendaItem.meeting == meeting_id)
        .order_by(AgendaItem.position)
        .order_by(AgendaItem.id)
    )
    return {row["id"]: row["position"] for row in rows}


async def add_agenda_item(
    meeting_id: int,
    command: AgendaItemDetails,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> int:
    """Adds an item at the end of a scheduled meeting's agenda."""
    command = trimmed(command)
    async with write_transaction():
        meeting = await _changeable_meeting(meeting_id, viewer)
        _require_scheduled(meeting)
        refuse({**field_errors(command), **unreadable}, ITEM_NEEDS_CORRECTING)
        return await _add_item(meeting_id, command, await _next_position(meeting_id), viewer)


async def update_agenda_item(
    item_id: int,
    command: AgendaItemDetails,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    command = trimmed(command)
    async with write_transaction():
        _item, meeting = await _changeable_item(item_id, viewer)
        _require_scheduled(meeting)
        refuse({**field_errors(command), **unreadable}, ITEM_NEEDS_CORRECTING)
        await _write_item(item_id, meeting["id"], command, viewer)


async def move_agenda_item(
    item_id: int,
    command: AgendaMove,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """Moves an item to a position from 1 to the number of items, shifting the others."""
    async with write_transaction():
        _item, meeting = await _changeable_item(item_id, viewer)
        _require_scheduled(meeting)
        errors = {**field_errors(command), **unreadable}
        refuse(errors, errors.get("position", ""))
        current = await _positions(meeting["id"])
        if not 1 <= command.position <= len(current):
            raise InvalidInput(
                f"Position must be between 1 and {len(current)}.",
                {"position": f"Choose a position from 1 to {len(current)}."},
            )
        order = [each for each in current if each != item_id]
        order.insert(command.position - 1, item_id)
        await _number(order, {**current, item_id: command.position})
        await _move(meeting["id"], item_id, command.position, viewer)


async def remove_agenda_item(
    item_id: int, viewer: Viewer, *, confirmation: Confirmation | None = None
) -> None:
    """Removes an item without a decision; the items after it move up. A page's caller must
    have confirmed (`REMOVAL_IS_FINAL`)."""
    async with write_transaction():
        item, meeting = await _changeable_item(item_id, viewer)
        _require_scheduled(meeting)
        refuse(unconfirmed(confirmation, REMOVAL_IS_FINAL), CONFIRM_FIRST)
        await _remove_items(meeting["id"], [item], viewer)
        current = await _positions(meeting["id"])
        await _number(list(current), current)


def _entry_errors(items: list[AgendaEntry], existing: set[int]) -> dict[str, str]:
    """Each item's fields, and ids that name this agenda's items, each once."""
    errors: dict[str, str] = {}
    for index, item in enumerate(items):
        for name, message in field_errors(item, f"items[{index}].").items():
            errors.setdefault(name, message)
    seen: set[int] = set()
    for index, item in enumerate(items):
        if item.id is None:
            continue
        if item.id not in existing:
            errors[f"items[{index}].id"] = "This item is not on this meeting's agenda."
        elif item.id in seen:
            errors[f"items[{index}].id"] = "This item appears twice."
        seen.add(item.id)
    return errors


def _position_errors(items: list[AgendaEntry]) -> dict[str, str]:
    """Positions for every item or for none, each from 1 to the number of items, once."""
    given = [item.position for item in items if item.position is not None]
    if not given:
        return {}
    if len(given) != len(items):
        return {"items": "Give a position for every item, or for none."}
    errors: dict[str, str] = {}
    seen: set[int] = set()
    for index, position in enumerate(given):
        if not 1 <= position <= len(items):
            errors[f"items[{index}].position"] = f"Position must be between 1 and {len(items)}."
        elif position in seen:
            errors[f"items[{index}].position"] = "Two items cannot share a position."
        seen.add(position)
    return errors


async def _agenda_rows(meeting: Mapping[str, Any], viewer: Viewer) -> dict[int, dict[str, Any]]:
    rows = (
        await AgendaItem.select(
            AgendaItem.id,
            AgendaItem.position,
            AgendaItem.title,
            AgendaItem.visibility,
            AgendaItem.notes,
        )
        .where(
            (AgendaItem.meeting == meeting["id"])
            & scopes.readable_in_group(viewer, meeting["group"], AgendaItem.visibility)
        )
        .order_by(AgendaItem.position)
    )
    return {row["id"]: row for row in rows}


async def replace_agenda(meeting_id: int, command: AgendaReplacement, viewer: Viewer) -> None:
    """The agenda becomes these items, in their order (or at their positions): items with
    an `id` are kept and updated if they changed, the agenda's other items are removed
    (refused for an item with a decision), items without an `id` are added. All or
    nothing; an unchanged agenda writes nothing."""
    items = [trimmed(item) for item in command.items]
    async with write_transaction():
        meeting = await _changeable_meeting(meeting_id, viewer)
        _require_scheduled(meeting)
        existing = await _agenda_rows(meeting, viewer)
        refuse(
            {**_entry_errors(items, set(existing)), **_position_errors(items)},
            AGENDA_NEEDS_CORRECTING,
        )
        kept = {item.id for item in items if item.id is not None}
        await _remove_items(meeting_id, [r for i, r in existing.items() if i not in kept], viewer)
        explicit = bool(items) and items[0].position is not None
        for index, item in enumerate(items):
            position = item.position if explicit and item.position is not None else index + 1
            if item.id is None:
                await _add_item(meeting_id, item.details, position, viewer)
                continue
            old = existing[item.id]
            if (old["title"], old["visibility"], old["notes"]) != (
                item.title,
                item.visibility,
                item.notes.strip(),
            ):
                await _write_item(item.id, meeting_id, item.details, viewer)
            if old["position"] != position:
                await _move(meeting_id, item.id, position, viewer)


async def set_item_open(item_id: int, is_open: bool, viewer: Viewer) -> None:
    """Marks an item as still open (to carry forward) or settled, during or after the meeting."""
    async with write_transaction():
        _item, meeting = await _changeable_item(item_id, viewer)
        _require_not_cancelled(meeting)
        await AgendaItem.update({AgendaItem.is_open: is_open}).where(AgendaItem.id == item_id)
        await record_event(
            viewer.user,
            "agenda_item.open_changed",
            "meeting",
            meeting["id"],
            f"Agenda item {item_id} {'left open' if is_open else 'settled'}",
            scope=EventScope(meeting["group"], _item["visibility"]),
        )


async def _following_meeting(meeting: Mapping[str, Any]) -> int:
    following = (
        await Meeting.select(Meeting.id)
        .where(
            (Meeting.group == meeting["group"])
            & (Meeting.status == MeetingStatus.SCHEDULED)
            & (Meeting.starts_at > meeting["starts_at"])
        )
        .order_by(Meeting.starts_at)
        .first()
    )
    if following is None:
        raise ConflictError("Schedule the next meeting first; the item is carried onto it.")
    return int(following["id"])


async def carry_item_forward(item_id: int, viewer: Viewer) -> int:
    """Copies an open item onto the group's next scheduled meeting; returns that meeting's id."""
    async with write_transaction():
        item, meeting = await _changeable_item(item_id, viewer)
        if meeting["status"] != MeetingStatus.HELD:
            raise ConflictError("Only an item of a held meeting can be carried to the next one.")
        if not item["is_open"]:
            raise ConflictError("Only an item left open can be carried forward.")
        if await AgendaItem.exists().where(AgendaItem.carried_from == item_id):
            raise ConflictError("This item has already been carried forward.")
        following = await _following_meeting(meeting)
        details = AgendaItemDetails(
            title=item["title"], visibility=item["visibility"], notes=item["notes"]
        )
        new_id = await _insert_item(
            following, details, await _next_position(following), carried_from=item_id
        )
        await record_event(
            viewer.user,
            "agenda_item.carried",
            "meeting",
            following,
            f"Agenda item {item_id} carried forward as item {new_id}",
            scope=EventScope(meeting["group"], item["visibility"]),
        )
    return following


async def declare_conflict(
    item_id: int,
    command: ConflictDeclaration,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """A member declares their own conflict of interest on an item; the chair or secretary
    records anyone's. Only members of the group on the meeting date have one."""
    command = trimmed(command)
    async with write_transaction():
        _item, meeting = await queries.readable_item(item_id, viewer)
        user_id = command.user_id or viewer.user.id
        if not (viewer.leads(meeting["group"]) or viewer.user.id == user_id):
            raise PermissionDenied(
                "Members declare their own conflicts; the chair or secretary can record anyone's."
            )
        await require_unlocked(meeting["id"])
        _require_not_cancelled(meeting)
        errors = {**field_errors(command), **unreadable}
        message = "The declaration needs correcting. Nothing has been saved."
        members = await members_on(meeting["group"], meeting_date(meeting["starts_at"]))
        if "user_id" not in errors and user_id not in {m["user"] for m in members}:
            errors["user_id"] = "Choose a member of the group."
            message = "Only a member of the group on the meeting date can declare a conflict."
        refuse(errors, message)
        await ConflictOfInterest.insert(
            ConflictOfInterest(agenda_item=item_id, user=user_id, description=command.description)
        )
        await record_event(
            viewer.user,
            "conflict.declared",
            "meeting",
            meeting["id"],
            f"Conflict of interest declared on agenda item {item_id}",
            scope=EventScope(meeting["group"], _item["visibility"]),
        )


# --- attendance -------------------------------------------------------------------------


def _attendance_errors(
    command: AttendanceRecord, members: set[int], unreadable: Mapping[str, str]
) -> tuple[dict[str, str], str]:
    """Each entry's error under `mode_<user id>` and the guests' under `guests`, with the
    message that says what is wrong."""
    errors = dict(unreadable)
    # A field the form could not read names no one on the page: say so.
    message = next(iter(unreadable.values()), ATTENDANCE_NEEDS_CORRECTING)
    seen: set[int] = set()
    for entry in command.entries:
        key = f"mode_{entry.user_id}"
        if entry.user_id in seen:
            errors[key] = "This person is listed more than once."
        seen.add(entry.user_id)
        if entry.user_id not in members:
            errors[key] = "This person was not a member of the group on the meeting date."
            message = NOT_MEMBERS_ON_THE_DAY
        mode_error = field_errors(entry).get("mode")
        if mode_error:
            errors[key] = mode_error
    guest_rule = rule_of(GUEST_NAME)
    for guest in command.guests:
        guest_error = rule_error(guest, guest_rule)
        if guest_error:
            errors.setdefault("guests", guest_error)
    return errors, message


async def record_attendance(
    meeting_id: int,
    command: AttendanceRecord,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """Replaces the meeting's attendance: members on the meeting date by mode, and guests
    (present) by name; blank guest lines are left out."""
    guests = [guest.strip() for guest in command.guests if guest.strip()]
    command = AttendanceRecord(entries=command.entries, guests=guests)
    async with write_transaction():
        meeting = await _changeable_meeting(meeting_id, viewer)
        if meeting["status"] == MeetingStatus.CANCELLED:
            raise ConflictError("A cancelled meeting has no attendance.")
        members = await members_on(meeting["group"], meeting_date(meeting["starts_at"]))
        errors, message = _attendance_errors(command, {m["user"] for m in members}, unreadable)
        refuse(errors, message)
        await Attendance.delete().where(Attendance.meeting == meeting_id)
        rows = [
            Attendance(meeting=meeting_id, user=e.user_id, mode=e.mode) for e in command.entries
        ]
        rows += [
            Attendance(meeting=meeting_id, user=None, guest_name=guest, mode=AttendanceMode.PRESENT)
            for guest in guests
        ]
        if rows:
            await Attendance.insert(*rows)
        attending = sum(e.mode in COUNTS_TOWARDS_QUORUM for e in command.entries)
        await record_event(
            viewer.user,
            "attendance.recorded",
            "meeting",
            meeting_id,
            f"Attendance recorded: {_count(attending, 'member')} attending, "
            f"{_count(len(guests), 'guest')}",
            scope=await _meeting_scope(meeting_id),
        )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


# --- minutes ----------------------------------------------------------------------------


async def _minutes_of(meeting_id: int) -> dict[str, Any]:
    return await one_row(
        Minutes.select().where(Minutes.meeting == meeting_id), "This meeting has no minutes."
    )


async def _minutes_errors(
    meeting: Mapping[str, Any], command: MinutesDraft, viewer: Viewer, unreadable: Mapping[str, str]
) -> tuple[dict[str, str], str]:
    errors = {**field_errors(command), **unreadable}
    message = NOT_OF_THIS_MEETING if unreadable else MINUTES_NEED_CORRECTING
    readable = {row["id"] for row in (await _agenda_rows(meeting, viewer)).values()}
    item_rule = rule_of(ITEM_MINUTES)
    for item_id, text in command.items.items():
        if item_id not in readable:
            errors[f"item_{item_id}"] = "This item is not part of this meeting."
            message = NOT_OF_THIS_MEETING
            continue
        item_error = rule_error(text, item_rule)
        if item_error:
            errors[f"item_{item_id}"] = item_error
    return errors, message


async def save_minutes(
    meeting_id: int,
    command: MinutesDraft,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """Writes the draft minutes: a general summary and the record of each agenda item."""
    async with write_transaction():
        meeting = await _changeable_meeting(meeting_id, viewer)
        if meeting["status"] == MeetingStatus.CANCELLED:
            raise ConflictError("A cancelled meeting has no minutes.")
        minutes = await _minutes_of(meeting_id)
        if minutes["status"] == MinutesStatus.CIRCULATED:
            raise ConflictError(
                "These minutes are circulated. Return them to draft before editing."
            )
        refuse(*await _minutes_errors(meeting, command, viewer, unreadable))
        await Minutes.update(
            {Minutes.summary: command.summary.strip(), Minutes.updated_at: utcnow()}
        ).where(Minutes.id == minutes["id"])
        for item_id, text in command.items.items():
            await AgendaItem.update({AgendaItem.minutes_text: text.strip()}).where(
                AgendaItem.id == item_id
            )
        await record_event(
            viewer.user,
            "minutes.saved",
            "minutes",
            minutes["id"],
            f"Draft minutes of meeting {meeting_id} saved",
            scope=await _meeting_scope(meeting_id),
        )


async def circulate_minutes(meeting_id: int, viewer: Viewer) -> int:
    """Sends the draft to the group's current members for comment; returns how many."""
    async with write_transaction():
        meeting = await _changeable_meeting(meeting_id, viewer)
        minutes = await _minutes_of(meeting_id)
        refusal = circulate_refusal(meeting["status"], minutes["status"])
        if refusal:
            raise ConflictError(refusal)
        now = utcnow()
        await Minutes.update(
            {
                Minutes.status: MinutesStatus.CIRCULATED,
                Minutes.circulated_at: now,
                Minutes.updated_at: now,
            }
        ).where(Minutes.id == minutes["id"])
        # To the group's members for comment (the draft's readers; comments are theirs).
        recipients = await member_readers(meeting["group"], Visibility.INTERNAL)
        for reader in recipients:
            await emails.minutes_circulated(
                reader.recipient,
                minutes_id=minutes["id"],
                meeting_id=meeting_id,
                group_id=meeting["group"],
                group_name=meeting["group_name"],
                meeting_title=meeting["title"],
                meeting_date=meeting_date(meeting["starts_at"]),
                circulated_at=now,
            )
        await record_event(
            viewer.user,
            "minutes.circulated",
            "minutes",
            minutes["id"],
            f"Minutes of meeting {meeting_id} circulated to {len(recipients)} members",
            scope=await _meeting_scope(meeting_id),
        )
    return len(recipients)


async def return_minutes_to_draft(meeting_id: int, viewer: Viewer) -> None:
    async with write_transaction():
        await _changeable_meeting(meeting_id, viewer)
        minutes = await _minutes_of(meeting_id)
        if minutes["status"] != MinutesStatus.CIRCULATED:
            raise ConflictError(
                f"Only circulated minutes can return to draft; these are {minutes['status']}."
            )
        await Minutes.update(
            {Minutes.status: MinutesStatus.DRAFT, Minutes.updated_at: utcnow()}
        ).where(Minutes.id == minutes["id"])
        await record_event(
            viewer.user,
            "minutes.returned_to_draft",
            "minutes",
            minutes["id"],
            f"Minutes of meeting {meeting_id} returned to draft",
            scope=await _meeting_scope(meeting_id),
        )


async def comment_on_minutes(
    meeting_id: int,
    command: NewComment,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """A member comments on circulated minutes."""
    async with write_transaction():
        meeting = await queries.readable_meeting(meeting_id, viewer)
        if not viewer.is_member_of(meeting["group"]):
            raise PermissionDenied("Only members of the group can comment on its minutes.")
        await require_unlocked(meeting_id)
        minutes = await _minutes_of(meeting_id)
        if minutes["status"] != MinutesStatus.CIRCULATED:
            raise ConflictError("Comments are taken while the minutes are circulated.")
        refuse({**field_errors(command), **unreadable}, "Write a comment first.")
        await MinutesComment.insert(
            MinutesComment(
                minutes=minutes["id"],
                author=viewer.user.id,
                body=command.body.strip(),
                created_at=utcnow(),
            )
        )
        await record_event(
            viewer.user,
            "minutes.commented",
            "minutes",
            minutes["id"],
            f"Comment on the minutes of meeting {meeting_id}",
            scope=await _meeting_scope(meeting_id, Visibility.GROUP),
        )


async def _approves(meeting: Mapping[str, Any], approving_meeting_id: int | None) -> bool:
    """Whether that meeting may approve this one's minutes: a later, held meeting of the
    same group."""
    if approving_meeting_id is None:
        return False
    approving = (
        await Meeting.select(Meeting.group, Meeting.starts_at, Meeting.status)
        .where(Meeting.id == approving_meeting_id)
        .first()
    )
    return (
        approving is not None
        and approving["group"] == meeting["group"]
        and approving["starts_at"] > meeting["starts_at"]
        and approving["status"] == MeetingStatus.HELD
    )


async def approve_minutes(
    meeting_id: int,
    command: Approval,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
    confirmation: Confirmation | None = None,
) -> None:
    """Approves circulated minutes, at a later held meeting or by circulation; then locked.
    A page's caller must have confirmed (`APPROVAL_IS_FINAL`), checked with every field."""
    async with write_transaction():
        meeting = await _managed_meeting(meeting_id, viewer)
        minutes = await _minutes_of(meeting_id)
        refusal = approve_refusal(minutes["status"])
        if refusal:
            raise ConflictError(refusal)
        errors = {**field_errors(command), **unreadable}
        message = APPROVAL_NEEDS_CORRECTING
        at_meeting = command.method == ApprovalMethod.MEETING
        if at_meeting and not errors and not await _approves(meeting, command.approving_meeting_id):
            errors["approving_meeting_id"] = "Choose a later meeting of this group that was held."
            message = NOT_A_LATER_MEETING
        errors.update(unconfirmed(confirmation, APPROVAL_IS_FINAL))
        refuse(errors, message)
        now = utcnow()
        await Minutes.update(
            {
                Minutes.status: MinutesStatus.APPROVED,
                Minutes.approved_at: now,
                Minutes.approved_by: viewer.user.id,
                Minutes.approved_at_meeting: command.approving_meeting_id if at_meeting else None,
                Minutes.approval_method: command.method,
                Minutes.updated_at: now,
            }
        ).where(Minutes.id == minutes["id"])
        # The hash of what was approved, kept in the keyed audit chain as well.
        digest = await seal_minutes(meeting_id)
        await record_event(
            viewer.user,
            "minutes.approved",
            "minutes",
            minutes["id"],
            f"Minutes of meeting {meeting_id} approved ({command.method}) and locked; "
            f"sha256 {digest}",
            scope=await _meeting_scope(meeting_id),
        )
        await _tell_approved(meeting, minutes["id"])


async def _tell_approved(meeting: Mapping[str, Any], minutes_id: int) -> None:
    for reader in await member_readers(meeting["group"], Visibility.INTERNAL):
        await emails.minutes_approved(
            reader.recipient,
            minutes_id=minutes_id,
            meeting_id=meeting["id"],
            group_id=meeting["group"],
            group_name=meeting["group_name"],
            meeting_title=meeting["title"],
            meeting_date=meeting_date(meeting["starts_at"]),
        )


async def add_erratum(
    meeting_id: int,
    command: NewErratum,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """A correction appended to approved minutes, which themselves never change."""
    async with write_transaction():
        await _managed_meeting(meeting_id, viewer)
        minutes = await _minutes_of(meeting_id)
        if minutes["status"] != MinutesStatus.APPROVED:
            raise ConflictError("Errata are for approved minutes; edit the draft instead.")
        refuse({**field_errors(command), **unreadable}, "Describe the correction.")
        await Erratum.insert(
            Erratum(
                minutes=minutes["id"],
                author=viewer.user.id,
                body=command.body.strip(),
                visibility=command.visibility,
                created_at=utcnow(),
            )
        )
        await record_event(
            viewer.user,
            "minutes.erratum_added",
            "minutes",
            minutes["id"],
            f"Erratum ({command.visibility}) appended to the minutes of meeting {meeting_id}",
            scope=await _meeting_scope(meeting_id, command.visibility),
        )


# --- decisions --------------------------------------------------------------------------


async def _decision_errors(
    meeting_id: int, command: NewDecision, viewer: Viewer, unreadable: Mapping[str, str]
) -> tuple[dict[str, str], str]:
    """Every field's error; the item must be one of this meeting's that the viewer reads
    (one they may not read is "not found")."""
    errors = {**field_errors(command), **unreadable}
    visibility = ""
    if "agenda_item_id" not in errors:
        item, _ = await queries.readable_item(command.agenda_item_id, viewer)
        visibility = item["visibility"]
        if item["meeting"] != meeting_id:
            errors["agenda_item_id"] = "Choose an item of this meeting."
    return errors, visibility


VOTE_FIELDS = ("votes_for", "votes_against", "votes_abstain")


def _outcome_note(meeting: Mapping[str, Any], command: NewDecision) -> str:
    result = queries.outcome(
        meeting["decision_rule"], command.votes_for, command.votes_against, command.votes_abstain
    )
    return f" ({result})" if result else ""


def _vote_errors(command: NewDecision, errors: Mapping[str, str], voters: int) -> dict[str, str]:
    """Votes cast (for, against, abstaining) are at most the members present or remote:
    guests and absent members do not vote."""
    if set(VOTE_FIELDS) & set(errors):
        return {}
    cast = command.votes_for + command.votes_against + command.votes_abstain
    if cast <= voters:
        return {}
    message = (
        f"{cast} votes cast, but only {voters} members were present or remote;"
        " guests do not vote. Record the attendance first if it is missing."
    )
    return dict.fromkeys(VOTE_FIELDS, message)


async def record_decision(
    meeting_id: int,
    command: NewDecision,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> int:
    """Records a decision on an agenda item, with the votes and whether quorum was met."""
    async with write_transaction():
        meeting = await _changeable_meeting(meeting_id, viewer)
        if meeting["status"] == MeetingStatus.CANCELLED:
            raise ConflictError("No decision can be recorded on a cancelled meeting.")
        if not queries.takes_decisions(meeting):
            raise ConflictError(NOT_YET_HELD)
        errors, visibility = await _decision_errors(meeting_id, command, viewer, unreadable)
        quorum = await queries.quorum_for(meeting)
        errors.update(_vote_errors(command, errors, quorum.counted))
        refuse(errors, DECISION_NEEDS_CORRECTING)
        rows = await Decision.insert(
            Decision(
                meeting=meeting_id,
                agenda_item=command.agenda_item_id,
                text=command.text.strip(),
                votes_for=command.votes_for,
                votes_against=command.votes_against,
                votes_abstain=command.votes_abstain,
                quorum_met=quorum.met,
                recorded_by=viewer.user.id,
                created_at=utcnow(),
            )
        ).returning(Decision.id)
        decision_id = int(rows[0]["id"])
        await record_event(
            viewer.user,
            "decision.recorded",
            "decision",
            decision_id,
            f"Decision on agenda item {command.agenda_item_id} ({visibility}): "
            f"{command.votes_for} for, {command.votes_against} against, "
            f"{command.votes_abstain} abstaining"
            + _outcome_note(meeting, command)
            + ("" if quorum.met else "; taken WITHOUT quorum"),
            scope=await _meeting_scope(meeting_id, visibility),
        )
    return decision_id


# --- the personal calendar feed ---------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def create_feed_if_missing(user: CurrentUser) -> str | None:
    """Gives the user a personal feed on first use; returns the new token, or None if they
    already had one (only its hash is kept, so an existing address cannot be shown again)."""
    token = new_token()
    async with write_transaction():
        rows = (
            await CalendarFeed.insert(
                CalendarFeed(
                    user=user.id, token_hash=queries.hash_token(token), created_at=utcnow()
                )
            )
            .on_conflict(target=CalendarFeed.user, action="DO NOTHING")
            .returning(CalendarFeed.id)
        )
        if not rows:
            return None
        await record_event(
            user, "calendar_feed.created", "user", user.id, "Personal calendar feed created"
        )
    return token


async def reset_feed(user: CurrentUser) -> str:
    """Replaces the user's secret token (or creates one): the old address stops working."""
    token = new_token()
    async with write_transaction():
        await CalendarFeed.insert(
            CalendarFeed(user=user.id, token_hash=queries.hash_token(token), created_at=utcnow())
        ).on_conflict(
            target=CalendarFeed.user,
            action="DO UPDATE",
            values=[CalendarFeed.token_hash, CalendarFeed.created_at],
        )
        await record_event(
            user,
            "calendar_feed.reset",
            "user",
            user.id,
            "Personal calendar feed reset; the previous address no longer works",
        )
    return token


# --- the notice and its replies ---------------------------------------------------------

NOTICE_ALREADY_SENT = (
    "The notice of this meeting was already sent; a change to the meeting sends members a"
    " change notice by itself."
)
NOT_TAKING_REPLIES = (
    "This meeting no longer takes replies: it has started, or is no longer scheduled."
)
NOT_A_MEMBER_ON_THE_DAY = "Only members of the group on the meeting date reply to its notice."


def is_upcoming(status: str, starts_at: dt.datetime, now: dt.datetime) -> bool:
    return status == MeetingStatus.SCHEDULED and starts_at > now


def _require_upcoming(meeting: Mapping[str, Any], message: str) -> None:
    if not is_upcoming(meeting["status"], meeting["starts_at"], utcnow()):
        raise ConflictError(message)


async def _send_notice(meeting: dict[str, Any], actor: Actor) -> int:
    """Queues the notice to every member and records it as sent (one audit event)."""
    told = await notices.send_notice(meeting)
    now = utcnow()
    await Meeting.update({Meeting.notice_sent_at: now, Meeting.updated_at: now}).where(
        Meeting.id == meeting["id"]
    )
    await record_event(
        actor,
        "meeting.notice_sent",
        "meeting",
        meeting["id"],
        f"Notice of meeting '{meeting['title']}' sent to {told} members",
        scope=EventScope(meeting["group"], Visibility.INTERNAL),
    )
    return told


async def send_meeting_notice(meeting_id: int, viewer: Viewer) -> int:
    """The chair or secretary sends the notice of an upcoming meeting (one action): each
    member gets the agenda they may read, the place, the papers' link, reply links and a
    calendar invitation. Returns how many were told; a second sending is refused."""
    async with write_transaction():
        meeting = await _changeable_meeting(meeting_id, viewer)
        _require_upcoming(meeting, "A notice is sent for a scheduled meeting that has not started.")
        if meeting["notice_sent_at"] is not None:
            raise ConflictError(NOTICE_ALREADY_SENT)
        return await _send_notice(meeting, viewer.user)


@dataclass(frozen=True)
class Replier:
    """A member replying from the signed link in their notice, without signing in."""

    actor_id: int
    actor_label: str


async def _record_reply(meeting_id: int, user_id: int, mode: str, actor: Actor) -> bool:
    """Records (or replaces) a member's reply; returns whether anything changed."""
    meeting = await queries.meeting_row(meeting_id)
    _require_upcoming(meeting, NOT_TAKING_REPLIES)
    members = await members_on(meeting["group"], meeting_date(meeting["starts_at"]))
    if user_id not in {m["user"] for m in members}:
        raise PermissionDenied(NOT_A_MEMBER_ON_THE_DAY)
    existing = (
        await MeetingReply.select(MeetingReply.id, MeetingReply.mode)
        .where((MeetingReply.meeting == meeting_id) & (MeetingReply.user == user_id))
        .first()
    )
    if existing is not None and existing["mode"] == mode:
        return False
    now = utcnow()
    if existing is None:
        await MeetingReply.insert(
            MeetingReply(meeting=meeting_id, user=user_id, mode=mode, replied_at=now)
        )
    else:
        await MeetingReply.update({MeetingReply.mode: mode, MeetingReply.replied_at: now}).where(
            MeetingReply.id == existing["id"]
        )
    await record_event(
        actor,
        "meeting.replied",
        "meeting",
        meeting_id,
        f"Reply to the notice of meeting {meeting_id}: {mode}",
        scope=EventScope(meeting["group"], Visibility.INTERNAL),
    )
    return True


def _reply_errors(command: NoticeReply, unreadable: Mapping[str, str]) -> None:
    refuse({**field_errors(command), **unreadable}, "Choose your reply.")


async def reply_to_notice(
    meeting_id: int,
    command: NoticeReply,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> bool:
    """A signed-in member replies from the meeting page."""
    async with write_transaction():
        await queries.readable_meeting(meeting_id, viewer)
        _reply_errors(command, unreadable)
        return await _record_reply(meeting_id, viewer.user.id, command.mode, viewer.user)


async def reply_by_link(
    token: str, command: NoticeReply, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> bool:
    """A member replies from the signed link in their notice, with no sign-in: the link
    names the meeting and the member, and is the authority for that reply only."""
    meeting_id, user_id = _reply_link_owner(token)
    _reply_errors(command, unreadable)
    async with write_transaction():
        user = await one_row(
            User.select(User.id, User.email).where(
                (User.id == user_id) & (User.is_active == True)  # noqa: E712 - SQL comparison
            ),
            REPLY_LINK_INVALID,
        )
        actor = Replier(actor_id=user["id"], actor_label=user["email"])
        return await _record_reply(meeting_id, user_id, command.mode, actor)


REPLY_LINK_INVALID = "This reply link is not valid. Reply from the meeting page instead."


def _reply_link_owner(token: str) -> tuple[int, int]:
    owner = notices.read_reply_token(token)
    if owner is None:
        raise NotFoundError(REPLY_LINK_INVALID)
    return owner


async def reply_page(token: str) -> ReplyPage:
    """What a reply link opens: the meeting, the member and their reply so far."""
    meeting_id, user_id = _reply_link_owner(token)
    return await queries.reply_page(meeting_id, user_id, REPLY_LINK_INVALID)


@dataclass
class NoticesSent(SkippedItems):
    """One run of the automatic notices; `failed` counts meetings skipped because they broke."""

    meetings: int = 0
    emails: int = 0

    def __str__(self) -> str:
        return f"{self.meetings} notices sent ({self.emails} emails); {self.failures_summary()}"


async def send_due_notices() -> NoticesSent:
    """The notice of every meeting starting within AUTO_NOTICE_DAYS whose chair has not sent
    it, for groups that want it: one transaction per meeting, which checks again that it is
    still unsent, so running this twice sends nothing twice and one bad meeting does not
    stop the others."""
    report = NoticesSent()
    for meeting_id in await queries.meetings_due_a_notice(AUTO_NOTICE_DAYS):
        with report.skipping(f"meeting {meeting_id}"):
            async with write_transaction():
                meeting = await queries.meeting_row(meeting_id)
                if meeting["notice_sent_at"] is not None or meeting["status"] != "scheduled":
                    continue
                report.emails += await _send_notice(meeting, SCHEDULER)
                report.meetings += 1
    return report


SCHEDULER = SystemActor(actor_label="scheduler")
