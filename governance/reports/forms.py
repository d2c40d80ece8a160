"""The response form, which holds a variable number of rows: a response, its rationale and
up to three actions (title, owner, due date), read into the `LineResponse` command; and the
command's field names turned back into the form's. Parsing only: every rule is the
service's."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from governance.core.contracts import form_values, read_form
from governance.reports.schemas import MAX_ACTIONS_PER_RESPONSE, LineResponse, ResponseAction

# Each field of an action, by its name in the form (numbered by row, from 1).
ROW_FIELDS = {
    "title": "action_title_{}",
    "owner_ids": "action_owner_{}",
    "due_on": "action_due_{}",
}
_ACTION_FIELD = re.compile(r"^actions\[(\d+)\]\.(\w+)$")


def read_response(
    data: Mapping[str, Any], *, timezone: str = "UTC"
) -> tuple[LineResponse, dict[str, str], list[int]]:
    """The command, every field's error (named as the service names them), and the form's
    row number of each action. A row with no title is left out."""
    command, errors = read_form(LineResponse, data, timezone=timezone)
    actions: list[ResponseAction] = []
    rows: list[int] = []
    for row in range(1, MAX_ACTIONS_PER_RESPONSE + 1):
        values = {name: form_values(data, field.format(row)) for name, field in ROW_FIELDS.items()}
        if not "".join(values["title"]).strip():
            continue
        action, action_errors = read_form(ResponseAction, values, timezone=timezone)
        index = len(actions)
        errors.update({f"actions[{index}].{name}": m for name, m in action_errors.items()})
        actions.append(action)
        rows.append(row)
    return msgspec.structs.replace(command, actions=actions), errors, rows


def form_errors(errors: Mapping[str, str], rows: list[int]) -> dict[str, str]:
    """The errors by the form's field names (`actions[0].due_on` is `action_due_1` when the
    first action was written in the first row)."""
    named: dict[str, str] = {}
    for name, message in errors.items():
        match = _ACTION_FIELD.match(name)
        if match and int(match[1]) < len(rows) and match[2] in ROW_FIELDS:
            name = ROW_FIELDS[match[2]].format(rows[int(match[1])])
        named.setdefault(name, message)
    return named
