"""The service as a browser meets it: HSTS and `__Host-` cookies over HTTPS, refusal of
unsafe requests sent from another site, forwarded headers only from trusted proxies, and
sessions that stay alive while they are used."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
import time_machine
from litestar import Litestar

from governance import cli
from governance.accounts.sessions import SESSION_COOKIE, resolve_session, start_session
from governance.accounts.tables import LoginAttempt, User, UserSession
from governance.app import create_app
from governance.core.clock import utcnow
from governance.core.urls import use_application
from governance.settings import SettingsError, get_settings, load_settings
from tests.accounts.support import issued_session, log_in
from tests.factories import PASSWORD, make_user
from tests.helpers import CSRF_COOKIE, asgi_transport, csrf_token, found, sign_in

ADDRESS = "203.0.113.7"  # the test client's address
HTTPS_BASE = "https://governance.example.org"
CROSS_SITE = "This request came from another site"
PROFILE = {
    "display_name": "Renamed",
    "timezone": "Europe/Paris",
    "digest_frequency": "daily",
    "digest_weekday": "monday",
}


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Settings read from these GOVERNANCE_* values while the block runs."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


@asynccontextmanager
async def served(
    app: Litestar, base_url: str = "http://testserver", address: str = ADDRESS, **env: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the service created with these settings, from `address`."""
    with environment(GOVERNANCE_BASE_URL=base_url, **env):
        other = create_app()
        transport = asgi_transport(other, client=(address, 50000))
        try:
            async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
                yield http
        finally:
            use_application(app)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each cookie the response sets: name → the whole Set-Cookie header."""
    return {header.partition("=")[0]: header for header in response.headers.get_list("set-cookie")}


def assert_host_prefixed(header: str) -> None:
    """The browser keeps a `__Host-` cookie only if it is Secure, for Path=/ and no Domain."""
    attributes = [part.strip().lower() for part in header.split(";")[1:]]
    assert header.startswith("__Host-")
    assert "secure" in attributes
    assert "path=/" in attributes
    assert not any(attribute.startswith("domain") for attribute in attributes)


async def https_sign_in(http: httpx.AsyncClient, email: str) -> httpx.Response:
    await http.get("/login")
    token = http.cookies["__Host-" + CSRF_COOKIE]
    return await http.post(
        "/login", data={"email": email, "password": PASSWORD, "_csrf_token": token}
    )


# --- HSTS and cookie names -----------------------------------------------------------------


async def test_strict_transport_security_only_when_the_base_url_is_https(client, app):
    for path in ("/login", "/no-such-page"):
        assert "strict-transport-security" not in (await client.get(path)).headers
    async with served(app, HTTPS_BASE) as https:
        for path in ("/login", "/no-such-page", "/health"):
            response = await https.get(path)
            assert response.headers["strict-transport-security"] == (
                "max-age=31536000; includeSubDomains"
            ), path


async def test_cookies_are_host_prefixed_over_https(app):
    user_id = await make_user(email="ada@example.org")
    async with served(app, HTTPS_BASE) as https:
        form = await https.get("/login")
        signed_in = await https_sign_in(https, "ada@example.org")
        profile = await https.get("/profile")
        token = https.cookies["__Host-" + SESSION_COOKIE]
        out = await https.post(
            "/logout", data={"_csrf_token": https.cookies["__Host-" + CSRF_COOKIE]}
        )
        landing = await https.get("/login")

    assert list(set_cookies(form)) == ["__Host-governance_csrf"]
    assert signed_in.status_code == 302
    assert list(set_cookies(signed_in)) == ["__Host-governance_session"]
    assert profile.status_code == 200
    assert out.status_code == 302
    assert sorted(set_cookies(out)) == ["__Host-governance_flash", "__Host-governance_session"]
    assert "max-age=0" in set_cookies(out)["__Host-governance_session"].lower()
    assert "You have signed out." in landing.text
    assert list(set_cookies(landing)) == ["__Host-governance_flash"]  # shown once, then cleared
    for response in (form, signed_in, out, landing):
        for header in set_cookies(response).values():
            assert_host_prefixed(header)
    assert token and await UserSession.count().where(UserSession.user == user_id) == 0


async def test_over_https_a_cookie_without_the_prefix_is_not_a_session(app):
    """Only the `__Host-` cookie counts: a plain one may have been set by another host."""
    user_id = await make_user()
    token = await start_session(user_id, ADDRESS, "pytest", previous_token=None)
    async with served(app, HTTPS_BASE) as https:
        plain = await https.get("/profile", headers={"cookie": f"{SESSION_COOKIE}={token}"})
        prefixed = await https.get(
            "/profile", headers={"cookie": f"__Host-{SESSION_COOKIE}={token}"}
        )

    assert plain.status_code == 302
    assert plain.headers["location"].startswith("/login")
    assert prefixed.status_code == 200


async def test_over_http_the_cookies_keep_their_plain_names(client):
    await make_user(email="ada@example.org")
    form = await client.get("/login")
    signed_in = await log_in(client, "ada@example.org", PASSWORD)

    assert list(set_cookies(form)) == ["governance_csrf"]
    assert list(set_cookies(signed_in)) == ["governance_session"]
    assert "secure" not in set_cookies(signed_in)["governance_session"].lower()


# --- unsafe requests from another site --------------------------------------------------------


async def test_a_form_sent_from_another_site_is_refused_even_with_its_csrf_token(client):
    user_id = await make_user(name="Original")
    await sign_in(client, user_id)
    token = await csrf_token(client, "/profile")
    form = {**PROFILE, "_csrf_token": token}

    refused = [
        await client.post("/profile", data=form, headers=headers)
        for headers in (
            {"origin": "https://evil.example"},
            {"origin": "http://testserver.evil.example"},
            {"origin": "null"},
            {"sec-fetch-site": "cross-site"},
            {"sec-fetch-site": "same-site"},
            # Origin is the judge when it is there, whatever Sec-Fetch-Site says.
            {"origin": "https://evil.example", "sec-fetch-site": "same-origin"},
        )
    ]

    for response in refused:
        assert response.status_code == 403
        assert "text/html" in response.headers["content-type"]
        assert CROSS_SITE in response.text
    row = found(await User.select(User.display_name).where(User.id == user_id).first())
    assert row["display_name"] == "Original"
    for headers in (
        {"origin": "http://testserver"},
        {"sec-fetch-site": "same-origin"},
        {"sec-fetch-site": "none"},
        {},
    ):
        accepted = await client.post("/profile", data=form, headers=headers)
        assert accepted.status_code == 302, headers


async def test_sign_in_from_another_site_is_refused(client):
    await make_user(email="ada@example.org")
    token = await csrf_token(client)

    response = await client.post(
        "/login",
        data={"email": "ada@example.org", "password": PASSWORD, "_csrf_token": token},
        headers={"origin": "https://evil.example"},
    )

    assert response.status_code == 403
    assert issued_session(response) is None
    assert await UserSession.count() == 0
    assert await LoginAttempt.count() == 0


async def test_safe_requests_from_another_site_are_answered(client):
    user_id = await make_user()
    await sign_in(client, user_id)
    response = await client.get("/profile", headers={"origin": "https://evil.example"})
    assert response.status_code == 200


async def test_the_api_with_a_bearer_token_is_not_judged_by_origin(client):
    from governance.accounts.services import issue_api_token

    user_id = await make_user(email="api@example.org")
    bearer = await issue_api_token("api@example.org")
    evil = {"origin": "https://evil.example"}

    with_token = await client.post(
        "/api/v1/groups/none/actions",
        json={},
        headers={**evil, "authorization": f"Bearer {bearer}"},
    )
    await sign_in(client, user_id)
    with_cookie = [
        await client.post("/api/v1/groups/none/actions", json={}, headers=evil),
        await client.patch("/api/v1/actions/1", json={}, headers=evil),
    ]

    assert with_token.status_code in {400, 404, 422}
    for response in with_cookie:
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
        assert CROSS_SITE in response.json()["detail"]


# --- forwarded headers -------------------------------------------------------------------


async def post_login(
    http: httpx.AsyncClient, data: dict[str, str], headers: dict[str, str]
) -> httpx.Response:
    token = await csrf_token(http)
    return await http.post("/login", data={**data, "_csrf_token": token}, headers=headers)


async def failed_sign_in_from(http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    """The address a failed sign-in is recorded under."""
    await LoginAttempt.delete(force=True)
    wrong = {"email": "ada@example.org", "password": "wrong password!"}
    response = await post_login(http, wrong, headers)
    assert response.status_code == 422
    row = found(await LoginAttempt.select(LoginAttempt.ip_address).first())
    return str(row["ip_address"])


async def test_forwarded_headers_are_ignored_unless_a_trusted_proxy_sent_them(client, app):
    await make_user(email="ada@example.org")
    forwarded = {"x-forwarded-for": "192.0.2.99", "x-forwarded-proto": "https"}

    assert await failed_sign_in_from(client, forwarded) == ADDRESS
    # Nor does X-Forwarded-Proto make the request https: an https Origin is another site.
    refused = await post_login(client, {}, {**forwarded, "origin": "https://testserver"})
    assert refused.status_code == 403

    proxies = "203.0.113.0/24, 2001:db8::1"
    async with served(app, GOVERNANCE_TRUSTED_PROXIES=proxies) as behind_proxy:
        assert await failed_sign_in_from(behind_proxy, forwarded) == "192.0.2.99"
        # The nearest address that is not a trusted proxy: what the client wrote itself
        # (the leftmost entries) is not believed.
        chain = {"x-forwarded-for": "10.9.9.9, 192.0.2.99, 203.0.113.50"}
        assert await failed_sign_in_from(behind_proxy, chain) == "192.0.2.99"
        # Forwarded as https by the proxy: an https Origin of the same host is this site.
        same_site = await post_login(
            behind_proxy, {}, {**forwarded, "origin": "https://testserver"}
        )
        assert same_site.status_code == 422
    async with served(app, GOVERNANCE_TRUSTED_PROXIES=proxies, address="198.51.100.20") as other:
        assert await failed_sign_in_from(other, forwarded) == "198.51.100.20"


def test_trusted_proxies_are_read_from_the_setting(tmp_path):
    base = {"GOVERNANCE_DATA_DIR": str(tmp_path), "GOVERNANCE_SECRET_KEY": "k"}

    assert load_settings(base).trusted_proxies == ()
    settings = load_settings(
        {**base, "GOVERNANCE_TRUSTED_PROXIES": " 10.0.0.1, 172.16.0.0/12 ,::1"}
    )
    assert settings.trusted_proxies == (
        ipaddress.ip_network("10.0.0.1/32"),
        ipaddress.ip_network("172.16.0.0/12"),
        ipaddress.ip_network("::1/128"),
    )
    with pytest.raises(SettingsError, match="GOVERNANCE_TRUSTED_PROXIES"):
        load_settings({**base, "GOVERNANCE_TRUSTED_PROXIES": "10.0.0.1, proxy.example"})


def test_serve_leaves_forwarded_headers_to_the_service(monkeypatch):
    """uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 (its default) before
    the service's own rule is applied."""
    import uvicorn

    from governance.scheduler import IN_PROCESS_ENV

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    monkeypatch.setenv(IN_PROCESS_ENV, "0")

    assert cli.main(["serve", "--no-scheduler"]) == 0

    assert seen["proxy_headers"] is False


# --- the idle limit ------------------------------------------------------------------------


async def test_a_session_used_more_often_than_its_idle_limit_stays_alive():
    settings = dataclasses.replace(get_settings(), session_idle_minutes=1)
    user_id = await make_user()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        token = await start_session(user_id, ADDRESS, "pytest", previous_token=None)
        for _ in range(5):
            traveller.shift(dt.timedelta(seconds=50))
            assert await resolve_session(token, settings) is not None

        traveller.shift(dt.timedelta(seconds=61))
        assert await resolve_session(token, settings) is None
