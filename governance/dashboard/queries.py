"""What the dashboard shows each person (their groups, their actions, meetings ahead, what
each reporting line is waiting for) and the group page. Reads only: it gathers what the
groups, actions, meetings and reports domains return, each with its own visibility rules."""

from __future__ import annotations

from governance.accounts.policy import Viewer
from governance.actions.queries import my_actions
from governance.core.clock import organisation_today, utcnow
from governance.core.db import read_at_once, read_left_out
from governance.dashboard.schemas import DashboardView, GroupOverview
from governance.groups.queries import get_group, group_page_of, list_groups, my_terms
from governance.meetings.queries import meetings_of, readable_meetings_for_user
from governance.reports.queries import inbox, line_schedules, reporting_overview_for_leads

DASHBOARD_ROWS = 8
RECENT_MEETINGS = 6


async def dashboard_for(viewer: Viewer) -> DashboardView:
    reads_lines = viewer.user.is_director or viewer.user.is_board
    groups, actions, meetings, lines, memberships, reporting = await read_at_once(
        list_groups(viewer),
        my_actions(viewer),
        readable_meetings_for_user(viewer, since=utcnow()),
        inbox(viewer) if reads_lines else read_left_out(None),
        my_terms(viewer.user.id),
        reporting_overview_for_leads(viewer),
    )
    active = [action for action in actions if action.is_active]
    ahead = [meeting for meeting in meetings if meeting["status"] == "scheduled"]
    return DashboardView(
        my_groups=[group for group in groups if group.my_role],
        other_groups=[group for group in groups if not group.my_role],
        memberships=memberships,
        open_actions=active[:DASHBOARD_ROWS],
        open_action_count=len(active),
        meetings_ahead=ahead[:DASHBOARD_ROWS],
        lines=lines,
        reporting=reporting,
    )


async def group_overview(slug: str, viewer: Viewer) -> GroupOverview:
    """The group page: mandate, members and lines, its meetings, and what each line is owed."""
    group = await get_group(slug)  # read once, for the page and its meetings
    page, meetings, schedules = await read_at_once(
        group_page_of(group, viewer),
        meetings_of(group, viewer),
        line_schedules(group, organisation_today()),
    )
    return GroupOverview(
        page=page,
        upcoming_meetings=meetings.upcoming,
        past_meetings=meetings.past[:RECENT_MEETINGS],
        past_meeting_count=len(meetings.past),
        can_read_meetings=meetings.can_read,
        next_due_sentences=[entry.next_due_text for entry in schedules],
    )
