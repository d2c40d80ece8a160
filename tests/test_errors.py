"""Error pages and problem bodies: 403, 404, 405, 429 and 500; bad input is a 4xx, never a 500;
every response, errors included, carries the security headers."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import httpx
import pytest
import time_machine
from asyncpg.exceptions import DeadlockDetectedError, LockNotAvailableError, SerializationError
from litestar import Litestar
from litestar.exceptions import InternalServerException
from litestar.testing import RequestFactory

from governance.core.clock import utcnow
from governance.core.errors import BUSY_RETRY_AFTER_SECONDS, TooManyAttempts, handle_exception
from governance.groups.tables import Membership
from tests.factories import PASSWORD, make_group, make_membership, make_user
from tests.helpers import post_form, sign_in

SECRET = "connection string postgresql://admin:hunter2@db.internal"


async def test_unknown_path_is_a_404_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in response.text
    # The wording of errors/404.html, not the generic page.
    assert "There is nothing at this address, or you cannot see it." in response.text


async def test_unknown_group_is_a_404_page_for_a_signed_in_person(
    client: httpx.AsyncClient,
) -> None:
    await sign_in(client, await make_user())
    response = await client.get("/groups/no-such-group")
    assert response.status_code == 404
    assert "There is no working group at this address." in response.text


async def test_wrong_method_is_a_405_page(client: httpx.AsyncClient) -> None:
    # /logout only takes POST: a link or a refresh that GETs it is told so, not signed out.
    response = await client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert "<h1>Method not allowed</h1>" in response.text
    assert "does not accept that kind of request" in response.text


async def test_forbidden_is_a_403_page(client: httpx.AsyncClient) -> None:
    await sign_in(client, await make_user())
    response = await client.get("/admin/groups/new")
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in response.text
    assert "Only an administrator can do this." in response.text


async def test_form_without_its_csrf_token_is_a_403_page(client: httpx.AsyncClient) -> None:
    user_id = await make_user(admin=True)
    await sign_in(client, user_id)
    response = await post_form(client, "/admin/groups/new", {"name": "X", "slug": "x"}, False)
    assert response.status_code == 403
    assert "The form had expired" in response.text


async def test_repeated_failed_sign_ins_get_a_429_page(client: httpx.AsyncClient) -> None:
    await make_user(email="milo@example.org")
    with time_machine.travel(utcnow(), tick=False):
        for _ in range(5):
            response = await post_form(
                client, "/login", {"email": "milo@example.org", "password": "wrong password!"}
            )
            assert response.status_code == 422
        # Now even the right password, from this address, waits a moment first.
        response = await post_form(
            client, "/login", {"email": "milo@example.org", "password": PASSWORD}
        )
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("text/html")
    assert "Too many failed sign-ins." in response.text
    assert "governance_session" not in response.headers.get("set-cookie", "")


async def render(app: Litestar, path: str, exc: Exception) -> tuple[int, dict[str, str], str]:
    """Runs handle_exception for a request to `path` and renders what it returns."""
    request = RequestFactory(app=app).get(path)
    response = handle_exception(request, exc)
    asgi_response = response.to_asgi_response(None, request=request)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    await asgi_response(request.scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], headers, body.decode()


async def test_unexpected_error_is_a_500_page_that_leaks_nothing(
    app: Litestar, caplog: pytest.LogCaptureFixture
) -> None:
    status, headers, body = await render(app, "/groups", RuntimeError(SECRET))
    assert status == 500
    assert headers["content-type"].startswith("text/html")
    assert "<h1>Something went wrong</h1>" in body
    assert "hunter2" not in body
    assert "RuntimeError" not in body
    assert "Traceback" not in body
    # It is logged for the operator, with the detail.
    assert any(SECRET in str(record.exc_info) for record in caplog.records)


async def test_unexpected_error_on_the_api_is_a_problem_that_leaks_nothing(app: Litestar) -> None:
    status, headers, body = await render(app, "/api/v1/groups", RuntimeError(SECRET))
    assert status == 500
    assert headers["content-type"] == "application/problem+json"
    assert "hunter2" not in body
    assert '"status":500' in body


async def test_too_many_attempts_raised_anywhere_is_a_429_page(app: Litestar) -> None:
    status, headers, body = await render(
        app, "/groups", TooManyAttempts("Slow down: wait 15 minutes.", retry_after_seconds=900)
    )
    assert status == 429
    assert headers["retry-after"] == "900"
    assert "Slow down: wait 15 minutes." in body


# PostgreSQL's answers when another transaction is in the way: a serialization failure
# (40001), a deadlock (40P01) and a lock timeout (55P03). SQLite's is tested for real, with
# a second connection holding the lock, in tests/core/test_db.py.
CONTENTION = [
    SerializationError("could not serialize access due to concurrent update"),
    DeadlockDetectedError("deadlock detected"),
    LockNotAvailableError("canceling statement due to lock timeout"),
    sqlite3.OperationalError("database is locked"),
]


@pytest.mark.parametrize("error", CONTENTION, ids=lambda error: type(error).__name__)
async def test_a_busy_database_is_a_503_with_retry_after(app: Litestar, error: Exception) -> None:
    status, headers, body = await render(app, "/groups", error)
    assert status == 503
    assert headers["retry-after"] == str(BUSY_RETRY_AFTER_SECONDS)
    assert "<h1>Busy, try again</h1>" in body
    status, headers, body = await render(app, "/api/v1/groups", error)
    assert (status, headers["content-type"]) == (503, "application/problem+json")
    assert headers["retry-after"] == str(BUSY_RETRY_AFTER_SECONDS)
    assert '"title":"Busy, try again"' in body


async def test_other_database_errors_are_still_500s(app: Litestar) -> None:
    status, _, _ = await render(app, "/groups", sqlite3.OperationalError("no such table: x"))
    assert status == 500


async def test_a_client_that_went_away_is_not_logged_as_a_server_error(
    app: Litestar, caplog: pytest.LogCaptureFixture
) -> None:
    gone = InternalServerException("client disconnected prematurely")
    status, _, _ = await render(app, "/actions/1/progress", gone)
    assert status == 400
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


# --- signing in on the way ---------------------------------------------------------------


async def test_sign_in_redirect_keeps_the_query_string(client: httpx.AsyncClient) -> None:
    response = await client.get("/audit?before=5")
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=/audit%3Fbefore%3D5"
    login = await client.get(response.headers["location"])
    assert 'name="next" value="/audit?before=5"' in login.text


async def test_a_form_posted_without_a_session_returns_to_its_page(
    client: httpx.AsyncClient,
) -> None:
    # After signing in the browser GETs `next`; GET /logout would be a 405.
    response = await post_form(client, "/logout", {})
    assert response.headers["location"] == "/login?next=/"
    client.headers["referer"] = "http://testserver/groups/alpha?tab=members"
    response = await post_form(client, "/admin/groups/alpha/edit", {})
    assert response.headers["location"] == "/login?next=/groups/alpha%3Ftab%3Dmembers"
    client.headers["referer"] = "https://evil.example/groups/alpha"
    response = await post_form(client, "/profile", {})
    assert response.headers["location"] == "/login?next=/"


# --- bad path and query values ----------------------------------------------------------

BAD_NUMBERS = ("abc", "0", "-1", "1.5", "2147483648", "99999999999999999999")


def int_parameter_routes(app: Litestar) -> list[tuple[str, str]]:
    """(method, path with {param}) for every route taking an integer in its path."""
    found: list[tuple[str, str]] = []
    for route in app.routes:
        if ":int}" not in route.path:
            continue
        for method in sorted(route.methods - {"OPTIONS", "HEAD"}):
            found.append((method, route.path))
    return found


async def test_bad_numbers_in_paths_are_refused_never_500(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    await sign_in(client, await make_user(admin=True, board=True))
    routes = int_parameter_routes(app)
    assert ("GET", "/admin/groups/memberships/{membership_id:int}") in routes
    answers = {}
    for method, path in routes:
        for bad in BAD_NUMBERS:
            url = re.sub(r"\{\w+:int\}", bad, path)
            if method == "GET":
                response = await client.get(url)
            else:
                response = await post_form(client, url, {})
            answers[(method, url)] = response.status_code
    # Refused (4xx), or for a form post sent back with a message (3xx); never a 500 or a 200.
    assert {key: status for key, status in answers.items() if not 300 <= status < 500} == {}


async def test_a_membership_id_too_large_for_the_database_is_a_400(
    client: httpx.AsyncClient,
) -> None:
    await sign_in(client, await make_user(admin=True))
    response = await client.get("/admin/groups/memberships/99999999999999999999")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "url",
    ["/audit?before=abc", "/audit?before=99999999999999999999", "/login?next=//evil.example"],
)
async def test_bad_query_values_are_never_500(client: httpx.AsyncClient, url: str) -> None:
    await sign_in(client, await make_user(admin=True))
    response = await client.get(url)
    assert response.status_code < 500


async def test_bad_form_values_on_admin_forms_are_never_500(client: httpx.AsyncClient) -> None:
    group_id = await make_group(slug="alpha")
    membership_id = await make_membership(await make_user(), group_id)
    await sign_in(client, await make_user(admin=True))
    nonsense = {
        "name": "x" * 5000,
        "slug": "Not A Slug!",
        "mandate": "m" * 30000,
        "quorum_rule": "whatever",
        "quorum_count": "99999999999999999999",
        "role": "emperor",
        "starts_on": "2026-02-30",
        "ends_on": "yesterday",
        "email": "not-an-email",
        "cadence": "hourly",
        "report_due_days": "1e9",
        "response_days": "-99999999999999999999",
    }
    before = await Membership.select().order_by(Membership.id)
    for url in (
        "/admin/groups/new",
        "/admin/groups/alpha/edit",
        "/admin/groups/alpha/memberships/new",
        f"/admin/groups/memberships/{membership_id}",
        "/admin/groups/lines/1",
    ):
        response = await post_form(client, url, nonsense)
        if response.status_code == 303:
            # Refused and shown again on the form's own page (Post/Redirect/Get).
            assert response.headers["location"] == url
            response = await client.get(url)
            assert response.status_code == 200 and 'class="error-summary"' in response.text
            continue
        assert response.status_code in {404, 422}, (url, response.status_code)
    assert await Membership.select().order_by(Membership.id) == before


# --- security headers -------------------------------------------------------------------


def assert_security_headers(response: httpx.Response) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, (response.url, response.status_code)
    assert "default-src 'self'" in csp
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") == "same-origin"


async def test_security_headers_on_pages_and_on_errors(client: httpx.AsyncClient) -> None:
    responses = [
        await client.get("/login"),
        await client.get("/health"),
        await client.get("/groups"),  # redirect to sign in
        await client.get("/api/v1/me"),  # 401 problem
        await client.get("/no/such/page"),  # 404 before any route runs
        await client.get("/logout"),  # 405
        await client.post("/login", data={"email": "a@example.org"}),  # no CSRF token: 403
    ]
    await sign_in(client, await make_user())
    responses += [await client.get("/"), await client.get("/audit"), await client.get("/nowhere")]
    for response in responses:
        assert_security_headers(response)


async def test_signed_in_pages_and_errors_are_not_cached(client: httpx.AsyncClient) -> None:
    await sign_in(client, await make_user())
    for url in ("/", "/audit", "/groups/none"):
        response = await client.get(url)
        assert response.headers.get("cache-control") == "no-store", url
