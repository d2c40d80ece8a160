"""Action forms and list filters. The forms check that each value is there and of the right
kind; the rules (a due date not in the past, owners who are members) are the services'."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from governance.accounts.policy import VISIBILITIES
from governance.actions.services import (
    ACTION_STATUSES,
    DESCRIPTION_MAX_LENGTH,
    GROUP_SOURCE_TYPES,
    NOTE_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    ActionFields,
)
from governance.core.forms import FormReader
from governance.core.http import MAX_ROW_ID


def _all_values(data: Mapping[str, Any], name: str) -> list[str]:
    """Every value of a field that may be sent several times (checkboxes)."""
    getall = getattr(data, "getall", None)
    if getall is not None:
        values = getall(name, [])
    else:
        values = data.get(name, [])
        values = values if isinstance(values, list) else [values]
    return [str(value).strip() for value in values if str(value).strip()]


def read_owner_ids(reader: FormReader, data: Mapping[str, Any]) -> list[int]:
    owner_ids = []
    for raw in _all_values(data, "owner_ids"):
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_ROW_ID:
            reader.error("owner_ids", "Choose owners from the list.")
            continue
        owner_ids.append(int(raw))
    if not owner_ids and "owner_ids" not in reader.errors:
        reader.error("owner_ids", "Choose at least one owner.")
    return owner_ids


def read_action(data: Mapping[str, Any]) -> tuple[ActionFields, dict[str, str]]:
    reader = FormReader(data)
    title = reader.text("title", "Title", max_length=TITLE_MAX_LENGTH)
    description = reader.text(
        "description", "Description", required=False, max_length=DESCRIPTION_MAX_LENGTH
    )
    due_on = reader.date("due_on", "Due date")
    visibility = reader.choice("visibility", "Visibility", VISIBILITIES, default="internal")
    owner_ids = read_owner_ids(reader, data)
    fields = ActionFields(title, description, due_on or dt.date.min, visibility, owner_ids)
    return fields, reader.errors


def read_source(data: Mapping[str, Any]) -> tuple[str, int | None, dict[str, str]]:
    """Where a new action comes from: `source_type` and `source_id`, none for the group."""
    reader = FormReader(data)
    source_type = reader.choice("source_type", "Source", GROUP_SOURCE_TYPES, default="group")
    source_id = None
    if reader.raw("source_id"):
        source_id = reader.integer("source_id", "Source", minimum=1, maximum=MAX_ROW_ID)
    return source_type, source_id, reader.errors


def read_status_change(data: Mapping[str, Any]) -> tuple[str, str, dict[str, str]]:
    reader = FormReader(data)
    status = reader.choice("status", "New status", ACTION_STATUSES)
    note = reader.text("note", "The note", required=False, max_length=NOTE_MAX_LENGTH)
    return status, note, reader.errors


def read_progress(data: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    reader = FormReader(data)
    return reader.text("body", "A progress note", max_length=NOTE_MAX_LENGTH), reader.errors


def read_owners_and_due(data: Mapping[str, Any]) -> tuple[list[int], dt.date, dict[str, str]]:
    reader = FormReader(data)
    owner_ids = read_owner_ids(reader, data)
    due_on = reader.date("due_on", "Due date")
    return owner_ids, due_on or dt.date.min, reader.errors


def _status_filter(reader: FormReader) -> str | None:
    value = reader.raw("status")
    if value and value not in ACTION_STATUSES:
        reader.error("status", "Choose open, in progress, done or dropped.")
        return None
    return value or None


def read_group_filters(query: Mapping[str, Any]) -> tuple[str | None, int | None, dict[str, str]]:
    """`status` and `owner` (a user id) of a group's action list; empty means any. A value
    that is refused is left out of the filter."""
    reader = FormReader(query)
    status = _status_filter(reader)
    owner_id = None
    if reader.raw("owner"):
        owner_id = reader.integer("owner", "Owner", minimum=1, maximum=MAX_ROW_ID)
    return status, None if "owner" in reader.errors else owner_id, reader.errors


def read_my_filters(query: Mapping[str, Any]) -> tuple[str | None, str | None, dict[str, str]]:
    """`status` and `group` (a slug) of My actions; empty means any."""
    reader = FormReader(query)
    status = _status_filter(reader)
    group = reader.text("group", "Group", required=False, max_length=80) or None
    return status, None if "group" in reader.errors else group, reader.errors
