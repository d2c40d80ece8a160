"""The contracts of working groups, memberships and reporting lines: each use case's command
in and view out, and every limit.

The administrator's pages fill these commands from their forms (`core.contracts.read_form`);
the JSON API answers with these views. A limit is written once, here, in the field's `Meta`.
The two reporting lines are `accounts.policy.Line` (with their labels) and the group roles
`accounts.policy.GroupRole`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec

from governance.accounts.policy import GROUP_ROLES, GroupRole, Line
from governance.accounts.schemas import Email
from governance.core import contracts


class QuorumRule(StrEnum):
    """How many current members make a meeting quorate."""

    MAJORITY = "majority"  # more than half of current members
    TWO_THIRDS = "two_thirds"  # at least two thirds
    FIXED = "fixed"  # the group's `quorum_count`

    @property
    def label(self) -> str:
        return QUORUM_LABELS[self]

    def needed(self, fixed_count: int, members: int) -> int:
        """Members who must be present, of `members` current ones."""
        if self is QuorumRule.FIXED:
            return fixed_count
        if self is QuorumRule.TWO_THIRDS:
            return -(-2 * members // 3)
        return members // 2 + 1

    def describe(self, fixed_count: int) -> str:
        """The rule as the group page says it."""
        if self is QuorumRule.FIXED:
            return f"at least {fixed_count} members present"
        if self is QuorumRule.TWO_THIRDS:
            return "at least two thirds of current members present"
        return "more than half of current members present"


QUORUM_LABELS = {
    QuorumRule.MAJORITY: "More than half of current members",
    QuorumRule.TWO_THIRDS: "At least two thirds of current members",
    QuorumRule.FIXED: "A fixed number of members",
}


class DecisionRule(StrEnum):
    """When a vote carries a decision. Votes cast are those for, against and abstaining
    (as recorded at the meeting: never more than the members present or remote)."""

    SIMPLE_MAJORITY = "simple_majority"  # more than half of the votes cast are for
    TWO_THIRDS = "two_thirds"  # at least two thirds of the votes cast are for

    @property
    def label(self) -> str:
        return DECISION_RULE_LABELS[self]

    def carries(self, votes_for: int, votes_against: int, votes_abstain: int) -> bool | None:
        """Whether these votes carry the decision; None when no vote was counted (a decision
        by consensus records no votes)."""
        cast = votes_for + votes_against + votes_abstain
        if cast == 0:
            return None
        if self is DecisionRule.TWO_THIRDS:
            return 3 * votes_for >= 2 * cast
        return 2 * votes_for > cast


DECISION_RULE_LABELS = {
    DecisionRule.SIMPLE_MAJORITY: "A simple majority: more than half of the votes cast",
    DecisionRule.TWO_THIRDS: "At least two thirds of the votes cast",
}


class ResolutionRule(StrEnum):
    """When a written resolution (a vote between meetings, `governance.resolutions`) is
    carried. Counted against the members on the closing date, not the votes cast: a member
    who does not vote counts as not voting for."""

    MAJORITY = "majority"  # more than half of the members on the closing date vote for
    UNANIMITY = "unanimity"  # every member on the closing date votes for

    @property
    def label(self) -> str:
        return RESOLUTION_RULE_LABELS[self]


RESOLUTION_RULE_LABELS = {
    ResolutionRule.MAJORITY: "A majority of members: more than half of them vote for",
    ResolutionRule.UNANIMITY: "Unanimity: every member votes for",
}


class Cadence(StrEnum):
    """How often a group sends a periodic report along a line."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


Name = Annotated[str, contracts.text("Name", max_length=200)]
Slug = Annotated[
    str,
    contracts.text(
        "Short name",
        max_length=80,
        description="Used in addresses: lower-case letters, digits and single hyphens",
    ),
]
Mandate = Annotated[
    str,
    contracts.text("Mandate", max_length=20000, required=False, one_line=False),
]
QuorumRuleChoice = Annotated[str, contracts.choice("Quorum rule", QuorumRule)]
QuorumCount = Annotated[int, contracts.number("Fixed quorum", minimum=0, maximum=500)]
DecisionRuleChoice = Annotated[
    str,
    contracts.choice(
        "Decisions carried by", DecisionRule, description="When a vote carries a decision"
    ),
]
ResolutionRuleChoice = Annotated[
    str,
    contracts.choice(
        "Written resolutions carried by",
        ResolutionRule,
        description="When a written resolution between meetings is carried",
    ),
]
CadenceChoice = Annotated[str, contracts.choice("Cadence", Cadence)]
ReportDueDays = Annotated[
    int,
    contracts.number(
        "Days to submit the report",
        minimum=0,
        maximum=365,
        description="Days after each period ends by which the report is due",
    ),
]
ResponseDays = Annotated[
    int,
    contracts.number("Days allowed for a response", minimum=1, maximum=365),
]
RoleChoice = Annotated[str, contracts.choice("Role", GROUP_ROLES)]
StartsOn = Annotated[dt.date, contracts.labelled("Start date")]
EndsOn = Annotated[
    dt.date,
    contracts.labelled("End date", description="The last day of the term", required=False),
]


# --- commands ---------------------------------------------------------------------------


class GroupDetails(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new group, or a group's new details. The short name is used in addresses;
    a fixed quorum needs a number of at least 1."""

    name: Name
    slug: Slug
    mandate: Mandate = ""
    quorum_rule: QuorumRuleChoice = QuorumRule.MAJORITY.value
    quorum_count: QuorumCount = 0
    decision_rule: DecisionRuleChoice = DecisionRule.SIMPLE_MAJORITY.value
    resolution_rule: ResolutionRuleChoice = ResolutionRule.MAJORITY.value
    # Meeting notices go out by themselves 7 days ahead unless the group sends them only
    # by hand (a checkbox: left unticked, the default, keeps them automatic).
    notice_by_hand_only: Annotated[
        bool, contracts.labelled("Send meeting notices only by hand", required=False)
    ] = False


class LineSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A reporting line's cadence, when its reports fall due and how long it has to answer."""

    cadence: CadenceChoice
    report_due_days: ReportDueDays
    response_days: ResponseDays


class MembershipTerm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A membership's role and term; no end date means open-ended."""

    role: RoleChoice = GroupRole.MEMBER.value
    starts_on: StartsOn
    ends_on: EndsOn | None = None


class NewMembership(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A person, by the email of their account, joins the group for a term."""

    email: Email  # of the person's account
    role: RoleChoice = GroupRole.MEMBER.value
    starts_on: StartsOn
    ends_on: EndsOn | None = None

    @property
    def term(self) -> MembershipTerm:
        return MembershipTerm(role=self.role, starts_on=self.starts_on, ends_on=self.ends_on)


# --- views ------------------------------------------------------------------------------


class GroupRecord(msgspec.Struct, kw_only=True):
    """A group's own details."""

    id: int
    name: str
    slug: str
    mandate: str
    quorum_rule: str
    quorum_count: int
    decision_rule: str
    created_at: dt.datetime
    notice_by_hand_only: bool = False
    resolution_rule: str = ResolutionRule.MAJORITY.value


class GroupSummaryView(msgspec.Struct, kw_only=True):
    """One group in the list, with the caller's role in it today."""

    slug: str
    name: str
    member_count: int
    my_role: str | None


class MembershipView(msgspec.Struct, kw_only=True):
    """One term of one person in a group."""

    id: int
    user_id: int
    display_name: str
    email: str
    role: str
    starts_on: dt.date
    ends_on: dt.date | None
    group_slug: str = ""
    group_name: str = ""


class ReportingLineView(msgspec.Struct, kw_only=True):
    id: int
    recipient: str
    cadence: str
    report_due_days: int
    response_days: int

    @property
    def recipient_name(self) -> str:
        return Line(self.recipient).label


class GroupPage(msgspec.Struct, kw_only=True):
    """Everything the group page shows of the group itself."""

    group: GroupRecord
    current_members: list[MembershipView]
    future_members: list[MembershipView]
    former_members: list[MembershipView]
    lines: list[ReportingLineView]
    # The quorum rule in words, and how many current members it needs now.
    quorum: str
    quorum_needed: int
    # When a vote carries a decision, in words.
    decisions_carried_by: str
    my_role: str | None


class LinePage(msgspec.Struct, kw_only=True):
    """A reporting line with its group, for the line's form."""

    line: ReportingLineView
    group: GroupRecord


class MemberView(msgspec.Struct, kw_only=True):
    """A current member, as the API lists them."""

    user_id: int
    display_name: str
    role: str
    starts_on: dt.date
    ends_on: dt.date | None


class GroupView(msgspec.Struct, kw_only=True):
    """One group with its current members and both reporting lines (the API)."""

    slug: str
    name: str
    mandate: str
    quorum_rule: str
    quorum_count: int
    decision_rule: str
    my_role: str | None
    members: list[MemberView]
    reporting_lines: list[ReportingLineView]


class GroupRoleView(msgspec.Struct, kw_only=True):
    group_id: int
    role: str


class MeView(msgspec.Struct, kw_only=True):
    """The signed-in user and the roles they hold today."""

    id: int
    email: str
    display_name: str
    timezone: str
    organisation_roles: list[str]
    group_roles: list[GroupRoleView] = msgspec.field(default_factory=list)


class TermView(msgspec.Struct, kw_only=True):
    """One of the caller's own terms of membership, in any group."""

    id: int
    role: str
    starts_on: dt.date
    ends_on: dt.date | None
    group_name: str
    group_slug: str
