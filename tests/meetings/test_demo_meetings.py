"""The demo's proceedings respect the record's rules (issue 10): every decision was taken at a
meeting that had started and was not cancelled, with no more votes than members present or
remote; no approved minutes changed after their approval; and the approval names its
meeting."""

from __future__ import annotations

import pytest

from governance.demo import seed_demo
from governance.groups.services import seed_default_groups
from governance.meetings.schemas import COUNTS_TOWARDS_QUORUM
from governance.meetings.tables import Attendance, Decision, Meeting, Minutes

pytestmark = pytest.mark.slow


async def test_the_demo_decides_only_at_held_meetings_within_their_attendance():
    await seed_default_groups()
    await seed_demo()
    meetings = {row["id"]: row for row in await Meeting.select()}
    attendance = await Attendance.select()
    voters: dict[int, int] = {}
    for row in attendance:
        if row["user"] is not None and row["mode"] in COUNTS_TOWARDS_QUORUM:
            voters[row["meeting"]] = voters.get(row["meeting"], 0) + 1
    decisions = await Decision.select()
    assert decisions
    for decision in decisions:
        meeting = meetings[decision["meeting"]]
        assert meeting["status"] == "held", meeting["title"]
        assert meeting["starts_at"] <= decision["created_at"]
        cast = decision["votes_for"] + decision["votes_against"] + decision["votes_abstain"]
        assert cast <= voters.get(meeting["id"], 0), meeting["title"]
    for minutes in await Minutes.select().where(Minutes.status == "approved"):
        assert minutes["approved_at_meeting"] in meetings
        approving = meetings[minutes["approved_at_meeting"]]
        assert approving["status"] == "held"
        assert approving["starts_at"] > meetings[minutes["meeting"]]["starts_at"]
