"""The current time and the organisation's calendar, in one place so tests can travel in time.

Times are stored and compared as timezone-aware UTC. A "date" in the organisation (a due
date, the day a membership ends, the day a meeting took place) is read in the organisation's
time zone, `GOVERNANCE_TIMEZONE`, unless a person's own zone is asked for.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from contextvars import ContextVar
from functools import lru_cache
from zoneinfo import ZoneInfo

from governance.settings import get_settings

# How far this task's clock is set back (see `as_of`); a context variable, so that setting
# it for the demo's history touches no other request or task.
_set_back: ContextVar[dt.timedelta] = ContextVar("clock_set_back", default=dt.timedelta(0))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - _set_back.get()


@contextlib.contextmanager
def as_of(moment: dt.datetime) -> Iterator[None]:
    """Within the block, this task's clock reads `moment` (and runs on from it): the demo's
    history is recorded through the services on the day each thing would have happened,
    so every row and audit event carries that time."""
    token = _set_back.set(dt.datetime.now(dt.UTC) - moment)
    try:
        yield
    finally:
        _set_back.reset(token)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The zone of this IANA name (cached: ZoneInfo reads a file the first time)."""
    return ZoneInfo(name)


def organisation_zone() -> ZoneInfo:
    return zone(get_settings().timezone)


def today_in(timezone: str) -> dt.date:
    """Today's date in this time zone."""
    return utcnow().astimezone(zone(timezone)).date()


def organisation_today() -> dt.date:
    """Today's date in the organisation's time zone."""
    return today_in(get_settings().timezone)


def date_in_zone(moment: dt.datetime, timezone: str | None = None) -> dt.date:
    """The calendar date of a moment in this zone (the organisation's if none is given)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone(timezone or get_settings().timezone)).date()


def utc_text(moment: dt.datetime | None) -> str:
    """A moment as ISO 8601 UTC with a Z, for files and feeds; empty for none."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
