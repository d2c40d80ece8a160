"""The demo has one carried written resolution per group, listed in the minutes of that
group's next meeting; seeding again adds none."""

from __future__ import annotations

import pytest

from governance.demo import seed_demo
from governance.groups.services import seed_default_groups
from governance.meetings.tables import Meeting
from governance.resolutions.queries import taken_since_last_meeting
from governance.resolutions.tables import WrittenResolution
from tests.factories import viewer_for
from tests.helpers import found

pytestmark = pytest.mark.slow


async def test_the_demo_has_a_carried_resolution_per_group_in_the_next_minutes():
    await seed_default_groups()
    await seed_demo()
    await seed_demo()
    rows = await WrittenResolution.select(
        WrittenResolution.group.slug.as_alias("slug"), WrittenResolution.status
    )
    assert sorted((row["slug"], row["status"]) for row in rows) == [
        ("ndi", "carried"),
        ("wellbeing", "carried"),
    ]
    upcoming = found(
        await Meeting.select(Meeting.starts_at, Meeting.group.slug.as_alias("slug"))
        .where((Meeting.group.slug == "wellbeing") & (Meeting.status == "scheduled"))
        .order_by(Meeting.starts_at, ascending=False)
        .first()
    )
    proposed = WrittenResolution.select(WrittenResolution.proposed_by).where(
        WrittenResolution.group.slug == "wellbeing"
    )
    chair = found(await proposed.first())["proposed_by"]
    listed = await taken_since_last_meeting(
        "wellbeing", upcoming["starts_at"], await viewer_for(chair)
    )
    assert [resolution.status for resolution in listed] == ["carried"]
