"""The contracts of a group's proceedings: each use case's command in and view out, and
every limit.

The JSON API takes these commands as its request bodies and answers with these views; the
pages fill the same commands from their forms (`core.contracts.read_form`, or
`meetings/forms.py` for the two forms with a variable number of fields) and render the
same views. A limit is written once, here, in the field's `Meta`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec

from governance.accounts.policy import VISIBILITIES, Visibility
from governance.core import contracts


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class AttendanceMode(StrEnum):
    PRESENT = "present"
    REMOTE = "remote"
    APOLOGIES = "apologies"
    ABSENT = "absent"


class ReplyMode(StrEnum):
    """A member's reply to the meeting notice."""

    ATTENDING = "attending"
    REMOTE = "remote"
    APOLOGIES = "apologies"

    @property
    def label(self) -> str:
        return REPLY_LABELS[self]

    @property
    def attendance(self) -> str:
        """The attendance the reply pre-fills."""
        return REPLY_ATTENDANCE[self]


REPLY_LABELS: dict[str, str] = {
    ReplyMode.ATTENDING: "Attending",
    ReplyMode.REMOTE: "Attending remotely",
    ReplyMode.APOLOGIES: "Apologies",
}
REPLY_ATTENDANCE: dict[str, str] = {
    ReplyMode.ATTENDING: AttendanceMode.PRESENT,
    ReplyMode.REMOTE: AttendanceMode.REMOTE,
    ReplyMode.APOLOGIES: AttendanceMode.APOLOGIES,
}
REPLY_MODES: tuple[str, ...] = tuple(ReplyMode)
EXPECTED_REPLIES = frozenset({ReplyMode.ATTENDING, ReplyMode.REMOTE})
# How many days before a meeting its notice goes out by itself, for a group that wants it.
AUTO_NOTICE_DAYS = 7


class MinutesStatus(StrEnum):
    DRAFT = "draft"
    CIRCULATED = "circulated"
    APPROVED = "approved"


class DecisionOutcome(StrEnum):
    CARRIED = "carried"
    NOT_CARRIED = "not carried"


class ApprovalMethod(StrEnum):
    MEETING = "meeting"
    CIRCULATION = "circulation"


# What each irreversible step of a meeting cannot undo: its confirmation says so, and a page
# takes the step only once the person has ticked that they understand.
HELD_IS_FINAL = (
    "once the meeting is marked held, its title, times, place and agenda can no longer change."
)
REMOVAL_IS_FINAL = (
    "a removed agenda item is deleted with its notes; it can only be added again as a new item."
)
APPROVAL_IS_FINAL = (
    "approved minutes are locked for good: the meeting's record (attendance, agenda, decisions)"
    " can no longer change, and corrections can only be added as errata."
)
CONFIRM_FIRST = "Confirm that you understand what cannot be undone. Nothing has been changed."

MEETING_STATUSES: tuple[str, ...] = tuple(MeetingStatus)
ATTENDANCE_MODES: tuple[str, ...] = tuple(AttendanceMode)
COUNTS_TOWARDS_QUORUM = frozenset({AttendanceMode.PRESENT, AttendanceMode.REMOTE})
MINUTES_STATUSES: tuple[str, ...] = tuple(MinutesStatus)
APPROVAL_METHODS: tuple[str, ...] = tuple(ApprovalMethod)
# What a PATCH of a meeting may set its status to.
MEETING_STATUS_CHANGES: tuple[str, ...] = (MeetingStatus.HELD, MeetingStatus.CANCELLED)

TITLE_MAX_LENGTH = 200
LOCATION_MAX_LENGTH = 500
ITEM_TITLE_MAX_LENGTH = 300
NOTES_MAX_LENGTH = 20000
GUEST_NAME_MAX_LENGTH = 200
MINUTES_MAX_LENGTH = 50000
DECISION_MAX_LENGTH = 10000
MAX_VOTES = 1000
MAX_POSITION = 500
REASON_MAX_LENGTH = 5000
COMMENT_MAX_LENGTH = 10000
CONFLICT_MAX_LENGTH = 500
# Times far outside any real meeting overflow when converted between time zones.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999

Title = Annotated[str, contracts.text("Title", max_length=TITLE_MAX_LENGTH)]
Location = Annotated[
    str, contracts.text("Place or link", max_length=LOCATION_MAX_LENGTH, required=False)
]
Start = Annotated[
    dt.datetime,
    msgspec.Meta(
        tz=True,
        extra_json_schema={
            "description": "ISO 8601 date and time with a UTC offset, "
            "e.g. 2026-12-01T18:00:00+00:00"
        },
    ),
    contracts.labelled("Start"),
]
End = Annotated[
    dt.datetime,
    msgspec.Meta(tz=True, extra_json_schema={"description": "ISO 8601, with a UTC offset"}),
    contracts.labelled("End"),
]
StatusChoice = Annotated[
    str,
    contracts.choice(
        "Status",
        MEETING_STATUS_CHANGES,
        description="Mark it held, or cancel it",
        message="Choose held or cancelled.",
    ),
]
REASON = contracts.text(
    "Reason",
    max_length=REASON_MAX_LENGTH,
    one_line=False,
    required_message="A reason is required.",
)
Reason = Annotated[str, REASON]
# The reason as an optional part of a PATCH: required only when cancelling (the service
# checks it as a `Cancellation`).
OptionalReason = Annotated[
    str, contracts.text("Reason", max_length=REASON_MAX_LENGTH, one_line=False, required=False)
]
ItemTitle = Annotated[str, contracts.text("Item title", max_length=ITEM_TITLE_MAX_LENGTH)]
VisibilityChoice = Annotated[
    str, contracts.choice("Visibility", VISIBILITIES, description="Who may read the item")
]
Notes = Annotated[
    str, contracts.text("Notes", max_length=NOTES_MAX_LENGTH, required=False, one_line=False)
]
Position = Annotated[
    int, contracts.number("Position", minimum=1, maximum=MAX_POSITION, description="From 1")
]
# In a whole agenda the range is 1 to the number of items: the service checks it.
AgendaPosition = Annotated[int, contracts.labelled("Position", required=False)]
ModeChoice = Annotated[
    str,
    contracts.choice(
        "Attendance",
        ATTENDANCE_MODES,
        description="How the member attended",
        message="Choose present, remote, apologies or absent.",
    ),
]
GUEST_NAME = contracts.text("A guest's name", max_length=GUEST_NAME_MAX_LENGTH)
GuestName = Annotated[str, GUEST_NAME]
SUMMARY = contracts.text("Summary", max_length=MINUTES_MAX_LENGTH, required=False, one_line=False)
ITEM_MINUTES = contracts.text(
    "Minutes of the item", max_length=MINUTES_MAX_LENGTH, required=False, one_line=False
)
ItemMinutes = Annotated[str, ITEM_MINUTES]
MethodChoice = Annotated[
    str,
    contracts.choice(
        "Approved",
        APPROVAL_METHODS,
        description="At a later meeting, or by circulation",
        message="Choose at a meeting or by circulation.",
    ),
]
# A row id in a form: out of range is that field's error (a JSON body: a 400 shape error).
ApprovingMeeting = Annotated[
    contracts.RowIdValue,
    contracts.number("Approving meeting", minimum=1, maximum=contracts.MAX_ROW_ID),
]
AgendaItemId = Annotated[
    contracts.RowIdValue,
    contracts.number("Agenda item", minimum=1, maximum=contracts.MAX_ROW_ID),
]
DecisionText = Annotated[
    str, contracts.text("Decision", max_length=DECISION_MAX_LENGTH, one_line=False)
]
VotesFor = Annotated[int, contracts.number("Votes for", minimum=0, maximum=MAX_VOTES)]
VotesAgainst = Annotated[int, contracts.number("Votes against", minimum=0, maximum=MAX_VOTES)]
Abstentions = Annotated[int, contracts.number("Abstentions", minimum=0, maximum=MAX_VOTES)]
CommentBody = Annotated[
    str,
    contracts.text(
        "Comment",
        max_length=COMMENT_MAX_LENGTH,
        one_line=False,
        required_message="A comment cannot be empty.",
    ),
]
ErratumBody = Annotated[
    str,
    contracts.text(
        "Erratum",
        max_length=COMMENT_MAX_LENGTH,
        one_line=False,
        required_message="An erratum cannot be empty.",
    ),
]
ErratumVisibility = Annotated[
    str,
    contracts.choice(
        "Visibility",
        VISIBILITIES,
        description="Who may read the correction",
        message="Choose who can read it.",
    ),
]
ConflictMember = Annotated[int, contracts.number("Who", minimum=1, maximum=contracts.MAX_ROW_ID)]
ConflictDescription = Annotated[
    str,
    contracts.text("Nature of the interest", max_length=CONFLICT_MAX_LENGTH, required=False),
]


def rule_of(meta: msgspec.Meta) -> contracts.Rule:
    """The rule a `contracts` Meta carries, for values inside a list or a mapping."""
    rule: contracts.Rule = (meta.extra or {})["rule"]
    return rule


# --- commands ---------------------------------------------------------------------------


class MeetingDetails(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A meeting's title, times and place. Times carry a UTC offset (forms: the reader's
    own zone) and are stored in UTC; the end is after the start."""

    title: Title
    starts_at: Start
    ends_at: End
    location: Location = ""


class MeetingPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Change the title, times or place of a scheduled meeting, and/or its status.

    `status` "held" marks a meeting that has started as held; "cancelled" cancels it and
    needs `cancel_reason`. Fields left out are not changed; all the changes are made or
    none.
    """

    title: Title | None = None
    starts_at: Start | None = None
    ends_at: End | None = None
    location: Location | None = None
    status: StatusChoice | None = None
    cancel_reason: OptionalReason = ""


class Cancellation(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Reason


class AgendaItemDetails(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An agenda item's title, who may read it, and its notes (Markdown)."""

    title: ItemTitle
    visibility: VisibilityChoice = Visibility.INTERNAL.value
    notes: Notes = ""


class AgendaEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An item of the agenda: with `id` an existing item, without it a new one."""

    title: ItemTitle
    visibility: VisibilityChoice = Visibility.INTERNAL.value
    notes: Notes = ""
    id: contracts.RowIdValue | None = None
    # Where the item goes, from 1 to the number of items. Either every item gives one or none
    # does; without positions the order of the list is the order of the agenda.
    position: AgendaPosition | None = None

    @property
    def details(self) -> AgendaItemDetails:
        return AgendaItemDetails(title=self.title, visibility=self.visibility, notes=self.notes)


class AgendaReplacement(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The whole agenda: items with an `id` are kept (and updated), items of the agenda left
    out are removed, items without an `id` are added."""

    items: list[AgendaEntry]


class AgendaMove(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    position: Position


class ConflictDeclaration(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A conflict of interest on an item: the declarer's own, or (chair or secretary)
    another member's."""

    user_id: ConflictMember | None = None
    description: ConflictDescription = ""


class AttendanceEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    user_id: contracts.RowIdValue
    mode: ModeChoice


class AttendanceRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Who attended: members (on the meeting date) by user id and mode, guests by name.
    Replaces what was recorded before."""

    entries: list[AttendanceEntry] = msgspec.field(default_factory=list)
    guests: list[GuestName] = msgspec.field(default_factory=list)


class NoticeReply(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A member's reply to the notice of a meeting."""

    mode: Annotated[str, contracts.choice("Your reply", REPLY_MODES)]


class MinutesDraft(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    summary: Annotated[str, SUMMARY] = ""
    # The minutes of each agenda item, by the item's id.
    items: dict[contracts.RowIdValue, ItemMinutes] = msgspec.field(default_factory=dict)


class NewComment(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    body: CommentBody


class Approval(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Approved at a later, held meeting of the group (`approving_meeting_id`), or by
    circulation."""

    method: MethodChoice
    approving_meeting_id: ApprovingMeeting | None = None


class NewErratum(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    body: ErratumBody
    visibility: ErratumVisibility = Visibility.INTERNAL.value


class NewDecision(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    agenda_item_id: AgendaItemId
    text: DecisionText
    votes_for: VotesFor = 0
    votes_against: VotesAgainst = 0
    votes_abstain: Abstentions = 0


# --- views ------------------------------------------------------------------------------


class MeetingSummaryView(msgspec.Struct, kw_only=True):
    id: int
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str
    status: str


class MeetingHead(msgspec.Struct, kw_only=True):
    """A meeting with its group's name and address: what its forms show above them."""

    id: int
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str
    status: str
    group_slug: str
    group_name: str


class MeetingListView(msgspec.Struct, kw_only=True):
    group_slug: str
    group_name: str
    # False when the caller may not read this group's proceedings; the lists are then empty.
    can_read: bool
    upcoming: list[MeetingSummaryView]
    # Latest first; where the list is paged, one page of it (`older`, `newer`: the cursors
    # of the pages either side, null where there is none).
    past: list[MeetingSummaryView]
    older: str | None = None
    newer: str | None = None


class PastMeetingFilters(msgspec.Struct, kw_only=True):
    """Filters and the page of a group's past and cancelled meetings; empty means any."""

    status: Annotated[
        str,
        contracts.choice(
            "Status",
            MEETING_STATUSES,
            required=False,
            message="Choose scheduled, held or cancelled.",
        ),
    ] = ""
    since: Annotated[
        dt.date | None, contracts.labelled("From", required=False, description="On or after")
    ] = None
    until: Annotated[
        dt.date | None, contracts.labelled("To", required=False, description="On or before")
    ] = None
    cursor: Annotated[
        str,
        contracts.text(
            "Page", max_length=200, required=False, description="A cursor from `older`/`newer`"
        ),
    ] = ""


class MeetingIndexPage(msgspec.Struct, kw_only=True):
    """A group's meetings page: the list, and whether the reader may schedule one."""

    listing: MeetingListView
    can_manage: bool


class ConflictView(msgspec.Struct, kw_only=True):
    display_name: str
    description: str


class AgendaItemView(msgspec.Struct, kw_only=True):
    id: int
    position: int
    title: str
    visibility: str
    notes: str
    is_open: bool
    carried_from: int | None
    conflicts: list[ConflictView]
    # What the minutes record for the item; null while the minutes are a draft the caller
    # does not write.
    minutes: str | None


class MemberView(msgspec.Struct, kw_only=True):
    user_id: int
    display_name: str
    role: str


class AttendanceView(msgspec.Struct, kw_only=True):
    user_id: int | None
    display_name: str | None
    guest_name: str | None
    mode: str


class QuorumView(msgspec.Struct, kw_only=True):
    members: int
    counted: int
    needed: int
    met: bool


class ErratumView(msgspec.Struct, kw_only=True):
    body: str
    author_name: str
    created_at: dt.datetime


class ApprovalView(msgspec.Struct, kw_only=True):
    """How approved minutes were approved: at which later meeting (its title and date), or
    by circulation (circulated when), and who recorded the approval, when."""

    method: str
    approved_at: dt.datetime
    # Who recorded the approval; not given in the public version.
    recorded_by: str | None
    meeting_id: int | None
    meeting_title: str | None
    meeting_starts_at: dt.datetime | None
    circulated_at: dt.datetime | None


class MinutesView(msgspec.Struct, kw_only=True):
    status: str
    # Null while the minutes are a draft the caller does not write.
    summary: str | None
    circulated_at: dt.datetime | None
    approved_at: dt.datetime | None
    approval_method: str | None
    approved_at_meeting_id: int | None
    # The approval's record (null until approved): the approving meeting or the circulation.
    approval: ApprovalView | None
    errata: list[ErratumView]
    # Once approved: "ok" while what this reader is shown still has the hashes taken at
    # approval, "mismatch" once it does not (changed behind the service's back); else null.
    integrity: str | None = None


class DecisionView(msgspec.Struct, kw_only=True):
    id: int
    agenda_item_id: int
    text: str
    votes_for: int
    votes_against: int
    votes_abstain: int
    quorum_met: bool
    # "carried" or "not carried" by the votes under the group's rule (groups'
    # DecisionRule); null when no vote was counted.
    outcome: str | None
    created_at: dt.datetime
    # Once its minutes are approved: "ok" or "mismatch" against its hash; else null.
    integrity: str | None = None


class ExpectedQuorumView(msgspec.Struct, kw_only=True):
    """Before the meeting, from the replies to its notice: "4 of 7 expected; quorum 4: met"."""

    members: int
    expected: int
    apologies: int
    needed: int
    met: bool
    notice_sent_at: dt.datetime | None


class MemberReplyView(msgspec.Struct, kw_only=True):
    """One member's reply to the notice (`mode` null: no reply yet)."""

    user_id: int
    display_name: str
    mode: str | None


class NoticeRepliesView(msgspec.Struct, kw_only=True):
    """The notice of a meeting and the replies to it: each member on the meeting date with
    their reply, the caller's own, and the expected quorum (null once the meeting has
    started or is no longer scheduled)."""

    meeting_id: int
    notice_sent_at: dt.datetime | None
    # Whether the meeting still takes replies (scheduled and not started).
    open: bool
    my_reply: str | None
    replies: list[MemberReplyView]
    expected: ExpectedQuorumView | None


class NoticeSentView(msgspec.Struct, kw_only=True):
    """The answer to sending a meeting's notice: how many members it was queued for."""

    told: int
    replies: NoticeRepliesView


class ReplyPage(msgspec.Struct, kw_only=True):
    """The page a reply link opens (no sign-in): the meeting as its member reads it."""

    meeting_id: int
    group_name: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str
    member_name: str
    timezone: str
    reply: str | None
    open: bool


class MeetingView(msgspec.Struct, kw_only=True):
    """A meeting with the agenda, attendance, quorum, minutes and decisions its reader may
    read, and no more."""

    id: int
    group_slug: str
    group_name: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str
    status: str
    cancel_reason: str
    # Whether the caller chairs or is secretary of the group, and so may change the meeting.
    can_manage: bool
    # True once the minutes are approved: nothing of the meeting changes any more, the
    # only change left is an erratum to the minutes.
    locked: bool
    # Whether a decision can be recorded now: the meeting is held or in progress (started,
    # not cancelled) and not locked.
    takes_decisions: bool
    agenda: list[AgendaItemView]
    members: list[MemberView]
    # Members first, by name, then guests.
    attendance: list[AttendanceView]
    quorum: QuorumView
    minutes: MinutesView | None
    decisions: list[DecisionView]
    # Replies to the notice, by member: the attendance form starts from them.
    replies: dict[int, str] = msgspec.field(default_factory=dict)
    expected: ExpectedQuorumView | None = None

    @property
    def attendance_by_user(self) -> dict[int, str]:
        recorded = {a.user_id: a.mode for a in self.attendance if a.user_id is not None}
        if recorded:
            return recorded
        # Nothing recorded yet: start from the replies to the notice.
        return {user_id: REPLY_ATTENDANCE[mode] for user_id, mode in self.replies.items()}

    @property
    def guests(self) -> list[AttendanceView]:
        return [a for a in self.attendance if a.user_id is None]

    def decisions_on(self, item_id: int) -> list[DecisionView]:
        return [d for d in self.decisions if d.agenda_item_id == item_id]


class MeetingStage(StrEnum):
    """What the meeting's page puts first: before it (the agenda, the notice, the papers),
    during it (attendance, decisions), after it (the minutes, the actions)."""

    BEFORE = "before"
    DURING = "during"
    AFTER = "after"
    CANCELLED = "cancelled"


class MeetingSteps(msgspec.Struct, kw_only=True):
    """What the meeting's state and the reader's roles allow now, decided by the same rules
    the services apply (`services.meeting_steps`): a page offers only these, so it never
    offers a button the service would refuse."""

    stage: str
    edit_details: bool = False
    send_notice: bool = False
    mark_held: bool = False
    cancel: bool = False
    change_agenda: bool = False
    change_items: bool = False
    declare_conflict: bool = False
    upload_papers: bool = False
    record_attendance: bool = False
    record_decision: bool = False
    write_minutes: bool = False
    circulate_minutes: bool = False
    return_to_draft: bool = False
    approve_minutes: bool = False
    comment: bool = False
    add_erratum: bool = False
    create_action: bool = False


class CirculatedView(msgspec.Struct, kw_only=True):
    meeting: MeetingView
    # How many attendees were sent the draft.
    notified: int


class CommentView(msgspec.Struct, kw_only=True):
    author_name: str
    body: str
    created_at: dt.datetime


class MeetingPage(msgspec.Struct, kw_only=True):
    """The meeting page: the meeting, and for members the comments on the draft; for the
    chair or secretary the later held meetings that may approve the minutes."""

    meeting: MeetingView
    is_member: bool
    comments: list[CommentView]
    later_held_meetings: list[MeetingSummaryView]
    # What the reader may do now; filled by `services.meeting_steps`.
    steps: MeetingSteps | None = None


class AgendaItemRecord(msgspec.Struct, kw_only=True):
    id: int
    meeting_id: int
    position: int
    title: str
    visibility: str
    notes: str
    is_open: bool


class AgendaItemPage(msgspec.Struct, kw_only=True):
    """An agenda item with its meeting, for the item's form and its buttons."""

    item: AgendaItemRecord
    meeting: MeetingHead
    can_manage: bool


class PublicDecisionView(msgspec.Struct, kw_only=True):
    text: str
    votes_for: int
    votes_against: int
    votes_abstain: int
    quorum_met: bool
    # "carried" or "not carried" by the votes under the group's rule (groups'
    # DecisionRule); null when no vote was counted.
    outcome: str | None


class PublicItemView(msgspec.Struct, kw_only=True):
    title: str
    minutes_text: str
    decisions: list[PublicDecisionView]


class PublicErratumView(msgspec.Struct, kw_only=True):
    body: str
    created_at: dt.datetime


class PublishedMinutesView(msgspec.Struct, kw_only=True):
    """Approved minutes in the public index (`/transparency`): where their public version
    is, and nothing of their content."""

    meeting_id: int
    title: str
    group_name: str
    group_slug: str
    starts_at: dt.datetime
    approved_at: dt.datetime


class PublicMinutesView(msgspec.Struct, kw_only=True):
    """Approved minutes as anyone may read them: public items only, and a count of the
    rest."""

    meeting_id: int
    title: str
    group_name: str
    group_slug: str
    starts_at: dt.datetime
    approved_at: dt.datetime | None
    approval: ApprovalView | None
    items: list[PublicItemView]
    confidential_count: int
    errata: list[PublicErratumView]
    # "ok" while the public items shown still have the hashes taken at approval, else
    # "mismatch".
    integrity: str | None = None
