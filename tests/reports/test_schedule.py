"""Reporting periods and the state of each period's report on a line."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.reports.schedule import (
    parse_period,
    period_containing,
    period_status,
    periods_between,
)


@pytest.mark.parametrize(
    ("cadence", "day", "label", "starts", "ends"),
    [
        ("monthly", dt.date(2026, 2, 14), "2026-02", dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        (
            "quarterly",
            dt.date(2026, 11, 24),
            "2026-Q4",
            dt.date(2026, 10, 1),
            dt.date(2026, 12, 31),
        ),
        ("quarterly", dt.date(2026, 3, 31), "2026-Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("half_yearly", dt.date(2026, 7, 1), "2026-H2", dt.date(2026, 7, 1), dt.date(2026, 12, 31)),
        ("yearly", dt.date(2028, 2, 29), "2028", dt.date(2028, 1, 1), dt.date(2028, 12, 31)),
    ],
)
def test_period_containing(cadence, day, label, starts, ends):
    period = period_containing(cadence, day)
    assert (period.label, period.starts_on, period.ends_on) == (label, starts, ends)


@pytest.mark.parametrize(
    ("label", "cadence"),
    [
        ("2026-Q4", "quarterly"),
        ("2026-q1", "quarterly"),
        ("2026-H2", "half_yearly"),
        ("2026-11", "monthly"),
        ("2026", "yearly"),
    ],
)
def test_parse_period_names_the_cadence(label, cadence):
    parsed = parse_period(label)
    assert parsed is not None and parsed[0] == cadence
    assert parsed[1].label == label.upper()


@pytest.mark.parametrize(
    "label", ["", "2026-Q5", "2026-13", "2026-1", "26-Q1", "Q4-2026", "2026-H3", "nonsense"]
)
def test_parse_period_refuses_what_names_no_period(label):
    assert parse_period(label) is None


def test_periods_between_spans_the_year_boundary():
    labels = [
        p.label for p in periods_between("quarterly", dt.date(2025, 11, 3), dt.date(2026, 4, 1))
    ]
    assert labels == ["2025-Q4", "2026-Q1", "2026-Q2"]


Q3 = period_containing("quarterly", dt.date(2026, 8, 1))  # due 30 Oct, next due 30 Jan


@pytest.mark.parametrize(
    ("submitted", "today", "state"),
    [
        (None, dt.date(2026, 9, 1), "upcoming"),
        (None, dt.date(2026, 10, 15), "due"),
        (dt.date(2026, 10, 30), dt.date(2026, 11, 24), "on_time"),  # on the due date itself
        (dt.date(2026, 10, 31), dt.date(2026, 11, 24), "late"),
        (None, dt.date(2026, 10, 31), "overdue"),
        (None, dt.date(2027, 1, 29), "overdue"),
        (None, dt.date(2027, 1, 30), "missed"),  # the next period's report falls due
        (dt.date(2027, 2, 2), dt.date(2027, 3, 1), "missed"),  # too late to count
        (dt.date(2027, 1, 29), dt.date(2027, 3, 1), "late"),
    ],
)
def test_period_status(submitted, today, state):
    status = period_status("quarterly", 30, Q3, submitted, today)
    assert status.due_on == dt.date(2026, 10, 30)
    assert status.next_due_on == dt.date(2027, 1, 30)
    assert status.state == state
