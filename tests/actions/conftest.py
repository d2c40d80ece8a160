"""A group with a chair, a secretary, two members and a former member; a Director, a Board
member, an admin and a stranger (a member of another group); and a way to make actions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from governance.actions import services
from governance.actions.schemas import NewAction
from governance.actions.tables import ActionItem
from governance.core.clock import organisation_today
from tests.factories import make_group, make_membership, make_user, viewer_for


@dataclass
class Cast:
    group_id: int
    slug: str
    other_group_id: int
    chair: int
    secretary: int
    member: int
    member2: int
    former: int
    director: int
    board: int
    admin: int
    stranger: int


@pytest.fixture
async def cast() -> Cast:
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    other_group = await make_group(slug="ndi", name="Working Group on NDI")
    today = organisation_today()
    chair = await make_user("chair@example.org", "Chair Person")
    secretary = await make_user("secretary@example.org", "Secretary Person")
    member = await make_user("member@example.org", "Member One")
    member2 = await make_user("member2@example.org", "Member Two")
    former = await make_user("former@example.org", "Former Member")
    director = await make_user("director@example.org", "The Director", director=True)
    board = await make_user("board@example.org", "Board Member", board=True)
    admin = await make_user("admin@example.org", "Admin Person", admin=True)
    stranger = await make_user("stranger@example.org", "Stranger")
    start = today - dt.timedelta(days=200)
    await make_membership(chair, group_id, "chair", start)
    await make_membership(secretary, group_id, "secretary", start)
    await make_membership(member, group_id, "member", start)
    await make_membership(member2, group_id, "member", start)
    await make_membership(former, group_id, "member", start, today - dt.timedelta(days=100))
    await make_membership(stranger, other_group, "member", start)
    return Cast(
        group_id,
        "wellbeing",
        other_group,
        chair,
        secretary,
        member,
        member2,
        former,
        director,
        board,
        admin,
        stranger,
    )


def fields(
    title: str = "Draft the wellbeing survey",
    *,
    owners: list[int],
    visibility: str = "internal",
    due_in_days: int = 14,
    description: str = "",
    source_type: str = "group",
    source_id: int | None = None,
) -> NewAction:
    return NewAction(
        title=title,
        description=description,
        due_on=organisation_today() + dt.timedelta(days=due_in_days),
        visibility=visibility,
        owner_ids=owners,
        source_type=source_type,
        source_id=source_id,
    )


async def make_action(
    cast: Cast,
    title: str = "Draft the wellbeing survey",
    *,
    owners: list[int] | None = None,
    visibility: str = "internal",
    due_in_days: int = 14,
    by: int | None = None,
    **source: object,
) -> int:
    """An action created by the chair (or `by`), owned by the member unless told."""
    viewer = await viewer_for(by or cast.chair)
    return await services.create_action(
        cast.group_id,
        fields(
            title,
            owners=owners or [cast.member],
            visibility=visibility,
            due_in_days=due_in_days,
            **source,  # type: ignore[arg-type]
        ),
        viewer,
    )


async def make_overdue(action_id: int, days: int = 3) -> None:
    """Moves the due date into the past, as time passing would."""
    await ActionItem.update(
        {ActionItem.due_on: organisation_today() - dt.timedelta(days=days)}
    ).where(ActionItem.id == action_id)
