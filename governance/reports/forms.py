"""Report and response forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance.actions.schemas import NewAction
from governance.core.forms import FormReader
from governance.reports import schedule
from governance.reports.services import KINDS, RESPONSES, ROUTES, ReportFields, ResponseFields

MAX_ACTIONS_PER_RESPONSE = 3


def read_report(data: Mapping[str, Any]) -> tuple[ReportFields, dict[str, str]]:
    reader = FormReader(data)
    kind = reader.choice("kind", "Kind", KINDS, default="recommendation")
    period = reader.text("period", "Period", required=kind == "periodic", max_length=10)
    follows_raw = reader.raw("follows_up")
    follows_up = None
    if follows_raw:
        follows_up = reader.integer("follows_up", "Follows up report", minimum=1, maximum=2**31 - 1)
    if kind == "periodic" and period and schedule.parse_period(period) is None:
        reader.error("period", "Name the period, e.g. 2026-Q4, 2026-H2, 2026-11 or 2026.")
    route = reader.choice("route", "Lines", ROUTES, default="both")
    if kind == "periodic" and route != "both":
        reader.error("route", "A periodic report always goes to both lines.")
    fields = ReportFields(
        kind=kind,
        period=period,
        title=reader.text("title", "Title", max_length=300),
        body=reader.text("body", "Report", required=False, max_length=100_000),
        route=route,
        follows_up=follows_up,
    )
    return fields, reader.errors


def read_response(
    data: Mapping[str, Any], owner_choices: set[int]
) -> tuple[ResponseFields, dict[str, str]]:
    """The response, its rationale, and up to three actions (title, owner, due date)."""
    reader = FormReader(data)
    response = reader.choice("response", "Response", RESPONSES)
    rationale = reader.text("rationale", "Rationale", required=False, max_length=20_000)
    actions = []
    for number in range(1, MAX_ACTIONS_PER_RESPONSE + 1):
        title = reader.text(f"action_title_{number}", "Action", required=False, max_length=300)
        if not title:
            continue
        due_on = reader.date(f"action_due_{number}", "Due date")
        owner = reader.integer(f"action_owner_{number}", "Owner", minimum=1, maximum=2**31 - 1)
        if owner not in owner_choices:
            reader.error(f"action_owner_{number}", "Choose an owner from the list.")
        if due_on is not None:
            actions.append(
                NewAction(
                    title=title,
                    description="",
                    due_on=due_on,
                    visibility="internal",
                    owner_ids=[owner],
                )
            )
    return ResponseFields(response=response, rationale=rationale, actions=actions), reader.errors
