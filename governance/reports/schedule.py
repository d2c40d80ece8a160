"""Reporting periods and what each line is owed: pure date arithmetic, no database.

A line's cadence cuts time into periods (2026-11, 2026-Q4, 2026-H2, 2026). A periodic report
for a period is due a fixed number of days after the period ends. A late report does not
move the schedule; a period still without a report when the next period's report falls due
is recorded as missed.

A line's settings change over time: each version (`Settings`) applies to the periods that
start after the day it was made, so a period under way keeps the cadence and due days it
began with (`line_periods`). A coarser cadence begins at its own next boundary; until then
the line keeps its former cadence, so no stretch of time is left without a period and no
two periods of a line overlap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

CADENCES = ("monthly", "quarterly", "half_yearly", "yearly")
MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}


@dataclass(frozen=True)
class Period:
    label: str
    starts_on: dt.date
    ends_on: dt.date


def _label(cadence: str, year: int, index: int) -> str:
    if cadence == "monthly":
        return f"{year}-{index + 1:02d}"
    if cadence == "quarterly":
        return f"{year}-Q{index + 1}"
    if cadence == "half_yearly":
        return f"{year}-H{index + 1}"
    return f"{year}"


def period_containing(cadence: str, day: dt.date) -> Period:
    months = MONTHS_PER_PERIOD[cadence]
    index = (day.month - 1) // months
    first_month = index * months + 1
    starts_on = dt.date(day.year, first_month, 1)
    next_start = _add_months(starts_on, months)
    return Period(_label(cadence, day.year, index), starts_on, next_start - dt.timedelta(days=1))


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + (day.month - 1) + months
    return dt.date(total // 12, total % 12 + 1, 1)


def next_period(cadence: str, period: Period) -> Period:
    return period_containing(cadence, period.ends_on + dt.timedelta(days=1))


def parse_period(label: str) -> tuple[str, Period] | None:
    """The cadence and period a label names, or None if it names none."""
    label = label.strip().upper()
    if not label.isascii():
        # int() reads Arabic-Indic or full-width digits as a year; a label is ASCII only.
        return None
    try:
        if len(label) == 4 and label.isdigit():
            return "yearly", period_containing("yearly", dt.date(int(label), 1, 1))
        year, _, part = label.partition("-")
        if not (len(year) == 4 and year.isdigit()):
            return None
        if part.startswith("Q") and part[1:] in {"1", "2", "3", "4"}:
            return "quarterly", period_containing(
                "quarterly", dt.date(int(year), (int(part[1]) - 1) * 3 + 1, 1)
            )
        if part.startswith("H") and part[1:] in {"1", "2"}:
            return "half_yearly", period_containing(
                "half_yearly", dt.date(int(year), (int(part[1]) - 1) * 6 + 1, 1)
            )
        if part.isdigit() and 1 <= int(part) <= 12 and len(part) == 2:
            return "monthly", period_containing("monthly", dt.date(int(year), int(part), 1))
    except ValueError:
        return None
    return None


def periods_between(cadence: str, first_day: dt.date, last_day: dt.date) -> list[Period]:
    """Every period from the one containing first_day to the one containing last_day."""
    periods = []
    period = period_containing(cadence, first_day)
    while period.starts_on <= last_day:
        periods.append(period)
        period = next_period(cadence, period)
    return periods


@dataclass(frozen=True)
class PeriodStatus:
    period: Period
    due_on: dt.date
    next_due_on: dt.date
    submitted_on: dt.date | None
    state: str  # upcoming, due, overdue, on_time, late, missed


def period_status(
    cadence: str, due_days: int, period: Period, submitted_on: dt.date | None, today: dt.date
) -> PeriodStatus:
    due_on = period.ends_on + dt.timedelta(days=due_days)
    next_due_on = next_period(cadence, period).ends_on + dt.timedelta(days=due_days)
    if submitted_on is not None and submitted_on < next_due_on:
        state = "on_time" if submitted_on <= due_on else "late"
    elif today >= next_due_on:
        state = "missed"
    elif today > due_on:
        state = "overdue"
    elif today > period.ends_on:
        state = "due"
    else:
        state = "upcoming"
    return PeriodStatus(period, due_on, next_due_on, submitted_on, state)


# The states of a period still owed a report.
OWED_STATES = frozenset({"upcoming", "due", "overdue"})

STATE_WORDS = {
    "upcoming": "not yet due",
    "due": "due",
    "overdue": "past its due date",
    "on_time": "submitted on time",
    "late": "submitted late",
    "missed": "recorded as missed",
}


# --- a line's periods under its settings over time --------------------------------------


@dataclass(frozen=True)
class Settings:
    """One version of a line's schedule; it applies to the periods that start after
    `made_on`."""

    cadence: str
    due_days: int
    made_on: dt.date


@dataclass(frozen=True)
class Slot:
    """A period of one line's schedule, with the dates of the settings it began with."""

    period: Period
    cadence: str
    due_on: dt.date
    # Without a report by this day (the next period's due date) it is missed.
    closes_on: dt.date


def settings_for(versions: Sequence[Settings], starts_on: dt.date) -> Settings:
    """The version in force when a period starting on that day began: the last one made
    before that day (the first one, for a period that began before the line had any)."""
    chosen = versions[0]
    for version in versions:
        if version.made_on < starts_on:
            chosen = version
    return chosen


def _slot(cadence: str, due_days: int, period: Period) -> Slot:
    due = dt.timedelta(days=due_days)
    closes_on = next_period(cadence, period).ends_on + due
    return Slot(period, cadence, period.ends_on + due, closes_on)


def line_periods(versions: Sequence[Settings], first_day: dt.date, last_day: dt.date) -> list[Slot]:
    """Every period of the line from the one containing first_day to the one containing
    last_day, each with the settings it began with; none before first_day."""
    if last_day < first_day:
        return []
    first = settings_for(versions, first_day)
    slots = [_slot(first.cadence, first.due_days, period_containing(first.cadence, first_day))]
    while slots[-1].period.ends_on < last_day:
        starts_on = slots[-1].period.ends_on + dt.timedelta(days=1)
        version = settings_for(versions, starts_on)
        period = period_containing(version.cadence, starts_on)
        cadence = version.cadence
        if period.starts_on != starts_on:
            # A coarser cadence waits for its own boundary; the former one runs until then.
            cadence = slots[-1].cadence
            period = period_containing(cadence, starts_on)
        slots.append(_slot(cadence, version.due_days, period))
    return slots


def outcome_of(slot_due_on: dt.date, closes_on: dt.date, submitted_on: dt.date) -> str:
    """What a report submitted on that day makes of its period: on time, late, or too late
    to count (the period was missed)."""
    if submitted_on <= slot_due_on:
        return "on_time"
    return "late" if submitted_on < closes_on else "missed"


def owed_state(period: Period, due_on: dt.date, closes_on: dt.date, today: dt.date) -> str:
    """The state of a period with no report yet: upcoming, due, overdue, or missed once the
    day it closes has come."""
    if today >= closes_on:
        return "missed"
    if today > due_on:
        return "overdue"
    if today > period.ends_on:
        return "due"
    return "upcoming"
