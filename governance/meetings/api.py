"""JSON routes for meetings (DESIGN.md §8), with the same rules as the pages.

Every route builds the caller's `Viewer` and calls the same services as the HTML pages, so
who may read or change what is decided in one place. Request bodies are msgspec Structs: a
body of the wrong shape or type is answered 400 by Litestar before a handler runs; values of
the right type that break a rule (an empty title, an end before the start) are answered 422
with the field errors, exactly as the forms would show them. A meeting the caller may not
read is 404, the same as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath, JSONBody, PathParameter

from governance.accounts.auth import signed_in
from governance.accounts.policy import VISIBILITIES, Viewer
from governance.core.db import write_transaction
from governance.core.errors import ConflictError, InvalidInput, PermissionDenied
from governance.core.forms import FormReader
from governance.groups.dependencies import current_viewer
from governance.meetings import services
from governance.meetings.forms import read_agenda_item, read_approval, read_decision, read_minutes
from governance.meetings.services import (
    APPROVAL_METHODS,
    ATTENDANCE_MODES,
    AttendanceEntry,
    MeetingFields,
)

# The largest id a Serial column holds (PostgreSQL int4). Larger numbers are refused with a
# 400 before they reach a database driver that cannot bind them.
MAX_ROW_ID = 2_147_483_647
# Times far outside any real meeting overflow when converted between time zones.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
MEETING_STATUS_CHANGES = ("held", "cancelled")

RowId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ROW_ID)]
MeetingId = Annotated[
    int, PathParameter(ge=1, le=MAX_ROW_ID, description="The meeting's id", title="Meeting id")
]
Timestamp = Annotated[
    dt.datetime,
    msgspec.Meta(
        tz=True,
        extra_json_schema={
            "description": "ISO 8601 date and time with a UTC offset, "
            "e.g. 2026-12-01T18:00:00+00:00"
        },
    ),
]


def _choice(values: tuple[str, ...], description: str) -> msgspec.Meta:
    """A string the handler checks against `values` (a 422 with the field's error if not);
    the choices are listed in the OpenAPI schema."""
    return msgspec.Meta(
        extra_json_schema={"description": description, "extra": {"enum": list(values)}}
    )


Visibility = Annotated[str, _choice(VISIBILITIES, "Who may read the item")]
Mode = Annotated[str, _choice(ATTENDANCE_MODES, "How the member attended")]
ApprovalMethod = Annotated[str, _choice(APPROVAL_METHODS, "At a later meeting, or by circulation")]
StatusChange = Annotated[str, _choice(MEETING_STATUS_CHANGES, "Mark it held, or cancel it")]


# --- request bodies ---------------------------------------------------------------------


class MeetingIn(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    starts_at: Timestamp
    ends_at: Timestamp
    location: str = ""


class MeetingPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Change the title, times or place of a scheduled meeting, and/or its status.

    `status` "held" marks a meeting that has started as held; "cancelled" cancels it and
    needs `cancel_reason`. Fields left out are not changed.
    """

    title: str | None = None
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None
    location: str | None = None
    status: StatusChange | None = None
    cancel_reason: str = ""


class AgendaItemIn(msgspec.Struct, forbid_unknown_fields=True):
    """An item of the agenda: with `id` an existing item, without it a new one."""

    title: str
    visibility: Visibility = "internal"
    notes: str = ""
    id: RowId | None = None
    # Where the item goes, from 1 to the number of items. Either every item gives one or none
    # does; without positions the order of the list is the order of the agenda.
    position: int | None = None


class AgendaIn(msgspec.Struct, forbid_unknown_fields=True):
    items: list[AgendaItemIn]


class AttendanceEntryIn(msgspec.Struct, forbid_unknown_fields=True):
    user_id: RowId
    mode: Mode


class AttendanceIn(msgspec.Struct, forbid_unknown_fields=True):
    entries: list[AttendanceEntryIn] = msgspec.field(default_factory=list)
    guests: list[str] = msgspec.field(default_factory=list)


class MinutesIn(msgspec.Struct, forbid_unknown_fields=True):
    summary: str = ""
    # The minutes of each agenda item, by the item's id.
    items: dict[RowId, str] = msgspec.field(default_factory=dict)


class ApprovalIn(msgspec.Struct, forbid_unknown_fields=True):
    method: ApprovalMethod
    approving_meeting_id: RowId | None = None


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    agenda_item_id: RowId
    text: str
    votes_for: int = 0
    votes_against: int = 0
    votes_abstain: int = 0


# --- responses --------------------------------------------------------------------------


@dataclass
class MeetingSummaryOut:
    id: int
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str
    status: str


@dataclass
class MeetingListOut:
    group_slug: str
    group_name: str
    # False when the caller may not read this group's proceedings; the lists are then empty.
    can_read: bool
    upcoming: list[MeetingSummaryOut]
    past: list[MeetingSummaryOut]


@dataclass
class ConflictOut:
    display_name: str
    description: str


@dataclass
class AgendaItemOut:
    id: int
    position: int
    title: str
    visibility: str
    notes: str
    is_open: bool
    carried_from: int | None
    conflicts: list[ConflictOut]
    # What the minutes record for the item; null while the minutes are a draft the caller
    # does not write.
    minutes: str | None


@dataclass
class MemberOut:
    user_id: int
    display_name: str
    role: str


@dataclass
class AttendanceOut:
    user_id: int | None
    display_name: str | None
    guest_name: str | None
    mode: str


@dataclass
class QuorumOut:
    members: int
    counted: int
    needed: int
    met: bool


@dataclass
class ErratumOut:
    body: str
    author_name: str
    created_at: dt.datetime


@dataclass
class MinutesOut:
    status: str
    # Null while the minutes are a draft the caller does not write.
    summary: str | None
    circulated_at: dt.datetime | None
    approved_at: dt.datetime | None
    approval_method: str | None
    approved_at_meeting_id: int | None
    errata: list[ErratumOut]


@dataclass
class DecisionOut:
    id: int
    agenda_item_id: int
    text: str
    votes_for: int
    votes_against: int
    votes_abstain: int
    quorum_met: bool
    created_at: dt.datetime


@dataclass
class MeetingOut:
    id: int
    group_slug: str
    group_name: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str
    status: str
    cancel_reason: str
    # Whether the caller chairs or is secretary of the group, and so may change the meeting.
    can_manage: bool
    agenda: list[AgendaItemOut]
    members: list[MemberOut]
    attendance: list[AttendanceOut]
    quorum: QuorumOut
    minutes: MinutesOut | None
    decisions: list[DecisionOut]


@dataclass
class CirculatedOut:
    meeting: MeetingOut
    # How many attendees were sent the draft.
    notified: int


def _summary(row: dict[str, Any]) -> MeetingSummaryOut:
    return MeetingSummaryOut(
        row["id"], row["title"], row["starts_at"], row["ends_at"], row["location"], row["status"]
    )


def _decision(row: dict[str, Any]) -> DecisionOut:
    return DecisionOut(
        id=row["id"],
        agenda_item_id=row["agenda_item"],
        text=row["text"],
        votes_for=row["votes_for"],
        votes_against=row["votes_against"],
        votes_abstain=row["votes_abstain"],
        quorum_met=bool(row["quorum_met"]),
        created_at=row["created_at"],
    )


def _meeting_out(context: dict[str, Any]) -> MeetingOut:
    """The meeting as `services.meeting_page` lets this caller see it, and no more."""
    meeting = context["meeting"]
    minutes = context["minutes"]
    can_manage = bool(context["can_manage"])
    # As on the page: a draft is read only by those who write it.
    show_text = minutes is not None and (minutes["status"] != "draft" or can_manage)
    quorum = context["quorum"]
    attendance = sorted(
        context["attendance"],
        key=lambda a: (a["user"] is None, (a["display_name"] or a["guest_name"] or "").lower()),
    )
    return MeetingOut(
        id=meeting["id"],
        group_slug=meeting["group_slug"],
        group_name=meeting["group_name"],
        title=meeting["title"],
        starts_at=meeting["starts_at"],
        ends_at=meeting["ends_at"],
        location=meeting["location"],
        status=meeting["status"],
        cancel_reason=meeting["cancel_reason"],
        can_manage=can_manage,
        agenda=[
            AgendaItemOut(
                id=item["id"],
                position=item["position"],
                title=item["title"],
                visibility=item["visibility"],
                notes=item["notes"],
                is_open=bool(item["is_open"]),
                carried_from=item["carried_from"],
                conflicts=[
                    ConflictOut(c["display_name"], c["description"]) for c in item["conflicts"]
                ],
                minutes=item["minutes_text"] if show_text else None,
            )
            for item in context["items"]
        ],
        members=[MemberOut(m["user"], m["display_name"], m["role"]) for m in context["members"]],
        attendance=[
            AttendanceOut(
                user_id=a["user"],
                display_name=a["display_name"] if a["user"] is not None else None,
                guest_name=a["guest_name"] if a["user"] is None else None,
                mode=a["mode"],
            )
            for a in attendance
        ],
        quorum=QuorumOut(quorum.members, quorum.counted, quorum.needed, quorum.met),
        minutes=None
        if minutes is None
        else MinutesOut(
            status=minutes["status"],
            summary=minutes["summary"] if show_text else None,
            circulated_at=minutes["circulated_at"],
            approved_at=minutes["approved_at"],
            approval_method=minutes["approval_method"] or None,
            approved_at_meeting_id=minutes["approved_at_meeting"],
            errata=[
                ErratumOut(e["body"], e["author_name"], e["created_at"]) for e in context["errata"]
            ],
        ),
        decisions=[_decision(d) for item in context["items"] for d in item["decisions"]],
    )


# --- checks shared by the routes --------------------------------------------------------


async def _meeting_view(meeting_id: int, viewer: Viewer) -> MeetingOut:
    return _meeting_out(await services.meeting_page(meeting_id, viewer))


async def _managed_meeting(meeting_id: int, viewer: Viewer) -> dict[str, Any]:
    """The meeting, if the caller may read it (else 404) and leads its group (else 403).

    Checked before the body's values, so that someone who may not change the meeting
    learns nothing from the validation of what they sent.
    """
    meeting = await services.get_meeting(meeting_id, viewer)
    if not viewer.leads(meeting["group"]):
        raise PermissionDenied("Only the group's chair or secretary can do this.")
    return meeting


def _refuse_if(errors: dict[str, str], message: str) -> None:
    if errors:
        raise InvalidInput(message, errors)


def _check_storable(reader: FormReader, values: dict[str, str]) -> None:
    # PostgreSQL cannot store a NUL character in text; refuse it instead of failing there.
    for name, value in values.items():
        if "\x00" in value:
            reader.error(name, "Contains a character that cannot be stored (NUL).")


def _utc(reader: FormReader, name: str, label: str, value: dt.datetime) -> dt.datetime | None:
    try:
        utc = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST_YEAR <= utc.year <= LATEST_YEAR:
        reader.error(name, f"{label} must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}.")
        return None
    return utc


def _meeting_fields(
    title: str, starts_at: dt.datetime, ends_at: dt.datetime, location: str
) -> MeetingFields:
    """The meeting form's rules, for values that arrived as JSON."""
    values = {"title": title, "location": location}
    reader = FormReader(values)
    _check_storable(reader, values)
    clean_title = reader.text("title", "Title")
    clean_location = reader.text("location", "Place or link", required=False, max_length=500)
    start = _utc(reader, "starts_at", "Start", starts_at)
    end = _utc(reader, "ends_at", "End", ends_at)
    if start and end and end <= start:
        reader.error("ends_at", "The end must be after the start.")
    _refuse_if(reader.errors, "The meeting needs correcting. Nothing has been saved.")
    assert start is not None and end is not None
    return MeetingFields(clean_title, start, end, clean_location)


def _agenda_fields(
    items: list[AgendaItemIn], existing_ids: set[int]
) -> list[services.AgendaItemFields]:
    """The agenda item form's rules for every item, plus ids and positions that make sense."""
    errors: dict[str, str] = {}
    fields = []
    for index, item in enumerate(items):
        values = {"title": item.title, "visibility": item.visibility, "notes": item.notes}
        reader = FormReader(values)
        _check_storable(reader, values)
        item_fields, item_errors = read_agenda_item(values)
        for name, message in {**item_errors, **reader.errors}.items():
            errors.setdefault(f"items[{index}].{name}", message)
        fields.append(item_fields)
    seen_ids: set[int] = set()
    for index, item in enumerate(items):
        if item.id is None:
            continue
        if item.id not in existing_ids:
            errors[f"items[{index}].id"] = "This item is not on this meeting's agenda."
        elif item.id in seen_ids:
            errors[f"items[{index}].id"] = "This item appears twice."
        seen_ids.add(item.id)
    given = [item.position for item in items if item.position is not None]
    if given and len(given) != len(items):
        errors["items"] = "Give a position for every item, or for none."
    elif given:
        seen_positions: set[int] = set()
        for index, item in enumerate(items):
            assert item.position is not None
            if not 1 <= item.position <= len(items):
                errors[f"items[{index}].position"] = f"Position must be between 1 and {len(items)}."
            elif item.position in seen_positions:
                errors[f"items[{index}].position"] = "Two items cannot share a position."
            seen_positions.add(item.position)
    _refuse_if(errors, "The agenda needs correcting. Nothing has been saved.")
    return fields


# --- routes -----------------------------------------------------------------------------


class MeetingApiController(Controller):
    path = "/api/v1"
    guards = [signed_in]
    tags = ["meetings"]
    security = [{"bearer": []}]

    @get(
        "/groups/{slug:str}/meetings",
        summary="A group's meetings, upcoming and past",
        description="Empty lists with `can_read` false when the caller may not read the "
        "group's proceedings.",
    )
    async def list_meetings(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> MeetingListOut:
        viewer = await current_viewer(request)
        context = await services.list_meetings(slug, viewer)
        group = context["group"]
        return MeetingListOut(
            group_slug=group["slug"],
            group_name=group["name"],
            can_read=context["can_read"],
            upcoming=[_summary(m) for m in context["upcoming"]],
            past=[_summary(m) for m in context["past"]],
        )

    @post(
        "/groups/{slug:str}/meetings",
        summary="Schedule a meeting (chair or secretary)",
        status_code=201,
    )
    async def schedule_meeting(
        self, request: Request[Any, Any, Any], slug: FromPath[str], data: JSONBody[MeetingIn]
    ) -> Response[MeetingOut]:
        viewer = await current_viewer(request)
        group = (await services.list_meetings(slug, viewer))["group"]
        if not viewer.leads(group["id"]):
            raise PermissionDenied("Only the group's chair or secretary can schedule meetings.")
        fields = _meeting_fields(data.title, data.starts_at, data.ends_at, data.location)
        meeting_id = await services.schedule_meeting(slug, fields, viewer)
        return Response(
            await _meeting_view(meeting_id, viewer),
            status_code=201,
            headers={"Location": f"/api/v1/meetings/{meeting_id}"},
        )

    @get(
        "/meetings/{meeting_id:int}",
        summary="A meeting with the agenda, attendance, quorum, minutes and decisions the "
        "caller may read",
    )
    async def get_meeting(
        self, request: Request[Any, Any, Any], meeting_id: MeetingId
    ) -> MeetingOut:
        return await _meeting_view(meeting_id, await current_viewer(request))

    @patch(
        "/meetings/{meeting_id:int}",
        summary="Change a meeting's title, times or place, or mark it held or cancelled",
    )
    async def update_meeting(
        self, request: Request[Any, Any, Any], meeting_id: MeetingId, data: JSONBody[MeetingPatch]
    ) -> MeetingOut:
        viewer = await current_viewer(request)
        meeting = await _managed_meeting(meeting_id, viewer)
        changes_fields = any(
            value is not None for value in (data.title, data.starts_at, data.ends_at, data.location)
        )
        if data.status is not None and data.status not in MEETING_STATUS_CHANGES:
            raise InvalidInput(
                "A meeting can be marked held or cancelled.",
                {"status": "Choose held or cancelled."},
            )
        if not changes_fields and data.status is None:
            raise InvalidInput(
                "Nothing to change.",
                {"title": "Send at least one of title, starts_at, ends_at, location, status."},
            )
        fields = None
        if changes_fields:
            fields = _meeting_fields(
                meeting["title"] if data.title is None else data.title,
                data.starts_at or meeting["starts_at"],
                data.ends_at or meeting["ends_at"],
                meeting["location"] if data.location is None else data.location,
            )
        if data.status == "cancelled" and "\x00" in data.cancel_reason:
            raise InvalidInput(
                "The reason needs correcting.",
                {"cancel_reason": "Contains a character that cannot be stored (NUL)."},
            )
        # One transaction: a refused status change leaves the other changes unmade too.
        async with write_transaction():
            if fields is not None:
                await services.update_meeting(meeting_id, fields, viewer)
            if data.status == "held":
                await services.mark_meeting_held(meeting_id, viewer)
            elif data.status == "cancelled":
                try:
                    await services.cancel_meeting(meeting_id, data.cancel_reason, viewer)
                except InvalidInput as error:
                    # The service names the form's field; here it is `cancel_reason`.
                    raise InvalidInput(
                        error.message,
                        {
                            ("cancel_reason" if name == "reason" else name): message
                            for name, message in error.field_errors.items()
                        },
                    ) from error
        return await _meeting_view(meeting_id, viewer)

    @put(
        "/meetings/{meeting_id:int}/agenda",
        summary="Replace the agenda of a scheduled meeting",
        description="Items with an `id` are updated and put in the order given (or at their "
        "`position`); items of the agenda left out are removed (refused for an item with a "
        "decision); items without an `id` are added. All or nothing.",
    )
    async def replace_agenda(
        self, request: Request[Any, Any, Any], meeting_id: MeetingId, data: JSONBody[AgendaIn]
    ) -> MeetingOut:
        viewer = await current_viewer(request)
        async with write_transaction():
            meeting = await _managed_meeting(meeting_id, viewer)
            if meeting["status"] != "scheduled":
                raise ConflictError("The agenda can only change while the meeting is scheduled.")
            current = await services.meeting_page(meeting_id, viewer)
            existing = {item["id"]: item for item in current["items"]}
            fields = _agenda_fields(data.items, set(existing))
            kept = {item.id for item in data.items if item.id is not None}
            for item_id in existing:
                if item_id not in kept:
                    await services.remove_agenda_item(item_id, viewer)
            ids: list[int] = []
            for item, item_fields in zip(data.items, fields, strict=True):
                if item.id is None:
                    ids.append(await services.add_agenda_item(meeting_id, item_fields, viewer))
                    continue
                old = existing[item.id]
                if (old["title"], old["visibility"], old["notes"]) != (
                    item_fields.title,
                    item_fields.visibility,
                    item_fields.notes,
                ):
                    await services.update_agenda_item(item.id, item_fields, viewer)
                ids.append(item.id)
            # The order the agenda has now: kept items as they were, new ones at the end.
            order = [item_id for item_id in existing if item_id in kept]
            order += [
                item_id for item, item_id in zip(data.items, ids, strict=True) if item.id is None
            ]
            if data.items and data.items[0].position is not None:
                by_position = sorted(
                    zip(data.items, ids, strict=True), key=lambda p: p[0].position or 0
                )
                wanted = [item_id for _, item_id in by_position]
            else:
                wanted = ids
            for position, item_id in enumerate(wanted, start=1):
                if order[position - 1] != item_id:
                    await services.move_agenda_item(item_id, position, viewer)
                    order.remove(item_id)
                    order.insert(position - 1, item_id)
        return await _meeting_view(meeting_id, viewer)

    @put(
        "/meetings/{meeting_id:int}/attendance",
        summary="Record who attended: members by user id and mode, guests by name",
    )
    async def record_attendance(
        self, request: Request[Any, Any, Any], meeting_id: MeetingId, data: JSONBody[AttendanceIn]
    ) -> MeetingOut:
        viewer = await current_viewer(request)
        await _managed_meeting(meeting_id, viewer)
        errors: dict[str, str] = {}
        seen: set[int] = set()
        for entry in data.entries:
            if entry.mode not in ATTENDANCE_MODES:
                errors[f"mode_{entry.user_id}"] = "Choose present, remote, apologies or absent."
            if entry.user_id in seen:
                errors[f"mode_{entry.user_id}"] = "This person is listed twice."
            seen.add(entry.user_id)
        guests = [guest.strip() for guest in data.guests if guest.strip()]
        if any(len(guest) > 200 for guest in guests):
            errors["guests"] = "A guest's name must be at most 200 characters."
        if any("\x00" in guest for guest in guests):
            errors["guests"] = "Contains a character that cannot be stored (NUL)."
        _refuse_if(errors, "Attendance needs correcting. Nothing has been saved.")
        entries = [AttendanceEntry(entry.user_id, entry.mode) for entry in data.entries]
        await services.record_attendance(meeting_id, entries, guests, viewer)
        return await _meeting_view(meeting_id, viewer)

    @put(
        "/meetings/{meeting_id:int}/minutes",
        summary="Write the draft minutes: a summary and the record of each agenda item",
    )
    async def save_minutes(
        self, request: Request[Any, Any, Any], meeting_id: MeetingId, data: JSONBody[MinutesIn]
    ) -> MeetingOut:
        viewer = await current_viewer(request)
        await _managed_meeting(meeting_id, viewer)
        values = {"summary": data.summary}
        values.update({f"item_{item_id}": text for item_id, text in data.items.items()})
        summary, item_texts, errors = read_minutes(values)
        reader = FormReader(values)
        _check_storable(reader, values)
        _refuse_if(
            {**errors, **reader.errors}, "The minutes need correcting. Nothing has been saved."
        )
        await services.save_minutes(meeting_id, summary, item_texts, viewer)
        return await _meeting_view(meeting_id, viewer)

    @post(
        "/meetings/{meeting_id:int}/minutes/circulate",
        summary="Circulate the draft minutes to the attendees for comment",
        status_code=200,
    )
    async def circulate_minutes(
        self, request: Request[Any, Any, Any], meeting_id: MeetingId
    ) -> CirculatedOut:
        viewer = await current_viewer(request)
        notified = await services.circulate_minutes(meeting_id, viewer)
        return CirculatedOut(await _meeting_view(meeting_id, viewer), notified)

    @post(
        "/meetings/{meeting_id:int}/minutes/approve",
        summary="Approve circulated minutes, at a later held meeting or by circulation",
        status_code=200,
    )
    async def approve_minutes(
        self, request: Request[Any, Any, Any], meeting_id: MeetingId, data: JSONBody[ApprovalIn]
    ) -> MeetingOut:
        viewer = await current_viewer(request)
        await _managed_meeting(meeting_id, viewer)
        values: dict[str, Any] = {"method": data.method}
        if data.approving_meeting_id is not None:
            values["approving_meeting_id"] = data.approving_meeting_id
        method, approving, errors = read_approval(values)
        _refuse_if(errors, "Say how the minutes were approved. Nothing has been changed.")
        await services.approve_minutes(meeting_id, method, approving, viewer)
        return await _meeting_view(meeting_id, viewer)

    @post(
        "/meetings/{meeting_id:int}/decisions",
        summary="Record a decision on an agenda item",
        status_code=201,
    )
    async def record_decision(
        self, request: Request[Any, Any, Any], meeting_id: MeetingId, data: JSONBody[DecisionIn]
    ) -> DecisionOut:
        viewer = await current_viewer(request)
        await _managed_meeting(meeting_id, viewer)
        values = {
            "agenda_item_id": data.agenda_item_id,
            "text": data.text,
            "votes_for": data.votes_for,
            "votes_against": data.votes_against,
            "votes_abstain": data.votes_abstain,
        }
        fields, errors = read_decision(values)
        reader = FormReader(values)
        _check_storable(reader, {"text": data.text})
        _refuse_if(
            {**errors, **reader.errors}, "The decision needs correcting. Nothing has been saved."
        )
        decision_id = await services.record_decision(meeting_id, fields, viewer)
        context = await services.meeting_page(meeting_id, viewer)
        for item in context["items"]:
            for decision in item["decisions"]:
                if decision["id"] == decision_id:
                    return _decision(decision)
        raise ConflictError("The decision was recorded but cannot be read back.")
