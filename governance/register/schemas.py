"""The contracts of the decision register: its filters and its views.

Decisions taken at meetings and written resolutions decided between them are listed
together, by the day they were decided. The outcome of each decision is the meetings
domain's (`meetings.queries.outcome`, the group's `DecisionRule`) or the resolution's,
recorded when it closed; never worked out again here. Decisions are numbered 1 to n among
those the reader may read, so a hidden decision leaves no gap; no decision id is shown.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from governance.meetings.schemas import DecisionOutcome

# The outcome filter: "carried", "not carried", or "no vote" (a decision by consensus).
NO_VOTE = "no vote"
OUTCOME_CHOICES: tuple[str, ...] = (*tuple(DecisionOutcome), NO_VOTE)
OUTCOME_MESSAGE = "Choose carried, not carried or no vote."
DATE_MESSAGE = "Write a date as YYYY-MM-DD."
CSV_HEADER = (
    "Number",
    "Date",
    "Group",
    "Meeting",
    "Agenda item",
    "Decision",
    "For",
    "Against",
    "Abstain",
    "Outcome",
    "Quorum met",
    "Actions",
)


class RegisterFilters(msgspec.Struct, kw_only=True):
    """Filters of a register; empty means any. Dates are the meetings' days."""

    group: str = ""
    outcome: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


class RegisterActionView(msgspec.Struct, kw_only=True):
    """An action that came of a decision, with where it stands."""

    id: int
    title: str
    status: str
    due_on: dt.date
    is_overdue: bool


class RegisterEntryView(msgspec.Struct, kw_only=True):
    """One decision in the register."""

    # 1 to n, oldest first, among the decisions this reader may read.
    number: int
    decided_on: dt.date
    # The meeting that took it; null for a written resolution decided between meetings.
    meeting_id: int | None
    meeting_title: str
    group_slug: str
    group_name: str
    item_title: str
    text: str
    votes_for: int
    votes_against: int
    votes_abstain: int
    # "carried" or "not carried" under the group's rule; null when no vote was counted.
    outcome: str | None
    # Whether the meeting was quorate when the decision was recorded.
    quorum_met: bool
    actions: list[RegisterActionView]
    # "meeting" (a decision recorded at a meeting) or "written resolution", with its id.
    kind: str = "meeting"
    resolution_id: int | None = None


class GroupChoice(msgspec.Struct):
    slug: str
    name: str


class RegisterView(msgspec.Struct, kw_only=True):
    """A register: one group's (group_slug set) or the organisation's, newest first."""

    group_slug: str | None
    group_name: str | None
    filters: RegisterFilters
    entries: list[RegisterEntryView]
