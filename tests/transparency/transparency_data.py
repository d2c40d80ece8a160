"""A small, known record for the transparency workflow, format and page tests.

Two groups begun in January 2026. In the third quarter of 2026 the Working Group on
Wellbeing held six meetings (all six members present) and cancelled one; considered
confidential agenda items; took decisions (one on a Board-only item); completed seven public
actions (three in July, four in August) and left two overdue; and sent recommendations: one
to the Board only, two to both lines, answered in several ways.

Texts that must never reach the public edition carry a marker (SECRET_TEXTS), and so do the
names of people who are not chairs (NON_CHAIR_NAMES).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine

from governance.actions.tables import ActionItem
from governance.meetings.tables import AgendaItem, Attendance, Decision, Meeting
from governance.reports.schemas import LineResponse, ReportDraft
from governance.reports.services import (
    create_report,
    respond_to_delivery,
    submit_report,
)
from governance.reports.tables import Delivery
from tests.factories import board_responds, make_group, make_membership, make_user, viewer_for

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)

BOARD_ONLY_TITLE = "BOARD-ONLY Concern about the conduct of management"
CONFIDENTIAL_ITEM = "CONFIDENTIAL-AGENDA Grievance about the deputy director"
CONFIDENTIAL_DECISION = "CONFIDENTIAL-DECISION Refer the grievance to the Board chair"
INTERNAL_ITEM = "INTERNAL-AGENDA Staffing of the rota"
SECRET_TEXTS = (BOARD_ONLY_TITLE, CONFIDENTIAL_ITEM, CONFIDENTIAL_DECISION, INTERNAL_ITEM)
CHAIR_NAME = "Chloé Chair"
NON_CHAIR_NAMES = (
    "Sam Secretary",
    "Max Member",
    "Mira Member",
    "Milo Member",
    "Mona Member",
    "Bea Board",
    "Dee Director",
)


def london(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def clock() -> Iterator[None]:
    """Tuesday 24 November 2026: the third quarter has ended, the fourth is running."""
    with time_machine.travel(NOW, tick=True):
        yield


@dataclass
class Record:
    group_id: int
    other_group_id: int
    chair: int
    secretary: int
    member: int
    director: int
    board: int
    board2: int
    admin: int
    stranger: int
    other_chair: int


async def build_record() -> Record:
    with time_machine.travel(london(2026, 1, 5, 9), tick=False):
        group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
        other_group_id = await make_group(slug="ndi", name="Working Group on NDI")
        chair = await make_user("tr-chair@example.org", CHAIR_NAME)
        secretary = await make_user("tr-secretary@example.org", "Sam Secretary")
        members = [
            await make_user(f"tr-member{i}@example.org", name)
            for i, name in enumerate(("Max Member", "Mira Member", "Milo Member", "Mona Member"))
        ]
        director = await make_user("tr-director@example.org", "Dee Director", director=True)
        board = await make_user("tr-board@example.org", "Bea Board", board=True)
        board2 = await make_user("tr-board2@example.org", "Second Board", board=True)
        admin = await make_user("tr-admin@example.org", "Ada Admin", admin=True)
        stranger = await make_user("tr-stranger@example.org", "Stan Stranger")
        other_chair = await make_user("tr-ndi-chair@example.org", "Nadia Chair")
        start = dt.date(2026, 1, 5)
        await make_membership(chair, group_id, "chair", start)
        await make_membership(secretary, group_id, "secretary", start)
        for member in members:
            await make_membership(member, group_id, "member", start)
        await make_membership(other_chair, other_group_id, "chair", start)
    people = [chair, secretary, *members]
    await _meetings(group_id, people)
    await _actions(group_id, chair)
    await _recommendations(chair, director, board)
    return Record(
        group_id=group_id,
        other_group_id=other_group_id,
        chair=chair,
        secretary=secretary,
        member=members[0],
        director=director,
        board=board,
        board2=board2,
        admin=admin,
        stranger=stranger,
        other_chair=other_chair,
    )


async def _meetings(group_id: int, people: list[int]) -> None:
    days = [(7, 10), (7, 24), (8, 7), (8, 21), (9, 4), (9, 18)]
    for number, (month, day) in enumerate(days):
        starts = london(2026, month, day, 10)
        rows = await Meeting.insert(
            Meeting(
                group=group_id,
                title=f"Meeting {number + 1}",
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=2),
                status="held",
                created_at=starts,
                updated_at=starts,
            )
        ).returning(Meeting.id)
        meeting_id = rows[0]["id"]
        titles = [("Wellbeing survey update", "public")]
        if number == 0:
            titles += [(CONFIDENTIAL_ITEM, "board"), (INTERNAL_ITEM, "internal")]
        if number == 1:
            titles += [("Members-only matter", "group")]
        for position, (title, visibility) in enumerate(titles):
            item = await AgendaItem.insert(
                AgendaItem(
                    meeting=meeting_id, position=position, title=title, visibility=visibility
                )
            ).returning(AgendaItem.id)
            text = CONFIDENTIAL_DECISION if title == CONFIDENTIAL_ITEM else f"Adopt item {number}"
            if visibility in ("public", "board"):
                await Decision.insert(
                    Decision(
                        meeting=meeting_id,
                        agenda_item=item[0]["id"],
                        text=text,
                        votes_for=5,
                        quorum_met=True,
                        recorded_by=people[0],
                        created_at=starts,
                    )
                )
        await Attendance.insert(
            *[Attendance(meeting=meeting_id, user=person, mode="present") for person in people]
        )
    cancelled = london(2026, 8, 28, 10)
    await Meeting.insert(
        Meeting(
            group=group_id,
            title="Cancelled meeting",
            starts_at=cancelled,
            ends_at=cancelled + dt.timedelta(hours=1),
            status="cancelled",
            created_at=cancelled,
            updated_at=cancelled,
        )
    )


async def _actions(group_id: int, author: int) -> None:
    """Seven public actions done in the quarter (three in July, four in August), two
    internal ones overdue at its end."""
    completions = [london(2026, 7, d) for d in (8, 15, 22)] + [
        london(2026, 8, d) for d in (5, 12, 19, 26)
    ]
    rows = []
    for number, completed in enumerate(completions):
        created = completed - dt.timedelta(days=10 + number)
        rows.append(
            ActionItem(
                group=group_id,
                title=f"Public action {number}",
                due_on=dt.date(2026, 12, 1),
                status="done",
                visibility="public",
                created_by=author,
                created_at=created,
                updated_at=completed,
                completed_at=completed,
            )
        )
    for number in range(2):
        created = london(2026, 7, 1 + number)
        rows.append(
            ActionItem(
                group=group_id,
                title=f"Overdue action {number}",
                due_on=dt.date(2026, 8, 1),
                status="open",
                visibility="internal",
                created_by=author,
                created_at=created,
                updated_at=created,
            )
        )
    await ActionItem.insert(*rows)


async def _recommendations(chair: int, director: int, board: int) -> None:
    with time_machine.travel(london(2026, 8, 3, 10), tick=False):
        viewer = await viewer_for(chair)
        board_only = await create_report(
            "wellbeing",
            ReportDraft(
                kind="recommendation",
                period="",
                title=BOARD_ONLY_TITLE,
                body="Only for the Board.",
                route="board",
            ),
            viewer,
        )
        board_only_deliveries = await submit_report(board_only, viewer)
        both = []
        for title in ("Flexible hours pilot", "A quiet room"):
            report_id = await create_report(
                "wellbeing",
                ReportDraft(
                    kind="recommendation",
                    period="",
                    title=title,
                    body="Please consider it.",
                    route="both",
                ),
                viewer,
            )
            both.append(await submit_report(report_id, viewer))
    with time_machine.travel(london(2026, 8, 20, 10), tick=False):
        await board_responds(
            board_only_deliveries[0],
            LineResponse(response="accepted", rationale=""),
            await viewer_for(board),
        )
        recipients = {
            row["id"]: row["recipient"]
            for row in await Delivery.select(Delivery.id, Delivery.recipient).where(
                Delivery.id.is_in([d for pair in both for d in pair])
            )
        }
        for index, pair in enumerate(both):
            for delivery_id in pair:
                if recipients[delivery_id] == "board":
                    await board_responds(
                        delivery_id,
                        LineResponse(response="noted", rationale=""),
                        await viewer_for(board),
                    )
                elif index == 0:
                    await respond_to_delivery(
                        delivery_id,
                        LineResponse(response="accepted", rationale=""),
                        await viewer_for(director),
                    )
