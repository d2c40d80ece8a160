"""The figures a transparency report holds: the contract between the metrics (which compute
them from the records) and the editions, formats and pages (which show them).

Every figure is a plain number (or None when there is nothing to measure, e.g. a median of
no values). Suppression for the public edition happens when figures are presented, never
here, so the same figures can be checked against the records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Edition(StrEnum):
    """Which readers a report is made for. What each counts is
    `accounts.scopes.EDITION_COUNTS`: the public edition counts no board or group record
    at all, so that nothing of the Board-only channel, not even a count, reaches the
    Director."""

    BOARD = "board"  # everything the Board may read
    PUBLIC = "public"  # public and internal records; small figures about people suppressed


EDITIONS: tuple[str, ...] = tuple(Edition)
# The scope of the whole organisation (a group's scope is its short name).
ORGANISATION = "organisation"
ORGANISATION_NAME = "The organisation"
PUBLIC_THRESHOLD = 5  # a public figure about fewer people is "fewer than 5"


class SmallNumbers(StrEnum):
    """Which small figures a public edition hides. Stored with the figures, because a
    published report is shown (and its SHA-256 checked) by the rule it was published
    under: figures stored before the rule was written down carry none and keep hiding
    every small count."""

    EVERY_COUNT = "every count"  # figures stored without a rule (before issue 16)
    ABOUT_PEOPLE = "about people"  # only figures about people (editions.ABOUT_PEOPLE)


@dataclass
class Period:
    label: str  # 2026-Q3 or 2026
    starts_on: dt.date
    ends_on: dt.date  # inclusive, in the organisation's time zone


@dataclass
class LineFigures:
    recipient: str  # "director" or "board"
    periodic_due: int = 0
    periodic_on_time: int = 0
    periodic_late: int = 0
    periodic_missed: int = 0
    recommendations: int = 0
    accepted: int = 0
    partially_accepted: int = 0
    declined: int = 0
    noted: int = 0
    pending: int = 0
    overdue_responses: int = 0  # pending and past their response due date at period end
    median_days_to_acknowledge: float | None = None
    median_days_to_respond: float | None = None


@dataclass
class PulseRunFigures:
    """One pulse run of the group that closed in the period, with only what its threshold
    allowed when the figures were computed: a question's headline (its mean, or the eNPS)
    is None where fewer than `threshold` people answered it, and every headline is None
    when the run had fewer responses than that."""

    pulse_title: str
    run_number: int
    closes_on: dt.date
    invited: int
    responses: int
    threshold: int
    # (question, "mean" or "eNPS", the figure or None where not shown)
    headlines: list[tuple[str, str, float | None]] = field(default_factory=list)


@dataclass
class GroupFigures:
    group_slug: str
    group_name: str
    chair_names: list[str] = field(default_factory=list)
    meetings_held: int = 0
    meetings_cancelled: int = 0
    # Members present or remote / members expected, at the meetings held.
    attendance_rate: float | None = None
    attendance_people: int = 0  # distinct members the rate is drawn from
    meetings_with_quorum: int = 0
    decisions: int = 0
    decisions_with_quorum: int = 0
    confidential_matters: int = 0  # non-public agenda items considered at held meetings
    lines: list[LineFigures] = field(default_factory=list)
    actions_opened: int = 0
    actions_completed: int = 0
    actions_dropped: int = 0
    actions_overdue_at_end: int = 0
    median_days_to_complete: float | None = None
    # Actions completed per month of the period, for the trend chart: [("2026-07", 4), ...]
    actions_completed_by_month: list[tuple[str, int]] = field(default_factory=list)
    # The pulse runs that closed in the period, of a visibility the edition counts.
    pulse_runs: list[PulseRunFigures] = field(default_factory=list)


@dataclass
class TransparencyFigures:
    scope: str  # a group's slug, or "organisation"
    period: Period
    edition: str
    generated_at: dt.datetime
    groups: list[GroupFigures] = field(default_factory=list)
    small_numbers: str = SmallNumbers.ABOUT_PEOPLE.value

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
