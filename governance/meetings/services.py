"""The rules of a group's proceedings.

Who may read a meeting: the group's current members, the Director and the Board (admins
only as one of those). Agenda items, their minutes and decisions carry a visibility and are
filtered in the query by `Viewer.readable_visibilities`, so a `board` item never reaches
the Director and a `group` item never leaves the group. Chairs and secretaries manage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from governance.accounts.policy import VISIBILITIES, Viewer
from governance.accounts.tables import User
from governance.core.audit import record_event
from governance.core.clock import utcnow
from governance.core.db import write_transaction
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.groups.queries import members_on
from governance.groups.services import quorum_needed
from governance.groups.tables import WorkingGroup
from governance.meetings.tables import (
    AgendaItem,
    Attendance,
    ConflictOfInterest,
    Decision,
    Erratum,
    Meeting,
    Minutes,
    MinutesComment,
)
from governance.notifications import emails
from governance.notifications.emails import Recipient
from governance.settings import get_settings

MEETING_STATUSES = ("scheduled", "held", "cancelled")
ATTENDANCE_MODES = ("present", "remote", "apologies", "absent")
COUNTS_TOWARDS_QUORUM = frozenset({"present", "remote"})
MINUTES_STATUSES = ("draft", "circulated", "approved")
APPROVAL_METHODS = ("meeting", "circulation")


# --- reading rules ----------------------------------------------------------------------


def can_read_group_proceedings(viewer: Viewer, group_id: int) -> bool:
    return bool(viewer.readable_visibilities(group_id))


def _require_reader(viewer: Viewer, group_id: int) -> None:
    # A meeting its reader may not see is "not found", exactly like one that does not exist.
    if not can_read_group_proceedings(viewer, group_id):
        raise NotFoundError("There is no meeting at this address, or you cannot see it.")


def _require_leader(viewer: Viewer, group_id: int) -> None:
    if not viewer.leads(group_id):
        raise PermissionDenied("Only the group's chair or secretary can do this.")


def meeting_date(starts_at: dt.datetime) -> dt.date:
    """The meeting's calendar day in the organisation's time zone."""
    return starts_at.astimezone(ZoneInfo(get_settings().timezone)).date()


async def _meeting_row(meeting_id: int) -> dict[str, Any]:
    row = (
        await Meeting.select(
            *Meeting.all_columns(),
            Meeting.group.name.as_alias("group_name"),
            Meeting.group.slug.as_alias("group_slug"),
            Meeting.group.quorum_rule.as_alias("quorum_rule"),
            Meeting.group.quorum_count.as_alias("quorum_count"),
        )
        .where(Meeting.id == meeting_id)
        .first()
    )
    if row is None:
        raise NotFoundError("There is no meeting at this address, or you cannot see it.")
    return row  # type: ignore[no-any-return]


async def get_meeting(meeting_id: int, viewer: Viewer) -> dict[str, Any]:
    meeting = await _meeting_row(meeting_id)
    _require_reader(viewer, meeting["group"])
    return meeting


async def _group_by_slug(slug: str) -> dict[str, Any]:
    group = await WorkingGroup.select().where(WorkingGroup.slug == slug).first()
    if group is None:
        raise NotFoundError("There is no working group at this address.")
    return group  # type: ignore[no-any-return]


async def list_meetings(slug: str, viewer: Viewer) -> dict[str, Any]:
    """A group's meetings, split into upcoming and past; one query for the meetings."""
    group = await _group_by_slug(slug)
    if not can_read_group_proceedings(viewer, group["id"]):
        return {"group": group, "upcoming": [], "past": [], "can_read": False}
    rows = (
        await Meeting.select(
            Meeting.id,
            Meeting.title,
            Meeting.starts_at,
            Meeting.ends_at,
            Meeting.location,
            Meeting.status,
        )
        .where(Meeting.group == group["id"])
        .order_by(Meeting.starts_at, ascending=False)
    )
    now = utcnow()
    upcoming = [m for m in rows if m["ends_at"] >= now and m["status"] == "scheduled"]
    upcoming.reverse()
    past = [m for m in rows if not (m["ends_at"] >= now and m["status"] == "scheduled")]
    return {"group": group, "upcoming": upcoming, "past": past, "can_read": True}


@dataclass(frozen=True)
class Quorum:
    members: int
    counted: int
    needed: int

    @property
    def met(self) -> bool:
        return self.members > 0 and self.counted >= self.needed


def compute_quorum(
    meeting: dict[str, Any], members: list[dict[str, Any]], attendance: list[dict[str, Any]]
) -> Quorum:
    member_ids = {m["user"] for m in members}
    counted = {
        a["user"]
        for a in attendance
        if a["user"] in member_ids and a["mode"] in COUNTS_TOWARDS_QUORUM
    }
    needed = quorum_needed(meeting["quorum_rule"], meeting["quorum_count"], len(member_ids))
    return Quorum(members=len(member_ids), counted=len(counted), needed=needed)


async def quorum_for(meeting: dict[str, Any]) -> Quorum:
    members = await members_on(meeting["group"], meeting_date(meeting["starts_at"]))
    attendance = await Attendance.select(Attendance.user, Attendance.mode).where(
        Attendance.meeting == meeting["id"]
    )
    return compute_quorum(meeting, members, attendance)


async def meeting_page(meeting_id: int, viewer: Viewer) -> dict[str, Any]:
    """Everything the meeting page shows, in a fixed number of queries."""
    meeting = await get_meeting(meeting_id, viewer)
    readable = sorted(viewer.readable_visibilities(meeting["group"]))
    items = (
        await AgendaItem.select()
        .where((AgendaItem.meeting == meeting_id) & AgendaItem.visibility.is_in(readable))
        .order_by(AgendaItem.position)
    )
    item_ids = [item["id"] for item in items] or [-1]
    conflicts = await ConflictOfInterest.select(
        ConflictOfInterest.agenda_item,
        ConflictOfInterest.description,
        ConflictOfInterest.user.display_name.as_alias("display_name"),
    ).where(ConflictOfInterest.agenda_item.is_in(item_ids))
    decisions = (
        await Decision.select()
        .where(Decision.agenda_item.is_in(item_ids))
        .order_by(Decision.created_at)
    )
    for item in items:
        item["conflicts"] = [c for c in conflicts if c["agenda_item"] == item["id"]]
        item["decisions"] = [d for d in decisions if d["agenda_item"] == item["id"]]
    members = await members_on(meeting["group"], meeting_date(meeting["starts_at"]))
    attendance = await Attendance.select(
        Attendance.id,
        Attendance.user,
        Attendance.guest_name,
        Attendance.mode,
        Attendance.user.display_name.as_alias("display_name"),
    ).where(Attendance.meeting == meeting_id)
    minutes = await Minutes.select().where(Minutes.meeting == meeting_id).first()
    comments: list[dict[str, Any]] = []
    errata: list[dict[str, Any]] = []
    if minutes and viewer.is_member_of(meeting["group"]):
        # Comments on a draft are the members' own deliberation, about any of its items.
        comments = (
            await MinutesComment.select(
                MinutesComment.body,
                MinutesComment.created_at,
                MinutesComment.author.display_name.as_alias("author_name"),
            )
            .where(MinutesComment.minutes == minutes["id"])
            .order_by(MinutesComment.created_at)
        )
    if minutes:
        errata = (
            await Erratum.select(
                Erratum.body,
                Erratum.visibility,
                Erratum.created_at,
                Erratum.author.display_name.as_alias("author_name"),
            )
            .where((Erratum.minutes == minutes["id"]) & Erratum.visibility.is_in(readable))
            .order_by(Erratum.created_at)
        )
    attendance_by_user = {a["user"]: a["mode"] for a in attendance if a["user"] is not None}
    later_held = (
        await Meeting.select(Meeting.id, Meeting.title, Meeting.starts_at)
        .where(
            (Meeting.group == meeting["group"])
            & (Meeting.starts_at > meeting["starts_at"])
            & (Meeting.status == "held")
        )
        .order_by(Meeting.starts_at)
    )
    return {
        "later_held_meetings": later_held,
        "meeting": meeting,
        "items": items,
        "members": members,
        "attendance": attendance,
        "attendance_by_user": attendance_by_user,
        "guests": [a for a in attendance if a["user"] is None],
        "quorum": compute_quorum(meeting, members, attendance),
        "minutes": minutes,
        "comments": comments,
        "errata": errata,
        "can_manage": viewer.leads(meeting["group"]),
        "is_member": viewer.is_member_of(meeting["group"]),
    }


# --- meetings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingFields:
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str


def _check_times(fields: MeetingFields) -> None:
    if fields.ends_at <= fields.starts_at:
        raise InvalidInput(
            "The meeting ends before it starts.",
            {"ends_at": "The end must be after the start."},
        )


async def schedule_meeting(slug: str, fields: MeetingFields, viewer: Viewer) -> int:
    group = await _group_by_slug(slug)
    _require_leader(viewer, group["id"])
    _check_times(fields)
    now = utcnow()
    async with write_transaction():
        rows = await Meeting.insert(
            Meeting(
                group=group["id"],
                title=fields.title,
                starts_at=fields.starts_at,
                ends_at=fields.ends_at,
                location=fields.location,
                status="scheduled",
                created_at=now,
                updated_at=now,
            )
        ).returning(Meeting.id)
        meeting_id = int(rows[0]["id"])
        await Minutes.insert(Minutes(meeting=meeting_id, status="draft", updated_at=now))
        await record_event(
            viewer.user,
            "meeting.scheduled",
            "meeting",
            meeting_id,
            f"{group['name']}: meeting '{fields.title}' scheduled for "
            f"{fields.starts_at:%Y-%m-%d %H:%M} UTC",
        )
    return meeting_id


async def _managed_meeting(meeting_id: int, viewer: Viewer) -> dict[str, Any]:
    meeting = await get_meeting(meeting_id, viewer)
    _require_leader(viewer, meeting["group"])
    return meeting


async def update_meeting(meeting_id: int, fields: MeetingFields, viewer: Viewer) -> None:
    _check_times(fields)
    async with write_transaction():
        meeting = await _managed_meeting(meeting_id, viewer)
        if meeting["status"] == "cancelled":
            raise ConflictError("This meeting was cancelled; schedule a new one instead.")
        await Meeting.update(
            {
                Meeting.title: fields.title,
                Meeting.starts_at: fields.starts_at,
                Meeting.ends_at: fields.ends_at,
                Meeting.location: fields.location,
                Meeting.calendar_sequence: meeting["calendar_sequence"] + 1,
                Meeting.updated_at: utcnow(),
            }
        ).where(Meeting.id == meeting_id)
        await record_event(
            viewer.user,
            "meeting.updated",
            "meeting",
            meeting_id,
            f"Meeting '{fields.title}' updated",
        )


async def mark_meeting_held(meeting_id: int, viewer: Viewer) -> None:
    async with write_transaction():
        meeting = await _managed_meeting(meeting_id, viewer)
        if meeting["status"] != "scheduled":
            raise ConflictError(
                f"Only a scheduled meeting can be marked held; this one is {meeting['status']}."
            )
        if meeting["starts_at"] > utcnow():
            raise ConflictError("A meeting cannot be marked held before it has started.")
        await Meeting.update({Meeting.status: "held", Meeting.updated_at: utcnow()}).where(
            Meeting.id == meeting_id
        )
        await record_event(
            viewer.user,
            "meeting.held",
            "meeting",
            meeting_id,
            f"Meeting '{meeting['title']}' marked held",
        )


async def cancel_meeting(meeting_id: int, reason: str, viewer: Viewer) -> None:
    if not reason.strip():
        raise InvalidInput("Give a reason for cancelling.", {"reason": "A reason is required."})
    async with write_transaction():
        meeting = await _managed_meeting(meeting_id, viewer)
        if meeting["status"] != "scheduled":
            raise ConflictError(
                f"Only a scheduled meeting can be cancelled; this one is {meeting['status']}."
            )
        await Meeting.update(
            {
                Meeting.status: "cancelled",
                Meeting.cancel_reason: reason.strip(),
                Meeting.calendar_sequence: meeting["calendar_sequence"] + 1,
                Meeting.updated_at: utcnow(),
            }
        ).where(Meeting.id == meeting_id)
        await record_event(
            viewer.user,
            "meeting.cancelled",
            "meeting",
            meeting_id,
            f"Meeting '{meeting['title']}' cancelled",
        )


# --- agenda -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaItemFields:
    title: str
    visibility: str
    notes: str


async def _agenda_meeting(meeting_id: int, viewer: Viewer) -> dict[str, Any]:
    meeting = await _managed_meeting(meeting_id, viewer)
    if meeting["status"] != "scheduled":
        raise ConflictError("The agenda can only change while the meeting is scheduled.")
    return meeting


def _item_summary(item_id: int, visibility: str) -> str:
    # Titles of confidential items stay out of the audit trail.
    return f"Agenda item {item_id} ({visibility})"


async def add_agenda_item(meeting_id: int, fields: AgendaItemFields, viewer: Viewer) -> int:
    if fields.visibility not in VISIBILITIES:
        raise InvalidInput(
            "Unknown visibility.", {"visibility": "Choose a visibility from the list."}
        )
    async with write_transaction():
        await _agenda_meeting(meeting_id, viewer)
        last = (
            await AgendaItem.select(AgendaItem.position)
            .where(AgendaItem.meeting == meeting_id)
            .order_by(AgendaItem.position, ascending=False)
            .first()
        )
        rows = await AgendaItem.insert(
            AgendaItem(
                meeting=meeting_id,
                position=(last["position"] + 1) if last else 1,
                title=fields.title,
                visibility=fields.visibility,
                notes=fields.notes,
            )
        ).returning(AgendaItem.id)
        item_id = int(rows[0]["id"])
        await record_event(
            viewer.user,
            "agenda_item.added",
            "meeting",
            meeting_id,
            _item_summary(item_id, fields.visibility) + " added",
        )
    return item_id


async def _readable_item(item_id: int, viewer: Viewer) -> tuple[dict[str, Any], dict[str, Any]]:
    # Worded the same whether the item is missing, its meeting unreadable or the item hidden,
    # so that the answer never tells that it exists.
    not_found = NotFoundError("There is no such agenda item, or you cannot see it.")
    item = await AgendaItem.select().where(AgendaItem.id == item_id).first()
    if item is None:
        raise not_found
    meeting = await _meeting_row(item["meeting"])
    if item["visibility"] not in viewer.readable_visibilities(meeting["group"]):
        raise not_found
    return item, meeting


async def get_agenda_item(item_id: int, viewer: Viewer) -> tuple[dict[str, Any], dict[str, Any]]:
    return await _readable_item(item_id, viewer)


async def update_agenda_item(item_id: int, fields: AgendaItemFields, viewer: Viewer) -> None:
    if fields.visibility not in VISIBILITIES:
        raise InvalidInput(
            "Unknown visibility.", {"visibility": "Choose a visibility from the list."}
        )
    async with write_transaction():
        _item, meeting = await _readable_item(item_id, viewer)
        await _agenda_meeting(meeting["id"], viewer)
        await AgendaItem.update(
            {
                AgendaItem.title: fields.title,
                AgendaItem.visibility: fields.visibility,
                AgendaItem.notes: fields.notes,
            }
        ).where(AgendaItem.id == item_id)
        await record_event(
            viewer.user,
            "agenda_item.updated",
            "meeting",
            meeting["id"],
            _item_summary(item_id, fields.visibility) + " updated",
        )


async def move_agenda_item(item_id: int, new_position: int, viewer: Viewer) -> None:
    """Moves an item to a position from 1 to the number of items, shifting the others."""
    async with write_transaction():
        _item, meeting = await _readable_item(item_id, viewer)
        await _agenda_meeting(meeting["id"], viewer)
        ordered = (
            await AgendaItem.select(AgendaItem.id)
            .where(AgendaItem.meeting == meeting["id"])
            .order_by(AgendaItem.position)
        )
        ids = [row["id"] for row in ordered]
        if not 1 <= new_position <= len(ids):
            raise InvalidInput(
                f"Position must be between 1 and {len(ids)}.",
                {"position": f"Choose a position from 1 to {len(ids)}."},
            )
        ids.remove(item_id)
        ids.insert(new_position - 1, item_id)
        for position, each_id in enumerate(ids, start=1):
            await AgendaItem.update({AgendaItem.position: position}).where(AgendaItem.id == each_id)
        await record_event(
            viewer.user,
            "agenda_item.moved",
            "meeting",
            meeting["id"],
            f"Agenda item {item_id} moved to position {new_position}",
        )


async def remove_agenda_item(item_id: int, viewer: Viewer) -> None:
    async with write_transaction():
        item, meeting = await _readable_item(item_id, viewer)
        await _agenda_meeting(meeting["id"], viewer)
        if await Decision.exists().where(Decision.agenda_item == item_id):
            raise ConflictError("A decision was recorded on this item; it cannot be removed.")
        await AgendaItem.delete().where(AgendaItem.id == item_id)
        remaining = (
            await AgendaItem.select(AgendaItem.id)
            .where(AgendaItem.meeting == meeting["id"])
            .order_by(AgendaItem.position)
        )
        for position, row in enumerate(remaining, start=1):
            await AgendaItem.update({AgendaItem.position: position}).where(
                AgendaItem.id == row["id"]
            )
        await record_event(
            viewer.user,
            "agenda_item.removed",
            "meeting",
            meeting["id"],
            _item_summary(item_id, item["visibility"]) + " removed",
        )


async def set_item_open(item_id: int, is_open: bool, viewer: Viewer) -> None:
    """Marks an item as still open (to carry forward) or settled, during or after the meeting."""
    async with write_transaction():
        _item, meeting = await _readable_item(item_id, viewer)
        _require_leader(viewer, meeting["group"])
        await AgendaItem.update({AgendaItem.is_open: is_open}).where(AgendaItem.id == item_id)
        await record_event(
            viewer.user,
            "agenda_item.open_changed",
            "meeting",
            meeting["id"],
            f"Agenda item {item_id} {'left open' if is_open else 'settled'}",
        )


async def carry_item_forward(item_id: int, viewer: Viewer) -> int:
    """Copies an open item onto the group's next scheduled meeting; returns that meeting's id."""
    async with write_transaction():
        item, meeting = await _readable_item(item_id, viewer)
        _require_leader(viewer, meeting["group"])
        if meeting["status"] != "held":
            raise ConflictError("Only an item of a held meeting can be carried to the next one.")
        if not item["is_open"]:
            raise ConflictError("Only an item left open can be carried forward.")
        if await AgendaItem.exists().where(AgendaItem.carried_from == item_id):
            raise ConflictError("This item has already been carried forward.")
        following = (
            await Meeting.select(Meeting.id, Meeting.title)
            .where(
                (Meeting.group == meeting["group"])
                & (Meeting.status == "scheduled")
                & (Meeting.starts_at > meeting["starts_at"])
            )
            .order_by(Meeting.starts_at)
            .first()
        )
        if following is None:
            raise ConflictError("Schedule the next meeting first; the item is carried onto it.")
        last = (
            await AgendaItem.select(AgendaItem.position)
            .where(AgendaItem.meeting == following["id"])
            .order_by(AgendaItem.position, ascending=False)
            .first()
        )
        rows = await AgendaItem.insert(
            AgendaItem(
                meeting=following["id"],
                position=(last["position"] + 1) if last else 1,
                title=item["title"],
                visibility=item["visibility"],
                notes=item["notes"],
                carried_from=item_id,
            )
        ).returning(AgendaItem.id)
        await record_event(
            viewer.user,
            "agenda_item.carried",
            "meeting",
            following["id"],
            f"Agenda item {item_id} carried forward as item {rows[0]['id']}",
        )
    return int(following["id"])


async def declare_conflict(item_id: int, user_id: int, description: str, viewer: Viewer) -> None:
    async with write_transaction():
        _item, meeting = await _readable_item(item_id, viewer)
        if not (viewer.leads(meeting["group"]) or viewer.user.id == user_id):
            raise PermissionDenied(
                "Members declare their own conflicts; the chair or secretary can record anyone's."
            )
        members = await members_on(meeting["group"], meeting_date(meeting["starts_at"]))
        if user_id not in {m["user"] for m in members}:
            raise InvalidInput(
                "Only a member of the group on the meeting date can declare a conflict.",
                {"user_id": "Choose a member of the group."},
            )
        await ConflictOfInterest.insert(
            ConflictOfInterest(agenda_item=item_id, user=user_id, description=description[:500])
        )
        await record_event(
            viewer.user,
            "conflict.declared",
            "meeting",
            meeting["id"],
            f"Conflict of interest declared on agenda item {item_id}",
        )


# --- attendance -------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceEntry:
    user_id: int
    mode: str


async def record_attendance(
    meeting_id: int, entries: list[AttendanceEntry], guests: list[str], viewer: Viewer
) -> None:
    """Replaces the meeting's attendance with these entries and guests."""
    async with write_transaction():
        meeting = await _managed_meeting(meeting_id, viewer)
        if meeting["status"] == "cancelled":
            raise ConflictError("A cancelled meeting has no attendance.")
        members = {
            m["user"]
            for m in await members_on(meeting["group"], meeting_date(meeting["starts_at"]))
        }
        errors = {}
        seen: set[int] = set()
        for entry in entries:
            if entry.user_id in seen:
                errors[f"mode_{entry.user_id}"] = "This person is listed more than once."
            seen.add(entry.user_id)
            if entry.user_id not in members:
                errors[f"mode_{entry.user_id}"] = (
                    "This person was not a member of the group on the meeting date."
                )
            if entry.mode not in ATTENDANCE_MODES:
                errors[f"mode_{entry.user_id}"] = "Choose present, remote, apologies or absent."
        if errors:
            raise InvalidInput(
                "Only people who were members of the group on the meeting date can be recorded;"
                " add anyone else as a guest.",
                errors,
            )
        await Attendance.delete().where(Attendance.meeting == meeting_id)
        for entry in entries:
            await Attendance.insert(
                Attendance(meeting=meeting_id, user=entry.user_id, mode=entry.mode)
            )
        for guest in guests:
            if guest.strip():
                await Attendance.insert(
                    Attendance(
                        meeting=meeting_id,
                        user=None,
                        guest_name=guest.strip()[:200],
                        mode="present",
                    )
                )
        await record_event(
            viewer.user,
            "attendance.recorded",
            "meeting",
            meeting_id,
            f"Attendance recorded: {sum(e.mode in COUNTS_TOWARDS_QUORUM for e in entries)} "
            f"members attending, {len([g for g in guests if g.strip()])} guests",
        )


# --- minutes ----------------------------------------------------------------------------


async def _minutes_of(meeting_id: int) -> dict[str, Any]:
    minutes = await Minutes.select().where(Minutes.meeting == meeting_id).first()
    if minutes is None:
        raise NotFoundError("This meeting has no minutes.")
    return minutes  # type: ignore[no-any-return]


async def save_minutes(
    meeting_id: int, summary: str, item_texts: dict[int, str], viewer: Viewer
) -> None:
    """Writes the draft minutes: a general summary and the record of each agenda item."""
    async with write_transaction():
        meeting = await _managed_meeting(meeting_id, viewer)
        if meeting["status"] == "cancelled":
            raise ConflictError("A cancelled meeting has no minutes.")
        minutes = await _minutes_of(meeting_id)
        if minutes["status"] == "approved":
            raise ConflictError("Approved minutes cannot be edited. Add an erratum instead.")
        if minutes["status"] == "circulated":
            raise ConflictError(
                "These minutes are circulated. Return them to draft before editing."
            )
        readable = viewer.readable_visibilities(meeting["group"])
        items = {
            row["id"]: row
            for row in await AgendaItem.select(AgendaItem.id, AgendaItem.visibility).where(
                AgendaItem.meeting == meeting_id
            )
        }
        for item_id in item_texts:
            if item_id not in items or items[item_id]["visibility"] not in readable:
                raise InvalidInput("An agenda item in the form is not part of this meeting.")
        await Minutes.update({Minutes.summary: summary, Minutes.updated_at: utcnow()}).where(
            Minutes.id == minutes["id"]
        )
        for item_id, text in item_texts.items():
            await AgendaItem.update({AgendaItem.minutes_text: text}).where(AgendaItem.id == item_id)
        await record_event(
            viewer.user,
            "minutes.saved",
            "minutes",
            minutes["id"],
            f"Draft minutes of meeting {meeting_id} saved",
        )


async def circulate_minutes(meeting_id: int, viewer: Viewer) -> int:
    """Sends the draft to the meeting's member attendees for comment; returns how many."""
    async with write_transaction():
        meeting = await _managed_meeting(meeting_id, viewer)
        minutes = await _minutes_of(meeting_id)
        if minutes["status"] != "draft":
            raise ConflictError(
                f"Only draft minutes can be circulated; these are {minutes['status']}."
            )
        if meeting["status"] != "held":
            raise ConflictError("Minutes can be circulated once the meeting is marked held.")
        now = utcnow()
        await Minutes.update(
            {Minutes.status: "circulated", Minutes.circulated_at: now, Minutes.updated_at: now}
        ).where(Minutes.id == minutes["id"])
        recipients = await Attendance.select(
            Attendance.user.id.as_alias("user_id"),
            Attendance.user.email.as_alias("email"),
            Attendance.user.display_name.as_alias("display_name"),
        ).where(
            (Attendance.meeting == meeting_id)
            & Attendance.user.is_not_null()
            & (Attendance.user.is_active == True)  # noqa: E712 - SQL comparison
        )
        for recipient in recipients:
            await emails.minutes_circulated(
                Recipient.of(recipient),
                minutes_id=minutes["id"],
                meeting_id=meeting_id,
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
            f"Minutes of meeting {meeting_id} circulated to {len(recipients)} attendees",
        )
    return len(recipients)


async def return_minutes_to_draft(meeting_id: int, viewer: Viewer) -> None:
    async with write_transaction():
        await _managed_meeting(meeting_id, viewer)
        minutes = await _minutes_of(meeting_id)
        if minutes["status"] != "circulated":
            raise ConflictError(
                f"Only circulated minutes can return to draft; these are {minutes['status']}."
            )
        await Minutes.update({Minutes.status: "draft", Minutes.updated_at: utcnow()}).where(
            Minutes.id == minutes["id"]
        )
        await record_event(
            viewer.user,
            "minutes.returned_to_draft",
            "minutes",
            minutes["id"],
            f"Minutes of meeting {meeting_id} returned to draft",
        )


async def comment_on_minutes(meeting_id: int, body: str, viewer: Viewer) -> None:
    if not body.strip():
        raise InvalidInput("Write a comment first.", {"body": "A comment cannot be empty."})
    async with write_transaction():
        meeting = await get_meeting(meeting_id, viewer)
        if not viewer.is_member_of(meeting["group"]):
            raise PermissionDenied("Only members of the group can comment on its minutes.")
        minutes = await _minutes_of(meeting_id)
        if minutes["status"] != "circulated":
            raise ConflictError("Comments are taken while the minutes are circulated.")
        await MinutesComment.insert(
            MinutesComment(
                minutes=minutes["id"], author=viewer.user.id, body=body.strip(), created_at=utcnow()
            )
        )
        await record_event(
            viewer.user,
            "minutes.commented",
            "minutes",
            minutes["id"],
            f"Comment on the minutes of meeting {meeting_id}",
        )


async def approve_minutes(
    meeting_id: int, method: str, approving_meeting_id: int | None, viewer: Viewer
) -> None:
    """Approves circulated minutes, at a later held meeting or by circulation; then locked."""
    if method not in APPROVAL_METHODS:
        raise InvalidInput(
            "Choose how the minutes were approved.",
            {"method": "Choose at a meeting or by circulation."},
        )
    async with write_transaction():
        meeting = await _managed_meeting(meeting_id, viewer)
        minutes = await _minutes_of(meeting_id)
        if minutes["status"] == "approved":
            raise ConflictError("These minutes are already approved.")
        if minutes["status"] != "circulated":
            raise ConflictError("Minutes must be circulated before they can be approved.")
        if method == "meeting":
            approving = (
                await Meeting.select(Meeting.group, Meeting.starts_at, Meeting.status)
                .where(Meeting.id == (approving_meeting_id or -1))
                .first()
            )
            if (
                approving is None
                or approving["group"] != meeting["group"]
                or approving["starts_at"] <= meeting["starts_at"]
                or approving["status"] != "held"
            ):
                raise InvalidInput(
                    "Minutes are approved at a later, held meeting of the same group.",
                    {"approving_meeting_id": "Choose a later meeting of this group that was held."},
                )
        now = utcnow()
        await Minutes.update(
            {
                Minutes.status: "approved",
                Minutes.approved_at: now,
                Minutes.approved_by: viewer.user.id,
                Minutes.approved_at_meeting: approving_meeting_id if method == "meeting" else None,
                Minutes.approval_method: method,
                Minutes.updated_at: now,
            }
        ).where(Minutes.id == minutes["id"])
        await record_event(
            viewer.user,
            "minutes.approved",
            "minutes",
            minutes["id"],
            f"Minutes of meeting {meeting_id} approved ({method}) and locked",
        )


async def add_erratum(
    meeting_id: int, body: str, viewer: Viewer, visibility: str = "internal"
) -> None:
    if not body.strip():
        raise InvalidInput("Describe the correction.", {"body": "An erratum cannot be empty."})
    if visibility not in VISIBILITIES:
        raise InvalidInput("Unknown visibility.", {"visibility": "Choose who can read it."})
    async with write_transaction():
        await _managed_meeting(meeting_id, viewer)
        minutes = await _minutes_of(meeting_id)
        if minutes["status"] != "approved":
            raise ConflictError("Errata are for approved minutes; edit the draft instead.")
        await Erratum.insert(
            Erratum(
                minutes=minutes["id"],
                author=viewer.user.id,
                body=body.strip(),
                visibility=visibility,
                created_at=utcnow(),
            )
        )
        await record_event(
            viewer.user,
            "minutes.erratum_added",
            "minutes",
            minutes["id"],
            f"Erratum ({visibility}) appended to the minutes of meeting {meeting_id}",
        )


# --- decisions --------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionFields:
    agenda_item_id: int
    text: str
    votes_for: int
    votes_against: int
    votes_abstain: int


async def record_decision(meeting_id: int, fields: DecisionFields, viewer: Viewer) -> int:
    async with write_transaction():
        meeting = await _managed_meeting(meeting_id, viewer)
        if meeting["status"] == "cancelled":
            raise ConflictError("No decision can be recorded on a cancelled meeting.")
        minutes = await _minutes_of(meeting_id)
        if minutes["status"] == "approved":
            raise ConflictError("The minutes are approved and locked; no decision can be added.")
        item, _ = await _readable_item(fields.agenda_item_id, viewer)
        if item["meeting"] != meeting_id:
            raise InvalidInput(
                "That agenda item belongs to another meeting.",
                {"agenda_item_id": "Choose an item of this meeting."},
            )
        quorum = await quorum_for(meeting)
        rows = await Decision.insert(
            Decision(
                meeting=meeting_id,
                agenda_item=fields.agenda_item_id,
                text=fields.text,
                votes_for=fields.votes_for,
                votes_against=fields.votes_against,
                votes_abstain=fields.votes_abstain,
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
            f"Decision on agenda item {fields.agenda_item_id} ({item['visibility']}): "
            f"{fields.votes_for} for, {fields.votes_against} against, "
            f"{fields.votes_abstain} abstaining" + ("" if quorum.met else "; taken WITHOUT quorum"),
        )
    return decision_id


# --- the public version -----------------------------------------------------------------


async def public_minutes(meeting_id: int) -> dict[str, Any]:
    """Approved minutes as anyone may read them: public items only, and a count of the rest."""
    meeting = (
        await Meeting.select(
            Meeting.id,
            Meeting.title,
            Meeting.starts_at,
            Meeting.status,
            Meeting.group.name.as_alias("group_name"),
            Meeting.group.slug.as_alias("group_slug"),
        )
        .where(Meeting.id == meeting_id)
        .first()
    )
    minutes = (
        await Minutes.select(Minutes.id, Minutes.status, Minutes.approved_at)
        .where(Minutes.meeting == meeting_id)
        .first()
    )
    if meeting is None or minutes is None or minutes["status"] != "approved":
        raise NotFoundError("There are no published minutes at this address.")
    items = (
        await AgendaItem.select(AgendaItem.id, AgendaItem.title, AgendaItem.minutes_text)
        .where((AgendaItem.meeting == meeting_id) & (AgendaItem.visibility == "public"))
        .order_by(AgendaItem.position)
    )
    confidential = await AgendaItem.count().where(
        (AgendaItem.meeting == meeting_id) & (AgendaItem.visibility != "public")
    )
    item_ids = [item["id"] for item in items] or [-1]
    decisions = await Decision.select(
        Decision.agenda_item,
        Decision.text,
        Decision.votes_for,
        Decision.votes_against,
        Decision.votes_abstain,
        Decision.quorum_met,
    ).where(Decision.agenda_item.is_in(item_ids))
    for item in items:
        item["decisions"] = [d for d in decisions if d["agenda_item"] == item["id"]]
    errata = (
        await Erratum.select(Erratum.body, Erratum.created_at)
        .where((Erratum.minutes == minutes["id"]) & (Erratum.visibility == "public"))
        .order_by(Erratum.created_at)
    )
    return {
        "meeting": meeting,
        "minutes": minutes,
        "items": items,
        "confidential_count": confidential,
        "errata": errata,
    }


async def readable_meetings_for_user(
    viewer: Viewer, since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Meetings of the groups this viewer may read, for the personal calendar."""
    group_ids = [gid for gid in viewer.group_roles]
    query = Meeting.select(
        *Meeting.all_columns(),
        Meeting.group.name.as_alias("group_name"),
        Meeting.group.slug.as_alias("group_slug"),
    )
    if not (viewer.user.is_director or viewer.user.is_board):
        query = query.where(Meeting.group.is_in(group_ids or [-1]))
    if since is not None:
        query = query.where(Meeting.ends_at >= since)
    return await query.order_by(Meeting.starts_at)


async def lookup_user_ids(emails: list[str]) -> dict[str, int]:
    rows = await User.select(User.id, User.email).where(User.email.is_in(emails or [""]))
    return {row["email"]: row["id"] for row in rows}
