"""A select built once per shape answers exactly as the same select built afresh, for any
values, any length of list, and each viewer's own visibility conditions (both engines)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from piccolo.query import Select

from governance.accounts import scopes
from governance.core.clock import organisation_today
from governance.core.db import PreparedSelect
from governance.groups.tables import Membership, WorkingGroup
from governance.meetings.tables import Meeting
from tests.factories import make_group, make_meeting, make_membership, make_user, viewer_for


def _members(group_ids: list[Any], on: object) -> Select:
    return (
        Membership.select(Membership.user, Membership.group, Membership.user.email.as_alias("e"))
        .where(Membership.group.is_in(group_ids) & (Membership.starts_on <= on))
        .order_by(Membership.id)
    )


async def test_the_same_rows_as_the_query_built_afresh() -> None:
    groups = [await make_group(slug=f"p{n}", name=f"P {n}") for n in range(3)]
    for number, group_id in enumerate(groups):
        for _ in range(number + 1):
            await make_membership(await make_user(), group_id, "member")
    prepared = PreparedSelect(_members)
    today = organisation_today()
    for chosen, on in [
        (groups[:1], today),
        (groups[1:], today),
        (groups, today),
        (groups[::-1], today - dt.timedelta(days=3650)),
        (groups[2:], today),
    ]:
        assert await prepared.run(group_ids=chosen, on=on) == await _members(chosen, on)


async def test_each_viewer_has_their_own_visibility_conditions() -> None:
    group = await make_group(slug="seen", name="Seen")
    chair = await make_user()
    await make_membership(chair, group, "chair")
    await make_meeting("seen", chair)
    member = await viewer_for(chair)
    director = await viewer_for(await make_user(director=True))
    outsider = await viewer_for(await make_user())

    def build(viewer: object, group_id: object) -> Select:
        return Meeting.select(Meeting.id).where(
            (Meeting.group == group_id) & scopes.meetings(viewer)  # type: ignore[arg-type]
        )

    prepared = PreparedSelect(build)
    seen = []
    for viewer in (member, director, outsider, member):
        expected = await build(viewer, group)  # type: ignore[attr-defined]
        assert await prepared.run(viewer, group_id=group) == expected
        seen.append(len(expected))
    assert seen == [1, 1, 0, 1]


async def test_no_row_is_no_row() -> None:
    prepared = PreparedSelect(lambda slug: WorkingGroup.select().where(WorkingGroup.slug == slug))
    assert await prepared.run(slug="nothing-here") == []
