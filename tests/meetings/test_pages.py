"""Meeting pages through HTTP: what each role sees, forms that refuse bad input and change
nothing, the public version, and a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.core.clock import utcnow
from governance.meetings import services
from governance.meetings.schemas import (
    AgendaItemDetails,
    Approval,
    AttendanceEntry,
    AttendanceRecord,
    MinutesDraft,
    NewDecision,
)
from governance.meetings.tables import AgendaItem, Attendance, Decision, Meeting, Minutes
from governance.notifications.needs_me import forget_recent_tasks
from tests.factories import make_meeting, make_membership, make_user, viewer_for
from tests.helpers import field_error, found, post_form, shown_after_refusal, sign_in

SECRETS = (
    "BOARD-TITLE",
    "BOARD-MINUTES",
    "BOARD-DECISION",
    "GROUP-TITLE",
    "GROUP-MINUTES",
    "GROUP-DECISION",
)


async def _full_meeting(cast, approve: bool = False) -> int:
    start = (utcnow() - dt.timedelta(days=3)).replace(microsecond=0)
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=start)
    chair = await viewer_for(cast.chair)
    for visibility in ("public", "internal", "board", "group"):
        await services.add_agenda_item(
            meeting_id,
            AgendaItemDetails(title=f"{visibility.upper()}-TITLE", visibility=visibility, notes=""),
            chair,
        )
    await services.mark_meeting_held(meeting_id, chair)
    # The chair was there, so the one vote of each decision is theirs.
    present = [AttendanceEntry(user_id=cast.chair, mode="present")]
    await services.record_attendance(meeting_id, AttendanceRecord(entries=present), chair)
    items = await AgendaItem.select(AgendaItem.id, AgendaItem.visibility).where(
        AgendaItem.meeting == meeting_id
    )
    await services.save_minutes(
        meeting_id,
        MinutesDraft(
            summary="", items={i["id"]: f"{i['visibility'].upper()}-MINUTES" for i in items}
        ),
        chair,
    )
    for item in items:
        await services.record_decision(
            meeting_id,
            NewDecision(
                agenda_item_id=item["id"],
                text=f"{item['visibility'].upper()}-DECISION",
                votes_for=1,
                votes_against=0,
                votes_abstain=0,
            ),
            chair,
        )
    if approve:
        await services.circulate_minutes(meeting_id, chair)
        await services.approve_minutes(meeting_id, Approval(method="circulation"), chair)
    return meeting_id


async def test_director_page_never_shows_board_or_group_items(client, cast):
    meeting_id = await _full_meeting(cast, approve=True)
    await sign_in(client, cast.director)
    html = (await client.get(f"/meetings/{meeting_id}")).text
    assert "INTERNAL-TITLE" in html and "INTERNAL-MINUTES" in html and "INTERNAL-DECISION" in html
    for secret in SECRETS:
        assert secret not in html
    # Not even a count that would reveal that board items exist.
    assert "you cannot read" not in html


async def test_board_member_sees_board_items_but_not_group_items(client, cast):
    meeting_id = await _full_meeting(cast, approve=True)
    await sign_in(client, cast.board)
    html = (await client.get(f"/meetings/{meeting_id}")).text
    assert "BOARD-TITLE" in html and "BOARD-DECISION" in html
    assert "GROUP-TITLE" not in html and "GROUP-DECISION" not in html


async def test_member_reads_every_item(client, cast):
    meeting_id = await _full_meeting(cast, approve=True)
    await sign_in(client, cast.member)
    html = (await client.get(f"/meetings/{meeting_id}")).text
    for text in ("PUBLIC-TITLE", "INTERNAL-TITLE", "BOARD-TITLE", "GROUP-TITLE", "GROUP-MINUTES"):
        assert text in html


async def test_stranger_and_former_member_get_not_found(client, cast):
    meeting_id = await _full_meeting(cast)
    for who in (cast.stranger, cast.former):
        client.cookies.clear()
        await sign_in(client, who)
        response = await client.get(f"/meetings/{meeting_id}")
        assert response.status_code == 404
        assert "BOARD-TITLE" not in response.text


async def test_anonymous_sees_only_the_public_version_once_approved(client, cast):
    meeting_id = await _full_meeting(cast)
    assert (await client.get(f"/public/meetings/{meeting_id}")).status_code == 404
    assert (await client.get(f"/meetings/{meeting_id}")).status_code == 302
    await services.circulate_minutes(meeting_id, await viewer_for(cast.chair))
    await services.approve_minutes(
        meeting_id, Approval(method="circulation"), await viewer_for(cast.chair)
    )
    response = await client.get(f"/public/meetings/{meeting_id}")
    assert response.status_code == 200
    assert (
        "PUBLIC-TITLE" in response.text
        and "PUBLIC-MINUTES" in response.text
        and "PUBLIC-DECISION" in response.text
    )
    # Only the internal item is counted: the Director, who may read this page too, must not
    # learn from the number that board or group items exist.
    assert "1 confidential matter was considered." in response.text
    for secret in (*SECRETS, "INTERNAL-TITLE", "INTERNAL-MINUTES", "INTERNAL-DECISION"):
        assert secret not in response.text


async def test_schedule_form_refuses_bad_input_and_creates_nothing(client, cast):
    await sign_in(client, cast.chair)
    response = await post_form(
        client,
        f"/groups/{cast.slug}/meetings/new",
        {
            "title": "",
            "starts_at": "2026-12-01T10:00",
            "ends_at": "2026-12-01T09:00",
            "location": "",
        },
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "title") == "Title is required."
    assert field_error(response.text, "ends_at") == "The end must be after the start."
    assert await Meeting.count() == 0
    response = await post_form(
        client,
        f"/groups/{cast.slug}/meetings/new",
        {
            "title": "December meeting",
            "starts_at": "2026-12-01T10:00",
            "ends_at": "2026-12-01T12:00",
            "location": "Room 2",
        },
    )
    assert response.status_code == 302
    meeting = found(await Meeting.select().first())
    # Typed in the chair's zone (Europe/London, UTC+0 in December) and stored in UTC.
    assert meeting["starts_at"] == dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


async def test_member_cannot_schedule(client, cast):
    await sign_in(client, cast.member)
    assert (await client.get(f"/groups/{cast.slug}/meetings/new")).status_code == 403
    response = await post_form(
        client,
        f"/groups/{cast.slug}/meetings/new",
        {
            "title": "Mine",
            "starts_at": "2026-12-01T10:00",
            "ends_at": "2026-12-01T12:00",
        },
    )
    assert response.status_code == 403
    assert await Meeting.count() == 0


async def test_agenda_and_decision_forms_show_field_errors(client, cast):
    # In progress: started an hour ago, still scheduled, so it takes decisions.
    started = (utcnow() - dt.timedelta(hours=1)).replace(microsecond=0)
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=started)
    await sign_in(client, cast.chair)
    response = await post_form(
        client, f"/meetings/{meeting_id}/agenda", {"title": "", "visibility": "secret"}
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "title") == "Item title is required."
    assert found(field_error(response.text, "visibility")).startswith("Choose one of")
    assert await AgendaItem.count() == 0
    item_id = await services.add_agenda_item(
        meeting_id,
        AgendaItemDetails(title="Budget", visibility="internal", notes=""),
        await viewer_for(cast.chair),
    )
    response = await post_form(
        client,
        f"/meetings/{meeting_id}/decisions",
        {"agenda_item_id": str(item_id), "text": "", "votes_for": "-1"},
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "text") == "Decision is required."
    assert field_error(response.text, "votes_for") == "Votes for must be between 0 and 1000."
    assert await Decision.count() == 0
    response = await post_form(client, f"/agenda-items/{item_id}/move", {"position": "5"})
    response = await shown_after_refusal(client, response)
    assert "Position must be between 1 and 1" in response.text


async def test_refused_transitions_show_the_reason_and_change_nothing(client, cast):
    meeting_id = await make_meeting(cast.slug, cast.chair)
    await sign_in(client, cast.chair)
    response = await post_form(
        client, f"/meetings/{meeting_id}/minutes/approve", {"method": "circulation"}
    )
    response = await shown_after_refusal(client, response)
    assert "Minutes must be circulated before they can be approved." in response.text
    response = await post_form(client, f"/meetings/{meeting_id}/minutes/circulate")
    response = await shown_after_refusal(client, response)
    assert found(await Minutes.select(Minutes.status).first())["status"] == "draft"


async def test_attendance_form_refuses_a_non_member(client, cast):
    meeting_id = await make_meeting(
        cast.slug, cast.chair, starts_at=(utcnow() - dt.timedelta(days=1)).replace(microsecond=0)
    )
    await sign_in(client, cast.chair)
    response = await post_form(
        client,
        f"/meetings/{meeting_id}/attendance",
        {f"mode_{cast.chair}": "present", f"mode_{cast.stranger}": "present"},
    )
    response = await shown_after_refusal(client, response)
    assert "members of the group on the meeting date can be recorded" in response.text
    assert await Attendance.count() == 0
    response = await post_form(
        client,
        f"/meetings/{meeting_id}/attendance",
        {f"mode_{cast.chair}": "present", "guests": "Dr Guest\n"},
    )
    assert response.status_code == 302
    assert await Attendance.count() == 2


async def _grow(cast, meeting_id: int, factor: int) -> None:
    chair = await viewer_for(cast.chair)
    entries = [AttendanceEntry(user_id=cast.chair, mode="present")]
    for number in range(3 * factor):
        user_id = await make_user(f"extra{factor}-{number}@example.org")
        await make_membership(user_id, cast.group_id, "member", dt.date(2025, 1, 1))
        entries.append(AttendanceEntry(user_id=user_id, mode="present"))
    await services.record_attendance(
        meeting_id,
        AttendanceRecord(entries=entries, guests=[f"Guest {n}" for n in range(factor)]),
        chair,
    )
    items = await AgendaItem.select(AgendaItem.id).where(AgendaItem.meeting == meeting_id)
    for item in items:
        for number in range(factor):
            await services.record_decision(
                meeting_id,
                NewDecision(
                    agenda_item_id=item["id"],
                    text=f"Decision {number}",
                    votes_for=1,
                    votes_against=0,
                    votes_abstain=0,
                ),
                chair,
            )


@pytest.mark.parametrize("who", ["chair", "director"])
async def test_meeting_page_costs_a_fixed_number_of_queries(client, cast, count_queries, who):
    small = await _full_meeting(cast)
    large = await _full_meeting(cast)
    await _grow(cast, small, 1)
    await _grow(cast, large, 10)
    await sign_in(client, getattr(cast, who))
    counts = []
    for meeting_id in (small, large):
        forget_recent_tasks()  # counted as after a change: the navigation read afresh
        with count_queries() as counter:
            response = await client.get(f"/meetings/{meeting_id}")
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    # 18 (two for the decisions taken since the last meeting, resolutions/queries.py), and
    # the navigation's "needs me" count (notifications/needs_me.py).
    assert counts[0] <= 30, counts
