"""The contracts of action items: each use case's command in and view out, and every limit.

The JSON API takes these commands as its request bodies and answers with these views; the
pages fill the same commands from their forms (`core.contracts.read_form`) and render the
same views. A limit is written once, here, in the field's `Meta`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec

from governance.accounts.policy import VISIBILITIES, Visibility
from governance.core import contracts


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


class SourceType(StrEnum):
    """Where an action comes from. "response" is a reporting line's response to a report
    (the source id is the delivery's); the reports domain creates those."""

    GROUP = "group"
    MEETING = "meeting"
    DECISION = "decision"
    RESPONSE = "response"


ACTION_STATUSES: tuple[str, ...] = tuple(ActionStatus)
ACTIVE_STATUSES = frozenset({ActionStatus.OPEN, ActionStatus.IN_PROGRESS})
# Every change of status that is allowed; anything else is refused. Done and dropped are final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    ActionStatus.OPEN: (ActionStatus.IN_PROGRESS, ActionStatus.DONE, ActionStatus.DROPPED),
    ActionStatus.IN_PROGRESS: (ActionStatus.DONE, ActionStatus.DROPPED),
}
SOURCE_TYPES: tuple[str, ...] = tuple(SourceType)
# What a chair or secretary may create an action from, on the group's own pages.
GROUP_SOURCE_TYPES: tuple[str, ...] = (SourceType.GROUP, SourceType.MEETING, SourceType.DECISION)

TITLE_MAX_LENGTH = 300
DESCRIPTION_MAX_LENGTH = 20000
NOTE_MAX_LENGTH = 5000
MAX_OWNERS = 50

Title = Annotated[str, contracts.text("Title", max_length=TITLE_MAX_LENGTH)]
Description = Annotated[
    str,
    contracts.text(
        "Description", max_length=DESCRIPTION_MAX_LENGTH, required=False, one_line=False
    ),
]
DueOn = Annotated[dt.date, contracts.labelled("Due date")]
Owners = Annotated[
    list[contracts.RowIdValue],
    contracts.row_ids(
        "Owners", max_items=MAX_OWNERS, required_message="Choose at least one owner."
    ),
]
VisibilityChoice = Annotated[
    str, contracts.choice("Visibility", VISIBILITIES, description="Who may read the action")
]
StatusChoice = Annotated[
    str, contracts.choice("New status", ACTION_STATUSES, description="The action's new status")
]
# Every source is a valid value; which ones a use case accepts is the service's rule (a
# chair creates from the group, a meeting or a decision; a line's response from itself).
GroupSource = Annotated[
    str,
    contracts.choice(
        "Source",
        SOURCE_TYPES,
        description="Where the action comes from: group, meeting or decision",
    ),
]
SourceId = Annotated[int, contracts.number("Source", minimum=1, maximum=contracts.MAX_ROW_ID)]
StatusFilter = Annotated[
    str,
    contracts.choice(
        "Status",
        ACTION_STATUSES,
        required=False,
        message="Choose open, in progress, done or dropped.",
    ),
]
GroupSlugFilter = Annotated[str, contracts.text("Group", max_length=80, required=False)]
OwnerFilter = Annotated[int, contracts.number("Owner", minimum=1, maximum=contracts.MAX_ROW_ID)]
Note = Annotated[
    str, contracts.text("The note", max_length=NOTE_MAX_LENGTH, required=False, one_line=False)
]
ProgressBody = Annotated[
    str,
    contracts.text(
        "A progress note",
        max_length=NOTE_MAX_LENGTH,
        one_line=False,
        required_message="A progress note cannot be empty.",
    ),
]


# --- commands ---------------------------------------------------------------------------


class NewAction(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new action of the group. `source_type` "meeting" or "decision" needs `source_id`,
    a meeting or decision of this group; owners are the group's current members."""

    title: Title
    due_on: DueOn
    owner_ids: Owners
    description: Description = ""
    visibility: VisibilityChoice = Visibility.INTERNAL.value
    source_type: GroupSource = SourceType.GROUP.value
    source_id: SourceId | None = None


class ActionSource(msgspec.Struct, kw_only=True):
    """Where a new action would come from (the new-action form's address)."""

    source_type: GroupSource = SourceType.GROUP.value
    source_id: SourceId | None = None


class StatusChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A move along open → in progress → done, or to dropped with the reason as `note`."""

    status: StatusChoice
    note: Note = ""


class ProgressNote(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    body: ProgressBody


class Reassignment(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """New owners and due date, by the chair or secretary."""

    owner_ids: Owners
    due_on: DueOn


class ActionPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A change of status (with `note`, which is required as the reason when dropping),
    and/or, for the chair or secretary, new owners and due date. Fields left out are not
    changed; all the changes are made or none."""

    status: StatusChoice | None = None
    note: Note = ""
    owner_ids: Owners | None = None
    due_on: DueOn | None = None


PageCursor = Annotated[
    str,
    contracts.text(
        "Page", max_length=200, required=False, description="A cursor from `older`/`newer`"
    ),
]
DueFrom = Annotated[
    dt.date | None, contracts.labelled("Due from", required=False, description="On or after")
]
DueTo = Annotated[
    dt.date | None, contracts.labelled("Due to", required=False, description="On or before")
]
DUE_RANGE_MESSAGE = "The last due date is before the first: choose a range that holds a day."


class MyActionFilters(msgspec.Struct, kw_only=True):
    """Filters of My actions (due on or after `due_from`, on or before `due_to`), and the
    page (a cursor from the list); empty means any."""

    status: StatusFilter = ""
    group: GroupSlugFilter = ""
    due_from: DueFrom = None
    due_to: DueTo = None
    cursor: PageCursor = ""


def due_range_errors(filters: MyActionFilters | GroupActionFilters) -> dict[str, str]:
    """Why the due dates do not make a range, if they do not."""
    if filters.due_from and filters.due_to and filters.due_to < filters.due_from:
        return {"due_to": DUE_RANGE_MESSAGE}
    return {}


class GroupActionFilters(msgspec.Struct, kw_only=True):
    """Filters of a group's actions, and the page (a cursor from the list); empty means
    any (the CSV export ignores the page: it holds them all)."""

    status: StatusFilter = ""
    owner: OwnerFilter | None = None
    due_from: DueFrom = None
    due_to: DueTo = None
    cursor: PageCursor = ""


# --- views ------------------------------------------------------------------------------


class OwnerView(msgspec.Struct):
    user_id: int
    display_name: str


class ActionSummaryView(msgspec.Struct, kw_only=True):
    """One action in a list."""

    id: int
    group_slug: str
    group_name: str
    title: str
    status: str
    visibility: str
    due_on: dt.date
    # Past its due date and still open or in progress.
    is_overdue: bool
    owners: list[OwnerView]
    source_type: str
    source_id: int | None
    created_by: int | None
    created_by_name: str
    completed_at: dt.datetime | None

    @property
    def owner_ids(self) -> list[int]:
        return [owner.user_id for owner in self.owners]

    @property
    def owner_names(self) -> list[str]:
        return [owner.display_name for owner in self.owners]

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class ActionListView(msgspec.Struct, kw_only=True):
    group_slug: str
    group_name: str
    # Whether the caller chairs or is secretary of the group, and so may create actions.
    can_manage: bool
    # Whether the caller may read the group's content (not only what they own).
    can_read: bool
    # By due date, soonest first; where the list is paged, one page of it (`older`: the
    # cursor of the page after, `newer`: of the one before; null where there is none).
    actions: list[ActionSummaryView]
    older: str | None = None
    newer: str | None = None
    # Where paged: how many of the actions the caller may read are past their due date.
    overdue_count: int = 0


class ActionUpdateView(msgspec.Struct, kw_only=True):
    id: int
    author_name: str
    body: str
    # Both empty for a progress note or a change of owners or due date.
    status_from: str
    status_to: str
    created_at: dt.datetime


class ActionView(msgspec.Struct, kw_only=True):
    """One action with its owners and its progress, oldest first."""

    id: int
    group_slug: str
    group_name: str
    title: str
    description: str
    status: str
    visibility: str
    due_on: dt.date
    is_overdue: bool
    drop_reason: str
    owners: list[OwnerView]
    source_type: str
    source_id: int | None
    created_by: int | None
    created_by_name: str
    created_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None
    # May change the status and add progress notes (an owner, the chair or the secretary).
    can_update: bool
    # May change owners and the due date (the chair or the secretary).
    can_manage: bool
    # The caller is one of the owners.
    is_owner: bool
    updates: list[ActionUpdateView]

    @property
    def owner_ids(self) -> list[int]:
        return [owner.user_id for owner in self.owners]

    @property
    def owner_names(self) -> list[str]:
        return [owner.display_name for owner in self.owners]

    @property
    def next_statuses(self) -> tuple[str, ...]:
        return TRANSITIONS.get(self.status, ())


class SourceView(msgspec.Struct, kw_only=True):
    """What an action comes from, as the pages show it."""

    label: str
    link: str | None = None
    visibility: str = Visibility.INTERNAL.value


class ActionPage(msgspec.Struct, kw_only=True):
    """The action page: the action, where it came from, and for the chair or secretary the
    people it can be given to."""

    action: ActionView
    source: SourceView
    owner_choices: list[OwnerView]
