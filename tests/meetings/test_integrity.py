"""Approved minutes and their decisions carry a content hash set at approval; a change made
in the database afterwards is flagged on the meeting page, in the API and by `governance
audit verify`, and a reader is warned only about what they are shown."""

from __future__ import annotations

import datetime as dt
import re

from governance.core.audit import CONTENT_CHANGED
from governance.core.clock import utcnow
from governance.core.tables import AuditEvent
from governance.integrity import mismatched_records
from governance.meetings import integrity, services
from governance.meetings.schemas import (
    AgendaItemDetails,
    Approval,
    AttendanceEntry,
    AttendanceRecord,
    MinutesDraft,
    NewDecision,
)
from governance.meetings.tables import AgendaItem, Attendance, Decision, Minutes
from tests.factories import make_meeting, viewer_for
from tests.helpers import found, sign_in

WARNING = "Integrity warning"


async def _approved(cast) -> dict[str, int]:
    """A held meeting with an internal and a Board-only item, attendance, a decision on
    each item, and minutes approved by circulation."""
    chair = await viewer_for(cast.chair)
    starts = (utcnow() - dt.timedelta(days=3)).replace(microsecond=0)
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=starts)
    for title, visibility in (("Budget", "internal"), ("A matter for the Board", "board")):
        await services.add_agenda_item(
            meeting_id, AgendaItemDetails(title=title, visibility=visibility, notes=""), chair
        )
    items = {
        row["visibility"]: row["id"]
        for row in await AgendaItem.select().where(AgendaItem.meeting == meeting_id)
    }
    await services.mark_meeting_held(meeting_id, chair)
    await services.record_attendance(
        meeting_id,
        AttendanceRecord(
            entries=[
                AttendanceEntry(user_id=uid, mode="present")
                for uid in (cast.chair, cast.secretary, cast.member)
            ],
            guests=["A Guest"],
        ),
        chair,
    )
    decisions = {}
    for visibility, item_id in items.items():
        decisions[visibility] = await services.record_decision(
            meeting_id,
            NewDecision(agenda_item_id=item_id, text=f"Adopt {visibility}", votes_for=3),
            chair,
        )
    await services.save_minutes(
        meeting_id,
        MinutesDraft(
            summary="We met.",
            items={items["internal"]: "Budget agreed.", items["board"]: "Raised with the Board."},
        ),
        chair,
    )
    await services.circulate_minutes(meeting_id, chair)
    await services.approve_minutes(meeting_id, Approval(method="circulation"), chair)
    minutes = found(await Minutes.select(Minutes.id).where(Minutes.meeting == meeting_id).first())
    return {
        "meeting": meeting_id,
        "minutes": minutes["id"],
        "internal": items["internal"],
        "board": items["board"],
        "internal_decision": decisions["internal"],
        "board_decision": decisions["board"],
    }


async def _page(client, user_id: int, meeting_id: int) -> str:
    await sign_in(client, user_id)
    response = await client.get(f"/meetings/{meeting_id}")
    assert response.status_code == 200
    return response.text


async def _findings() -> list[tuple[str, int, str]]:
    return [(m.kind, m.id, m.problem) for m in await mismatched_records()]


async def test_approval_hashes_the_minutes_and_each_decision_and_audits_the_hash(cast):
    ids = await _approved(cast)
    minutes = found(await Minutes.select().where(Minutes.id == ids["minutes"]).first())
    decisions = await Decision.select().where(Decision.meeting == ids["meeting"])

    assert re.fullmatch("[0-9a-f]{64}", minutes["content_hash"])
    assert all(re.fullmatch("[0-9a-f]{64}", d["content_hash"]) for d in decisions)
    event = found(await AuditEvent.select().where(AuditEvent.action == "minutes.approved").first())
    assert f"sha256 {minutes['content_hash']}" in event["summary"]
    assert await _findings() == []


async def test_untouched_minutes_show_no_warning(client, cast):
    ids = await _approved(cast)
    page = await _page(client, cast.board, ids["meeting"])
    api = (await client.get(f"/api/v1/meetings/{ids['meeting']}")).json()

    assert WARNING not in page and "no longer matches" not in page
    assert api["minutes"]["integrity"] == "ok"
    assert {d["integrity"] for d in api["decisions"]} == {"ok"}


async def test_an_item_record_changed_in_the_database_is_flagged(client, cast):
    ids = await _approved(cast)
    await AgendaItem.update({AgendaItem.minutes_text: "Budget rejected."}).where(
        AgendaItem.id == ids["internal"]
    )

    page = await _page(client, cast.member, ids["meeting"])
    api = (await client.get(f"/api/v1/meetings/{ids['meeting']}")).json()

    assert WARNING in page
    assert api["minutes"]["integrity"] == "mismatch"
    assert await _findings() == [("minutes", ids["minutes"], CONTENT_CHANGED)]
    printable = await client.get(f"/meetings/{ids['meeting']}/export/minutes")
    assert printable.status_code == 200 and WARNING in printable.text


async def test_the_summary_or_attendance_changed_is_flagged(client, cast):
    ids = await _approved(cast)
    await Minutes.update({Minutes.summary: "We never met."}).where(Minutes.id == ids["minutes"])
    assert WARNING in await _page(client, cast.member, ids["meeting"])

    await Minutes.update({Minutes.summary: "We met."}).where(Minutes.id == ids["minutes"])
    assert WARNING not in await _page(client, cast.member, ids["meeting"])
    await Attendance.update({Attendance.mode: "absent"}).where(
        (Attendance.meeting == ids["meeting"]) & (Attendance.user == cast.member)
    )
    assert WARNING in await _page(client, cast.member, ids["meeting"])
    assert [kind for kind, _, _ in await _findings()] == ["minutes"]


async def test_a_decisions_votes_changed_are_flagged_on_the_decision(client, cast):
    ids = await _approved(cast)
    await Decision.update({Decision.votes_against: 2}).where(
        Decision.id == ids["internal_decision"]
    )

    page = await _page(client, cast.member, ids["meeting"])
    api = (await client.get(f"/api/v1/meetings/{ids['meeting']}")).json()

    assert WARNING in page and "This decision no longer matches its recorded hash." in page
    flags = {d["id"]: d["integrity"] for d in api["decisions"]}
    assert flags[ids["internal_decision"]] == "mismatch"
    assert sorted((kind, id_) for kind, id_, _ in await _findings()) == [
        ("decision", ids["internal_decision"]),
        ("minutes", ids["minutes"]),
    ]


async def test_a_board_only_item_changed_warns_the_board_and_not_the_director(client, cast):
    """The Director is not shown the item, so a warning would tell them it exists."""
    ids = await _approved(cast)
    await AgendaItem.update({AgendaItem.minutes_text: "Rewritten."}).where(
        AgendaItem.id == ids["board"]
    )

    assert WARNING not in await _page(client, cast.director, ids["meeting"])
    assert WARNING in await _page(client, cast.board, ids["meeting"])


async def test_minutes_approved_before_hashes_existed_are_sealed_by_the_migration(cast):
    ids = await _approved(cast)
    sealed = found(await Minutes.select().where(Minutes.id == ids["minutes"]).first())
    await Minutes.update({Minutes.content_hash: "", Minutes.part_hashes: ""}).where(
        Minutes.id == ids["minutes"]
    )
    await Decision.update({Decision.content_hash: ""}).where(Decision.meeting == ids["meeting"])

    await integrity.seal_unsealed_minutes()

    again = found(await Minutes.select().where(Minutes.id == ids["minutes"]).first())
    assert again["content_hash"] == sealed["content_hash"]
    assert again["part_hashes"] == sealed["part_hashes"]
    assert await _findings() == []


async def test_the_public_minutes_flag_a_changed_public_item(client, cast):
    ids = await _approved(cast)
    await AgendaItem.update({AgendaItem.visibility: "public"}).where(
        AgendaItem.id == ids["internal"]
    )
    # Made public behind the service's back is itself a change to what was approved.
    page = await client.get(f"/public/meetings/{ids['meeting']}")
    assert page.status_code == 200 and WARNING in page.text


async def test_untouched_public_minutes_show_no_warning(client, cast):
    ids = await _approved(cast)
    chair = await viewer_for(cast.chair)
    starts = (utcnow() - dt.timedelta(days=5)).replace(microsecond=0)
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=starts)
    await services.add_agenda_item(
        meeting_id, AgendaItemDetails(title="Open day", visibility="public", notes=""), chair
    )
    await services.mark_meeting_held(meeting_id, chair)
    await services.circulate_minutes(meeting_id, chair)
    await services.approve_minutes(meeting_id, Approval(method="circulation"), chair)

    page = await client.get(f"/public/meetings/{meeting_id}")
    assert page.status_code == 200 and "Open day" in page.text and WARNING not in page.text
    assert ids  # the other meeting's minutes are approved too, and untouched
    item = found(
        await AgendaItem.select(AgendaItem.id).where(AgendaItem.meeting == meeting_id).first()
    )
    await AgendaItem.update({AgendaItem.minutes_text: "Closed day."}).where(
        AgendaItem.id == item["id"]
    )
    assert WARNING in (await client.get(f"/public/meetings/{meeting_id}")).text
