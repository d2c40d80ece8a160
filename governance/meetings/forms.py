"""The two meeting forms `core.contracts.read_form` cannot read: attendance (one field per
member, `mode_<user id>`, and guests one per line) and the minutes (one field per agenda
item, `item_<item id>`). They only parse; the service holds every rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance.core.contracts import row_id
from governance.meetings.schemas import AttendanceEntry, AttendanceRecord, MinutesDraft

# Under a field whose name's number is not an id (Unicode digits, too large): no page
# made such a form.
UNKNOWN_ATTENDEE = "Choose each attendee from the list on the page."
UNKNOWN_ITEM = "This item is not part of this meeting."


def _numbered(
    data: Mapping[str, Any], prefix: str, unknown: str
) -> tuple[dict[int, str], dict[str, str]]:
    """The fields named `<prefix><row id>`, by id, each with its (first) value; and an error
    under each field whose name has something other than a row id after the prefix."""
    found = {}
    errors = {}
    for key in data:
        if not key.startswith(prefix):
            continue
        number = row_id(key.removeprefix(prefix))
        if number is None:
            errors[key] = unknown
            continue
        value = data.get(key, "")
        found[number] = str(value[0] if isinstance(value, list) and value else value or "")
    return found, errors


def read_attendance(data: Mapping[str, Any]) -> tuple[AttendanceRecord, dict[str, str]]:
    """A mode for each member whose field is filled in; guests, one name per line; and the
    fields that could not be read."""
    modes, unreadable = _numbered(data, "mode_", UNKNOWN_ATTENDEE)
    entries = [
        AttendanceEntry(user_id=user_id, mode=mode.strip())
        for user_id, mode in sorted(modes.items())
        if mode.strip()
    ]
    guests = [line.strip() for line in str(data.get("guests", "")).splitlines() if line.strip()]
    return AttendanceRecord(entries=entries, guests=guests), unreadable


def read_minutes(data: Mapping[str, Any]) -> tuple[MinutesDraft, dict[str, str]]:
    """The summary, the record of each agenda item in the form, and the fields that could
    not be read."""
    items, unreadable = _numbered(data, "item_", UNKNOWN_ITEM)
    return MinutesDraft(summary=str(data.get("summary", "")), items=items), unreadable
