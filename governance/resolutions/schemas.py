"""The contracts of written resolutions: each use case's command in and view out, and every
limit.

A written resolution is a motion a group's chair (or secretary) puts to its members between
meetings. Members vote for, against or abstain, once each (a vote cannot be changed: the
record of who voted how is made when it is cast), until the closing time or until every
member has voted. The outcome follows the group's `ResolutionRule`, counted against the
members on the closing date; enough of them must have voted (the group's quorum rule).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec

from governance.accounts.policy import Visibility
from governance.core import contracts
from governance.documents.schemas import DocumentView


class ResolutionStatus(StrEnum):
    OPEN = "open"
    WITHDRAWN = "withdrawn"
    CARRIED = "carried"
    NOT_CARRIED = "not_carried"


class VoteChoice(StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


VOTE_CHOICES: tuple[str, ...] = tuple(VoteChoice)
VOTE_LABELS = {VoteChoice.FOR: "For", VoteChoice.AGAINST: "Against", VoteChoice.ABSTAIN: "Abstain"}
STATUS_LABELS = {
    ResolutionStatus.OPEN: "Open for votes",
    ResolutionStatus.WITHDRAWN: "Withdrawn",
    ResolutionStatus.CARRIED: "Carried",
    ResolutionStatus.NOT_CARRIED: "Not carried",
}
DECIDED = (ResolutionStatus.CARRIED, ResolutionStatus.NOT_CARRIED)
# Public is not offered: nothing publishes a written resolution on its own (it reaches the
# public only through approved minutes, which list what their readers may read).
RESOLUTION_VISIBILITIES: tuple[str, ...] = (
    Visibility.INTERNAL,
    Visibility.BOARD,
    Visibility.GROUP,
)
VISIBILITY_LABELS = {
    "internal": "Internal: members, the Director and the Board",
    "board": "Board: members and the Board, never the Director",
    "group": "Group: current members only",
}
# Those who have not voted are reminded this long before the closing time.
REMINDER_BEFORE = dt.timedelta(hours=24)
# A resolution stays open at least an hour and at most 90 days.
SHORTEST_OPEN = dt.timedelta(hours=1)
LONGEST_OPEN = dt.timedelta(days=90)
TITLE_MAX_LENGTH = 300
TEXT_MAX_LENGTH = 20000
COMMENT_MAX_LENGTH = 2000

Title = Annotated[str, contracts.text("Title", max_length=TITLE_MAX_LENGTH)]
MotionText = Annotated[
    str,
    contracts.text(
        "Motion",
        max_length=TEXT_MAX_LENGTH,
        one_line=False,
        description="What the members are asked to decide (Markdown)",
    ),
]
ClosesAt = Annotated[
    dt.datetime,
    msgspec.Meta(
        tz=True,
        extra_json_schema={
            "description": "ISO 8601 date and time with a UTC offset, "
            "e.g. 2026-12-08T17:00:00+00:00"
        },
    ),
    contracts.labelled("Voting closes"),
]
VisibilityChoice = Annotated[
    str,
    contracts.choice(
        "Visibility", RESOLUTION_VISIBILITIES, description="Who may read the resolution"
    ),
]
Choice = Annotated[
    str,
    contracts.choice("Your vote", VOTE_CHOICES, message="Choose for, against or abstain."),
]
Comment = Annotated[
    str,
    contracts.text("Comment", max_length=COMMENT_MAX_LENGTH, required=False, one_line=False),
]


def accepts_votes(status: str, closes_at: dt.datetime, now: dt.datetime) -> bool:
    """Whether a resolution is open: not withdrawn or decided, and its closing time not
    come (the scheduler may close it a little later; votes, and changes to its papers,
    stop at the time itself)."""
    return status == ResolutionStatus.OPEN and now < closes_at


# --- commands ---------------------------------------------------------------------------


class NewResolution(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A motion put to the group's members, open until `closes_at` (at least an hour, at
    most 90 days ahead)."""

    title: Title
    text: MotionText
    closes_at: ClosesAt
    visibility: VisibilityChoice = Visibility.INTERNAL.value


class NewVote(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A member's vote, with an optional comment; one per member, final once cast."""

    choice: Choice
    comment: Comment = ""


# --- views ------------------------------------------------------------------------------


class VoteView(msgspec.Struct, kw_only=True):
    voter_name: str
    choice: str
    comment: str
    cast_at: dt.datetime
    # False once closed for a voter who was no longer a member on the closing date.
    counted: bool


class ResolutionSummaryView(msgspec.Struct, kw_only=True):
    """A resolution in a list (a group's, the minutes', "needs me")."""

    id: int
    group_slug: str
    group_name: str
    title: str
    visibility: str
    status: str
    closes_at: dt.datetime
    closed_at: dt.datetime | None
    votes_for: int
    votes_against: int
    votes_abstain: int
    members_counted: int
    quorum_met: bool

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[ResolutionStatus(self.status)]


class ResolutionView(msgspec.Struct, kw_only=True):
    """One resolution with its votes (each voter's, for the group's readers) and what the
    reader may do with it."""

    id: int
    group_slug: str
    group_name: str
    title: str
    text: str
    visibility: str
    status: str
    rule: str
    proposed_by_name: str
    proposed_at: dt.datetime
    closes_at: dt.datetime
    closed_at: dt.datetime | None
    votes_for: int
    votes_against: int
    votes_abstain: int
    members_counted: int
    quorum_met: bool
    votes: list[VoteView]
    # Its current papers the reader may read (each narrows the resolution's visibility).
    papers: list[DocumentView]
    my_vote: str | None
    may_vote: bool
    may_withdraw: bool
    # The chair or secretary adds papers while it is open.
    may_add_papers: bool

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[ResolutionStatus(self.status)]


class ResolutionListView(msgspec.Struct, kw_only=True):
    group_slug: str
    group_name: str
    may_propose: bool
    resolutions: list[ResolutionSummaryView]


class BallotPage(msgspec.Struct, kw_only=True):
    """What a signed voting link opens: the motion, the member, and their vote so far."""

    resolution_id: int
    group_name: str
    title: str
    text: str
    status: str
    closes_at: dt.datetime
    voter_name: str
    my_vote: str | None
    may_vote: bool

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[ResolutionStatus(self.status)]
