"""What the dashboard shows each person: their groups, their actions, meetings ahead, and
what each reporting line is waiting for."""

from __future__ import annotations

from typing import Any

from governance.accounts.policy import Viewer
from governance.actions.queries import my_actions
from governance.core.clock import organisation_today, utcnow
from governance.groups.services import group_page, list_groups, my_memberships
from governance.meetings.queries import list_meetings, readable_meetings_for_user
from governance.reports.services import (
    describe_next_due,
    inbox,
    line_schedules,
    reporting_overview_for_leads,
)

DASHBOARD_ROWS = 8


async def dashboard_for(viewer: Viewer) -> dict[str, Any]:
    groups = await list_groups(viewer)
    actions = [a for a in await my_actions(viewer) if a.is_active]
    meetings = [
        m
        for m in await readable_meetings_for_user(viewer, since=utcnow())
        if m["status"] == "scheduled"
    ]
    lines = await inbox(viewer) if (viewer.user.is_director or viewer.user.is_board) else None
    return {
        "my_groups": [group for group in groups if group["my_role"]],
        "other_groups": [group for group in groups if not group["my_role"]],
        "memberships": await my_memberships(viewer.user.id),
        "open_actions": actions[:DASHBOARD_ROWS],
        "open_action_count": len(actions),
        "meetings_ahead": meetings[:DASHBOARD_ROWS],
        "lines": lines,
        "reporting": await reporting_overview_for_leads(viewer),
    }


RECENT_MEETINGS = 6


async def group_overview(slug: str, viewer: Viewer) -> dict[str, Any]:
    """The group page: mandate, members and lines, its meetings, and what each line is owed."""
    context = await group_page(slug, viewer)
    meetings = await list_meetings(slug, viewer)
    schedules = await line_schedules(context["group"], organisation_today())
    return {
        **context,
        "upcoming_meetings": meetings.upcoming,
        "past_meetings": meetings.past[:RECENT_MEETINGS],
        "past_meeting_count": len(meetings.past),
        "can_read_meetings": meetings.can_read,
        "next_due_sentences": [describe_next_due(entry) for entry in schedules],
    }
