"""The actions JSON API by bearer token: the same rules as the pages, every refused input
answered 4xx with a JSON problem and nothing changed, and the visibility rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from governance.accounts.services import issue_api_token
from governance.actions.tables import ActionItem, ActionOwner, ActionUpdate
from governance.core.clock import organisation_today
from governance.core.tables import AuditEvent
from tests.actions.conftest import make_action, make_overdue
from tests.factories import make_meeting
from tests.helpers import shown_after_refusal, sign_in

PROBLEM = "application/problem+json"
PERSONAS = ("chair", "secretary", "member", "member2", "former", "director", "board", "stranger")


@pytest.fixture
async def tokens(cast) -> dict[str, dict[str, str]]:
    """Authorization headers by persona."""
    return {
        persona: {"Authorization": f"Bearer {await issue_api_token(f'{persona}@example.org')}"}
        for persona in PERSONAS
    }


def _day(days: int) -> str:
    return (organisation_today() + dt.timedelta(days=days)).isoformat()


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


async def snapshot() -> dict[str, Any]:
    return {
        "actions": await ActionItem.select().order_by(ActionItem.id),
        "owners": await ActionOwner.select().order_by(ActionOwner.id),
        "updates": await ActionUpdate.select().order_by(ActionUpdate.id),
        "audit": await AuditEvent.count(),
    }


def _body(cast, **changes: Any) -> dict[str, Any]:
    return {
        "title": "Draft the survey",
        "due_on": _day(10),
        "owner_ids": [cast.member],
        **changes,
    }


# --- creating ---------------------------------------------------------------------------


async def test_chair_creates_an_action(client, cast, tokens):
    meeting_id = await make_meeting(cast.slug, cast.chair)
    response = await client.post(
        f"/api/v1/groups/{cast.slug}/actions",
        json=_body(
            cast,
            title="  Book the venue ",
            description="For the away day",
            owner_ids=[cast.member, cast.member2],
            visibility="board",
            source_type="meeting",
            source_id=meeting_id,
        ),
        headers=tokens["chair"],
    )
    assert response.status_code == 201, response.text
    action = response.json()
    assert response.headers["location"] == f"/api/v1/actions/{action['id']}"
    assert action["title"] == "Book the venue"
    assert action["status"] == "open" and action["visibility"] == "board"
    assert action["due_on"] == _day(10) and action["is_overdue"] is False
    assert [o["display_name"] for o in action["owners"]] == ["Member One", "Member Two"]
    assert (action["source_type"], action["source_id"]) == ("meeting", meeting_id)
    assert action["can_manage"] and action["can_update"]
    assert action["created_by_name"] == "Chair Person" and action["updates"] == []


@pytest.mark.parametrize("who", ["member", "director", "board", "stranger"])
async def test_only_chairs_and_secretaries_create(client, cast, tokens, who):
    response = await client.post(
        f"/api/v1/groups/{cast.slug}/actions", json=_body(cast), headers=tokens[who]
    )
    assert_problem(response, 403)
    assert await ActionItem.count() == 0


async def test_bad_input_is_a_problem_and_creates_nothing(client, cast, tokens):
    before = await snapshot()
    url = f"/api/v1/groups/{cast.slug}/actions"
    problem = assert_problem(
        await client.post(
            url,
            json=_body(cast, title=" ", due_on=_day(-1), visibility="secret", owner_ids=[]),
            headers=tokens["chair"],
        ),
        422,
    )
    assert set(problem["errors"]) == {"title", "due_on", "visibility", "owner_ids"}
    assert problem["errors"]["due_on"] == "The due date cannot be in the past."
    problem = assert_problem(
        await client.post(
            url, json=_body(cast, owner_ids=[cast.stranger]), headers=tokens["chair"]
        ),
        422,
    )
    assert problem["errors"] == {"owner_ids": "Choose owners from the group's current members."}
    problem = assert_problem(
        await client.post(url, json=_body(cast, title="a\x00b"), headers=tokens["chair"]), 422
    )
    assert "title" in problem["errors"]
    problem = assert_problem(
        await client.post(
            url, json=_body(cast, source_type="response", source_id=1), headers=tokens["chair"]
        ),
        422,
    )
    assert "source_type" in problem["errors"]
    # The wrong shape: a missing field, an unknown one, a date that is not one, an id too big.
    for body in (
        {"title": "No date", "owner_ids": [cast.member]},
        _body(cast, colour="red"),
        _body(cast, due_on="next week"),
        _body(cast, owner_ids=[2**40]),
        _body(cast, owner_ids=["Member One"]),
    ):
        assert_problem(await client.post(url, json=body, headers=tokens["chair"]), 400)
    assert_problem(await client.post(url, content=b"{", headers=tokens["chair"]), 400)
    assert_problem(
        await client.post(
            "/api/v1/groups/nowhere/actions", json=_body(cast), headers=tokens["chair"]
        ),
        404,
    )
    assert await snapshot() == before


# --- reading ----------------------------------------------------------------------------


READS = {
    "chair": {"public", "internal", "board", "group"},
    "member2": {"public", "internal", "board", "group"},
    "director": {"public", "internal"},
    "board": {"public", "internal", "board"},
    "former": set(),
    "stranger": set(),
}


@pytest.mark.parametrize("who", sorted(READS))
async def test_each_role_reads_what_it_may(client, cast, tokens, who):
    ids = {
        visibility: await make_action(cast, f"{visibility.upper()}-ACTION", visibility=visibility)
        for visibility in ("public", "internal", "board", "group")
    }
    response = await client.get(f"/api/v1/groups/{cast.slug}/actions", headers=tokens[who])
    assert response.status_code == 200, response.text
    listing = response.json()
    assert {a["visibility"] for a in listing["actions"]} == READS[who]
    assert listing["can_manage"] == (who == "chair")
    for visibility, action_id in ids.items():
        response = await client.get(f"/api/v1/actions/{action_id}", headers=tokens[who])
        if visibility in READS[who]:
            assert response.status_code == 200
            assert response.json()["title"] == f"{visibility.upper()}-ACTION"
        else:
            body = assert_problem(response, 404)
            assert "ACTION" not in response.text and body["detail"].startswith("There is no")


async def test_list_filters_and_order(client, cast, tokens):
    later = await make_action(cast, "Later", due_in_days=20)
    overdue = await make_action(cast, "Overdue", due_in_days=1, owners=[cast.member2])
    await make_overdue(overdue)
    url = f"/api/v1/groups/{cast.slug}/actions"
    listing = (await client.get(url, headers=tokens["board"])).json()
    assert [a["id"] for a in listing["actions"]] == [overdue, later]
    assert [a["is_overdue"] for a in listing["actions"]] == [True, False]
    listing = (await client.get(f"{url}?owner_id={cast.member}", headers=tokens["board"])).json()
    assert [a["id"] for a in listing["actions"]] == [later]
    listing = (await client.get(f"{url}?status=done", headers=tokens["board"])).json()
    assert listing["actions"] == []
    problem = assert_problem(await client.get(f"{url}?status=late", headers=tokens["board"]), 422)
    assert "status" in problem["errors"]
    assert_problem(await client.get(f"{url}?owner_id=0", headers=tokens["board"]), 400)
    assert_problem(await client.get(f"{url}?owner_id=x", headers=tokens["board"]), 400)
    assert_problem(await client.get(f"/api/v1/actions/{2**40}", headers=tokens["board"]), 400)
    assert_problem(await client.get("/api/v1/actions/0", headers=tokens["board"]), 400)


async def test_anonymous_gets_401_and_a_session_works_too(client, cast, tokens):
    action_id = await make_action(cast)
    assert_problem(await client.get(f"/api/v1/groups/{cast.slug}/actions"), 401)
    assert_problem(await client.get(f"/api/v1/actions/{action_id}"), 401)
    # A write with neither token nor session is refused before it reaches a handler.
    before = await snapshot()
    response = await client.patch(f"/api/v1/actions/{action_id}", json={"status": "done"})
    assert response.status_code in (401, 403)
    assert response.headers["content-type"].startswith(PROBLEM)
    assert await snapshot() == before
    await sign_in(client, cast.member)
    response = await client.get(f"/api/v1/actions/{action_id}")
    assert response.status_code == 200 and response.json()["id"] == action_id


# --- changing ---------------------------------------------------------------------------


async def test_owner_moves_the_status_along(client, cast, tokens):
    action_id = await make_action(cast)
    url = f"/api/v1/actions/{action_id}"
    response = await client.patch(
        url, json={"status": "in_progress", "note": "Started"}, headers=tokens["member"]
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "in_progress"
    response = await client.patch(url, json={"status": "done"}, headers=tokens["member"])
    action = response.json()
    assert action["status"] == "done" and action["completed_at"]
    assert [(u["status_from"], u["status_to"]) for u in action["updates"]] == [
        ("open", "in_progress"),
        ("in_progress", "done"),
    ]
    before = await snapshot()
    problem = assert_problem(
        await client.patch(url, json={"status": "open"}, headers=tokens["member"]), 409
    )
    assert problem["detail"] == "This action is done; its status is final."
    assert await snapshot() == before


async def test_refused_changes_are_problems_and_change_nothing(client, cast, tokens):
    action_id = await make_action(cast)
    url = f"/api/v1/actions/{action_id}"
    before = await snapshot()
    problem = assert_problem(
        await client.patch(url, json={"status": "dropped"}, headers=tokens["member"]), 422
    )
    assert problem["errors"] == {"note": "Give the reason for dropping this action."}
    problem = assert_problem(
        await client.patch(url, json={"status": "finished"}, headers=tokens["member"]), 422
    )
    assert "status" in problem["errors"]
    assert_problem(await client.patch(url, json={}, headers=tokens["chair"]), 422)
    assert_problem(await client.patch(url, json={"colour": "red"}, headers=tokens["chair"]), 400)
    # Owners and due dates are the chair's.
    assert_problem(
        await client.patch(url, json={"due_on": _day(60)}, headers=tokens["member"]), 403
    )
    assert_problem(
        await client.patch(url, json={"owner_ids": [cast.member2]}, headers=tokens["member"]),
        403,
    )
    # Neither owner nor chair.
    for who in ("member2", "director", "board"):
        assert_problem(await client.patch(url, json={"status": "done"}, headers=tokens[who]), 403)
    assert_problem(
        await client.patch(url, json={"status": "done"}, headers=tokens["stranger"]), 404
    )
    # All or nothing: a reassignment with a refused change of status is not made either.
    assert_problem(
        await client.patch(
            url, json={"owner_ids": [cast.member2], "status": "open"}, headers=tokens["chair"]
        ),
        409,
    )
    problem = assert_problem(
        await client.patch(url, json={"due_on": _day(-3)}, headers=tokens["chair"]), 422
    )
    assert problem["errors"] == {"due_on": "The due date cannot be in the past."}
    assert await snapshot() == before


async def test_chair_reassigns_and_moves_the_due_date(client, cast, tokens):
    action_id = await make_action(cast)
    response = await client.patch(
        f"/api/v1/actions/{action_id}",
        json={"owner_ids": [cast.member2, cast.secretary], "due_on": _day(30)},
        headers=tokens["chair"],
    )
    assert response.status_code == 200, response.text
    action = response.json()
    assert {o["user_id"] for o in action["owners"]} == {cast.member2, cast.secretary}
    assert action["due_on"] == _day(30)
    response = await client.patch(
        f"/api/v1/actions/{action_id}", json={"due_on": _day(31)}, headers=tokens["secretary"]
    )
    assert response.status_code == 200 and response.json()["due_on"] == _day(31)
    actions = [
        row["action"]
        for row in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.sequence)
    ]
    assert actions.count("action.reassigned") == 2


async def test_progress_notes(client, cast, tokens):
    action_id = await make_action(cast)
    url = f"/api/v1/actions/{action_id}/updates"
    response = await client.post(url, json={"body": "Half way"}, headers=tokens["member"])
    assert response.status_code == 201, response.text
    assert [u["body"] for u in response.json()["updates"]] == ["Half way"]
    before = await snapshot()
    problem = assert_problem(
        await client.post(url, json={"body": ""}, headers=tokens["chair"]), 422
    )
    assert problem["errors"] == {"body": "A progress note cannot be empty."}
    assert_problem(await client.post(url, json={}, headers=tokens["chair"]), 400)
    assert_problem(await client.post(url, json={"body": "Mine"}, headers=tokens["member2"]), 403)
    assert_problem(await client.post(url, json={"body": "Mine"}, headers=tokens["director"]), 403)
    assert_problem(
        await client.post(
            f"/api/v1/actions/{action_id + 100}/updates",
            json={"body": "x"},
            headers=tokens["chair"],
        ),
        404,
    )
    assert await snapshot() == before


async def test_board_action_never_reaches_the_director(client, cast, tokens):
    action_id = await make_action(cast, "BOARD-ONLY", visibility="board")
    for url in (f"/api/v1/groups/{cast.slug}/actions", f"/api/v1/actions/{action_id}"):
        response = await client.get(url, headers=tokens["director"])
        assert "BOARD-ONLY" not in response.text
    # Changing it is "not found" too, not "not allowed": nothing says it exists.
    assert_problem(
        await client.patch(
            f"/api/v1/actions/{action_id}", json={"status": "done"}, headers=tokens["director"]
        ),
        404,
    )
    assert_problem(
        await client.post(
            f"/api/v1/actions/{action_id}/updates", json={"body": "x"}, headers=tokens["director"]
        ),
        404,
    )


async def test_the_page_and_the_api_name_every_bad_field_at_once_in_the_same_words(
    client, cast, tokens
):
    """Issue 9: one round, every field, one wording, whichever way the action comes in."""
    from tests.helpers import field_error, post_form

    bad = {
        "title": "x" * 301,
        "description": "a\x00b",
        "due_on": _day(-2),
        "visibility": "secret",
    }
    before = await snapshot()
    api = await client.post(
        f"/api/v1/groups/{cast.slug}/actions",
        json={**bad, "owner_ids": []},
        headers=tokens["chair"],
    )
    errors = assert_problem(api, 422)["errors"]
    assert set(errors) == {"title", "description", "due_on", "visibility", "owner_ids"}

    await sign_in(client, cast.chair)
    page = await post_form(client, f"/groups/{cast.slug}/actions/new", bad)
    page = await shown_after_refusal(client, page)
    for name, message in errors.items():
        assert field_error(page.text, name) == message.replace("'", "&#39;"), name
    assert await snapshot() == before
