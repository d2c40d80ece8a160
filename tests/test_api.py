"""The JSON API: session or bearer token, the same reading rules as the pages, problem bodies
for errors; the OpenAPI description; health and readiness."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from governance.accounts.policy import CurrentUser
from governance.accounts.services import issue_api_token, set_user_active
from governance.accounts.tables import User
from governance.core.clock import organisation_today
from tests.factories import make_group, make_membership, make_user
from tests.helpers import found, sign_in


def today() -> dt.date:
    return organisation_today()


START = today() - dt.timedelta(days=200)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body  # type: ignore[no-any-return]


async def member_of_alpha() -> tuple[int, int]:
    group_id = await make_group(slug="alpha", name="Alpha group", mandate="Do **good**.")
    user_id = await make_user(email="milo@example.org", name="Milo", board=True)
    await make_membership(user_id, group_id, "chair", START)
    return user_id, group_id


# --- who is asking ----------------------------------------------------------------------


async def test_me_with_a_session_cookie(client: httpx.AsyncClient) -> None:
    user_id, group_id = await member_of_alpha()
    await sign_in(client, user_id)
    response = await client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "id": user_id,
        "email": "milo@example.org",
        "display_name": "Milo",
        "timezone": "Europe/London",
        "organisation_roles": ["board"],
        "group_roles": [{"group_id": group_id, "role": "chair"}],
    }


async def test_me_with_a_bearer_token(client: httpx.AsyncClient) -> None:
    user_id, group_id = await member_of_alpha()
    token = await issue_api_token("Milo@example.org")
    response = await client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["email"]) == (user_id, "milo@example.org")
    assert body["group_roles"] == [{"group_id": group_id, "role": "chair"}]


async def test_me_lists_only_roles_held_today(client: httpx.AsyncClient) -> None:
    user_id = await make_user(email="ria@example.org")
    ended = await make_group()
    future = await make_group()
    await make_membership(
        user_id, ended, "chair", today() - dt.timedelta(days=90), today() - dt.timedelta(days=1)
    )
    await make_membership(user_id, future, "member", today() + dt.timedelta(days=1))
    token = await issue_api_token("ria@example.org")
    body = (await client.get("/api/v1/me", headers=bearer(token))).json()
    assert body["group_roles"] == []
    assert body["organisation_roles"] == []


async def test_anonymous_gets_401_json(client: httpx.AsyncClient) -> None:
    for url in ("/api/v1/me", "/api/v1/groups", "/api/v1/groups/alpha"):
        body = assert_problem(await client.get(url), 401)
        assert "location" not in (await client.get(url)).headers
        assert body["detail"] == "Sign in to continue."


@pytest.mark.parametrize(
    "authorization",
    ["Bearer gov_not-a-real-token", "Bearer ", "Bearer", "bearer gov_x", "Bearer a b c"],
)
async def test_a_bad_token_is_401_even_with_a_valid_session(
    client: httpx.AsyncClient, authorization: str
) -> None:
    user_id, _ = await member_of_alpha()
    await sign_in(client, user_id)
    assert (await client.get("/api/v1/me")).status_code == 200
    response = await client.get("/api/v1/me", headers={"Authorization": authorization})
    assert_problem(response, 401)


async def test_a_deactivated_users_token_is_401(client: httpx.AsyncClient) -> None:
    user_id, _ = await member_of_alpha()
    token = await issue_api_token("milo@example.org")
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    await User.update({User.is_active: False}).where(User.id == user_id)
    assert_problem(await client.get("/api/v1/me", headers=bearer(token)), 401)
    assert_problem(await client.get("/api/v1/groups", headers=bearer(token)), 401)


async def test_deactivation_by_an_admin_ends_api_access(client: httpx.AsyncClient) -> None:
    user_id, _ = await member_of_alpha()
    token = await issue_api_token("milo@example.org")
    admin_id = await make_user(admin=True)
    admin = await User.select().where(User.id == admin_id).first()
    await set_user_active(user_id, False, CurrentUser.from_row(found(admin)))
    assert_problem(await client.get("/api/v1/me", headers=bearer(token)), 401)


async def test_a_token_is_not_a_session_cookie(client: httpx.AsyncClient) -> None:
    await member_of_alpha()
    token = await issue_api_token("milo@example.org")
    client.cookies.set("governance_session", token)
    assert_problem(await client.get("/api/v1/me"), 401)


async def test_a_token_does_not_open_pages_for_anonymous(client: httpx.AsyncClient) -> None:
    # With a bearer token the request is judged by the token: a bad one is not signed in.
    response = await client.get("/groups", headers=bearer("gov_wrong"))
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login")


# --- groups -----------------------------------------------------------------------------


async def test_groups_list(client: httpx.AsyncClient) -> None:
    await member_of_alpha()
    await make_group(slug="beta", name="Beta group")
    await make_membership(await make_user(), (await make_group(slug="gamma", name="Gamma")))
    token = await issue_api_token("milo@example.org")
    response = await client.get("/api/v1/groups", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == [
        {"slug": "alpha", "name": "Alpha group", "member_count": 1, "my_role": "chair"},
        {"slug": "beta", "name": "Beta group", "member_count": 0, "my_role": None},
        {"slug": "gamma", "name": "Gamma", "member_count": 1, "my_role": None},
    ]


async def test_one_group_with_current_members_and_both_lines(client: httpx.AsyncClient) -> None:
    user_id, group_id = await member_of_alpha()
    former = await make_user(name="Former")
    await make_membership(
        former, group_id, "member", today() - dt.timedelta(days=90), today() - dt.timedelta(days=1)
    )
    leaving = await make_user(name="Leaving")
    await make_membership(leaving, group_id, "secretary", START, today())
    await sign_in(client, user_id)
    response = await client.get("/api/v1/groups/alpha")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("slug", "name", "mandate", "quorum_rule", "quorum_count")} == {
        "slug": "alpha",
        "name": "Alpha group",
        "mandate": "Do **good**.",
        "quorum_rule": "majority",
        "quorum_count": 0,
    }
    assert body["my_role"] == "chair"
    assert body["members"] == [
        {
            "user_id": user_id,
            "display_name": "Milo",
            "role": "chair",
            "starts_on": START.isoformat(),
            "ends_on": None,
        },
        {
            "user_id": leaving,
            "display_name": "Leaving",
            "role": "secretary",
            "starts_on": START.isoformat(),
            "ends_on": today().isoformat(),
        },
    ]
    lines = body["reporting_lines"]
    assert [line["recipient"] for line in lines] == ["director", "board"]
    for line in lines:
        assert set(line) == {"id", "recipient", "cadence", "report_due_days", "response_days"}
        assert (line["cadence"], line["report_due_days"], line["response_days"]) == (
            "quarterly",
            30,
            30,
        )


async def test_unknown_group_is_a_404_problem(client: httpx.AsyncClient) -> None:
    await member_of_alpha()
    token = await issue_api_token("milo@example.org")
    body = assert_problem(await client.get("/api/v1/groups/no-such", headers=bearer(token)), 404)
    assert body["title"] == "Not found"
    assert body["detail"] == "There is no working group at this address."


async def test_unknown_api_path_and_method_are_problems(client: httpx.AsyncClient) -> None:
    await member_of_alpha()
    token = await issue_api_token("milo@example.org")
    assert_problem(await client.get("/api/v1/nothing-here", headers=bearer(token)), 404)
    assert_problem(await client.delete("/api/v1/groups/alpha", headers=bearer(token)), 405)


# --- the description and the service endpoints ------------------------------------------


async def test_openapi_lists_the_api_and_its_bearer_scheme(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/me", "/api/v1/groups", "/api/v1/groups/{slug}"):
        assert "get" in spec["paths"][path], path
        assert spec["paths"][path]["get"]["security"] == [{"bearer": []}], path
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    # HTML pages are for people, not part of the API's description.
    pages = {"/", "/groups", "/groups/{slug}", "/admin/groups/new", "/admin/groups/{slug}/edit"}
    assert pages & set(spec["paths"]) == set()


async def test_health_and_ready(client: httpx.AsyncClient) -> None:
    health = await client.get("/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = await client.get("/ready")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_ready_says_so_when_the_database_is_unreachable(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable() -> bool:
        return False

    monkeypatch.setattr("governance.app.database_is_reachable", unreachable)
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "database unreachable"}
