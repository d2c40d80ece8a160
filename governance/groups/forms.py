"""Group, membership and reporting-line forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance.accounts.policy import GROUP_ROLES
from governance.core.forms import FormReader
from governance.groups.services import (
    CADENCES,
    QUORUM_RULES,
    GroupFields,
    LineFields,
    MembershipFields,
)


def read_group(data: Mapping[str, Any]) -> tuple[GroupFields, dict[str, str]]:
    reader = FormReader(data)
    rule = reader.choice("quorum_rule", "Quorum rule", QUORUM_RULES, default="majority")
    count = reader.integer("quorum_count", "Fixed quorum", minimum=0, maximum=500, default=0)
    if rule == "fixed" and count < 1:
        reader.error("quorum_count", "A fixed quorum needs a number of members of at least 1.")
    fields = GroupFields(
        name=reader.text("name", "Name"),
        slug=reader.slug("slug"),
        mandate=reader.text("mandate", "Mandate", required=False, max_length=20000),
        quorum_rule=rule,
        quorum_count=count,
    )
    return fields, reader.errors


def read_membership(data: Mapping[str, Any]) -> tuple[MembershipFields, dict[str, str]]:
    reader = FormReader(data)
    role = reader.choice("role", "Role", GROUP_ROLES, default="member")
    starts_on = reader.date("starts_on", "Start date")
    ends_on = reader.date("ends_on", "End date", required=False)
    if starts_on and ends_on and ends_on < starts_on:
        reader.error("ends_on", "The end date must be on or after the start date.")
    fields = MembershipFields(role=role, starts_on=starts_on, ends_on=ends_on)  # type: ignore[arg-type]
    return fields, reader.errors


def read_line(data: Mapping[str, Any]) -> tuple[LineFields, dict[str, str]]:
    reader = FormReader(data)
    fields = LineFields(
        cadence=reader.choice("cadence", "Cadence", CADENCES),
        report_due_days=reader.integer(
            "report_due_days", "Days to submit the report", minimum=0, maximum=365
        ),
        response_days=reader.integer(
            "response_days", "Days allowed for a response", minimum=1, maximum=365
        ),
    )
    return fields, reader.errors
