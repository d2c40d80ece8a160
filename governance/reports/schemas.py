"""The contracts of reports and their deliveries: each use case's command in and view out,
and every limit.

The JSON API takes these commands as its request bodies and answers with these views; the
pages fill the same commands from their forms (`core.contracts.read_form`, and
`reports/forms.py` for the response form's rows of actions) and render the same views. A
limit is written once, here, in the field's `Meta`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec

from governance.accounts.policy import LINES
from governance.actions.schemas import TITLE_MAX_LENGTH as ACTION_TITLE_MAX_LENGTH
from governance.actions.schemas import ActionSummaryView, Description, DueOn, Owners
from governance.core import contracts


class ReportKind(StrEnum):
    PERIODIC = "periodic"  # for a reporting period such as 2026-Q4; goes to both lines
    RECOMMENDATION = "recommendation"


class Route(StrEnum):
    """The lines a report goes to."""

    BOTH = "both"
    BOARD = "board"  # the independence channel: the Director learns nothing of it
    DIRECTOR = "director"  # the Board still sees it and its answer

    @property
    def label(self) -> str:
        return ROUTE_LABELS[self]


class ReportStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class DeliveryState(StrEnum):
    DELIVERED = "delivered"
    READ = "read"  # first opened by someone on the line
    ACKNOWLEDGED = "acknowledged"
    RESPONDED = "responded"


class Answer(StrEnum):
    """A line's response to a report."""

    ACCEPTED = "accepted"
    PARTIALLY_ACCEPTED = "partially_accepted"
    DECLINED = "declined"
    NOTED = "noted"

    @property
    def label(self) -> str:
        return RESPONSE_LABELS[self]


class Stance(StrEnum):
    """A Board member's answer to a proposed Board response."""

    CONCUR = "concur"
    OBJECT = "object"


class ProposalStatus(StrEnum):
    PENDING = "pending"  # awaiting concurrences
    RECORDED = "recorded"  # the rule was met (or it was decided at a meeting): the response
    WITHDRAWN = "withdrawn"  # by its proposer
    LAPSED = "lapsed"  # the objections left too few members to meet the rule


ROUTE_LABELS = {
    Route.BOTH: "Both lines: the Executive Director and the Board",
    Route.BOARD: "The Board only (the Director will not see it)",
    Route.DIRECTOR: "The Executive Director only (the Board still sees it and its answer)",
}
RESPONSE_LABELS = {
    Answer.ACCEPTED: "Accepted",
    Answer.PARTIALLY_ACCEPTED: "Partially accepted",
    Answer.DECLINED: "Declined",
    Answer.NOTED: "Noted",
}
KINDS: tuple[str, ...] = tuple(ReportKind)
ROUTES: tuple[str, ...] = tuple(Route)
RESPONSES: tuple[str, ...] = tuple(Answer)
DELIVERY_STATES: tuple[str, ...] = tuple(DeliveryState)
# A delivery still waiting to be acknowledged.
UNACKNOWLEDGED = (DeliveryState.DELIVERED, DeliveryState.READ)
RESPONSES_NEEDING_RATIONALE = frozenset({Answer.DECLINED, Answer.PARTIALLY_ACCEPTED})

TITLE_MAX_LENGTH = 300
BODY_MAX_LENGTH = 100_000
PERIOD_MAX_LENGTH = 10
RATIONALE_MAX_LENGTH = 20_000
MAX_ACTIONS_PER_RESPONSE = 3
MEETING_NAME_MAX_LENGTH = 200

KindChoice = Annotated[
    str, contracts.choice("Kind", KINDS, description="A periodic report or a recommendation")
]
Title = Annotated[str, contracts.text("Title", max_length=TITLE_MAX_LENGTH)]
Body = Annotated[
    str,
    contracts.text(
        "Report",
        max_length=BODY_MAX_LENGTH,
        required=False,
        one_line=False,
        description="The report's text, in Markdown",
    ),
]
Period = Annotated[
    str,
    contracts.text(
        "Period",
        max_length=PERIOD_MAX_LENGTH,
        required=False,
        description="The reporting period of a periodic report: a period of its lines' "
        "schedules that has ended, such as 2026-Q4, 2026-H2, 2026-11 or 2026. One report per "
        "line and period; a correction follows up the period's report (follows_up)",
    ),
]
RouteChoice = Annotated[
    str,
    contracts.choice(
        "Lines",
        ROUTES,
        description="The lines it goes to: both, the Board only (the Director never sees it) "
        "or the Director only (the Board still sees it and its answer). A periodic report "
        "always goes to both.",
    ),
]
# A number no row can have is a shape error (400), as for every row id in a body.
FollowsUp = Annotated[
    int,
    msgspec.Meta(ge=1, le=contracts.MAX_ROW_ID),
    contracts.number(
        "Follows up report",
        minimum=1,
        maximum=contracts.MAX_ROW_ID,
        description="A submitted report of the same group that this one follows up",
    ),
]
AnswerChoice = Annotated[
    str,
    contracts.choice(
        "Response",
        RESPONSES,
        description="The line's answer",
        message="Choose accepted, partially accepted, declined or noted.",
    ),
]
Rationale = Annotated[
    str,
    contracts.text(
        "Rationale",
        max_length=RATIONALE_MAX_LENGTH,
        required=False,
        one_line=False,
        description="Required when declining or partly accepting",
    ),
]
ObjectionReason = Annotated[
    str,
    contracts.text(
        "Reason",
        max_length=RATIONALE_MAX_LENGTH,
        required=False,
        one_line=False,
        description="Why the member objects (optional; read by the Board only)",
    ),
]
MeetingName = Annotated[
    str,
    contracts.text(
        "Meeting",
        max_length=MEETING_NAME_MAX_LENGTH,
        description="The Board meeting that decided the response, e.g. 'Board meeting of "
        "4 December'",
    ),
]
MeetingOn = Annotated[dt.date, contracts.labelled("Meeting date")]
ActionTitle = Annotated[str, contracts.text("Action", max_length=ACTION_TITLE_MAX_LENGTH)]
LineFilter = Annotated[
    str,
    contracts.choice("Line", LINES, required=False, message="Choose director or board."),
]
StateFilter = Annotated[str, contracts.choice("State", DELIVERY_STATES, required=False)]


# --- commands ---------------------------------------------------------------------------


class ReportDraft(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new draft, or a draft's new text. `period` names the reporting period of a
    periodic report: one of its lines' periods that has ended (2026-Q4, 2026-H2, 2026-11 or
    2026); the report goes to the lines whose period it is. There is one report per line and
    period: a correction is a periodic report for the same period that follows up the
    period's report. `body` is Markdown. `follows_up` is the id of a submitted report of the
    same group that this one follows up."""

    kind: KindChoice
    title: Title
    body: Body = ""
    period: Period = ""
    route: RouteChoice = Route.BOTH.value
    follows_up: FollowsUp | None = None


class ResponseAction(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An action that comes of the response. Owners are the responder or current members
    of the group; the due date is today or later."""

    title: ActionTitle
    due_on: DueOn
    owner_ids: Owners
    description: Description = ""


# What each irreversible step of a report cannot undo: its confirmation says so, and a page
# takes the step only once the person has ticked that they understand.
SUBMISSION_IS_FINAL = (
    "a submitted report is frozen and delivered along its lines; it cannot be edited,"
    " withdrawn or deleted, only followed up by another report."
)
RESPONSE_IS_FINAL = (
    "the line's response, its rationale and its actions are recorded once; they cannot be"
    " changed afterwards."
)
CONFIRM_FIRST = "Confirm that you understand what cannot be undone. Nothing has been changed."


class LineResponse(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The line's response. `rationale` is required when declining or partly accepting;
    `actions` are at most three, each given the report's visibility."""

    response: AnswerChoice
    rationale: Rationale = ""
    actions: Annotated[
        list[ResponseAction],
        contracts.items("Actions", max_items=MAX_ACTIONS_PER_RESPONSE),
    ] = msgspec.field(default_factory=list)


class Objection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A Board member objects to a proposed Board response; `reason` is optional."""

    reason: ObjectionReason = ""


class DecidedAtMeeting(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The proposal was decided at a Board meeting: its name and date (today or earlier)."""

    meeting: MeetingName
    meeting_on: MeetingOn


class DeliveryFilters(msgspec.Struct, kw_only=True):
    """Filters of the deliveries list (delivered on or after `since`, on or before
    `until`); empty means any."""

    line: LineFilter = ""
    state: StateFilter = ""
    since: dt.date | None = None
    until: dt.date | None = None


class InboxStatus(StrEnum):
    """What the deliveries page shows of its reader's deliveries: those still waiting (the
    default), one step of the wait, the answered, those past due, or all of them."""

    AWAITING = "awaiting"
    AWAITING_ACKNOWLEDGEMENT = "awaiting_acknowledgement"
    AWAITING_RESPONSE = "awaiting_response"
    ANSWERED = "answered"
    OVERDUE = "overdue"
    ALL = "all"


INBOX_STATUSES: tuple[str, ...] = tuple(InboxStatus)
INBOX_RANGE_MESSAGE = "The last date is before the first: choose a range that holds a day."


class InboxFilters(msgspec.Struct, kw_only=True):
    """Filters of the deliveries page, and its page (a cursor from the list): a status, a
    line (empty: the lines the reader acts for), and the dates the reports were delivered
    (on or after `since`, on or before `until`, in the organisation's time zone)."""

    status: Annotated[
        str,
        contracts.choice(
            "Status",
            INBOX_STATUSES,
            required=False,
            message="Choose awaiting, awaiting acknowledgement, awaiting response, answered, "
            "overdue or all.",
        ),
    ] = InboxStatus.AWAITING
    line: LineFilter = ""
    since: Annotated[
        dt.date | None,
        contracts.labelled("Delivered from", required=False, description="On or after"),
    ] = None
    until: Annotated[
        dt.date | None,
        contracts.labelled("Delivered to", required=False, description="On or before"),
    ] = None
    cursor: Annotated[
        str,
        contracts.text(
            "Page", max_length=200, required=False, description="A cursor from `older`/`newer`"
        ),
    ] = ""


# --- views ------------------------------------------------------------------------------


class PersonView(msgspec.Struct):
    user_id: int
    display_name: str


class StanceView(msgspec.Struct, kw_only=True):
    member: PersonView
    # concur or object
    stance: str
    reason: str
    recorded_at: dt.datetime


class BoardProposalView(msgspec.Struct, kw_only=True):
    """The Board's pending proposal of its line's response, as a Board member reads it
    (nobody else ever does)."""

    id: int
    # pending, recorded, withdrawn or lapsed
    status: str
    proposed_by: PersonView
    proposed_at: dt.datetime
    response: str
    rationale: str
    actions: list[ResponseAction]
    # Concurrences besides the proposer's needed to record it.
    concurrences_needed: int
    concurrences: list[StanceView]
    objections: list[StanceView]
    # What the reader may do with it.
    can_concur: bool
    can_withdraw: bool
    can_record_at_meeting: bool

    @property
    def concurrences_missing(self) -> int:
        return max(0, self.concurrences_needed - len(self.concurrences))


class BoardResolutionView(msgspec.Struct, kw_only=True):
    """How the Board decided its recorded response: who proposed it and who concurred, or
    the Board meeting that decided it."""

    proposed_by: PersonView
    concurred_by: list[PersonView]
    meeting: str | None
    meeting_on: dt.date | None


class DeliveryStateView(msgspec.Struct, kw_only=True):
    """One line's delivery of a report: where it stands (in a list of reports)."""

    id: int
    # director or board
    recipient: str
    line_name: str
    # delivered, read, acknowledged, responded
    state: str
    response_due_on: dt.date
    # Days until the response is due; negative once past it.
    days_left: int
    # Past its due date without a response.
    is_overdue: bool
    # accepted, partially_accepted, declined or noted; null until the line responds.
    response: str | None


class DeliveryView(DeliveryStateView, kw_only=True):
    """One line's delivery of a report: its state, its response and the actions that
    came of it."""

    report_id: int
    delivered_at: dt.datetime
    read_at: dt.datetime | None
    read_by: PersonView | None
    acknowledged_at: dt.datetime | None
    acknowledged_by: PersonView | None
    responded_at: dt.datetime | None
    responded_by: PersonView | None
    rationale: str
    # Whether the caller acts for this line (the Director, or any Board member).
    can_act: bool
    # The actions that came of the response, those the caller may read.
    actions: list[ActionSummaryView]
    # Board line, once responded: who proposed the response and who concurred (or the
    # meeting that decided it).
    resolution: BoardResolutionView | None = None
    # Board line, for Board members only: the proposal awaiting concurrences, if any.
    proposal: BoardProposalView | None = None

    @property
    def decided_by_resolution(self) -> bool:
        """The line's answer is a Board resolution: proposed, then concurred."""
        return self.recipient == "board"

    @property
    def can_propose(self) -> bool:
        """A Board member may propose the Board's response (none is pending)."""
        return self.is_open and self.decided_by_resolution and self.proposal is None

    @property
    def is_open(self) -> bool:
        """The caller may still acknowledge or answer it."""
        return self.can_act and self.state != DeliveryState.RESPONDED

    @property
    def can_acknowledge(self) -> bool:
        return self.can_act and self.state in UNACKNOWLEDGED


class FollowUpView(msgspec.Struct):
    id: int
    title: str
    submitted_at: dt.datetime | None


class ReportView(msgspec.Struct, kw_only=True):
    """A report with both lines side by side: the trail recommendation → response →
    actions, as this caller may read it."""

    id: int
    group_id: int
    group_slug: str
    group_name: str
    kind: str
    # The reporting period of a periodic report; null for a recommendation.
    period: str | None
    title: str
    # Markdown as written, and as sanitised HTML.
    body: str
    body_html: str
    # draft or submitted
    status: str
    visibility: str
    route: str
    route_label: str
    to_director: bool
    to_board: bool
    # The report this one follows up; null when none, or one the caller may not read.
    follows_up: int | None
    created_by_name: str
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    submitted_by_name: str | None
    # SHA-256 of the text frozen at submission; null for a draft.
    content_hash: str | None
    # "ok" while the stored content still has that hash, "mismatch" once it does not
    # (changed behind the service's back); null for a draft.
    integrity: str | None = None
    # A draft the caller may submit (the group's chair or secretary).
    can_submit: bool
    # A submitted report the caller may follow up, or correct (the group's chair or
    # secretary): a follow-up is a new report that refers to this one.
    can_follow_up: bool = False
    # Every line has responded and every action from the responses is done or dropped.
    closed: bool
    deliveries: list[DeliveryView]
    follow_ups: list[FollowUpView]

    @property
    def is_submitted(self) -> bool:
        return self.status == ReportStatus.SUBMITTED

    @property
    def answerable(self) -> bool:
        """Some delivery awaits the caller's acknowledgement or response."""
        return any(delivery.is_open for delivery in self.deliveries)


class DraftView(msgspec.Struct, kw_only=True):
    """A draft as its edit form shows it."""

    id: int
    title: str
    group_slug: str
    group_name: str
    draft: ReportDraft


class ReportSummaryView(msgspec.Struct, kw_only=True):
    id: int
    kind: str
    period: str | None
    title: str
    status: str
    visibility: str
    route: str
    submitted_at: dt.datetime | None
    deliveries: list[DeliveryStateView]

    def delivery_to(self, recipient: str) -> DeliveryStateView | None:
        return next((d for d in self.deliveries if d.recipient == recipient), None)


class PeriodView(msgspec.Struct, kw_only=True):
    """One period of a line's schedule. Its due date is that of the settings it began with;
    a later change of the line's settings never moves it."""

    period: str
    starts_on: dt.date
    ends_on: dt.date
    due_on: dt.date
    # The first day of a submission of its report, if there has been one.
    submitted_on: dt.date | None
    # upcoming, due, overdue, on_time, late or missed
    state: str
    state_text: str
    # Without a report by this day (the next period's due date), the period is missed.
    closes_on: dt.date
    # Whether its outcome (on time, late, missed) is recorded; never rewritten once it is.
    recorded: bool = False


class LineScheduleView(msgspec.Struct, kw_only=True):
    """What one line is owed: every period since the group began, and the next due."""

    recipient: str
    line_name: str
    cadence: str
    report_due_days: int
    response_days: int
    # The first period still owed a report; null when none is.
    next_due: PeriodView | None
    next_due_text: str
    # Every period since the group began, newest first.
    periods: list[PeriodView]
    # The periods still owed a report, oldest first.
    owed: list[str] = msgspec.field(default_factory=list)


class ReportListView(msgspec.Struct, kw_only=True):
    group_slug: str
    group_name: str
    # Whether the caller chairs or is secretary of the group, and so may draft reports.
    can_draft: bool
    # Newest first, one page (`older`/`newer`: the cursors of the pages either side).
    reports: list[ReportSummaryView]
    schedules: list[LineScheduleView]
    older: str | None = None
    newer: str | None = None


class DeliveryItemView(DeliveryStateView, kw_only=True):
    """One delivery in a list of deliveries, with its report's title and group."""

    report_id: int
    report_title: str
    report_kind: str
    group_slug: str
    group_name: str
    delivered_at: dt.datetime
    responded_at: dt.datetime | None
    responded_by_name: str | None
    can_act: bool


class DeliveryListView(msgspec.Struct, kw_only=True):
    line: str | None
    state: str | None
    # Deliveries on the line asked for (all lines without `line`), by state, before the
    # `state` filter.
    counts: dict[str, int]
    # How many of them are past their due date without a response.
    overdue: int
    # Soonest due first, one page (`older`: the cursor of the page after, `newer`: of the
    # one before; null where there is none).
    deliveries: list[DeliveryItemView]
    older: str | None = None
    newer: str | None = None


class InboxView(msgspec.Struct, kw_only=True):
    """What awaits the Director or a Board member on their line, and for the Board, the
    state of the Director line."""

    # The lines the reader acts for.
    lines: list[str]
    awaiting: list[DeliveryItemView]
    # The latest answers of the reader's line.
    answered: list[DeliveryItemView]
    # Board only: Director-line deliveries past their due date without a response.
    awaiting_management: list[DeliveryItemView]
    # Board only: every delivery to the Director.
    director_line: list[DeliveryItemView]


class InboxPageView(msgspec.Struct, kw_only=True):
    """The deliveries page: one page of the deliveries on the lines the reader may follow
    (their own; for the Board also the Director's), filtered, with counts over them all."""

    # The lines the reader acts for, and those the page may show (the Board: both).
    lines: list[str]
    shown_lines: list[str]
    # Before the status filter: how many there are of each status (InboxStatus, not
    # `all`), over the readable deliveries of the line and dates asked for.
    counts: dict[str, int]
    # Board only: Director-line deliveries past their due date without a response.
    management_overdue: int
    # Waiting ones soonest due first; answered ones and all of them latest due first.
    deliveries: list[DeliveryItemView]
    older: str | None = None
    newer: str | None = None


class GroupNameView(msgspec.Struct):
    slug: str
    name: str


class LeadReportingView(msgspec.Struct, kw_only=True):
    """For a chair or secretary: what is due from one group they lead."""

    group: GroupNameView
    next_due: list[str]
