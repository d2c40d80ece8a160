"""The contracts of notifications: the vocabulary of email choices, the command that saves
them, and the views of a person's choices and of the outbox.

Preferences. `User.notification_categories` holds the categories a person has turned
**off** (an empty list, the default, means every reminder and change notification is on).
The digest is turned on and off by `User.digest_frequency`. Notices that governance
requires (a delivery awaiting your line's response; a meeting's notice, with its agenda and
reply links) have no category and cannot be turned off.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec

from governance.core import contracts


class Category(StrEnum):
    """A kind of reminder a person may turn off."""

    ACTIONS = "actions"
    MEETINGS = "meetings"
    MINUTES = "minutes"
    REPORTS = "reports"
    MEMBERSHIP = "membership"
    # Change notifications: a record of the person's group (or theirs) changed.
    MEETING_CHANGES = "meeting_changes"
    ACTION_CHANGES = "action_changes"
    MEMBERSHIP_CHANGES = "membership_changes"
    MINUTES_CHANGES = "minutes_changes"
    REPORT_RESPONSES = "report_responses"


# Each category with the words the preferences page and the emails' footers use.
CATEGORIES: dict[str, str] = {
    Category.ACTIONS: "Reminders about actions I own",
    Category.MEETINGS: "Reminders of meetings two days ahead, with the agenda",
    Category.MINUTES: "Minutes still in draft, and minutes awaiting my review",
    Category.REPORTS: "Periodic reports falling due, and responses past due, for groups I lead",
    Category.MEMBERSHIP: "My membership of a group coming to an end",
    Category.MEETING_CHANGES: "Meetings of my groups scheduled, moved or cancelled",
    Category.ACTION_CHANGES: "Actions given to me or taken from me, and their due dates moved",
    Category.MEMBERSHIP_CHANGES: "I was added to a group, or my role or term changed",
    Category.MINUTES_CHANGES: "Minutes of my groups circulated for comment, and approved",
    Category.REPORT_RESPONSES: "A reporting line's response to my group's report",
}
# The digest is not a category: it is turned off by its frequency, and one-click
# unsubscribe from a digest sets that to "off".
DIGEST = "digest"
DIGEST_LABEL = "Email digest"


class DigestFrequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    OFF = "off"


DIGEST_FREQUENCIES: tuple[str, ...] = tuple(DigestFrequency)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CHOICES_MESSAGE = "Some choices need correcting. Nothing has been saved."
CATEGORIES_MESSAGE = "Choose only from the categories listed."


def category_label(category: str) -> str:
    """What a category (or the digest) is called in an email's footer and on the pages."""
    return DIGEST_LABEL if category == DIGEST else CATEGORIES[category]


# --- commands ---------------------------------------------------------------------------


class EmailChoices(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A person's email choices: how often the digest comes (and on which day, weekly), and
    the categories of reminder left on (every category not listed is turned off)."""

    digest_frequency: Annotated[
        str, contracts.choice("How often", DIGEST_FREQUENCIES, description="The digest")
    ]
    digest_weekday: Annotated[str, contracts.choice("Day for a weekly digest", WEEKDAYS)] = "monday"
    # Each must be one of CATEGORIES; a list of choices has no limit `contracts` can state,
    # so the service checks it, with CATEGORIES_MESSAGE.
    categories: Annotated[list[str], contracts.labelled("Reminders", required=False)] = (
        msgspec.field(default_factory=list)
    )


# --- views ------------------------------------------------------------------------------


class PreferencesView(msgspec.Struct, kw_only=True):
    """A person's email choices, for the preferences and unsubscribe pages."""

    user_id: int
    email: str
    display_name: str
    digest_frequency: str
    digest_weekday: str
    muted: frozenset[str]

    @property
    def enabled(self) -> frozenset[str]:
        return frozenset(CATEGORIES) - self.muted


class OutboxRowView(msgspec.Struct, kw_only=True):
    """One email in the outbox, without its content (an admin is not a content role)."""

    id: int
    recipient: str
    template: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str
    created_at: dt.datetime


class OutboxView(msgspec.Struct, kw_only=True):
    """Parked and waiting mail, for the administrators' outbox page."""

    parked: list[OutboxRowView]
    waiting: list[OutboxRowView]
    parked_count: int
    waiting_count: int
    now: dt.datetime
    # Mail the server may have stored without saying so: an administrator decides.
    uncertain: list[OutboxRowView] = msgspec.field(default_factory=list)
    uncertain_count: int = 0
    # Hours after which an uncertain message is sent again by itself (0: never).
    uncertain_resend_hours: int = 0


# Sent mail stays listed this many days, so an administrator can confirm a person was
# emailed (and when, with which Message-ID).
SENT_MAIL_DAYS = 90
RECIPIENT_FILTER_MAX_LENGTH = 320


class SentMailRowView(msgspec.Struct, kw_only=True):
    """One email sent, without its content."""

    id: int
    recipient: str
    template: str
    sent_at: dt.datetime
    message_id: str


class SentMailView(msgspec.Struct, kw_only=True):
    """A page of the mail sent in the last SENT_MAIL_DAYS, newest first, optionally to one
    address; `older`/`newer` are the cursors of the pages either side (null: none)."""

    rows: list[SentMailRowView]
    recipient: str
    days: int
    older: str | None
    newer: str | None


# --- "needs me" -------------------------------------------------------------------------


class TaskKind(StrEnum):
    """What kind of thing waits for a person (`notifications/needs_me.py`)."""

    MINUTES_TO_COMMENT = "minutes_to_comment"
    MEETING_TO_REPLY = "meeting_to_reply"
    ACTION_OVERDUE = "action_overdue"
    ACTION_DUE_SOON = "action_due_soon"
    DELIVERY_TO_ACKNOWLEDGE = "delivery_to_acknowledge"
    DELIVERY_TO_ANSWER = "delivery_to_answer"
    PROPOSAL_TO_CONCUR = "proposal_to_concur"
    REPORT_OWED = "report_owed"
    TRANSPARENCY_TO_APPROVE = "transparency_to_approve"
    TRANSPARENCY_TO_PUBLISH = "transparency_to_publish"
    RESOLUTION_TO_VOTE = "resolution_to_vote"


TASK_KIND_LABELS: dict[str, str] = {
    TaskKind.MINUTES_TO_COMMENT: "Minutes to comment on",
    TaskKind.MEETING_TO_REPLY: "Meeting to reply to",
    TaskKind.ACTION_OVERDUE: "Action past its due date",
    TaskKind.ACTION_DUE_SOON: "Action due soon",
    TaskKind.DELIVERY_TO_ACKNOWLEDGE: "Report to acknowledge",
    TaskKind.DELIVERY_TO_ANSWER: "Report to respond to",
    TaskKind.PROPOSAL_TO_CONCUR: "Proposed Board response awaiting your concurrence",
    TaskKind.REPORT_OWED: "Periodic report due",
    TaskKind.TRANSPARENCY_TO_APPROVE: "Transparency report to approve",
    TaskKind.TRANSPARENCY_TO_PUBLISH: "Transparency report to publish",
    TaskKind.RESOLUTION_TO_VOTE: "Resolution awaiting your vote",
}
# An action is "due soon" this many days ahead; a periodic report this many.
ACTION_DUE_SOON_DAYS = 7
REPORT_DUE_SOON_DAYS = 14


class TaskView(msgspec.Struct, kw_only=True):
    """One thing that waits for the reader, with where it is done. `on` is the date the list
    is ordered by: since when it waits (minutes circulated, a report delivered, a draft
    generated) or when it is due (an action, a periodic report)."""

    kind: str
    label: str
    # As the reader may read it.
    title: str
    group_slug: str | None
    group_name: str | None
    on: dt.date
    # "since" or "due": what `on` means.
    on_means: str
    link: str
    detail: str = ""
    # A delivery's response due date, as a date (the API writes it in ISO 8601; a page or
    # an email in the one format of `core/templating`).
    response_due_on: dt.date | None = None


class TaskListView(msgspec.Struct, kw_only=True):
    """What waits for the reader, oldest first."""

    count: int
    tasks: list[TaskView]
