"""Jinja set-up shared by pages and email: where templates live and the helpers they use."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from governance.core.markdown import render_markdown

TEMPLATE_DIRECTORY = Path(__file__).resolve().parents[2] / "templates"


def format_datetime(value: dt.datetime | None, timezone: str = "UTC") -> str:
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(timezone))
    return local.strftime("%-d %b %Y, %H:%M")


def format_date(value: dt.date | None) -> str:
    if value is None:
        return ""
    return value.strftime("%-d %b %Y")


def humanize_choice(value: Any) -> str:
    return str(value).replace("_", " ").capitalize() if value is not None else ""


def add_template_helpers(environment: jinja2.Environment) -> None:
    environment.filters["markdown"] = render_markdown
    environment.filters["datetime"] = format_datetime
    environment.filters["date"] = format_date
    environment.filters["humanize"] = humanize_choice
