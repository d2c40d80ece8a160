"""Reads of groups and memberships that every domain shares: who is a member on a day, the
viewer of a request, a group by its address."""

from __future__ import annotations

import datetime as dt
from typing import Any

from governance.accounts.policy import CurrentUser, Viewer, membership_is_current, strongest_roles
from governance.core.clock import organisation_today
from governance.core.errors import NotFoundError
from governance.groups.tables import Membership, WorkingGroup

NO_SUCH_GROUP = "There is no working group at this address."


def current_on(day: dt.date) -> Any:
    """The SQL condition for a membership current on `day`: the query form of
    policy.membership_is_current (from its first day to the end of its last)."""
    return (Membership.starts_on <= day) & (
        Membership.ends_on.is_null() | (Membership.ends_on >= day)
    )


async def members_on(group_id: int, on: dt.date) -> list[dict[str, Any]]:
    """Memberships current on a day, one per person (their first), with the member's name,
    sorted by name: one query."""
    rows = await Membership.select(
        Membership.user,
        Membership.role,
        Membership.starts_on,
        Membership.ends_on,
        Membership.user.display_name.as_alias("display_name"),
    ).where((Membership.group == group_id) & current_on(on))
    by_user: dict[int, dict[str, Any]] = {}
    for row in rows:
        if membership_is_current(row["starts_on"], row["ends_on"], on):
            by_user.setdefault(row["user"], row)
    return sorted(by_user.values(), key=lambda m: m["display_name"])


async def load_viewer(user: CurrentUser) -> Viewer:
    """The user with the roles they hold today in each group: one query."""
    rows = await Membership.select(
        Membership.group, Membership.role, Membership.starts_on, Membership.ends_on
    ).where(Membership.user == user.id)
    return Viewer(user=user, group_roles=strongest_roles(rows, organisation_today()))


async def get_group(slug: str) -> dict[str, Any]:
    """A group by its slug; not found if there is none."""
    row = await WorkingGroup.select().where(WorkingGroup.slug == slug).first()
    if row is None:
        raise NotFoundError(NO_SUCH_GROUP)
    return row  # type: ignore[no-any-return]
