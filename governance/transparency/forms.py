"""Transparency report forms: generating a report, and its narrative."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance.core.errors import InvalidInput
from governance.core.forms import FormReader
from governance.transparency import metrics
from governance.transparency.figures import EDITIONS
from governance.transparency.services import MAX_NARRATIVE


def read_generate(data: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """scope (a group's short name or "organisation"), period (2026-Q3 or 2026), edition."""
    reader = FormReader(data)
    scope = reader.text("scope", "Scope", max_length=80)
    period = reader.text("period", "Period", max_length=10).upper()
    edition = reader.choice("edition", "Edition", EDITIONS)
    if period and "period" not in reader.errors:
        try:
            period = metrics.parse_report_period(period).label
        except InvalidInput as error:
            reader.error("period", error.field_errors.get("period", error.message))
    return {"scope": scope, "period": period, "edition": edition}, reader.errors


def read_narrative(data: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    reader = FormReader(data)
    # Markdown keeps its line breaks: read it as typed, only trimmed at the ends.
    narrative = reader.text("narrative", "Narrative", required=False, max_length=MAX_NARRATIVE)
    return narrative.replace("\r\n", "\n"), reader.errors
