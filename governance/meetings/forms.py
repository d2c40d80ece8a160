"""The two meeting forms `core.contracts.read_form` cannot read: attendance (one field per
member, `mode_<user id>`, and guests one per line) and the minutes (one field per agenda
item, `item_<item id>`). They only parse; the service holds every rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance.meetings.schemas import AttendanceEntry, AttendanceRecord, MinutesDraft


def _numbered(data: Mapping[str, Any], prefix: str) -> dict[int, str]:
    """The fields named `<prefix><number>`, by number, each with its (first) value."""
    found = {}
    for key in data:
        digits = key.removeprefix(prefix)
        if key.startswith(prefix) and digits.isascii() and digits.isdigit():
            value = data.get(key, "")
            found[int(digits)] = str(value[0] if isinstance(value, list) and value else value or "")
    return found


def read_attendance(data: Mapping[str, Any]) -> AttendanceRecord:
    """A mode for each member whose field is filled in; guests, one name per line."""
    entries = [
        AttendanceEntry(user_id=user_id, mode=mode.strip())
        for user_id, mode in sorted(_numbered(data, "mode_").items())
        if mode.strip()
    ]
    guests = [line.strip() for line in str(data.get("guests", "")).splitlines() if line.strip()]
    return AttendanceRecord(entries=entries, guests=guests)


def read_minutes(data: Mapping[str, Any]) -> MinutesDraft:
    """The summary, and the record of each agenda item in the form."""
    return MinutesDraft(summary=str(data.get("summary", "")), items=_numbered(data, "item_"))
