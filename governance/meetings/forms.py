"""Meeting forms. Times are typed in the reader's own time zone and stored in UTC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from governance.accounts.policy import VISIBILITIES
from governance.core.forms import FormReader
from governance.meetings.services import (
    APPROVAL_METHODS,
    ATTENDANCE_MODES,
    AgendaItemFields,
    AttendanceEntry,
    DecisionFields,
    MeetingFields,
)


def _local_datetime(reader: FormReader, name: str, label: str, timezone: str) -> dt.datetime | None:
    raw = reader.raw(name)
    if not raw:
        reader.error(name, f"{label} is required.")
        return None
    try:
        naive = dt.datetime.fromisoformat(raw)
    except ValueError:
        reader.error(name, f"{label} must be a date and time (YYYY-MM-DDTHH:MM).")
        return None
    if not 1900 <= naive.year <= 2999:
        reader.error(name, f"{label} must be a date between the years 1900 and 2999.")
        return None
    if naive.tzinfo is not None:
        return naive.astimezone(dt.UTC)
    return naive.replace(tzinfo=ZoneInfo(timezone)).astimezone(dt.UTC)


def read_meeting(data: Mapping[str, Any], timezone: str) -> tuple[MeetingFields, dict[str, str]]:
    reader = FormReader(data)
    title = reader.text("title", "Title")
    starts_at = _local_datetime(reader, "starts_at", "Start", timezone)
    ends_at = _local_datetime(reader, "ends_at", "End", timezone)
    location = reader.text("location", "Place or link", required=False, max_length=500)
    if starts_at and ends_at and ends_at <= starts_at:
        reader.error("ends_at", "The end must be after the start.")
    fields = MeetingFields(title, starts_at, ends_at, location)  # type: ignore[arg-type]
    return fields, reader.errors


def read_agenda_item(data: Mapping[str, Any]) -> tuple[AgendaItemFields, dict[str, str]]:
    reader = FormReader(data)
    fields = AgendaItemFields(
        title=reader.text("title", "Item title", max_length=300),
        visibility=reader.choice("visibility", "Visibility", VISIBILITIES, default="internal"),
        notes=reader.text("notes", "Notes", required=False, max_length=20000),
    )
    return fields, reader.errors


def read_position(data: Mapping[str, Any]) -> tuple[int, dict[str, str]]:
    reader = FormReader(data)
    return reader.integer("position", "Position", minimum=1, maximum=500), reader.errors


def read_attendance(
    data: Mapping[str, Any], member_ids: list[int]
) -> tuple[list[AttendanceEntry], list[str], dict[str, str]]:
    """Fields `mode_<user id>` for members; `guests`, one name per line."""
    reader = FormReader(data)
    entries = []
    posted_ids = {
        int(key.removeprefix("mode_"))
        for key in data
        if key.startswith("mode_") and key.removeprefix("mode_").isdigit()
    }
    for user_id in sorted(set(member_ids) | posted_ids):
        mode = reader.raw(f"mode_{user_id}")
        if not mode:
            continue
        if mode not in ATTENDANCE_MODES:
            reader.error(f"mode_{user_id}", "Choose present, remote, apologies or absent.")
            continue
        entries.append(AttendanceEntry(user_id, mode))
    guests = [line.strip() for line in reader.raw("guests").splitlines() if line.strip()]
    if any(len(guest) > 200 for guest in guests):
        reader.error("guests", "A guest's name must be at most 200 characters.")
    return entries, guests, reader.errors


def read_minutes(data: Mapping[str, Any]) -> tuple[str, dict[int, str], dict[str, str]]:
    reader = FormReader(data)
    summary = reader.text("summary", "Summary", required=False, max_length=50000)
    item_texts = {}
    for key in data:
        if key.startswith("item_") and key.removeprefix("item_").isdigit():
            item_texts[int(key.removeprefix("item_"))] = reader.text(
                key, "Minutes of the item", required=False, max_length=50000
            )
    return summary, item_texts, reader.errors


def read_approval(data: Mapping[str, Any]) -> tuple[str, int | None, dict[str, str]]:
    reader = FormReader(data)
    method = reader.choice("method", "Approved", APPROVAL_METHODS)
    approving = None
    if method == "meeting":
        approving = reader.integer(
            "approving_meeting_id", "Approving meeting", minimum=1, maximum=2**31
        )
    return method, approving, reader.errors


def read_decision(data: Mapping[str, Any]) -> tuple[DecisionFields, dict[str, str]]:
    reader = FormReader(data)
    fields = DecisionFields(
        agenda_item_id=reader.integer("agenda_item_id", "Agenda item", minimum=1, maximum=2**31),
        text=reader.text("text", "Decision", max_length=10000),
        votes_for=reader.integer("votes_for", "Votes for", minimum=0, maximum=1000, default=0),
        votes_against=reader.integer(
            "votes_against", "Votes against", minimum=0, maximum=1000, default=0
        ),
        votes_abstain=reader.integer(
            "votes_abstain", "Abstentions", minimum=0, maximum=1000, default=0
        ),
    )
    return fields, reader.errors
