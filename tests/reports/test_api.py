"""The reports and deliveries JSON API: the whole flow by bearer token and by session (with
its CSRF header), every refusal of issue 4 answered 4xx with a JSON problem and nothing
changed, no route that changes a submitted report, and the independence channel: the
Director never receives a Board-only report, not in a list, a count or by its id."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import time_machine

from governance.accounts.services import issue_api_token
from governance.accounts.tables import User
from governance.actions import services as actions
from governance.actions.schemas import StatusChange
from governance.actions.tables import ActionItem, ActionOwner
from governance.core.clock import organisation_today
from governance.core.tables import AuditEvent, OutboundEmail
from governance.reports.tables import Delivery, Report
from tests.factories import make_group, make_membership, make_user, viewer_for
from tests.helpers import CSRF_COOKIE, csrf_token, found, sign_in

PROBLEM = "application/problem+json"
PERSONAS = (
    "chair",
    "secretary",
    "member",
    "member2",
    "former",
    "director",
    "board",
    "board2",
    "stranger",
)
HUGE = 2**31


@dataclass
class People:
    slug: str
    ids: dict[str, int]
    tokens: dict[str, str]

    def auth(self, persona: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[persona]}"}


@pytest.fixture
async def people(cast) -> People:
    ids = {persona: getattr(cast, persona) for persona in PERSONAS}
    tokens = {persona: await issue_api_token(f"{persona}@example.org") for persona in PERSONAS}
    return People(cast.slug, ids, tokens)


def recommendation(
    title: str = "Flexible hours", route: str = "both", body: str = "We recommend **it**."
) -> dict[str, Any]:
    return {"kind": "recommendation", "title": title, "body": body, "route": route}


def due(days: int = 14) -> str:
    return (organisation_today() + dt.timedelta(days=days)).isoformat()


async def draft(
    client: httpx.AsyncClient, people: People, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/groups/{people.slug}/reports",
        json=body or recommendation(),
        headers=people.auth("chair"),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def submitted(
    client: httpx.AsyncClient, people: People, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    report = await draft(client, people, body)
    response = await client.post(
        f"/api/v1/reports/{report['id']}/submit", headers=people.auth("chair")
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def delivery_id(report: dict[str, Any], recipient: str) -> int:
    return next(int(d["id"]) for d in report["deliveries"] if d["recipient"] == recipient)


async def snapshot() -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    return {
        "reports": await Report.select().order_by(Report.id),
        "deliveries": await Delivery.select().order_by(Delivery.id),
        "actions": await ActionItem.select().order_by(ActionItem.id),
        "owners": await ActionOwner.select().order_by(ActionOwner.id),
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


async def events(action: str) -> int:
    return int(await AuditEvent.count().where(AuditEvent.action == action))


# --- the whole flow ---------------------------------------------------------------------


async def test_a_recommendation_from_draft_to_both_responses_by_token(client, people):
    response = await client.post(
        "/api/v1/groups/wellbeing/reports",
        json={
            "kind": "recommendation",
            "title": "  Flexible hours ",
            "body": "We recommend **flexible hours**.\n\n<script>alert(1)</script>",
            "route": "both",
        },
        headers=people.auth("chair"),
    )
    assert response.status_code == 201, response.text
    report = response.json()
    report_id = report["id"]
    assert response.headers["location"] == f"/api/v1/reports/{report_id}"
    assert (report["title"], report["status"], report["route"]) == (
        "Flexible hours",
        "draft",
        "both",
    )
    assert report["kind"] == "recommendation" and report["period"] is None
    assert (report["to_director"], report["to_board"], report["visibility"]) == (
        True,
        True,
        "internal",
    )
    assert report["content_hash"] is None and report["submitted_at"] is None
    assert report["can_submit"] is True
    assert report["deliveries"] == []
    assert "<strong>flexible hours</strong>" in report["body_html"]
    assert "<script>" not in report["body_html"]
    assert report["created_by_name"] == "Chair Person"

    # A draft is the group's own business.
    assert (await client.get(f"/api/v1/reports/{report_id}", headers=people.auth("member"))).json()[
        "can_submit"
    ] is False
    hidden = await client.get(f"/api/v1/reports/{report_id}", headers=people.auth("director"))
    missing = await client.get(
        f"/api/v1/reports/{report_id + 100}", headers=people.auth("director")
    )
    assert_problem(hidden, 404)
    assert hidden.json() == missing.json()

    response = await client.post(
        f"/api/v1/reports/{report_id}/submit", headers=people.auth("chair")
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] == "submitted"
    assert len(report["content_hash"]) == 64
    assert report["submitted_by_name"] == "Chair Person"
    assert report["can_submit"] is False
    assert [(d["recipient"], d["state"]) for d in report["deliveries"]] == [
        ("director", "delivered"),
        ("board", "delivered"),
    ]
    for delivery in report["deliveries"]:
        assert delivery["response_due_on"] == due(30)
        assert delivery["days_left"] == 30
        assert delivery["is_overdue"] is False
        assert delivery["read_by"] is None and delivery["response"] is None
        assert delivery["can_act"] is False
    director_delivery = delivery_id(report, "director")
    board_delivery = delivery_id(report, "board")
    assert await OutboundEmail.count().where(OutboundEmail.template == "report_delivered") == 3

    # Reading it as the Director records the Director line's read receipt, and only that.
    response = await client.get(f"/api/v1/reports/{report_id}", headers=people.auth("director"))
    assert response.status_code == 200
    by_line = {d["recipient"]: d for d in response.json()["deliveries"]}
    assert by_line["director"]["state"] == "read"
    assert by_line["director"]["read_by"] == {
        "user_id": people.ids["director"],
        "display_name": "The Director",
    }
    assert by_line["director"]["can_act"] is True
    assert (by_line["board"]["state"], by_line["board"]["can_act"]) == ("delivered", False)

    inbox = await client.get("/api/v1/deliveries", headers=people.auth("director"))
    assert inbox.status_code == 200
    assert [(d["id"], d["state"], d["can_act"]) for d in inbox.json()["deliveries"]] == [
        (director_delivery, "read", True),
        (board_delivery, "delivered", False),
    ]

    # The Director acknowledges, then responds with an action.
    response = await client.post(
        f"/api/v1/deliveries/{director_delivery}/acknowledge", headers=people.auth("director")
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "acknowledged"
    assert response.json()["acknowledged_by"]["user_id"] == people.ids["director"]
    response = await client.post(
        f"/api/v1/deliveries/{director_delivery}/respond",
        json={
            "response": "accepted",
            "rationale": "We will pilot it.",
            "actions": [
                {
                    "title": "Pilot flexible hours",
                    "due_on": due(20),
                    "owner_ids": [people.ids["director"]],
                }
            ],
        },
        headers=people.auth("director"),
    )
    assert response.status_code == 201, response.text
    delivery = response.json()
    assert (delivery["state"], delivery["response"], delivery["rationale"]) == (
        "responded",
        "accepted",
        "We will pilot it.",
    )
    assert delivery["responded_by"]["display_name"] == "The Director"
    assert [(a["title"], a["status"], a["due_on"]) for a in delivery["actions"]] == [
        ("Pilot flexible hours", "open", due(20))
    ]
    assert delivery["actions"][0]["owners"] == [
        {"user_id": people.ids["director"], "display_name": "The Director"}
    ]

    # Any Board member acts for the Board line, and the record names who.
    response = await client.post(
        f"/api/v1/deliveries/{board_delivery}/acknowledge", headers=people.auth("board2")
    )
    assert response.status_code == 200, response.text
    # The Board's response is a resolution: one member proposes, another concurs.
    response = await client.post(
        f"/api/v1/deliveries/{board_delivery}/proposal",
        json={
            "response": "partially_accepted",
            "rationale": "Only for some teams.",
            "actions": [
                {
                    "title": "List the teams",
                    "description": "Which teams can work flexibly.",
                    "due_on": due(0),
                    "owner_ids": [people.ids["member"], people.ids["chair"], people.ids["member"]],
                }
            ],
        },
        headers=people.auth("board"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "acknowledged"
    proposal_id = response.json()["proposal"]["id"]
    response = await client.post(
        f"/api/v1/board-proposals/{proposal_id}/concur", headers=people.auth("board2")
    )
    assert response.status_code == 200, response.text
    board_answer = response.json()
    assert board_answer["resolution"]["proposed_by"]["user_id"] == people.ids["board"]
    assert [p["user_id"] for p in board_answer["resolution"]["concurred_by"]] == [
        people.ids["board2"]
    ]
    assert board_answer["acknowledged_by"]["user_id"] == people.ids["board2"]
    assert board_answer["responded_by"]["user_id"] == people.ids["board"]
    assert board_answer["read_by"]["user_id"] == people.ids["board2"]
    assert {o["user_id"] for o in board_answer["actions"][0]["owners"]} == {
        people.ids["member"],
        people.ids["chair"],
    }

    # The chair sees both responses and the actions that came of them.
    response = await client.get(f"/api/v1/reports/{report_id}", headers=people.auth("chair"))
    trail = response.json()
    by_line = {d["recipient"]: d for d in trail["deliveries"]}
    assert (by_line["director"]["response"], by_line["board"]["response"]) == (
        "accepted",
        "partially_accepted",
    )
    assert [a["title"] for a in by_line["director"]["actions"]] == ["Pilot flexible hours"]
    assert [a["title"] for a in by_line["board"]["actions"]] == ["List the teams"]
    assert trail["closed"] is False
    # Closed when every action is done or dropped.
    await actions.update_status(
        by_line["director"]["actions"][0]["id"],
        StatusChange(status="done", note=""),
        await viewer_for(people.ids["director"]),
    )
    await actions.update_status(
        by_line["board"]["actions"][0]["id"],
        StatusChange(status="dropped", note="Not needed"),
        await viewer_for(people.ids["chair"]),
    )
    trail = (await client.get(f"/api/v1/reports/{report_id}", headers=people.auth("chair"))).json()
    assert trail["closed"] is True

    listing = (
        await client.get("/api/v1/groups/wellbeing/reports", headers=people.auth("chair"))
    ).json()
    assert listing["can_draft"] is True
    assert [(r["id"], r["status"]) for r in listing["reports"]] == [(report_id, "submitted")]
    assert {
        (d["recipient"], d["state"], d["response"]) for d in listing["reports"][0]["deliveries"]
    } == {
        ("director", "responded", "accepted"),
        ("board", "responded", "partially_accepted"),
    }
    for action in (
        "report.drafted",
        "report.submitted",
        "delivery.read",
    ):
        assert await events(action) == 1, action
    assert await events("delivery.acknowledged") == 2
    assert await events("delivery.responded") == 2
    told = {
        r["recipient"]
        for r in await OutboundEmail.select(OutboundEmail.recipient).where(
            OutboundEmail.template == "delivery_responded"
        )
    }
    # Every current member of the group is told, not only its leads (issue 13).
    assert told == {
        "chair@example.org",
        "secretary@example.org",
        "member@example.org",
        "member2@example.org",
    }


async def test_the_flow_by_session_needs_the_csrf_header(client, people):
    await sign_in(client, people.ids["chair"])
    token = await csrf_token(client)
    csrf = {"x-csrftoken": token}

    async def refused_without_csrf(url: str, body: Any = None) -> None:
        before = await snapshot()
        assert_problem(await client.post(url, json=body), 403)
        assert_problem(await client.post(url, json=body, headers={"x-csrftoken": "forged"}), 403)
        assert await snapshot() == before, url

    await refused_without_csrf("/api/v1/groups/wellbeing/reports", recommendation())
    response = await client.post(
        "/api/v1/groups/wellbeing/reports", json=recommendation("By session"), headers=csrf
    )
    assert response.status_code == 201, response.text
    report_id = response.json()["id"]
    assert (await client.get("/api/v1/groups/wellbeing/reports")).status_code == 200
    assert (await client.get(f"/api/v1/reports/{report_id}")).status_code == 200

    await refused_without_csrf(f"/api/v1/reports/{report_id}/submit")
    response = await client.post(f"/api/v1/reports/{report_id}/submit", headers=csrf)
    assert response.status_code == 200, response.text
    report = response.json()

    for persona in ("director", "board"):
        await sign_in(client, people.ids[persona])
        line_delivery = delivery_id(report, persona)
        assert (await client.get("/api/v1/deliveries", params={"line": persona})).status_code == 200
        await refused_without_csrf(f"/api/v1/deliveries/{line_delivery}/acknowledge")
        response = await client.post(
            f"/api/v1/deliveries/{line_delivery}/acknowledge", headers=csrf
        )
        assert response.status_code == 200, response.text
        body = {"response": "noted", "rationale": ""}
        verb = "respond" if persona == "director" else "proposal"
        await refused_without_csrf(f"/api/v1/deliveries/{line_delivery}/{verb}", body)
        response = await client.post(
            f"/api/v1/deliveries/{line_delivery}/{verb}", json=body, headers=csrf
        )
        assert response.status_code == 201, response.text
        if persona == "director":
            assert response.json()["responded_by"]["user_id"] == people.ids[persona]
        else:
            assert response.json()["proposal"]["proposed_by"]["user_id"] == people.ids[persona]
    states = {d["recipient"]: d["state"] for d in await Delivery.select()}
    # The Board line waits for another member's concurrence.
    assert states == {"director": "responded", "board": "acknowledged"}
    assert client.cookies[CSRF_COOKIE] == token


async def test_anonymous_gets_401_problem(client, people):
    report = await submitted(client, people)
    csrf = {"x-csrftoken": await csrf_token(client)}
    for method, url in [
        ("GET", "/api/v1/groups/wellbeing/reports"),
        ("POST", "/api/v1/groups/wellbeing/reports"),
        ("GET", f"/api/v1/reports/{report['id']}"),
        ("POST", f"/api/v1/reports/{report['id']}/submit"),
        ("GET", "/api/v1/deliveries"),
        ("POST", f"/api/v1/deliveries/{delivery_id(report, 'board')}/acknowledge"),
        ("POST", f"/api/v1/deliveries/{delivery_id(report, 'board')}/respond"),
    ]:
        response = await client.request(method, url, json={}, headers=csrf)
        assert_problem(response, 401)
    response = await client.get(
        "/api/v1/deliveries", headers={"Authorization": "Bearer gov_not-a-token"}
    )
    assert_problem(response, 401)


# --- the refusals of issue 4 ------------------------------------------------------------


async def test_submitting_an_empty_report_is_refused_and_delivers_nothing(client, people):
    report = await draft(client, people, recommendation(body="   \n "))
    before = await snapshot()
    response = await client.post(
        f"/api/v1/reports/{report['id']}/submit", headers=people.auth("chair")
    )
    problem = assert_problem(response, 422)
    assert "body" in problem["errors"]
    assert problem["detail"] == "An empty report cannot be submitted."
    assert await snapshot() == before
    assert await Delivery.count() == 0


async def test_declining_without_a_rationale_is_refused(client, people):
    report = await submitted(client, people)
    director_delivery = delivery_id(report, "director")
    before = await snapshot()
    for body in (
        {"response": "declined"},
        {"response": "declined", "rationale": "   "},
        {"response": "partially_accepted", "rationale": ""},
    ):
        response = await client.post(
            f"/api/v1/deliveries/{director_delivery}/respond",
            json=body,
            headers=people.auth("director"),
        )
        problem = assert_problem(response, 422)
        assert "rationale" in problem["errors"], problem
    assert await snapshot() == before
    response = await client.post(
        f"/api/v1/deliveries/{director_delivery}/respond",
        json={"response": "declined", "rationale": "Not affordable this year."},
        headers=people.auth("director"),
    )
    assert response.status_code == 201, response.text


async def test_responding_twice_is_refused(client, people):
    report = await submitted(client, people)
    board_delivery = delivery_id(report, "board")
    response = await client.post(
        f"/api/v1/deliveries/{board_delivery}/proposal",
        json={"response": "accepted", "rationale": "Agreed."},
        headers=people.auth("board"),
    )
    assert response.status_code == 201
    proposal_id = response.json()["proposal"]["id"]
    response = await client.post(
        f"/api/v1/board-proposals/{proposal_id}/concur", headers=people.auth("board2")
    )
    assert response.json()["state"] == "responded"
    before = await snapshot()
    # By anyone on the line, with any body, valid or not.
    for persona, body in (
        ("board", {"response": "declined", "rationale": "Changed our mind."}),
        ("board2", {"response": "noted"}),
        ("board2", {"response": "declined"}),
    ):
        response = await client.post(
            f"/api/v1/deliveries/{board_delivery}/respond", json=body, headers=people.auth(persona)
        )
        assert "already responded" in assert_problem(response, 409)["detail"]
    # Nor is an answered delivery acknowledged again.
    response = await client.post(
        f"/api/v1/deliveries/{board_delivery}/acknowledge", headers=people.auth("board2")
    )
    assert_problem(response, 409)
    assert await snapshot() == before
    assert (
        found(
            await Delivery.select(Delivery.response).where(Delivery.id == board_delivery).first()
        )["response"]
        == "accepted"
    )


async def test_nobody_acts_on_the_other_lines_delivery(client, people):
    report = await submitted(client, people)
    director_delivery = delivery_id(report, "director")
    board_delivery = delivery_id(report, "board")
    attempts = [
        ("director", board_delivery),
        ("board", director_delivery),
        ("board2", director_delivery),
        ("chair", director_delivery),
        ("chair", board_delivery),
        ("member", board_delivery),
    ]
    before = await snapshot()
    for persona, target in attempts:
        for action, body in (
            ("acknowledge", None),
            ("respond", {"response": "accepted", "rationale": "Fine."}),
            # Refused as not theirs before the body is looked at.
            ("respond", {"response": "declined"}),
        ):
            response = await client.post(
                f"/api/v1/deliveries/{target}/{action}", json=body, headers=people.auth(persona)
            )
            assert_problem(response, 403)
    assert await snapshot() == before
    # Someone who may not read the report at all gets 404, as for a delivery that does not exist.
    for persona in ("stranger", "former"):
        for target in (director_delivery, board_delivery):
            response = await client.post(
                f"/api/v1/deliveries/{target}/acknowledge", headers=people.auth(persona)
            )
            missing = await client.post(
                f"/api/v1/deliveries/{target + 100}/acknowledge", headers=people.auth(persona)
            )
            assert_problem(response, 404)
            assert response.json() == missing.json()
    assert await snapshot() == before
    assert {d["state"] for d in await Delivery.select(Delivery.state)} == {"delivered"}


async def test_director_gets_404_for_a_board_only_report_exactly_as_for_a_missing_one(
    client, people
):
    hidden = await submitted(client, people, recommendation("SECRET-TITLE", "board", "SECRET"))
    assert [d["recipient"] for d in hidden["deliveries"]] == ["board"]
    assert hidden["visibility"] == "board"
    board_delivery = delivery_id(hidden, "board")
    director = people.auth("director")
    before = await snapshot()
    response = await client.get(f"/api/v1/reports/{hidden['id']}", headers=director)
    missing = await client.get("/api/v1/reports/99999", headers=director)
    assert_problem(response, 404)
    assert response.json() == missing.json()
    assert response.headers["content-type"] == missing.headers["content-type"]
    for action, body in (
        ("acknowledge", None),
        ("respond", {"response": "noted"}),
        ("respond", {"response": "declined"}),
    ):
        response = await client.post(
            f"/api/v1/deliveries/{board_delivery}/{action}", json=body, headers=director
        )
        missing = await client.post(
            f"/api/v1/deliveries/{board_delivery + 100}/{action}", json=body, headers=director
        )
        assert_problem(response, 404)
        assert response.json() == missing.json()
    for url in ("/api/v1/groups/wellbeing/reports", "/api/v1/deliveries"):
        response = await client.get(url, headers=director)
        assert response.status_code == 200
        assert "SECRET" not in response.text
    assert await snapshot() == before
    # The Board reads it, and the read receipt is recorded on the Board line.
    response = await client.get(f"/api/v1/reports/{hidden['id']}", headers=people.auth("board"))
    assert response.status_code == 200
    assert response.json()["deliveries"][0]["state"] == "read"


@pytest.mark.parametrize("who", ["chair", "secretary", "director", "board"])
async def test_no_route_changes_a_submitted_report(client, people, who):
    report = await submitted(client, people)
    report_id = report["id"]
    # Admins included.
    await User.update({User.is_admin: True}).where(User.id == people.ids[who])
    auth = people.auth(who)
    new_text = recommendation("Rewritten", "board", "Other text")
    before = await snapshot()
    for method in ("PATCH", "PUT", "DELETE", "POST"):
        response = await client.request(
            method, f"/api/v1/reports/{report_id}", json=new_text, headers=auth
        )
        assert_problem(response, 405)
    for method in ("PATCH", "PUT", "DELETE"):
        response = await client.request(
            method, f"/api/v1/reports/{report_id}/submit", json=new_text, headers=auth
        )
        assert_problem(response, 405)
    response = await client.post(f"/api/v1/reports/{report_id}/submit", headers=auth)
    assert "never be changed" in assert_problem(response, 409)["detail"]
    # A follow-up is a new report; it does not touch the one it follows.
    assert await snapshot() == before
    if who in ("chair", "secretary"):
        response = await client.post(
            "/api/v1/groups/wellbeing/reports",
            json={**recommendation("Follow-up"), "follows_up": report_id},
            headers=auth,
        )
        assert response.status_code == 201, response.text
        assert response.json()["follows_up"] == report_id
    after = await Report.select().where(Report.id == report_id).first()
    assert after == before["reports"][0]


async def test_a_due_date_in_the_past_on_an_action_is_refused(client, people):
    report = await submitted(client, people)
    director_delivery = delivery_id(report, "director")
    before = await snapshot()
    response = await client.post(
        f"/api/v1/deliveries/{director_delivery}/respond",
        json={
            "response": "accepted",
            "rationale": "Yes.",
            "actions": [
                {"title": "On time", "due_on": due(5), "owner_ids": [people.ids["director"]]},
                {"title": "Too late", "due_on": due(-1), "owner_ids": [people.ids["director"]]},
            ],
        },
        headers=people.auth("director"),
    )
    problem = assert_problem(response, 422)
    assert problem["errors"] == {"actions[1].due_on": "The due date cannot be in the past."}
    assert await snapshot() == before
    assert await ActionItem.count() == 0


# --- other bad input --------------------------------------------------------------------


async def test_bad_drafts_are_refused_with_the_forms_messages(client, people):
    other_group = await make_group(slug="elsewhere")
    other_chair = await make_user("elsewhere@example.org")
    await make_membership(other_chair, other_group, "chair", dt.date(2025, 1, 1))
    elsewhere = await draft(client, people)  # a draft: cannot be followed up
    url = "/api/v1/groups/wellbeing/reports"
    cases: list[tuple[dict[str, Any], str]] = [
        ({**recommendation(), "title": "   "}, "title"),
        ({**recommendation(), "title": "x" * 301}, "title"),
        ({**recommendation(), "title": "Nul\x00byte"}, "title"),
        ({**recommendation(), "body": "x" * 100_001}, "body"),
        ({**recommendation(), "body": "Nul\x00byte"}, "body"),
        ({**recommendation(), "kind": "memo"}, "kind"),
        ({**recommendation(), "route": "everyone"}, "route"),
        ({"kind": "periodic", "period": "2026-Q9", "title": "Q9", "body": "x"}, "period"),
        ({"kind": "periodic", "title": "No period", "body": "x"}, "period"),
        ({"kind": "periodic", "period": "2026-Q4", "title": "Q4", "route": "board"}, "route"),
        # The group reports quarterly; a monthly period is not one of its periods.
        ({"kind": "periodic", "period": "2026-11", "title": "Nov", "body": "x"}, "period"),
        ({**recommendation(), "follows_up": elsewhere["id"]}, "follows_up"),
        ({**recommendation(), "follows_up": 99999}, "follows_up"),
    ]
    for body, field in cases:
        before = await snapshot()
        response = await client.post(url, json=body, headers=people.auth("chair"))
        problem = assert_problem(response, 422)
        assert field in problem["errors"], (body, problem)
        assert await snapshot() == before, body

    # A periodic report is for a period that has ended (issue 10): 2026-Q4, once it is over.
    with time_machine.travel(dt.datetime(2027, 1, 10, 12, tzinfo=dt.UTC), tick=False):
        response = await client.post(
            url,
            json={"kind": "periodic", "period": "2026-q4", "title": "Q4 report", "body": "Text"},
            headers=people.auth("secretary"),
        )
    assert response.status_code == 201, response.text
    assert (response.json()["period"], response.json()["route"]) == ("2026-Q4", "both")


async def test_only_the_chair_or_secretary_drafts_and_submits(client, people):
    report = await draft(client, people)
    before = await snapshot()
    for persona in ("member", "director", "board", "stranger", "former"):
        response = await client.post(
            "/api/v1/groups/wellbeing/reports",
            # Refused as not theirs before the body is looked at.
            json={**recommendation(), "title": ""},
            headers=people.auth(persona),
        )
        assert_problem(response, 403)
    assert_problem(
        await client.post(f"/api/v1/reports/{report['id']}/submit", headers=people.auth("member")),
        403,
    )
    for persona in ("director", "board", "stranger", "former"):
        # A draft is the group's own business: not found for anyone else.
        response = await client.post(
            f"/api/v1/reports/{report['id']}/submit", headers=people.auth(persona)
        )
        assert_problem(response, 404)
    response = await client.post(
        "/api/v1/groups/nowhere/reports", json=recommendation(), headers=people.auth("chair")
    )
    assert_problem(response, 404)
    assert await snapshot() == before


async def test_bad_responses_are_refused_and_record_nothing(client, people):
    report = await submitted(client, people)
    url = f"/api/v1/deliveries/{delivery_id(report, 'director')}/respond"
    director = people.ids["director"]
    action = {"title": "Do it", "due_on": due(), "owner_ids": [director]}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"response": "maybe", "rationale": "x"}, "response"),
        ({"response": "noted", "rationale": "Nul\x00byte"}, "rationale"),
        ({"response": "noted", "rationale": "x" * 20_001}, "rationale"),
        ({"response": "accepted", "actions": [action] * 4}, "actions"),
        ({"response": "accepted", "actions": [{**action, "title": " "}]}, "actions[0].title"),
        ({"response": "accepted", "actions": [{**action, "title": "x" * 301}]}, "actions[0].title"),
        (
            {"response": "accepted", "actions": [action, {**action, "description": "\x00"}]},
            "actions[1].description",
        ),
        (
            {"response": "accepted", "actions": [{**action, "owner_ids": []}]},
            "actions[0].owner_ids",
        ),
        (
            {
                "response": "accepted",
                "actions": [{**action, "owner_ids": [people.ids["stranger"]]}],
            },
            "actions[0].owner_ids",
        ),
        (
            {"response": "accepted", "actions": [{**action, "owner_ids": [people.ids["former"]]}]},
            "actions[0].owner_ids",
        ),
        (
            {"response": "accepted", "actions": [{**action, "owner_ids": [99999]}]},
            "actions[0].owner_ids",
        ),
    ]
    for body, field in cases:
        before = await snapshot()
        response = await client.post(url, json=body, headers=people.auth("director"))
        problem = assert_problem(response, 422)
        assert field in problem["errors"], (body, problem)
        assert await snapshot() == before, body


async def test_malformed_bodies_and_ids_are_400_problems_never_500(client, people):
    report = await submitted(client, people)
    director_delivery = delivery_id(report, "director")
    respond = f"/api/v1/deliveries/{director_delivery}/respond"
    create = "/api/v1/groups/wellbeing/reports"
    action = {"title": "Do it", "due_on": due(), "owner_ids": [people.ids["director"]]}
    cases: list[tuple[str, str, Any]] = [
        ("POST", create, {**recommendation(), "colour": "red"}),
        ("POST", create, {**recommendation(), "title": 5}),
        ("POST", create, {"title": "No kind"}),
        ("POST", create, {**recommendation(), "follows_up": HUGE}),
        ("POST", create, {**recommendation(), "follows_up": "one"}),
        ("POST", create, {**recommendation(), "follows_up": 0}),
        ("POST", create, [recommendation()]),
        ("POST", respond, {}),
        ("POST", respond, {"response": "accepted", "extra": True}),
        ("POST", respond, {"response": ["accepted"]}),
        ("POST", respond, {"response": "accepted", "actions": {"title": "x"}}),
        ("POST", respond, {"response": "accepted", "actions": [{**action, "due_on": "soon"}]}),
        ("POST", respond, {"response": "accepted", "actions": [{**action, "owner_ids": [HUGE]}]}),
        ("POST", respond, {"response": "accepted", "actions": [{**action, "owner_ids": 1}]}),
        ("POST", respond, {"response": "accepted", "actions": [{**action, "owner": 1}]}),
    ]
    before = await snapshot()
    for method, url, body in cases:
        auth = people.auth("chair" if url == create else "director")
        response = await client.request(method, url, json=body, headers=auth)
        assert_problem(response, 400)
    for url in (create, respond):
        response = await client.post(
            url,
            content=b'{"title": ',
            headers={**people.auth("director"), "content-type": "application/json"},
        )
        assert_problem(response, 400)
    for method, url in [
        ("GET", f"/api/v1/reports/{HUGE}"),
        ("GET", "/api/v1/reports/0"),
        ("POST", f"/api/v1/reports/{HUGE}/submit"),
        ("POST", f"/api/v1/deliveries/{HUGE}/acknowledge"),
        ("POST", "/api/v1/deliveries/0/acknowledge"),
    ]:
        response = await client.request(method, url, headers=people.auth("chair"))
        assert_problem(response, 400)
    response = await client.get("/api/v1/reports/abc", headers=people.auth("chair"))
    assert response.status_code in {400, 404}
    assert response.headers["content-type"].startswith(PROBLEM)
    assert await snapshot() == before


# --- the deliveries list ----------------------------------------------------------------


async def test_director_never_lists_or_counts_a_board_only_delivery(client, people):
    both = await submitted(client, people, recommendation("Open both"))
    board_only = await submitted(client, people, recommendation("SECRET-BOARD", "board"))
    director_only = await submitted(client, people, recommendation("Open director", "director"))
    director = people.auth("director")

    async def listed(persona: str, **params: str) -> dict[str, Any]:
        response = await client.get(
            "/api/v1/deliveries", params=params, headers=people.auth(persona)
        )
        assert response.status_code == 200, response.text
        if persona == "director":
            assert "SECRET" not in response.text
        return dict(response.json())

    everything = await listed("director")
    assert {d["report_id"] for d in everything["deliveries"]} == {both["id"], director_only["id"]}
    assert sum(everything["counts"].values()) == len(everything["deliveries"]) == 3
    assert everything["counts"] == {"delivered": 3, "read": 0, "acknowledged": 0, "responded": 0}
    board_line = await listed("director", line="board")
    assert [d["id"] for d in board_line["deliveries"]] == [delivery_id(both, "board")]
    assert sum(board_line["counts"].values()) == 1
    director_line = await listed("director", line="director", state="delivered")
    assert {d["report_id"] for d in director_line["deliveries"]} == {
        both["id"],
        director_only["id"],
    }
    assert all(d["can_act"] for d in director_line["deliveries"])
    assert (await listed("director", state="responded"))["deliveries"] == []
    response = await client.get("/api/v1/deliveries", headers=director)
    assert str(delivery_id(board_only, "board")) not in {
        str(d["id"]) for d in response.json()["deliveries"]
    }

    # The Board sees every delivery, its own line's and the Director's.
    board = await listed("board")
    assert {d["report_id"] for d in board["deliveries"]} == {
        both["id"],
        board_only["id"],
        director_only["id"],
    }
    assert sum(board["counts"].values()) == 4
    assert {d["id"] for d in (await listed("board", line="board"))["deliveries"]} == {
        delivery_id(both, "board"),
        delivery_id(board_only, "board"),
    }
    # Members see their group's deliveries; someone of no line and no group, nothing.
    assert len((await listed("member"))["deliveries"]) == 4
    stranger = await listed("stranger")
    assert stranger["deliveries"] == [] and sum(stranger["counts"].values()) == 0

    # After the due date: overdue, counted for the Director without the Board-only one.
    await client.post(
        f"/api/v1/deliveries/{delivery_id(director_only, 'director')}/respond",
        json={"response": "noted"},
        headers=director,
    )
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=31), tick=False):
        overdue = await listed("director")
        assert overdue["overdue"] == 2
        assert {d["id"] for d in overdue["deliveries"] if d["is_overdue"]} == {
            delivery_id(both, "director"),
            delivery_id(both, "board"),
        }
        assert (await listed("board"))["overdue"] == 3
        assert (await listed("board", line="director", state="delivered"))["deliveries"][0][
            "days_left"
        ] == -1


async def test_unknown_filters_are_refused(client, people):
    await submitted(client, people)
    for params, field in (
        ({"line": "everyone"}, "line"),
        ({"line": "Director"}, "line"),
        ({"state": "done"}, "state"),
        ({"line": "board", "state": "overdue"}, "state"),
    ):
        response = await client.get(
            "/api/v1/deliveries", params=params, headers=people.auth("board")
        )
        problem = assert_problem(response, 422)
        assert field in problem["errors"], problem


async def test_group_reports_list_each_lines_schedule(client, people):
    await submitted(client, people, recommendation("SECRET-BOARD", "board"))
    await draft(client, people, recommendation("Draft only"))
    listing = (
        await client.get("/api/v1/groups/wellbeing/reports", headers=people.auth("board"))
    ).json()
    assert [r["title"] for r in listing["reports"]] == ["SECRET-BOARD"]
    assert listing["can_draft"] is False
    schedules = {s["recipient"]: s for s in listing["schedules"]}
    assert set(schedules) == {"director", "board"}
    for entry in schedules.values():
        assert entry["cadence"] == "quarterly"
        next_due = entry["next_due"]
        assert next_due is not None
        assert next_due["state"] in {"upcoming", "due", "overdue"}
        assert next_due["period"] in entry["next_due_text"]
        assert entry["periods"][0]["period"] >= entry["periods"][-1]["period"]
    # The Director sees neither the Board-only report nor the draft; a stranger sees none.
    for persona in ("director", "stranger"):
        response = await client.get(
            "/api/v1/groups/wellbeing/reports", headers=people.auth(persona)
        )
        assert response.json()["reports"] == []
        assert "SECRET" not in response.text
    members = (
        await client.get("/api/v1/groups/wellbeing/reports", headers=people.auth("member"))
    ).json()
    assert {r["title"] for r in members["reports"]} == {"SECRET-BOARD", "Draft only"}
    assert_problem(
        await client.get("/api/v1/groups/nowhere/reports", headers=people.auth("chair")), 404
    )


async def test_a_follow_up_of_a_board_only_report_stays_on_the_board_line(client, people):
    hidden = await submitted(client, people, recommendation("SECRET-BOARD", "board"))
    # Sent to the Director too, it would point the Director at the Board-only channel.
    refused = await client.post(
        "/api/v1/groups/wellbeing/reports",
        json={**recommendation("Open follow-up"), "follows_up": hidden["id"]},
        headers=people.auth("chair"),
    )
    assert refused.status_code == 422
    assert "follows_up" in refused.json()["errors"]
    follow_up = await submitted(
        client, people, {**recommendation("Board follow-up", "board"), "follows_up": hidden["id"]}
    )
    missing = await client.get(
        f"/api/v1/reports/{follow_up['id']}", headers=people.auth("director")
    )
    assert missing.status_code == 404
    as_board = (
        await client.get(f"/api/v1/reports/{follow_up['id']}", headers=people.auth("board"))
    ).json()
    assert as_board["follows_up"] == hidden["id"]
    original = (
        await client.get(f"/api/v1/reports/{hidden['id']}", headers=people.auth("board"))
    ).json()
    assert [f["id"] for f in original["follow_ups"]] == [follow_up["id"]]


async def _grow(people: People, factor: int) -> None:
    """More groups with reports on every route, one answered."""
    from governance.reports import services
    from governance.reports.schemas import LineResponse, ReportDraft

    for number in range(factor):
        slug = f"extra-{factor}-{number}"
        group_id = await make_group(slug=slug)
        chair = await make_user(f"chair-{factor}-{number}@example.org")
        await make_membership(chair, group_id, "chair", dt.date(2025, 1, 1))
        chair_viewer = await viewer_for(chair)
        for route in ("both", "board", "director"):
            report_id = await services.create_report(
                slug,
                ReportDraft(
                    kind="recommendation", period="", title=f"R {route}", body="Text", route=route
                ),
                chair_viewer,
            )
            await services.submit_report(report_id, chair_viewer)
        delivery = found(
            await Delivery.select(Delivery.id)
            .where((Delivery.report == report_id) & (Delivery.recipient == "director"))
            .first()
        )
        await services.respond_to_delivery(
            delivery["id"],
            LineResponse(response="noted", rationale=""),
            await viewer_for(people.ids["director"]),
        )


@pytest.mark.parametrize("who", ["director", "board", "chair"])
async def test_lists_cost_a_fixed_number_of_queries(client, people, count_queries, who):
    await submitted(client, people)
    urls = ["/api/v1/deliveries", "/api/v1/groups/wellbeing/reports"]
    counts: dict[str, list[int]] = {url: [] for url in urls}
    # The first use of a token records when it was last used; measure after it.
    assert (await client.get("/api/v1/me", headers=people.auth(who))).status_code == 200
    for factor in (1, 8):
        await _grow(people, factor)
        for url in urls:
            with count_queries() as counter:
                response = await client.get(url, headers=people.auth(who))
            assert response.status_code == 200, url
            counts[url].append(counter.count)
    for url, (small, large) in counts.items():
        assert small == large, (url, counts)


# --- the schema -------------------------------------------------------------------------


async def test_openapi_lists_the_report_routes_and_no_route_that_changes_a_report(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    expected = {
        "/api/v1/groups/{slug}/reports": {"get", "post"},
        "/api/v1/reports/{report_id}": {"get"},
        "/api/v1/reports/{report_id}/submit": {"post"},
        "/api/v1/deliveries": {"get"},
        "/api/v1/deliveries/{delivery_id}/acknowledge": {"post"},
        "/api/v1/deliveries/{delivery_id}/respond": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, sorted(paths)
        operations = {m for m in paths[path] if m in {"get", "post", "put", "patch", "delete"}}
        assert operations == methods, (path, operations)
        for method in methods:
            operation = paths[path][method]
            assert operation["security"] == [{"bearer": []}]
            assert "reports" in operation["tags"]
    assert "requestBody" in paths["/api/v1/groups/{slug}/reports"]["post"]
    assert "201" in paths["/api/v1/groups/{slug}/reports"]["post"]["responses"]
    assert "201" in paths["/api/v1/deliveries/{delivery_id}/respond"]["post"]["responses"]
    parameters = {p["name"]: p for p in paths["/api/v1/deliveries"]["get"]["parameters"]}
    assert {"line", "state"} <= set(parameters)
    assert json.dumps(schema)  # the whole document serialises


async def test_the_deliveries_list_pages_with_no_gap_for_the_director(client, people):
    for number in range(7):
        if number % 3 == 1:
            await submitted(client, people, recommendation(f"SECRET-{number}", "board"))
        else:
            await submitted(client, people, recommendation(f"Open {number}", "both"))
    director = people.auth("director")
    everything = (await client.get("/api/v1/deliveries", headers=director)).json()
    expected = [d["id"] for d in everything["deliveries"]]
    assert "SECRET" not in str(everything)
    seen, cursor = [], ""
    while True:
        response = await client.get(
            "/api/v1/deliveries", params={"limit": 2, "cursor": cursor}, headers=director
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["deliveries"]) == 2 or body["older"] is None
        assert body["counts"] == everything["counts"]  # over all, not the page
        seen += [d["id"] for d in body["deliveries"]]
        if body["older"] is None:
            break
        cursor = body["older"]
    assert seen == expected and len(seen) == sum(everything["counts"].values())
    refused = await client.get("/api/v1/deliveries", params={"cursor": "W10"}, headers=director)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith(PROBLEM)
