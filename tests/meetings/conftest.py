"""A group with a chair, a secretary, two members, a former member, a Director, two Board
members and a stranger, for the proceedings tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from governance.groups.services import organisation_date
from tests.factories import make_group, make_membership, make_user


@dataclass
class Cast:
    group_id: int
    slug: str
    chair: int
    secretary: int
    member: int
    member2: int
    former: int
    director: int
    board: int
    stranger: int
    other_group_member: int


@pytest.fixture
async def cast() -> Cast:
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    other_group = await make_group(slug="ndi", name="Working Group on NDI")
    today = organisation_date()
    chair = await make_user("chair@example.org", "Chair Person")
    secretary = await make_user("secretary@example.org", "Secretary Person")
    member = await make_user("member@example.org", "Member One")
    member2 = await make_user("member2@example.org", "Member Two")
    former = await make_user("former@example.org", "Former Member")
    director = await make_user("director@example.org", "The Director", director=True)
    board = await make_user("board@example.org", "Board Member", board=True)
    stranger = await make_user("stranger@example.org", "Stranger")
    other = await make_user("other@example.org", "Other Group Member")
    start = today - dt.timedelta(days=200)
    await make_membership(chair, group_id, "chair", start)
    await make_membership(secretary, group_id, "secretary", start)
    await make_membership(member, group_id, "member", start)
    await make_membership(member2, group_id, "member", start)
    await make_membership(former, group_id, "member", start, today - dt.timedelta(days=100))
    await make_membership(other, other_group, "member", start)
    return Cast(
        group_id,
        "wellbeing",
        chair,
        secretary,
        member,
        member2,
        former,
        director,
        board,
        stranger,
        other,
    )
