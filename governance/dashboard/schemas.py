"""The views of the dashboard and of the group page, which gather several domains' reads.

The meetings ahead are the meetings domain's calendar rows (`readable_meetings_for_user`);
every other part is the view its domain returns."""

from __future__ import annotations

from typing import Any

import msgspec

from governance.actions.schemas import ActionSummaryView
from governance.groups.schemas import GroupPage, GroupSummaryView, TermView
from governance.meetings.schemas import MeetingSummaryView
from governance.reports.schemas import InboxView, LeadReportingView


class DashboardView(msgspec.Struct, kw_only=True):
    """What is the signed-in person's, per role."""

    my_groups: list[GroupSummaryView]
    other_groups: list[GroupSummaryView]
    memberships: list[TermView]
    # The first few open actions, and how many there are in all.
    open_actions: list[ActionSummaryView]
    open_action_count: int
    meetings_ahead: list[dict[str, Any]]
    # What awaits the reader's line (the Director and the Board only).
    lines: InboxView | None
    # What is due from each group the reader leads.
    reporting: list[LeadReportingView]


class GroupOverview(msgspec.Struct, kw_only=True):
    """The group page: the group with its members and lines, its meetings, and what each
    line is owed."""

    page: GroupPage
    upcoming_meetings: list[MeetingSummaryView]
    past_meetings: list[MeetingSummaryView]
    past_meeting_count: int
    can_read_meetings: bool
    next_due_sentences: list[str]

    def context(self) -> dict[str, Any]:
        """The template's names: the group page's own, and the rest."""
        return {
            **msgspec.structs.asdict(self.page),
            **{name: getattr(self, name) for name in self.__struct_fields__ if name != "page"},
        }
