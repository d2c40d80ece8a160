"""CSRF on every form; bearer tokens on the API, judged by the token alone."""

from __future__ import annotations

from governance.accounts.services import issue_api_token
from governance.accounts.tables import ApiToken, LoginAttempt, User, UserSession
from governance.core.tables import AuditEvent
from tests.accounts.support import browser, counts, issued_session, session_exists
from tests.factories import PASSWORD, make_user
from tests.helpers import csrf_token, found, post_form, sign_in

PROFILE = {
    "display_name": "Renamed",
    "timezone": "Europe/Paris",
    "digest_frequency": "daily",
    "digest_weekday": "monday",
}


def assert_csrf_refused(response) -> None:
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert "The form had expired" in response.text


async def test_login_without_token_is_refused(client):
    await make_user(email="ada@example.org")
    await csrf_token(client)  # the browser has the cookie, but the form lacks the field

    response = await post_form(
        client, "/login", {"email": "ada@example.org", "password": PASSWORD}, with_csrf=False
    )

    assert_csrf_refused(response)
    assert issued_session(response) is None
    assert await UserSession.count() == 0
    ok = await post_form(client, "/login", {"email": "ada@example.org", "password": PASSWORD})
    assert ok.status_code == 302


async def test_login_with_a_token_from_another_browser_is_refused(client, app):
    await make_user(email="ada@example.org")
    await csrf_token(client)
    async with browser(app) as attacker:
        forged = await csrf_token(attacker)

    response = await client.post(
        "/login",
        data={"email": "ada@example.org", "password": PASSWORD, "_csrf_token": forged},
    )

    assert response.status_code == 403
    assert await UserSession.count() == 0
    assert await LoginAttempt.count() == 0


async def test_logout_without_token_keeps_the_session(client):
    user_id = await make_user()
    token = await sign_in(client, user_id)

    response = await post_form(client, "/logout", with_csrf=False)

    assert_csrf_refused(response)
    assert await session_exists(token)
    assert (await client.get("/profile")).status_code == 200
    assert (await post_form(client, "/logout")).status_code == 302
    assert not await session_exists(token)


async def test_profile_without_token_changes_nothing(client):
    user_id = await make_user(name="Original")
    await sign_in(client, user_id)
    before = await counts()

    response = await post_form(client, "/profile", PROFILE, with_csrf=False)

    assert_csrf_refused(response)
    row = found(await User.select().where(User.id == user_id).first())
    assert row["display_name"] == "Original"
    assert row["timezone"] == "Europe/London"
    assert await counts() == before

    accepted = await post_form(client, "/profile", PROFILE)
    assert accepted.status_code == 302
    row = found(await User.select().where(User.id == user_id).first())
    assert (row["display_name"], row["timezone"], row["digest_frequency"]) == (
        "Renamed",
        "Europe/Paris",
        "daily",
    )
    assert await AuditEvent.count().where(AuditEvent.action == "user.profile_updated") == 1


async def test_admin_forms_without_token_change_nothing(client):
    admin_id = await make_user(admin=True)
    target_id = await make_user(name="Target")
    target_token = await sign_in(client, target_id)
    client.cookies.clear()
    await sign_in(client, admin_id)
    before = await counts()

    invite = await post_form(
        client,
        "/admin/users/invite",
        {"email": "new@example.org", "display_name": "New"},
        with_csrf=False,
    )
    deactivate = await post_form(client, f"/admin/users/{target_id}/deactivate", with_csrf=False)
    edit = await post_form(
        client,
        f"/admin/users/{target_id}",
        {"display_name": "Changed", "is_admin": "on"},
        with_csrf=False,
    )

    for response in (invite, deactivate, edit):
        assert_csrf_refused(response)
    assert await counts() == before
    target = found(await User.select().where(User.id == target_id).first())
    assert target["is_active"] and not target["is_admin"] and target["display_name"] == "Target"
    assert await session_exists(target_token)

    accepted = await post_form(
        client, "/admin/users/invite", {"email": "new@example.org", "display_name": "New"}
    )
    assert accepted.status_code == 302
    assert await User.exists().where(User.email == "new@example.org")


async def test_bearer_token_reads_the_api(client):
    user_id = await make_user(email="api@example.org", name="Api User", board=True)
    token = await issue_api_token("API@example.org", "tests")

    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user_id
    assert body["email"] == "api@example.org"
    assert body["organisation_roles"] == ["board"]
    # The database keeps only the token's digest.
    assert not await ApiToken.exists().where(ApiToken.token_hash == token)
    stored = found(await ApiToken.select().where(ApiToken.user == user_id).first())
    assert stored["last_used_at"] is not None
    assert await AuditEvent.count().where(AuditEvent.action == "api_token.created") == 1


async def test_invalid_bearer_token_is_401_json_even_with_a_session_cookie(client):
    user_id = await make_user()
    await sign_in(client, user_id)
    assert (await client.get("/api/v1/me")).status_code == 200  # the cookie alone works

    for header in ("Bearer gov_not-a-real-token", "Bearer ", "bearer nope"):
        response = await client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == 401


async def test_token_of_a_deactivated_user_is_refused(client):
    await make_user(email="gone@example.org", active=False)
    token = await issue_api_token("gone@example.org")

    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
