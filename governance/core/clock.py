"""The current time, always timezone-aware UTC, in one place so tests can travel in time."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def today_in(timezone: str) -> dt.date:
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo(timezone)).date()
