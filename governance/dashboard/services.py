"""What the dashboard shows each person."""

from __future__ import annotations

from typing import Any

from governance.accounts.policy import Viewer
from governance.groups.services import list_groups, my_memberships


async def dashboard_for(viewer: Viewer) -> dict[str, Any]:
    groups = await list_groups(viewer)
    return {
        "my_groups": [group for group in groups if group["my_role"]],
        "other_groups": [group for group in groups if not group["my_role"]],
        "memberships": await my_memberships(viewer.user.id),
    }
