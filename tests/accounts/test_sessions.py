"""Signing in and out, session renewal, and the idle and absolute session limits."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
import time_machine

from governance.accounts.tables import User, UserSession
from governance.core.clock import utcnow
from governance.settings import get_settings
from tests.accounts.support import (
    get_with_session,
    issued_session,
    log_in,
    session_exists,
    sessions_of,
)
from tests.factories import PASSWORD, make_user
from tests.helpers import found, post_form, sign_in

NO_MATCH = "That email and password do not match an active account."


def alert(html: str) -> str | None:
    match = re.search(r'<p class="flash flash-error" role="alert">([^<]*)</p>', html)
    return match.group(1) if match else None


# --- sign-in -----------------------------------------------------------------------------


async def test_good_credentials_start_a_session_and_go_to_next(client):
    user_id = await make_user(email="ada@example.org")

    response = await log_in(client, "ada@example.org", PASSWORD, next_path="/groups")

    assert response.status_code == 302
    assert response.headers["location"] == "/groups"
    token = issued_session(response)
    assert token is not None
    assert "httponly" in response.headers["set-cookie"].lower()
    assert await session_exists(token)
    assert await sessions_of(user_id) == 1
    page = await client.get("/profile")
    assert page.status_code == 200
    assert "ada@example.org" in page.text or "value=" in page.text
    last_login = found(await User.select(User.last_login_at).where(User.id == user_id).first())
    assert last_login["last_login_at"] is not None


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example",
        "//evil.example/path",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "groups",
    ],
)
async def test_next_only_goes_to_same_site_paths(client, next_path):
    await make_user(email="ada@example.org")

    response = await log_in(client, "ada@example.org", PASSWORD, next_path=next_path)

    assert response.status_code == 302
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("next_path", ["/\\evil.example", "/\t/evil.example", "\\\\evil.example"])
async def test_next_cannot_be_bent_into_another_host(client, next_path):
    """Browsers read a backslash as a slash and drop tabs: "/\\evil" would become "//evil"."""
    await make_user(email="ada@example.org")

    response = await log_in(client, "ada@example.org", PASSWORD, next_path=next_path)

    location = response.headers["location"]
    cleaned = location.replace("\\", "/").replace("\t", "")
    assert location.startswith("/")
    assert not cleaned.startswith("//")


async def test_sign_in_form_keeps_only_a_safe_next(client):
    page = await client.get("/login", params={"next": "https://evil.example"})
    assert page.status_code == 200
    assert 'name="next" value="/"' in page.text
    page = await client.get("/login", params={"next": "/groups/wellbeing"})
    assert 'name="next" value="/groups/wellbeing"' in page.text


async def test_email_is_case_insensitive(client):
    await make_user(email="grace@example.org")

    response = await log_in(client, "  Grace@EXAMPLE.org ", PASSWORD)

    assert response.status_code == 302
    assert issued_session(response)


async def test_wrong_password_and_unknown_email_look_the_same(client):
    await make_user(email="ada@example.org")

    wrong_password = await log_in(client, "ada@example.org", "not the password at all")
    unknown_email = await log_in(client, "nobody@example.org", PASSWORD)

    for response in (wrong_password, unknown_email):
        assert response.status_code == 422
        assert alert(response.text) == NO_MATCH
        assert issued_session(response) is None
    assert await UserSession.count() == 0


async def test_unknown_email_costs_as_much_as_a_wrong_password(client):
    """A quick answer for unknown emails would tell an attacker which accounts exist."""
    await make_user(email="ada@example.org")

    async def fastest(email: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            response = await log_in(client, email, "not the password at all")
            times.append(time.perf_counter() - started)
            assert response.status_code == 422
        return min(times)

    wrong_password = await fastest("ada@example.org")
    unknown_email = await fastest("nobody@example.org")
    # Both verify one argon2 hash; without that, an unknown email answers many times faster.
    assert unknown_email > wrong_password * 0.5


async def test_deactivated_user_cannot_sign_in(client):
    await make_user(email="gone@example.org", active=False)

    response = await log_in(client, "gone@example.org", PASSWORD)

    assert response.status_code == 422
    assert alert(response.text) == NO_MATCH
    assert issued_session(response) is None
    assert await UserSession.count() == 0


async def test_invited_person_without_a_password_cannot_sign_in(client):
    await make_user(email="invited@example.org", password_hash="")

    for password in ("", " ", "governance: no such account", PASSWORD):
        response = await log_in(client, "invited@example.org", password)
        assert response.status_code == 422
        assert issued_session(response) is None


async def test_missing_fields_re_render_with_field_errors(client):
    response = await post_form(client, "/login", {"email": "", "password": ""})
    assert response.status_code == 422
    assert 'id="email-error"' in response.text
    assert 'id="password-error"' in response.text
    assert await UserSession.count() == 0


async def test_signed_in_visitor_to_login_page_is_sent_on(client):
    user_id = await make_user()
    await sign_in(client, user_id)
    response = await client.get("/login", params={"next": "/groups"})
    assert response.status_code == 302
    assert response.headers["location"] == "/groups"


# --- session renewal and logout ----------------------------------------------------------


async def test_signing_in_renews_the_session_id(client):
    user_id = await make_user(email="ada@example.org")
    first = issued_session(await log_in(client, "ada@example.org", PASSWORD))
    assert first is not None

    second_response = await log_in(client, "ada@example.org", PASSWORD)
    second = issued_session(second_response)

    assert second is not None
    assert second != first
    assert not await session_exists(first)
    assert await session_exists(second)
    assert await sessions_of(user_id) == 1
    replay = await get_with_session(client, "/profile", first)
    assert replay.status_code == 302
    assert replay.headers["location"].startswith("/login")
    assert (await get_with_session(client, "/profile", second)).status_code == 200


async def test_signing_in_as_someone_else_ends_the_previous_session(client):
    """A shared computer: the next person's sign-in must not leave the last one's session."""
    first_user = await make_user(email="first@example.org")
    await make_user(email="second@example.org")
    first = issued_session(await log_in(client, "first@example.org", PASSWORD))
    assert first is not None

    await log_in(client, "second@example.org", PASSWORD)

    assert not await session_exists(first)
    assert await sessions_of(first_user) == 0


async def test_logout_ends_the_session_on_the_server(client):
    user_id = await make_user(email="ada@example.org")
    token = issued_session(await log_in(client, "ada@example.org", PASSWORD))
    assert token is not None
    assert (await client.get("/profile")).status_code == 200

    response = await post_form(client, "/logout")

    assert response.status_code == 302
    assert response.headers["location"] == "/login"
    cleared = [
        h for h in response.headers.get_list("set-cookie") if h.startswith("governance_session=")
    ]
    assert cleared and "max-age=0" in cleared[0].lower()
    assert not await session_exists(token)
    assert await sessions_of(user_id) == 0
    # Someone who copied the cookie before logout gets nothing from it.
    replay = await get_with_session(client, "/profile", token)
    assert replay.status_code == 302
    assert replay.headers["location"].startswith("/login")


async def test_logout_leaves_other_sessions_of_the_same_user(client):
    user_id = await make_user()
    other_device = await sign_in(client, user_id)
    client.cookies.clear()
    this_device = await sign_in(client, user_id)

    await post_form(client, "/logout")

    assert not await session_exists(this_device)
    assert await session_exists(other_device)


async def test_a_made_up_session_cookie_is_anonymous(client):
    response = await get_with_session(client, "/profile", "not-a-real-session")
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login")


# --- idle and absolute limits ------------------------------------------------------------


async def test_idle_session_ends_after_the_idle_limit(client):
    idle = get_settings().session_idle_minutes
    assert idle == 60
    user_id = await make_user()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        token = await sign_in(client, user_id)
        traveller.shift(dt.timedelta(minutes=idle - 1))
        # Used just in time: the request counts as activity and moves the idle limit on.
        assert (await get_with_session(client, "/profile", token)).status_code == 200
        traveller.shift(dt.timedelta(minutes=idle - 1))
        assert (await get_with_session(client, "/profile", token)).status_code == 200

        traveller.shift(dt.timedelta(minutes=idle + 1))
        response = await get_with_session(client, "/profile", token)

    assert response.status_code == 302
    assert response.headers["location"].startswith("/login")
    assert not await session_exists(token)


async def test_active_session_still_ends_at_the_absolute_limit(client):
    absolute = get_settings().session_absolute_hours
    assert absolute == 12
    user_id = await make_user()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        token = await sign_in(client, user_id)
        for _ in range(absolute * 2):  # every half hour, for 12 hours
            traveller.shift(dt.timedelta(minutes=30))
            assert (await get_with_session(client, "/profile", token)).status_code == 200

        traveller.shift(dt.timedelta(minutes=30))
        response = await get_with_session(client, "/profile", token)

    assert response.status_code == 302
    assert response.headers["location"].startswith("/login")
    assert not await session_exists(token)
    assert await sessions_of(user_id) == 0


async def test_session_cookie_lasts_no_longer_than_the_absolute_limit(client):
    await make_user(email="ada@example.org")
    response = await log_in(client, "ada@example.org", PASSWORD)
    header = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("governance_session=")
    )
    max_age = int(found(re.search(r"Max-Age=(\d+)", header)).group(1))
    assert max_age == get_settings().session_absolute_hours * 3600
    assert "samesite=lax" in header.lower()
