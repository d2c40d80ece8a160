"""Who a change notification goes to: the active people among a record's audience who may
read that record, each with their email choices.

Services call these inside their write transaction, then one function of `emails.py` per
person. Visibility is asked of `accounts/scopes.py` for each reader (their roles today), so
a notification about a Board-only record never goes to the Director, and one about a
group-only record never leaves the group, whoever the caller named.
"""

from __future__ import annotations

from collections.abc import Iterable

from governance.accounts import scopes
from governance.core.clock import organisation_today
from governance.groups.queries import current_on
from governance.groups.tables import Membership
from governance.notifications.queries import Subscriber, load_subscribers


async def current_member_ids(group_id: int) -> list[int]:
    """The group's members today (one query)."""
    rows = await Membership.select(Membership.user).where(
        (Membership.group == group_id) & current_on(organisation_today())
    )
    return sorted({row["user"] for row in rows})


async def readers(user_ids: Iterable[int], group_id: int, visibility: str) -> list[Subscriber]:
    """The active users among these who may read a record of this group and visibility, in
    the order of their ids (two queries)."""
    found = await load_subscribers(user_ids)
    return [
        subscriber
        for _, subscriber in sorted(found.items())
        if scopes.may_read(subscriber.viewer, group_id, visibility)
    ]


async def member_readers(group_id: int, visibility: str) -> list[Subscriber]:
    """The group's current members who may read a record of it (all of them: members read
    every visibility of their group's content; the check stays, so that the rule lives in
    one place)."""
    return await readers(await current_member_ids(group_id), group_id, visibility)
