"""The meetings JSON API: every route by bearer token and by session (with its CSRF header),
every refused input answered 4xx with a JSON problem and nothing changed, and the visibility
rules: the Director never receives a `board` item, a `group` item never leaves the group."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from governance.accounts.services import issue_api_token
from governance.core.clock import organisation_today, utcnow
from governance.core.tables import AuditEvent, OutboundEmail
from governance.meetings.tables import (
    AgendaItem,
    Attendance,
    Decision,
    Erratum,
    Meeting,
    Minutes,
    MinutesComment,
)
from tests.factories import make_group, make_membership, make_user
from tests.helpers import CSRF_COOKIE, csrf_token, sign_in

PROBLEM = "application/problem+json"
PERSONAS = ("chair", "secretary", "member", "member2", "former", "director", "board", "stranger")


@dataclass
class People:
    group_id: int
    slug: str
    ids: dict[str, int]
    tokens: dict[str, str]

    def auth(self, persona: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[persona]}"}


@pytest.fixture
async def people() -> People:
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    other_group = await make_group(slug="ndi", name="Working Group on NDI")
    today = organisation_today()
    start = today - dt.timedelta(days=200)
    ids = {
        "chair": await make_user("chair@example.org", "Chair Person"),
        "secretary": await make_user("secretary@example.org", "Secretary Person"),
        "member": await make_user("member@example.org", "Member One"),
        "member2": await make_user("member2@example.org", "Member Two"),
        "former": await make_user("former@example.org", "Former Member"),
        "director": await make_user("director@example.org", "The Director", director=True),
        "board": await make_user("board@example.org", "Board Member", board=True),
        "stranger": await make_user("stranger@example.org", "Stranger"),
    }
    await make_membership(ids["chair"], group_id, "chair", start)
    await make_membership(ids["secretary"], group_id, "secretary", start)
    await make_membership(ids["member"], group_id, "member", start)
    await make_membership(ids["member2"], group_id, "member", start)
    await make_membership(ids["former"], group_id, "member", start, today - dt.timedelta(days=100))
    await make_membership(ids["stranger"], other_group, "member", start)
    tokens = {name: await issue_api_token(f"{name}@example.org") for name in PERSONAS}
    return People(group_id, "wellbeing", ids, tokens)


def iso(value: dt.datetime) -> str:
    return value.replace(microsecond=0).isoformat()


def meeting_body(
    days: float = 7, hours: float = 2, title: str = "Monthly meeting"
) -> dict[str, Any]:
    starts = utcnow() + dt.timedelta(days=days)
    return {
        "title": title,
        "starts_at": iso(starts),
        "ends_at": iso(starts + dt.timedelta(hours=hours)),
        "location": "Room 1",
    }


async def schedule(
    client: httpx.AsyncClient, people: People, days: float = 7, title: str = "Monthly meeting"
) -> int:
    response = await client.post(
        f"/api/v1/groups/{people.slug}/meetings",
        json=meeting_body(days, title=title),
        headers=people.auth("chair"),
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def put_agenda(
    client: httpx.AsyncClient, people: People, meeting_id: int, items: list[dict[str, Any]]
) -> httpx.Response:
    return await client.put(
        f"/api/v1/meetings/{meeting_id}/agenda",
        json={"items": items},
        headers=people.auth("chair"),
    )


async def held_meeting_with_agenda(
    client: httpx.AsyncClient, people: People, days: float = -2
) -> tuple[int, dict[str, int]]:
    """A meeting that has taken place, with one item of each visibility; ids by visibility."""
    meeting_id = await schedule(client, people, days=days)
    response = await put_agenda(
        client,
        people,
        meeting_id,
        [
            {"title": f"{v.capitalize()} item", "visibility": v, "notes": f"{v} notes"}
            for v in ("public", "internal", "board", "group")
        ],
    )
    assert response.status_code == 200, response.text
    items = {item["visibility"]: item["id"] for item in response.json()["agenda"]}
    response = await client.patch(
        f"/api/v1/meetings/{meeting_id}", json={"status": "held"}, headers=people.auth("chair")
    )
    assert response.status_code == 200, response.text
    return meeting_id, items


async def snapshot() -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    return {
        "meetings": await Meeting.select().order_by(Meeting.id),
        "items": await AgendaItem.select().order_by(AgendaItem.id),
        "attendance": await Attendance.select().order_by(Attendance.id),
        "minutes": await Minutes.select().order_by(Minutes.id),
        "decisions": await Decision.select().order_by(Decision.id),
        "comments": await MinutesComment.select().order_by(MinutesComment.id),
        "errata": await Erratum.select().order_by(Erratum.id),
        "audit": await AuditEvent.select().order_by(AuditEvent.sequence),
        "outbox": await OutboundEmail.select().order_by(OutboundEmail.id),
    }


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


# --- reading and scheduling -------------------------------------------------------------


async def test_chair_schedules_and_everyone_who_may_reads(client, people):
    response = await client.post(
        "/api/v1/groups/wellbeing/meetings",
        json={
            "title": "  Autumn meeting ",
            "starts_at": "2031-10-01T18:00:00+02:00",
            "ends_at": "2031-10-01T20:00:00+02:00",
            "location": "Room 4",
        },
        headers=people.auth("chair"),
    )
    assert response.status_code == 201, response.text
    meeting = response.json()
    assert response.headers["location"] == f"/api/v1/meetings/{meeting['id']}"
    assert meeting["title"] == "Autumn meeting"
    assert dt.datetime.fromisoformat(meeting["starts_at"]) == dt.datetime(
        2031, 10, 1, 16, tzinfo=dt.UTC
    )
    assert meeting["status"] == "scheduled"
    assert meeting["minutes"]["status"] == "draft"
    assert meeting["can_manage"] is True
    assert meeting["quorum"] == {"members": 4, "counted": 0, "needed": 3, "met": False}
    assert [m["display_name"] for m in meeting["members"]] == [
        "Chair Person",
        "Member One",
        "Member Two",
        "Secretary Person",
    ]

    past_id = await schedule(client, people, days=-30, title="Last month")
    for persona in ("chair", "member", "director", "board"):
        listing = await client.get(
            "/api/v1/groups/wellbeing/meetings", headers=people.auth(persona)
        )
        assert listing.status_code == 200, (persona, listing.text)
        body = listing.json()
        assert body["can_read"] is True
        assert [m["id"] for m in body["upcoming"]] == [meeting["id"]]
        assert [m["id"] for m in body["past"]] == [past_id]
        shown = await client.get(f"/api/v1/meetings/{meeting['id']}", headers=people.auth(persona))
        assert shown.status_code == 200
        assert shown.json()["can_manage"] is (persona == "chair")

    # Someone of another group sees that the group exists, not its proceedings.
    listing = await client.get("/api/v1/groups/wellbeing/meetings", headers=people.auth("stranger"))
    assert listing.json() == {
        "group_slug": "wellbeing",
        "group_name": "Working Group on Wellbeing",
        "can_read": False,
        "upcoming": [],
        "past": [],
        "older": None,
        "newer": None,
    }
    missing = await client.get("/api/v1/groups/nowhere/meetings", headers=people.auth("chair"))
    assert_problem(missing, 404)


async def test_a_meeting_the_caller_cannot_read_is_not_found(client, people):
    meeting_id = await schedule(client, people)
    for persona in ("stranger", "former"):
        hidden = await client.get(f"/api/v1/meetings/{meeting_id}", headers=people.auth(persona))
        missing = await client.get(
            f"/api/v1/meetings/{meeting_id + 1000}", headers=people.auth(persona)
        )
        assert_problem(hidden, 404)
        assert hidden.json() == missing.json()
        # Changes too: no hint that the meeting exists.
        before = await snapshot()
        refused = await client.patch(
            f"/api/v1/meetings/{meeting_id}", json={"title": "Mine"}, headers=people.auth(persona)
        )
        assert_problem(refused, 404)
        assert await snapshot() == before


async def test_only_the_chair_or_secretary_changes_a_meeting(client, people):
    meeting_id = await schedule(client, people)
    before = await snapshot()
    attempts = [
        ("POST", "/api/v1/groups/wellbeing/meetings", meeting_body()),
        ("PATCH", f"/api/v1/meetings/{meeting_id}", {"title": ""}),
        ("PUT", f"/api/v1/meetings/{meeting_id}/agenda", {"items": [{"title": "x"}]}),
        ("PUT", f"/api/v1/meetings/{meeting_id}/attendance", {"entries": [], "guests": []}),
        ("PUT", f"/api/v1/meetings/{meeting_id}/minutes", {"summary": "x"}),
        ("POST", f"/api/v1/meetings/{meeting_id}/minutes/circulate", None),
        ("POST", f"/api/v1/meetings/{meeting_id}/minutes/approve", {"method": "circulation"}),
        ("POST", f"/api/v1/meetings/{meeting_id}/decisions", {"agenda_item_id": 1, "text": "x"}),
    ]
    for persona in ("member", "director", "board"):
        for method, url, body in attempts:
            response = await client.request(method, url, json=body, headers=people.auth(persona))
            assert_problem(response, 403)
    assert await snapshot() == before
    # The secretary may.
    response = await client.patch(
        f"/api/v1/meetings/{meeting_id}",
        json={"location": "Room 9"},
        headers=people.auth("secretary"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["location"] == "Room 9"


async def test_anonymous_gets_401_problem(client, people):
    meeting_id = await schedule(client, people)
    # Unsafe methods without a session meet the CSRF check first; with a valid token, 401.
    csrf = {"x-csrftoken": await csrf_token(client)}
    for method, url in [
        ("GET", "/api/v1/groups/wellbeing/meetings"),
        ("GET", f"/api/v1/meetings/{meeting_id}"),
        ("PATCH", f"/api/v1/meetings/{meeting_id}"),
        ("POST", f"/api/v1/meetings/{meeting_id}/decisions"),
    ]:
        response = await client.request(method, url, json={}, headers=csrf)
        assert_problem(response, 401)
    response = await client.get(
        f"/api/v1/meetings/{meeting_id}", headers={"Authorization": "Bearer gov_not-a-token"}
    )
    assert_problem(response, 401)


# --- the whole life of a meeting, by token and by session ------------------------------


async def test_a_meeting_from_schedule_to_approved_minutes_by_token(client, people):
    meeting_id, items = await held_meeting_with_agenda(client, people)
    auth = people.auth("chair")
    base = f"/api/v1/meetings/{meeting_id}"

    response = await client.put(
        f"{base}/attendance",
        json={
            "entries": [
                {"user_id": people.ids["chair"], "mode": "present"},
                {"user_id": people.ids["secretary"], "mode": "remote"},
                {"user_id": people.ids["member"], "mode": "present"},
                {"user_id": people.ids["member2"], "mode": "apologies"},
            ],
            "guests": ["Visiting Expert", "  "],
        },
        headers=auth,
    )
    assert response.status_code == 200, response.text
    meeting = response.json()
    assert meeting["quorum"] == {"members": 4, "counted": 3, "needed": 3, "met": True}
    assert {(a["display_name"], a["guest_name"], a["mode"]) for a in meeting["attendance"]} == {
        ("Chair Person", None, "present"),
        ("Secretary Person", None, "remote"),
        ("Member One", None, "present"),
        ("Member Two", None, "apologies"),
        (None, "Visiting Expert", "present"),
    }

    response = await client.put(
        f"{base}/minutes",
        json={
            "summary": "A good meeting.",
            "items": {str(item_id): f"Minutes of {v}" for v, item_id in items.items()},
        },
        headers=auth,
    )
    assert response.status_code == 200, response.text
    assert response.json()["minutes"]["summary"] == "A good meeting."

    response = await client.post(
        f"{base}/decisions",
        json={
            "agenda_item_id": items["internal"],
            "text": "Adopt the plan.",
            "votes_for": 2,
            "votes_against": 0,
            "votes_abstain": 1,
        },
        headers=auth,
    )
    assert response.status_code == 201, response.text
    decision = response.json()
    assert decision["agenda_item_id"] == items["internal"]
    assert decision["quorum_met"] is True
    assert (decision["votes_for"], decision["votes_against"], decision["votes_abstain"]) == (
        2,
        0,
        1,
    )
    assert decision["outcome"] == "carried"

    # A member does not read the draft; once circulated they do.
    draft = (await client.get(base, headers=people.auth("member"))).json()
    assert draft["minutes"]["summary"] is None
    assert all(item["minutes"] is None for item in draft["agenda"])

    response = await client.post(f"{base}/minutes/circulate", headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["notified"] == 4
    assert response.json()["meeting"]["minutes"]["status"] == "circulated"
    circulated_emails = OutboundEmail.template == "minutes_circulated"
    assert await OutboundEmail.count().where(circulated_emails) == 4
    circulated = (await client.get(base, headers=people.auth("member"))).json()
    assert circulated["minutes"]["summary"] == "A good meeting."
    assert {item["minutes"] for item in circulated["agenda"]} == {
        "Minutes of public",
        "Minutes of internal",
        "Minutes of board",
        "Minutes of group",
    }

    response = await client.post(
        f"{base}/minutes/approve", json={"method": "circulation"}, headers=auth
    )
    assert response.status_code == 200, response.text
    minutes = response.json()["minutes"]
    assert minutes["status"] == "approved"
    assert minutes["approval_method"] == "circulation"
    assert minutes["approved_at"] is not None
    assert response.json()["decisions"][0]["text"] == "Adopt the plan."


async def test_every_route_by_session_needs_the_csrf_header(client, people):
    await sign_in(client, people.ids["chair"])
    token = await csrf_token(client)
    csrf = {"x-csrftoken": token}
    starts = utcnow() - dt.timedelta(days=1)

    before = await snapshot()
    refused = await client.post("/api/v1/groups/wellbeing/meetings", json=meeting_body())
    assert_problem(refused, 403)
    assert await snapshot() == before

    response = await client.post(
        "/api/v1/groups/wellbeing/meetings",
        json={
            "title": "By session",
            "starts_at": iso(starts),
            "ends_at": iso(starts + dt.timedelta(hours=1)),
        },
        headers=csrf,
    )
    assert response.status_code == 201, response.text
    meeting_id = response.json()["id"]
    base = f"/api/v1/meetings/{meeting_id}"
    assert (await client.get("/api/v1/groups/wellbeing/meetings")).status_code == 200
    assert (await client.get(base)).status_code == 200

    steps: list[tuple[str, str, Any, int]] = [
        ("PUT", f"{base}/agenda", {"items": [{"title": "Welcome", "visibility": "public"}]}, 200),
        ("PATCH", base, {"status": "held"}, 200),
        (
            "PUT",
            f"{base}/attendance",
            {"entries": [{"user_id": people.ids["member"], "mode": "present"}]},
            200,
        ),
        ("PUT", f"{base}/minutes", {"summary": "Short."}, 200),
        ("POST", f"{base}/decisions", {"agenda_item_id": 0, "text": "Yes."}, 201),
        ("POST", f"{base}/minutes/circulate", None, 200),
        ("POST", f"{base}/minutes/approve", {"method": "circulation"}, 200),
    ]
    for method, url, body, status in steps:
        if body and body.get("agenda_item_id") == 0:
            item_id = (await client.get(base)).json()["agenda"][0]["id"]
            body = {**body, "agenda_item_id": item_id}
        before = await snapshot()
        without = await client.request(method, url, json=body)
        assert_problem(without, 403)
        assert await snapshot() == before, (method, url)
        wrong = await client.request(method, url, json=body, headers={"x-csrftoken": "forged"})
        assert_problem(wrong, 403)
        response = await client.request(method, url, json=body, headers=csrf)
        assert response.status_code == status, (method, url, response.text)
    assert (await client.get(base)).json()["minutes"]["status"] == "approved"
    assert client.cookies[CSRF_COOKIE] == token


# --- the agenda -------------------------------------------------------------------------


async def test_agenda_is_replaced_updated_reordered_and_removed(client, people):
    meeting_id = await schedule(client, people)
    response = await put_agenda(
        client,
        people,
        meeting_id,
        [
            {"title": "Welcome", "visibility": "public"},
            {"title": "Budget", "notes": "**Figures**"},
            {"title": "Staff matter", "visibility": "board"},
        ],
    )
    assert response.status_code == 200, response.text
    agenda = response.json()["agenda"]
    assert [(i["position"], i["title"], i["visibility"]) for i in agenda] == [
        (1, "Welcome", "public"),
        (2, "Budget", "internal"),
        (3, "Staff matter", "board"),
    ]
    welcome, budget, staff = (item["id"] for item in agenda)

    # Reorder, rename one, drop one, add one: in list order.
    response = await put_agenda(
        client,
        people,
        meeting_id,
        [
            {"id": staff, "title": "Staff matter", "visibility": "board"},
            {"title": "Any other business", "visibility": "group"},
            {"id": welcome, "title": "Welcome and apologies", "visibility": "public"},
        ],
    )
    assert response.status_code == 200, response.text
    agenda = response.json()["agenda"]
    assert [(i["id"], i["position"], i["title"]) for i in agenda] == [
        (staff, 1, "Staff matter"),
        (agenda[1]["id"], 2, "Any other business"),
        (welcome, 3, "Welcome and apologies"),
    ]
    assert budget not in {i["id"] for i in agenda}
    assert await AgendaItem.count().where(AgendaItem.id == budget) == 0

    # The same by explicit positions.
    response = await put_agenda(
        client,
        people,
        meeting_id,
        [
            {"id": staff, "title": "Staff matter", "visibility": "board", "position": 3},
            {
                "id": agenda[1]["id"],
                "title": "Any other business",
                "visibility": "group",
                "position": 2,
            },
            {
                "id": welcome,
                "title": "Welcome and apologies",
                "visibility": "public",
                "position": 1,
            },
        ],
    )
    assert response.status_code == 200, response.text
    assert [i["id"] for i in response.json()["agenda"]] == [welcome, agenda[1]["id"], staff]

    # An unchanged agenda writes nothing.
    before = await snapshot()
    unchanged = [
        {"id": i["id"], "title": i["title"], "visibility": i["visibility"], "notes": i["notes"]}
        for i in response.json()["agenda"]
    ]
    assert (await put_agenda(client, people, meeting_id, unchanged)).status_code == 200
    assert await snapshot() == before

    # An empty list clears the agenda.
    response = await put_agenda(client, people, meeting_id, [])
    assert response.status_code == 200
    assert response.json()["agenda"] == []


async def test_agenda_refusals_change_nothing(client, people):
    # In progress (started an hour ago): its agenda still changes and it takes decisions.
    meeting_id = await schedule(client, people, days=-1 / 24)
    other_meeting = await schedule(client, people, days=14)
    response = await put_agenda(client, people, meeting_id, [{"title": "One"}, {"title": "Two"}])
    one, two = (item["id"] for item in response.json()["agenda"])
    other_item = (await put_agenda(client, people, other_meeting, [{"title": "Elsewhere"}])).json()[
        "agenda"
    ][0]["id"]
    await client.post(
        f"/api/v1/meetings/{meeting_id}/decisions",
        json={"agenda_item_id": one, "text": "Agreed."},
        headers=people.auth("chair"),
    )

    cases: list[tuple[list[dict[str, Any]], int, str | None]] = [
        # An item moved past the end.
        (
            [
                {"id": one, "title": "One", "position": 1},
                {"id": two, "title": "Two", "position": 3},
            ],
            422,
            "items[1].position",
        ),
        (
            [
                {"id": one, "title": "One", "position": 0},
                {"id": two, "title": "Two", "position": 2},
            ],
            422,
            "items[0].position",
        ),
        (
            [
                {"id": one, "title": "One", "position": 1},
                {"id": two, "title": "Two", "position": 1},
            ],
            422,
            "items[1].position",
        ),
        ([{"id": one, "title": "One", "position": 1}, {"id": two, "title": "Two"}], 422, "items"),
        # Empty title, unknown visibility, an item of another meeting, one twice.
        ([{"id": one, "title": "   "}, {"id": two, "title": "Two"}], 422, "items[0].title"),
        (
            [{"id": one, "title": "One", "visibility": "secret"}, {"id": two, "title": "Two"}],
            422,
            "items[0].visibility",
        ),
        ([{"id": one, "title": "One"}, {"id": other_item, "title": "Two"}], 422, "items[1].id"),
        ([{"id": one, "title": "One"}, {"id": one, "title": "Two"}], 422, "items[1].id"),
        ([{"id": one, "title": "x" * 301}], 422, "items[0].title"),
        (
            [
                {"id": one, "title": "One", "position": 2**70},
                {"id": two, "title": "Two", "position": 1},
            ],
            422,
            "items[0].position",
        ),
        # Removing the item with a decision, even alongside valid changes: all or nothing.
        ([{"id": two, "title": "Two renamed"}, {"title": "New one"}], 409, None),
    ]
    for items, status, field in cases:
        before = await snapshot()
        response = await put_agenda(client, people, meeting_id, items)
        body = assert_problem(response, status)
        if field:
            assert field in body["errors"], body
        assert await snapshot() == before, items

    # Once held, the agenda is fixed.
    await client.patch(
        f"/api/v1/meetings/{meeting_id}",
        json={"starts_at": iso(utcnow() - dt.timedelta(hours=1))},
        headers=people.auth("chair"),
    )
    await client.patch(
        f"/api/v1/meetings/{meeting_id}", json={"status": "held"}, headers=people.auth("chair")
    )
    before = await snapshot()
    response = await put_agenda(client, people, meeting_id, [{"id": one, "title": "One"}])
    assert_problem(response, 409)
    assert await snapshot() == before


# --- the refusals of issue 3 ------------------------------------------------------------


async def test_bad_meeting_input_is_refused_and_changes_nothing(client, people):
    meeting_id = await schedule(client, people)
    url = "/api/v1/groups/wellbeing/meetings"
    starts = utcnow() + dt.timedelta(days=3)
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", url, {**meeting_body(), "title": "  "}, "title"),
        (
            "POST",
            url,
            {
                **meeting_body(),
                "starts_at": iso(starts),
                "ends_at": iso(starts - dt.timedelta(hours=1)),
            },
            "ends_at",
        ),
        ("POST", url, {**meeting_body(), "ends_at": meeting_body()["starts_at"]}, "ends_at"),
        ("POST", url, {**meeting_body(), "title": "x" * 201}, "title"),
        ("POST", url, {**meeting_body(), "location": "x" * 501}, "location"),
        ("POST", url, {**meeting_body(), "title": "Nul\x00byte"}, "title"),
        ("POST", url, {**meeting_body(), "starts_at": "0001-01-01T00:00:00+05:00"}, "starts_at"),
        ("PATCH", f"/api/v1/meetings/{meeting_id}", {"title": ""}, "title"),
        (
            "PATCH",
            f"/api/v1/meetings/{meeting_id}",
            {"ends_at": iso(utcnow() + dt.timedelta(days=6))},
            "ends_at",
        ),
        ("PATCH", f"/api/v1/meetings/{meeting_id}", {"status": "cancelled"}, "cancel_reason"),
        ("PATCH", f"/api/v1/meetings/{meeting_id}", {"status": "scheduled"}, "status"),
        ("PATCH", f"/api/v1/meetings/{meeting_id}", {}, "title"),
        # A valid change with a refused one: neither is made.
        (
            "PATCH",
            f"/api/v1/meetings/{meeting_id}",
            {"title": "New title", "status": "cancelled", "cancel_reason": " "},
            "cancel_reason",
        ),
    ]
    for method, target, body, field in cases:
        before = await snapshot()
        response = await client.request(method, target, json=body, headers=people.auth("chair"))
        problem = assert_problem(response, 422)
        assert field in problem["errors"], (body, problem)
        assert await snapshot() == before, body


async def test_meeting_status_changes(client, people):
    future = await schedule(client, people)
    before = await snapshot()
    response = await client.patch(
        f"/api/v1/meetings/{future}", json={"status": "held"}, headers=people.auth("chair")
    )
    assert_problem(response, 409)  # not yet started
    assert await snapshot() == before

    response = await client.patch(
        f"/api/v1/meetings/{future}",
        json={"status": "cancelled", "cancel_reason": "No quorum expected", "title": "Renamed"},
        headers=people.auth("chair"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "No quorum expected"
    assert response.json()["title"] == "Renamed"

    before = await snapshot()
    for body in (
        {"title": "Again"},
        {"status": "held"},
        {"status": "cancelled", "cancel_reason": "x"},
    ):
        response = await client.patch(
            f"/api/v1/meetings/{future}", json=body, headers=people.auth("chair")
        )
        assert_problem(response, 409)
    assert await snapshot() == before


async def test_attendance_for_a_non_member_is_refused(client, people):
    meeting_id, _ = await held_meeting_with_agenda(client, people)
    url = f"/api/v1/meetings/{meeting_id}/attendance"
    await client.put(
        url,
        json={"entries": [{"user_id": people.ids["member"], "mode": "present"}]},
        headers=people.auth("chair"),
    )
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"entries": [{"user_id": people.ids["stranger"], "mode": "present"}]},
            f"mode_{people.ids['stranger']}",
        ),
        # Membership ended long before the meeting date.
        (
            {"entries": [{"user_id": people.ids["former"], "mode": "present"}]},
            f"mode_{people.ids['former']}",
        ),
        (
            {"entries": [{"user_id": people.ids["member"], "mode": "asleep"}]},
            f"mode_{people.ids['member']}",
        ),
        (
            {
                "entries": [
                    {"user_id": people.ids["member"], "mode": "present"},
                    {"user_id": people.ids["member"], "mode": "absent"},
                ]
            },
            f"mode_{people.ids['member']}",
        ),
        ({"entries": [], "guests": ["x" * 201]}, "guests"),
    ]
    for body, field in cases:
        before = await snapshot()
        response = await client.put(url, json=body, headers=people.auth("chair"))
        problem = assert_problem(response, 422)
        assert field in problem["errors"], problem
        assert await snapshot() == before


async def test_minutes_state_machine_refusals(client, people):
    meeting_id, items = await held_meeting_with_agenda(client, people)
    base = f"/api/v1/meetings/{meeting_id}"
    auth = people.auth("chair")

    async def refused(
        method: str, url: str, body: Any, status: int, field: str | None = None
    ) -> None:
        before = await snapshot()
        problem = assert_problem(await client.request(method, url, json=body, headers=auth), status)
        if field:
            assert field in problem["errors"], problem
        assert await snapshot() == before, (method, url, body)

    # Approving minutes that are not circulated.
    await refused("POST", f"{base}/minutes/approve", {"method": "circulation"}, 409)
    # Minutes for an item of another meeting, and text too long.
    other_id, other_items = await held_meeting_with_agenda(client, people, days=-1)
    await refused("PUT", f"{base}/minutes", {"items": {str(other_items["public"]): "x"}}, 422)
    await refused("PUT", f"{base}/minutes", {"summary": "x" * 50001}, 422, "summary")

    assert (await client.post(f"{base}/minutes/circulate", headers=auth)).status_code == 200
    await refused("POST", f"{base}/minutes/circulate", None, 409)
    # Circulated minutes are not edited in place.
    await refused("PUT", f"{base}/minutes", {"summary": "Changed"}, 409)
    # Approval needs a later, held meeting of the group.
    await refused("POST", f"{base}/minutes/approve", {"method": "by vote"}, 422, "method")
    await refused(
        "POST", f"{base}/minutes/approve", {"method": "meeting"}, 422, "approving_meeting_id"
    )
    await refused(
        "POST",
        f"{base}/minutes/approve",
        {"method": "meeting", "approving_meeting_id": meeting_id},
        422,
        "approving_meeting_id",
    )
    response = await client.post(
        f"{base}/minutes/approve",
        json={"method": "meeting", "approving_meeting_id": other_id},
        headers=auth,
    )
    assert response.status_code == 200, response.text
    assert response.json()["minutes"]["approved_at_meeting_id"] == other_id
    assert response.json()["minutes"]["approval_method"] == "meeting"

    # Editing approved minutes, approving them again, a decision on them.
    await refused(
        "PUT",
        f"{base}/minutes",
        {"summary": "Rewritten", "items": {str(items["public"]): "x"}},
        409,
    )
    await refused("POST", f"{base}/minutes/approve", {"method": "circulation"}, 409)
    await refused(
        "POST", f"{base}/decisions", {"agenda_item_id": items["public"], "text": "Late"}, 409
    )


async def test_decision_refusals(client, people):
    meeting_id = await schedule(client, people, days=-1 / 24)
    item = (await put_agenda(client, people, meeting_id, [{"title": "Plan"}])).json()["agenda"][0][
        "id"
    ]
    other_meeting = await schedule(client, people, days=9)
    other_item = (await put_agenda(client, people, other_meeting, [{"title": "Else"}])).json()[
        "agenda"
    ][0]["id"]
    url = f"/api/v1/meetings/{meeting_id}/decisions"
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        ({"agenda_item_id": item, "text": "  "}, 422, "text"),
        ({"agenda_item_id": item, "text": "Yes", "votes_for": -1}, 422, "votes_for"),
        ({"agenda_item_id": item, "text": "Yes", "votes_against": 1001}, 422, "votes_against"),
        ({"agenda_item_id": other_item, "text": "Yes"}, 422, "agenda_item_id"),
        ({"agenda_item_id": 999999, "text": "Yes"}, 404, None),
        ({"agenda_item_id": item, "text": "Yes", "votes_for": 10**30}, 422, "votes_for"),
    ]
    for body, status, field in cases:
        before = await snapshot()
        problem = assert_problem(
            await client.post(url, json=body, headers=people.auth("chair")), status
        )
        if field:
            assert field in problem["errors"], problem
        assert await snapshot() == before

    # Without quorum the decision is flagged.
    response = await client.post(
        url, json={"agenda_item_id": item, "text": "Go"}, headers=people.auth("chair")
    )
    assert response.status_code == 201
    assert response.json()["quorum_met"] is False

    # A decision on a cancelled meeting.
    await client.patch(
        f"/api/v1/meetings/{meeting_id}",
        json={"status": "cancelled", "cancel_reason": "Postponed"},
        headers=people.auth("chair"),
    )
    before = await snapshot()
    response = await client.post(
        url, json={"agenda_item_id": item, "text": "Late"}, headers=people.auth("chair")
    )
    assert_problem(response, 409)
    assert await snapshot() == before
    # Nor attendance or minutes.
    refused: list[tuple[str, str, dict[str, Any]]] = [
        ("PUT", f"/api/v1/meetings/{meeting_id}/attendance", {"entries": []}),
        ("PUT", f"/api/v1/meetings/{meeting_id}/minutes", {"summary": "x"}),
    ]
    for method, target, body in refused:
        assert_problem(
            await client.request(method, target, json=body, headers=people.auth("chair")), 409
        )
    assert await snapshot() == before


async def test_malformed_bodies_are_400_problems_never_500(client, people):
    meeting_id = await schedule(client, people)
    base = f"/api/v1/meetings/{meeting_id}"
    huge = 2**31
    cases: list[tuple[str, str, Any]] = [
        ("POST", "/api/v1/groups/wellbeing/meetings", {**meeting_body(), "title": 5}),
        ("POST", "/api/v1/groups/wellbeing/meetings", {**meeting_body(), "starts_at": "tomorrow"}),
        (
            "POST",
            "/api/v1/groups/wellbeing/meetings",
            {**meeting_body(), "starts_at": "2031-01-01T10:00"},
        ),
        ("POST", "/api/v1/groups/wellbeing/meetings", {"title": "No times"}),
        ("POST", "/api/v1/groups/wellbeing/meetings", [meeting_body()]),
        ("POST", "/api/v1/groups/wellbeing/meetings", {**meeting_body(), "colour": "red"}),
        ("PATCH", base, {"title": ["a"]}),
        ("PATCH", base, {"status": 1}),
        ("PUT", f"{base}/agenda", [{"title": "bare list"}]),
        ("PUT", f"{base}/agenda", {"items": [{"title": "x", "id": huge}]}),
        ("PUT", f"{base}/agenda", {"items": [{"title": "x", "id": "one"}]}),
        ("PUT", f"{base}/agenda", {"items": [{"title": "x", "position": "first"}]}),
        ("PUT", f"{base}/attendance", {"entries": [{"user_id": huge, "mode": "present"}]}),
        ("PUT", f"{base}/attendance", {"entries": [{"user_id": 1}]}),
        ("PUT", f"{base}/attendance", {"guests": "Alice"}),
        ("PUT", f"{base}/minutes", {"items": {"first": "text"}}),
        ("PUT", f"{base}/minutes", {"items": {str(huge): "text"}}),
        ("PUT", f"{base}/minutes", {"summary": None}),
        ("POST", f"{base}/minutes/approve", {"method": "meeting", "approving_meeting_id": huge}),
        ("POST", f"{base}/minutes/approve", {}),
        ("POST", f"{base}/decisions", {"agenda_item_id": huge, "text": "x"}),
        ("POST", f"{base}/decisions", {"agenda_item_id": 1, "text": "x", "votes_for": "many"}),
        ("POST", f"{base}/decisions", {"agenda_item_id": 1, "text": "x", "votes_for": [1]}),
    ]
    before = await snapshot()
    for method, url, body in cases:
        response = await client.request(method, url, json=body, headers=people.auth("chair"))
        assert_problem(response, 400)
    for method, url in [("POST", "/api/v1/groups/wellbeing/meetings"), ("PUT", f"{base}/agenda")]:
        response = await client.request(
            method,
            url,
            content=b'{"title": ',
            headers={**people.auth("chair"), "content-type": "application/json"},
        )
        assert_problem(response, 400)
    for url in (f"/api/v1/meetings/{huge}", "/api/v1/meetings/0", "/api/v1/meetings/abc"):
        response = await client.get(url, headers=people.auth("chair"))
        assert response.status_code in {400, 404}, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
    assert await snapshot() == before


# --- visibility -------------------------------------------------------------------------


async def test_director_never_receives_a_board_item(client, people):
    meeting_id, items = await held_meeting_with_agenda(client, people)
    base = f"/api/v1/meetings/{meeting_id}"
    auth = people.auth("chair")
    await client.put(
        f"{base}/minutes",
        json={
            "summary": "Summary.",
            "items": {str(i): f"SECRET-{v}-MINUTES" for v, i in items.items()},
        },
        headers=auth,
    )
    for visibility, item_id in items.items():
        response = await client.post(
            f"{base}/decisions",
            json={"agenda_item_id": item_id, "text": f"SECRET-{visibility}-DECISION"},
            headers=auth,
        )
        assert response.status_code == 201

    def readable(persona: str, body: dict[str, Any]) -> set[str]:
        return {item["visibility"] for item in body["agenda"]}

    async def check(stage: str) -> None:
        for persona, expected in [
            ("director", {"public", "internal"}),
            ("board", {"public", "internal", "board"}),
            ("member", {"public", "internal", "board", "group"}),
        ]:
            response = await client.get(base, headers=people.auth(persona))
            assert response.status_code == 200
            body = response.json()
            assert readable(persona, body) == expected, (stage, persona)
            text = response.text
            hidden = {"public", "internal", "board", "group"} - expected
            for visibility in hidden:
                assert f"{visibility.capitalize()} item" not in text, (stage, persona)
                assert f"{visibility} notes" not in text
                assert f"SECRET-{visibility}" not in text
                assert str(items[visibility]) not in {
                    str(d["agenda_item_id"]) for d in body["decisions"]
                }
            assert len(body["decisions"]) == len(expected)
            # Nothing counts or hints at what is hidden.
            assert "hidden" not in text

    await check("draft")
    await client.post(f"{base}/minutes/circulate", headers=auth)
    await check("circulated")
    await client.post(f"{base}/minutes/approve", json={"method": "circulation"}, headers=auth)
    await check("approved")

    # The Director cannot reach a board item through another route either.
    director = people.auth("director")
    before = await snapshot()
    response = await client.post(
        f"{base}/decisions", json={"agenda_item_id": items["board"], "text": "x"}, headers=director
    )
    assert_problem(response, 403)
    assert await snapshot() == before


async def test_openapi_lists_the_meeting_routes(client, people):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    expected = {
        "/api/v1/groups/{slug}/meetings": {"get", "post"},
        "/api/v1/meetings/{meeting_id}": {"get", "patch"},
        "/api/v1/meetings/{meeting_id}/agenda": {"put"},
        "/api/v1/meetings/{meeting_id}/attendance": {"put"},
        "/api/v1/meetings/{meeting_id}/minutes": {"put"},
        "/api/v1/meetings/{meeting_id}/minutes/circulate": {"post"},
        "/api/v1/meetings/{meeting_id}/minutes/approve": {"post"},
        "/api/v1/meetings/{meeting_id}/decisions": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, sorted(paths)
        assert methods <= set(paths[path]), (path, paths[path].keys())
        for method in methods:
            operation = paths[path][method]
            assert operation["security"] == [{"bearer": []}]
            assert "meetings" in operation["tags"]
    create = paths["/api/v1/groups/{slug}/meetings"]["post"]
    assert "201" in create["responses"]
    assert "requestBody" in create
    assert json.dumps(schema)  # the whole document serialises


async def test_text_the_database_cannot_store_is_refused(client, people):
    """PostgreSQL refuses NUL in text; the API answers 422 instead of failing with a 500."""
    meeting_id, items = await held_meeting_with_agenda(client, people)
    scheduled = await schedule(client, people, days=5)
    base = f"/api/v1/meetings/{meeting_id}"
    nul = "bad\x00text"
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        (
            "PUT",
            f"/api/v1/meetings/{scheduled}/agenda",
            {"items": [{"title": nul}]},
            "items[0].title",
        ),
        (
            "PUT",
            f"/api/v1/meetings/{scheduled}/agenda",
            {"items": [{"title": "x", "notes": nul}]},
            "items[0].notes",
        ),
        ("PATCH", f"/api/v1/meetings/{scheduled}", {"location": nul}, "location"),
        (
            "PATCH",
            f"/api/v1/meetings/{scheduled}",
            {"status": "cancelled", "cancel_reason": nul},
            "cancel_reason",
        ),
        ("PUT", f"{base}/attendance", {"guests": [nul]}, "guests"),
        ("PUT", f"{base}/minutes", {"summary": nul}, "summary"),
        (
            "PUT",
            f"{base}/minutes",
            {"items": {str(items["public"]): nul}},
            f"item_{items['public']}",
        ),
        ("POST", f"{base}/decisions", {"agenda_item_id": items["public"], "text": nul}, "text"),
    ]
    for method, url, body, field in cases:
        before = await snapshot()
        response = await client.request(method, url, json=body, headers=people.auth("chair"))
        problem = assert_problem(response, 422)
        assert field in problem["errors"], (body, problem)
        assert await snapshot() == before
    response = await client.get("/api/v1/groups/bad%00slug/meetings", headers=people.auth("chair"))
    assert response.status_code in {400, 404}, response.text


# --- the notice and its replies ---------------------------------------------------------


async def test_the_notice_is_sent_replied_to_and_read_by_api(client, people):
    meeting_id = await schedule(client, people, days=5)
    base = f"/api/v1/meetings/{meeting_id}"
    before = await snapshot()
    for persona in ("member", "director", "board"):
        assert_problem(await client.post(f"{base}/notice", headers=people.auth(persona)), 403)
    assert_problem(await client.post(f"{base}/notice", headers=people.auth("stranger")), 404)
    assert await snapshot() == before

    sent = await client.post(f"{base}/notice", headers=people.auth("chair"))
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert body["told"] == 4
    assert body["replies"]["notice_sent_at"] is not None
    assert {row["mode"] for row in body["replies"]["replies"]} == {None}
    again = assert_problem(await client.post(f"{base}/notice", headers=people.auth("chair")), 409)
    assert "already sent" in again["detail"]

    for persona, mode in (("member", "apologies"), ("member2", "remote"), ("chair", "attending")):
        response = await client.put(
            f"{base}/reply", json={"mode": mode}, headers=people.auth(persona)
        )
        assert response.status_code == 200, response.text
        assert response.json()["my_reply"] == mode
    replies = await client.get(f"{base}/replies", headers=people.auth("director"))
    assert replies.status_code == 200, replies.text
    view = replies.json()
    assert view["my_reply"] is None and view["open"] is True
    by_name = {row["display_name"]: row["mode"] for row in view["replies"]}
    assert by_name == {
        "Chair Person": "attending",
        "Member One": "apologies",
        "Member Two": "remote",
        "Secretary Person": None,
    }
    assert view["expected"] == {
        "members": 4,
        "expected": 2,
        "apologies": 1,
        "needed": view["expected"]["needed"],
        "met": view["expected"]["needed"] <= 2,
        "notice_sent_at": view["notice_sent_at"],
    }
    page = (await client.get(base, headers=people.auth("chair"))).json()
    assert page["expected"] == view["expected"]


async def test_notice_reply_refusals_are_problems_and_change_nothing(client, people):
    meeting_id = await schedule(client, people, days=5)
    base = f"/api/v1/meetings/{meeting_id}"
    await client.post(f"{base}/notice", headers=people.auth("chair"))
    before = await snapshot()
    bad = assert_problem(
        await client.put(f"{base}/reply", json={"mode": "maybe"}, headers=people.auth("member")),
        422,
    )
    assert "mode" in json.dumps(bad)
    wrong_shape = await client.put(
        f"{base}/reply", json={"mode": "attending", "extra": 1}, headers=people.auth("member")
    )
    assert_problem(wrong_shape, 400)
    # Not a member on the meeting date: the Director reads the meeting but does not reply.
    assert_problem(
        await client.put(
            f"{base}/reply", json={"mode": "attending"}, headers=people.auth("director")
        ),
        403,
    )
    for persona in ("stranger", "former"):
        hidden = await client.get(f"{base}/replies", headers=people.auth(persona))
        missing = await client.get(
            f"/api/v1/meetings/{meeting_id + 1000}/replies", headers=people.auth(persona)
        )
        assert_problem(hidden, 404)
        assert hidden.json() == missing.json()
        assert_problem(
            await client.put(
                f"{base}/reply", json={"mode": "attending"}, headers=people.auth(persona)
            ),
            404,
        )
    assert await snapshot() == before

    past = await schedule(client, people, days=-1)
    refused = await client.put(
        f"/api/v1/meetings/{past}/reply", json={"mode": "attending"}, headers=people.auth("member")
    )
    assert_problem(refused, 409)
    assert_problem(
        await client.post(f"/api/v1/meetings/{past}/notice", headers=people.auth("chair")), 409
    )
    csrf = {"x-csrftoken": await csrf_token(client)}
    assert_problem(await client.get(f"{base}/replies", headers=csrf), 401)
