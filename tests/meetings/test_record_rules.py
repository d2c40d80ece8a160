"""The record holds (issue 10): approved minutes lock the whole meeting, decisions need a
meeting held or in progress, votes fit the attendance and carry by the group's rule,
every reader's numbering is contiguous, and the approval names how it was given. Each
through the pages and the API."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import msgspec

from governance.accounts.services import issue_api_token
from governance.core.audit import SYSTEM
from governance.core.clock import organisation_today, utcnow
from governance.groups import services as groups
from governance.groups.queries import group_record
from governance.groups.schemas import GroupDetails
from governance.meetings import services
from governance.meetings.schemas import (
    AgendaItemDetails,
    Approval,
    AttendanceEntry,
    AttendanceRecord,
    NewDecision,
)
from governance.meetings.tables import Decision
from tests.factories import make_meeting, make_membership, make_user, viewer_for
from tests.helpers import post_form, shown_after_refusal, sign_in


def _days_ago(days: float) -> dt.datetime:
    return (utcnow() - dt.timedelta(days=days)).replace(microsecond=0)


async def _held(cast, days_ago: float = 3, present: tuple[int, ...] = ()) -> tuple[int, int]:
    """A held meeting with one internal item and these members present."""
    chair = await viewer_for(cast.chair)
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=_days_ago(days_ago))
    item_id = await services.add_agenda_item(
        meeting_id, AgendaItemDetails(title="Budget", visibility="internal", notes=""), chair
    )
    await services.mark_meeting_held(meeting_id, chair)
    if present:
        entries = [AttendanceEntry(user_id=user, mode="present") for user in present]
        await services.record_attendance(meeting_id, AttendanceRecord(entries=entries), chair)
    return meeting_id, item_id


async def _approved(cast) -> tuple[int, int]:
    chair = await viewer_for(cast.chair)
    meeting_id, item_id = await _held(cast, present=(cast.chair, cast.secretary, cast.member))
    await services.circulate_minutes(meeting_id, chair)
    await services.approve_minutes(meeting_id, Approval(method="circulation"), chair)
    return meeting_id, item_id


# --- 1. approved minutes lock everything ------------------------------------------------


async def test_an_approved_meeting_page_offers_no_form_the_server_would_refuse(client, cast):
    meeting_id, item_id = await _approved(cast)
    await sign_in(client, cast.chair)
    page = (await client.get(f"/meetings/{meeting_id}")).text
    for refused in (
        f"/meetings/{meeting_id}/attendance",
        f"/agenda-items/{item_id}/conflicts",
        f"/agenda-items/{item_id}/open",
        f"/agenda-items/{item_id}/carry",
        f"/meetings/{meeting_id}/decisions",
        f"/meetings/{meeting_id}/edit",
        f'/meetings/{meeting_id}/minutes"',
    ):
        assert refused not in page, refused
    # The erratum, the one change left, is offered.
    assert f"/meetings/{meeting_id}/minutes/errata" in page
    # Nor are the edit, item and minutes forms served.
    for form in (
        f"/meetings/{meeting_id}/edit",
        f"/meetings/{meeting_id}/minutes",
        f"/agenda-items/{item_id}/edit",
    ):
        response = await client.get(form)
        assert response.status_code == 409, form
        assert "approved and locked" in html.unescape(response.text)


async def test_attendance_of_approved_minutes_cannot_flip_the_quorum(client, cast):
    meeting_id, _ = await _approved(cast)
    await sign_in(client, cast.chair)
    before = (await client.get(f"/meetings/{meeting_id}/export/attendance.csv")).content
    response = await post_form(
        client,
        f"/meetings/{meeting_id}/attendance",
        {f"mode_{cast.secretary}": "absent", f"mode_{cast.member}": "absent"},
    )
    response = await shown_after_refusal(client, response)
    assert "approved and locked" in html.unescape(response.text)
    assert (await client.get(f"/meetings/{meeting_id}/export/attendance.csv")).content == before
    token = await issue_api_token("chair@example.org")
    auth = {"Authorization": f"Bearer {token}"}
    response = await client.put(
        f"/api/v1/meetings/{meeting_id}/attendance",
        json={"entries": [{"user_id": cast.secretary, "mode": "absent"}]},
        headers=auth,
    )
    assert response.status_code == 409
    meeting = (await client.get(f"/api/v1/meetings/{meeting_id}", headers=auth)).json()
    assert meeting["quorum"]["met"] is True
    assert meeting["locked"] is True


async def test_a_held_meeting_keeps_its_day_and_so_its_members(client, cast):
    meeting_id, _ = await _held(cast, present=(cast.chair,))
    token = await issue_api_token("chair@example.org")
    auth = {"Authorization": f"Bearer {token}"}
    members = (await client.get(f"/api/v1/meetings/{meeting_id}", headers=auth)).json()["members"]
    far_back = dt.datetime(2020, 1, 1, 10, tzinfo=dt.UTC)
    response = await client.patch(
        f"/api/v1/meetings/{meeting_id}",
        json={
            "starts_at": far_back.isoformat(),
            "ends_at": (far_back + dt.timedelta(hours=1)).isoformat(),
        },
        headers=auth,
    )
    assert response.status_code == 409
    assert "only change while it is scheduled" in response.json()["detail"]
    shown = (await client.get(f"/api/v1/meetings/{meeting_id}", headers=auth)).json()
    assert shown["members"] == members


# --- 3. decisions only at a meeting held or in progress -----------------------------------


async def test_no_decision_on_a_meeting_that_has_not_started(client, cast):
    chair = await viewer_for(cast.chair)
    future = await make_meeting(cast.slug, cast.chair)
    item_id = await services.add_agenda_item(
        future, AgendaItemDetails(title="Plan", visibility="internal", notes=""), chair
    )
    await sign_in(client, cast.chair)
    page = (await client.get(f"/meetings/{future}")).text
    assert f"/meetings/{future}/decisions" not in page
    response = await post_form(
        client, f"/meetings/{future}/decisions", {"agenda_item_id": item_id, "text": "Yes"}
    )
    response = await shown_after_refusal(client, response)
    assert "has not started yet" in response.text
    token = await issue_api_token("chair@example.org")
    response = await client.post(
        f"/api/v1/meetings/{future}/decisions",
        json={"agenda_item_id": item_id, "text": "Yes"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 409
    assert "has not started yet" in response.json()["detail"]
    assert await Decision.count() == 0


async def test_a_decision_at_a_meeting_in_progress_or_held(client, cast):
    chair = await viewer_for(cast.chair)
    in_progress = await make_meeting(cast.slug, cast.chair, starts_at=_days_ago(1 / 24))
    item_id = await services.add_agenda_item(
        in_progress, AgendaItemDetails(title="Plan", visibility="internal", notes=""), chair
    )
    await sign_in(client, cast.chair)
    page = (await client.get(f"/meetings/{in_progress}")).text
    assert f"/meetings/{in_progress}/decisions" in page
    response = await post_form(
        client, f"/meetings/{in_progress}/decisions", {"agenda_item_id": item_id, "text": "Yes"}
    )
    assert response.status_code == 302, response.text
    held, held_item = await _held(cast)
    await services.record_decision(
        held, NewDecision(agenda_item_id=held_item, text="Agreed."), chair
    )
    assert await Decision.count() == 2


# --- 2. votes fit the attendance and carry by the group's rule -----------------------------


async def test_votes_over_the_members_present_are_refused_through_the_page(client, cast):
    meeting_id, item_id = await _held(cast, present=(cast.chair, cast.member))
    await sign_in(client, cast.chair)
    for votes in ({"votes_for": "2", "votes_against": "99"}, {"votes_for": "50"}):
        response = await post_form(
            client,
            f"/meetings/{meeting_id}/decisions",
            {"agenda_item_id": item_id, "text": "Adopt the plan", **votes},
        )
        response = await shown_after_refusal(client, response)
        page = html.unescape(response.text)
        assert "only 2 members were present or remote; guests do not vote" in page
    assert await Decision.count() == 0


async def test_votes_over_the_members_present_are_refused_through_the_api(client, cast):
    # Three members and a guest were there: the guest does not vote.
    meeting_id, item_id = await _held(cast, present=(cast.chair, cast.member, cast.secretary))
    chair = await viewer_for(cast.chair)
    entries = [
        AttendanceEntry(user_id=user, mode="present")
        for user in (cast.chair, cast.member, cast.secretary)
    ]
    await services.record_attendance(
        meeting_id, AttendanceRecord(entries=entries, guests=["A guest"]), chair
    )
    token = await issue_api_token("chair@example.org")
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/meetings/{meeting_id}/decisions"
    for votes in ({"votes_for": 50}, {"votes_for": 2, "votes_against": 1, "votes_abstain": 1}):
        response = await client.post(
            url, json={"agenda_item_id": item_id, "text": "Adopt", **votes}, headers=auth
        )
        assert response.status_code == 422, response.text
        assert "only 3 members were present or remote" in response.json()["errors"]["votes_for"]
    assert await Decision.count() == 0
    response = await client.post(
        url,
        json={"agenda_item_id": item_id, "text": "Adopt", "votes_for": 2, "votes_against": 1},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    assert response.json()["outcome"] == "carried"


async def test_the_outcome_follows_the_groups_rule_in_the_page_and_the_api(client, cast):
    meeting_id, item_id = await _held(cast, present=(cast.chair, cast.member, cast.secretary))
    chair = await viewer_for(cast.chair)
    # Two for, one against: a simple majority carries it, two thirds too; 1-1-1 carries neither.
    await services.record_decision(
        meeting_id,
        NewDecision(agenda_item_id=item_id, text="Two to one", votes_for=2, votes_against=1),
        chair,
    )
    await services.record_decision(
        meeting_id,
        NewDecision(
            agenda_item_id=item_id, text="A split", votes_for=1, votes_against=1, votes_abstain=1
        ),
        chair,
    )
    await services.record_decision(
        meeting_id, NewDecision(agenda_item_id=item_id, text="By consensus"), chair
    )
    token = await issue_api_token("chair@example.org")
    auth = {"Authorization": f"Bearer {token}"}

    async def outcomes() -> list[str | None]:
        shown = await client.get(f"/api/v1/meetings/{meeting_id}", headers=auth)
        return [decision["outcome"] for decision in shown.json()["decisions"]]

    assert await outcomes() == ["carried", "not carried", None]
    await sign_in(client, cast.chair)
    page = (await client.get(f"/meetings/{meeting_id}")).text
    assert page.count('<strong class="outcome">Carried</strong>') == 1
    assert page.count('<strong class="outcome">Not carried</strong>') == 1

    # A group that needs two thirds of the votes cast: three of five carry a decision by a
    # simple majority, not by two thirds.
    extra = await make_user("fifth@example.org", "Fifth Member")
    await make_membership(extra, cast.group_id, "member", organisation_today() - dt.timedelta(30))
    five, five_item = await _held(
        cast, present=(cast.chair, cast.secretary, cast.member, cast.member2, extra)
    )
    await services.record_decision(
        five,
        NewDecision(agenda_item_id=five_item, text="Three of five", votes_for=3, votes_against=2),
        chair,
    )
    shown = await client.get(f"/api/v1/meetings/{five}", headers=auth)
    assert [d["outcome"] for d in shown.json()["decisions"]] == ["carried"]
    record = await group_record(cast.slug)
    details = msgspec.structs.replace(
        GroupDetails(name=record.name, slug=record.slug), **_group_fields(record)
    )
    await groups.update_group(cast.group_id, details, SYSTEM)
    shown = await client.get(f"/api/v1/meetings/{five}", headers=auth)
    assert [d["outcome"] for d in shown.json()["decisions"]] == ["not carried"]
    assert "two thirds of the votes cast" in (await client.get(f"/groups/{cast.slug}")).text
    group = await client.get(f"/api/v1/groups/{cast.slug}", headers=auth)
    assert group.json()["decision_rule"] == "two_thirds"
    # The first meeting's 2-1 is two thirds of its votes: still carried.
    assert await outcomes() == ["carried", "not carried", None]


def _group_fields(record: Any) -> dict[str, Any]:
    return {
        "mandate": record.mandate,
        "quorum_rule": record.quorum_rule,
        "quorum_count": record.quorum_count,
        "decision_rule": "two_thirds",
    }


# --- 6. hidden items leave no gap in any numbering ----------------------------------------


async def _agenda_of_every_kind(cast) -> int:
    """A meeting whose first item is `board` and whose third is `group`."""
    chair = await viewer_for(cast.chair)
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=_days_ago(2))
    for title, visibility in (
        ("Board matter", "board"),
        ("Workload", "internal"),
        ("Group matter", "group"),
        ("Survey", "public"),
    ):
        await services.add_agenda_item(
            meeting_id, AgendaItemDetails(title=title, visibility=visibility, notes=""), chair
        )
    await services.mark_meeting_held(meeting_id, chair)
    return meeting_id


async def test_every_readers_agenda_is_numbered_from_one_without_gaps_in_the_api(client, cast):
    meeting_id = await _agenda_of_every_kind(cast)
    expected = {
        "chair@example.org": ["Board matter", "Workload", "Group matter", "Survey"],
        "director@example.org": ["Workload", "Survey"],
        "board@example.org": ["Board matter", "Workload", "Survey"],
    }
    for email, titles in expected.items():
        token = await issue_api_token(email)
        shown = await client.get(
            f"/api/v1/meetings/{meeting_id}", headers={"Authorization": f"Bearer {token}"}
        )
        agenda = shown.json()["agenda"]
        assert [item["title"] for item in agenda] == titles, email
        assert [item["position"] for item in agenda] == list(range(1, len(titles) + 1)), email


async def test_every_readers_agenda_is_numbered_without_gaps_in_the_pages(client, cast):
    meeting_id = await _agenda_of_every_kind(cast)
    chair = await viewer_for(cast.chair)
    await services.circulate_minutes(meeting_id, chair)
    await services.approve_minutes(meeting_id, Approval(method="circulation"), chair)
    await sign_in(client, cast.director)
    page = (await client.get(f"/meetings/{meeting_id}")).text
    assert "Board matter" not in page and "Group matter" not in page
    printable = (await client.get(f"/meetings/{meeting_id}/export/minutes")).text
    assert "Board matter" not in printable
    assert "1. Workload" in printable and "2. Survey" in printable
    # The public version, which the Director reads too, counts only the internal item.
    public = (await client.get(f"/public/meetings/{meeting_id}")).text
    assert "1 confidential matter was considered." in public


# --- 13. the approval names the approving meeting or the circulation ---------------------


async def _approved_at_a_meeting(cast) -> tuple[int, int]:
    chair = await viewer_for(cast.chair)
    meeting_id, _ = await _held(cast, days_ago=40, present=(cast.chair, cast.member))
    approving_id = await make_meeting(
        cast.slug, cast.chair, title="December review", starts_at=_days_ago(5)
    )
    await services.mark_meeting_held(approving_id, chair)
    await services.circulate_minutes(meeting_id, chair)
    approval = Approval(method="meeting", approving_meeting_id=approving_id)
    await services.approve_minutes(meeting_id, approval, chair)
    return meeting_id, approving_id


def _flat(text: str) -> str:
    return " ".join(html.unescape(text).split())


async def test_the_approving_meeting_is_named_in_every_format(client, cast):
    import io

    import pypdf

    meeting_id, approving_id = await _approved_at_a_meeting(cast)
    token = await issue_api_token("member@example.org")
    shown = await client.get(
        f"/api/v1/meetings/{meeting_id}", headers={"Authorization": f"Bearer {token}"}
    )
    approval = shown.json()["minutes"]["approval"]
    assert approval["method"] == "meeting"
    assert approval["meeting_id"] == approving_id
    assert approval["meeting_title"] == "December review"
    assert approval["meeting_starts_at"]
    assert approval["recorded_by"] == "Chair Person"

    await sign_in(client, cast.member)
    page = _flat((await client.get(f"/meetings/{meeting_id}")).text)
    assert "Approved at the meeting" in page and "December review" in page
    assert f'href="/meetings/{approving_id}"' in page
    assert "by Chair Person" in page
    printable = _flat((await client.get(f"/meetings/{meeting_id}/export/minutes")).text)
    assert "Approved at the meeting “December review” of" in printable
    pdf = (await client.get(f"/meetings/{meeting_id}/export/minutes.pdf")).content
    text = " ".join(
        " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages).split()
    )
    assert "December review" in text
    client.cookies.clear()
    public = _flat((await client.get(f"/public/meetings/{meeting_id}")).text)
    assert "Approved at the meeting “December review” of" in public
    # The public version does not name who recorded it.
    assert "Chair Person" not in public


async def test_an_approval_by_circulation_says_when_it_was_circulated_and_who_recorded_it(
    client, cast
):
    meeting_id, _ = await _approved(cast)
    token = await issue_api_token("member@example.org")
    shown = await client.get(
        f"/api/v1/meetings/{meeting_id}", headers={"Authorization": f"Bearer {token}"}
    )
    approval = shown.json()["minutes"]["approval"]
    assert approval["method"] == "circulation"
    assert approval["circulated_at"] and approval["approved_at"]
    assert approval["meeting_id"] is None
    assert approval["recorded_by"] == "Chair Person"
    await sign_in(client, cast.member)
    page = _flat((await client.get(f"/meetings/{meeting_id}")).text)
    assert "Approved by circulation (circulated" in page
    assert "approval recorded" in page and "by Chair Person" in page
    printable = _flat((await client.get(f"/meetings/{meeting_id}/export/minutes")).text)
    assert "Approved by circulation (circulated" in printable
