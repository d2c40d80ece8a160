"""Rows for tests, made through the same services the application uses where it matters."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from governance.accounts.passwords import hash_password
from governance.accounts.tables import User
from governance.core.audit import SYSTEM
from governance.core.clock import organisation_today, utcnow
from governance.core.tables import OutboundEmail
from governance.groups.schemas import GroupDetails, NewMembership
from governance.groups.services import add_membership, create_group
from tests.helpers import found

PASSWORD = "correct horse battery staple"
# Hashing is deliberately slow; one hash serves every test user.
PASSWORD_HASH = hash_password(PASSWORD)
_sequence = itertools.count(1)


async def make_user(
    email: str | None = None,
    name: str | None = None,
    *,
    admin: bool = False,
    director: bool = False,
    board: bool = False,
    active: bool = True,
    password_hash: str = PASSWORD_HASH,
) -> int:
    number = next(_sequence)
    rows = await User.insert(
        User(
            email=(email or f"person{number}@example.org").lower(),
            display_name=name or f"Person {number}",
            password_hash=password_hash,
            is_active=active,
            is_admin=admin,
            is_director=director,
            is_board=board,
            created_at=utcnow(),
        )
    ).returning(User.id)
    return int(rows[0]["id"])


async def make_group(slug: str | None = None, name: str | None = None, mandate: str = "") -> int:
    number = next(_sequence)
    slug = slug or f"group-{number}"
    group = await create_group(
        GroupDetails(
            name=name or f"Working group {number}",
            slug=slug,
            mandate=mandate,
            quorum_rule="majority",
            quorum_count=0,
        ),
        SYSTEM,
    )
    return group.id


async def forget_notifications(key_prefix: str) -> None:
    """Drops the change notifications a factory's service call queued (keys starting so):
    the world a test starts from is not news to anyone in it. Tests of those notifications
    pass `announce=True`."""
    await OutboundEmail.delete().where(OutboundEmail.dedupe_key.like(f"{key_prefix}%"))


async def make_membership(
    user_id: int,
    group_id: int,
    role: str = "member",
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    *,
    announce: bool = False,
) -> int:
    email = found(await User.select(User.email).where(User.id == user_id).first())["email"]
    membership_id = await _add_membership(user_id, email, group_id, role, starts_on, ends_on)
    if not announce:
        await forget_notifications(f"membership:{membership_id}:")
    return membership_id


async def _add_membership(
    user_id: int,
    email: str,
    group_id: int,
    role: str,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
) -> int:
    return await add_membership(
        group_id,
        NewMembership(
            email=email,
            role=role,
            starts_on=starts_on or organisation_today() - dt.timedelta(days=30),
            ends_on=ends_on,
        ),
        SYSTEM,
    )


async def viewer_for(user_id: int):  # type: ignore[no-untyped-def]
    """The Viewer the application would build for this user today."""
    from governance.accounts.policy import CurrentUser
    from governance.groups.queries import load_viewer

    row = await User.select().where(User.id == user_id).first()
    return await load_viewer(CurrentUser.from_row(found(row)))


async def make_meeting(
    group_slug: str,
    chair_id: int,
    *,
    title: str = "Monthly meeting",
    starts_at: dt.datetime | None = None,
    hours: int = 2,
    announce: bool = False,
) -> int:
    from governance.meetings.schemas import MeetingDetails
    from governance.meetings.services import schedule_meeting

    starts_at = starts_at or (utcnow() + dt.timedelta(days=7)).replace(microsecond=0)
    fields = MeetingDetails(
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=hours),
        location="Room 1",
    )
    meeting_id = await schedule_meeting(group_slug, fields, await viewer_for(chair_id))
    if not announce:
        await forget_notifications(f"meeting:{meeting_id}:scheduled:")
    return meeting_id


async def board_responds(delivery_id: int, command: Any, viewer: Any) -> list[int]:
    """The Board line's response as one Board member records it where a test needs only
    the response: proposed, then recorded as decided at a Board meeting today (the Board
    line answers by resolution, `reports/board_line.py`). Returns the actions' ids."""
    from governance.actions.tables import ActionItem
    from governance.core.clock import organisation_today
    from governance.reports import board_line
    from governance.reports.schemas import DecidedAtMeeting

    proposal_id = await board_line.propose_board_response(delivery_id, command, viewer)
    await board_line.record_decided_at_meeting(
        proposal_id,
        DecidedAtMeeting(meeting="Board meeting", meeting_on=organisation_today()),
        viewer,
    )
    rows = (
        await ActionItem.select(ActionItem.id)
        .where((ActionItem.source_type == "response") & (ActionItem.source_id == delivery_id))
        .order_by(ActionItem.id)
    )
    return [int(row["id"]) for row in rows]
