"""Every route and every persona: who gets in, who is sent to sign in, who is refused.

The matrix is checked against the routes the application actually registers, so a new
route without an entry here fails `test_matrix_covers_every_route`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar

from governance.accounts.services import password_link
from governance.accounts.tables import ApiToken, LoginAttempt, User
from governance.core.tables import AuditEvent, OutboundEmail
from governance.groups.tables import Membership, ReportingLine, WorkingGroup
from tests.factories import make_group, make_membership, make_user
from tests.helpers import post_form, sign_in

PERSONAS = ("anonymous", "other_member", "member", "chair", "director", "board", "admin")

# Outcomes.
OK = "ok"  # 200, 302 (not to /login) or 422: the request reached its handler
LOGIN = "login"  # anonymous on a page: 302 to /login?next=...
UNAUTHORIZED = "401"  # anonymous on the API: 401 JSON problem
FORBIDDEN = "403"  # signed in, but not allowed: 403, nothing changes

PUBLIC = dict.fromkeys(PERSONAS, OK)
SIGNED_IN = {"anonymous": LOGIN, **dict.fromkeys(PERSONAS[1:], OK)}
API_SIGNED_IN = {**SIGNED_IN, "anonymous": UNAUTHORIZED}
ADMIN = {
    "anonymous": LOGIN,
    **dict.fromkeys(PERSONAS[1:], FORBIDDEN),
    "admin": OK,
}
BOARD_OR_ADMIN = {**ADMIN, "board": OK}

# Routes anyone may use without signing in. Keep this list short and deliberate.
PUBLIC_ROUTES = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/account/forgot-password"),
    ("POST", "/account/forgot-password"),
    ("GET", "/account/set-password/{token}"),
    ("POST", "/account/set-password/{token}"),
}

MATRIX: dict[tuple[str, str], dict[str, str]] = {
    **{route: PUBLIC for route in PUBLIC_ROUTES},
    ("GET", "/"): SIGNED_IN,
    ("POST", "/logout"): SIGNED_IN,
    ("GET", "/profile"): SIGNED_IN,
    ("POST", "/profile"): SIGNED_IN,
    ("GET", "/groups"): SIGNED_IN,
    ("GET", "/groups/{slug}"): SIGNED_IN,
    ("GET", "/api/v1/me"): API_SIGNED_IN,
    ("GET", "/api/v1/groups"): API_SIGNED_IN,
    ("GET", "/api/v1/groups/{slug}"): API_SIGNED_IN,
    ("GET", "/audit"): BOARD_OR_ADMIN,
    ("GET", "/admin/users"): ADMIN,
    ("GET", "/admin/users/invite"): ADMIN,
    ("POST", "/admin/users/invite"): ADMIN,
    ("GET", "/admin/users/{user_id}"): ADMIN,
    ("POST", "/admin/users/{user_id}"): ADMIN,
    ("POST", "/admin/users/{user_id}/deactivate"): ADMIN,
    ("POST", "/admin/users/{user_id}/reactivate"): ADMIN,
    ("POST", "/admin/users/{user_id}/resend-invitation"): ADMIN,
    ("GET", "/admin/groups/new"): ADMIN,
    ("POST", "/admin/groups/new"): ADMIN,
    ("GET", "/admin/groups/{slug}/edit"): ADMIN,
    ("POST", "/admin/groups/{slug}/edit"): ADMIN,
    ("GET", "/admin/groups/{slug}/memberships/new"): ADMIN,
    ("POST", "/admin/groups/{slug}/memberships/new"): ADMIN,
    ("GET", "/admin/groups/memberships/{membership_id}"): ADMIN,
    ("POST", "/admin/groups/memberships/{membership_id}"): ADMIN,
    ("GET", "/admin/groups/lines/{line_id}"): ADMIN,
    ("POST", "/admin/groups/lines/{line_id}"): ADMIN,
}

EXCLUDED_PREFIXES = ("/static", "/schema")


def registered_routes(app: Litestar) -> set[tuple[str, str]]:
    """(method, path) for every handler the app serves, with parameter types dropped."""
    found = set()
    for route in app.routes:
        if route.path.startswith(EXCLUDED_PREFIXES):
            continue
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path)
        for method in route.methods - {"OPTIONS", "HEAD"}:
            found.add((method, path))
    return found


def test_matrix_covers_every_route(app: Litestar) -> None:
    routes = registered_routes(app)
    missing = "\n".join(f"    {route!r}: ...," for route in sorted(routes - MATRIX.keys()))
    assert not missing, f"Routes with no entry in MATRIX; add who may use each:\n{missing}"
    assert MATRIX.keys() - routes == set(), "matrix entries for routes that do not exist"


def test_every_persona_has_an_expectation() -> None:
    for route, expected in MATRIX.items():
        assert set(expected) == set(PERSONAS), route


@dataclass
class World:
    users: dict[str, int]
    params: dict[str, str]


async def build_world() -> World:
    alpha = await make_group(slug="alpha", name="Alpha group")
    beta = await make_group(slug="beta", name="Beta group")
    users = {
        "other_member": await make_user(name="Other member"),
        "member": await make_user(name="Member"),
        "chair": await make_user(name="Chair"),
        "director": await make_user(name="Director", director=True),
        "board": await make_user(name="Board member", board=True),
        "admin": await make_user(name="Admin", admin=True),
    }
    await make_membership(users["other_member"], beta, "member")
    membership = await make_membership(users["member"], alpha, "member")
    await make_membership(users["chair"], alpha, "chair")
    # An invited person who has not yet set a password: the target of the user admin routes.
    target = await make_user(name="Invitee", password_hash="")
    line = await ReportingLine.select(ReportingLine.id).where(ReportingLine.group == alpha).first()
    token = password_link(target, "", "invitation").rsplit("/", 1)[1]
    return World(
        users=users,
        params={
            "slug": "alpha",
            "user_id": str(target),
            "membership_id": str(membership),
            "line_id": str(line["id"]),
            "token": token,
        },
    )


async def snapshot() -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    return {
        "audit": await AuditEvent.select().order_by(AuditEvent.sequence),
        "users": await User.select(User.all_columns(exclude=[User.last_login_at])).order_by(
            User.id
        ),
        "groups": await WorkingGroup.select().order_by(WorkingGroup.id),
        "memberships": await Membership.select().order_by(Membership.id),
        "lines": await ReportingLine.select().order_by(ReportingLine.id),
        "outbox": await OutboundEmail.count(),
        "tokens": await ApiToken.count(),
        "login_attempts": await LoginAttempt.count(),
    }


async def request_as(
    client: httpx.AsyncClient, world: World, persona: str, method: str, url: str
) -> httpx.Response:
    client.cookies.clear()
    if persona != "anonymous":
        await sign_in(client, world.users[persona])
    if method == "GET":
        return await client.get(url)
    # A valid CSRF token and an empty form: enough to reach the guard and the handler.
    return await post_form(client, url, {})


async def check(
    response: httpx.Response, expected: str, before: dict[str, Any] | None
) -> str | None:
    """What is wrong with the response, or None."""
    status = response.status_code
    location = response.headers.get("location", "")
    content_type = response.headers.get("content-type", "")
    if expected == OK:
        if status not in {200, 302, 422} or location.startswith("/login?next="):
            return f"expected to be let in, got {status} {location}"
        return None
    if expected == LOGIN:
        if status != 302 or not location.startswith("/login?next=/"):
            return f"expected a redirect to sign in, got {status} {location}"
    elif expected == UNAUTHORIZED:
        if status != 401 or not content_type.startswith("application/problem+json"):
            return f"expected 401 JSON, got {status} {content_type}"
        if response.json().get("status") != 401:
            return f"expected a problem body with status 401, got {response.text[:200]}"
    elif expected == FORBIDDEN:
        if status != 403 or not content_type.startswith("text/html"):
            return f"expected a 403 page, got {status} {content_type}"
        if "Not allowed" not in response.text:
            return "the 403 page does not say the request is not allowed"
    if before is None or await snapshot() != before:
        return "a refused request changed something"
    return None


# Personas who may change state go last, so that refused requests all meet the same world.
@pytest.mark.parametrize(
    ("method", "path"), [pytest.param(*route, id=" ".join(route)) for route in sorted(MATRIX)]
)
async def test_access(client: httpx.AsyncClient, method: str, path: str) -> None:
    world = await build_world()
    url = path.format(**world.params)
    expectations = MATRIX[(method, path)]
    ordered = sorted(PERSONAS, key=lambda persona: expectations[persona] == OK)
    problems = {}
    for persona in ordered:
        before = await snapshot() if expectations[persona] != OK else None
        response = await request_as(client, world, persona, method, url)
        problem = await check(response, expectations[persona], before)
        if problem:
            problems[persona] = problem
    assert problems == {}
