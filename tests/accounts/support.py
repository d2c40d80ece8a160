"""Small helpers shared by the account tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar

from governance.accounts.sessions import SESSION_COOKIE, token_digest
from governance.accounts.tables import User, UserSession
from governance.core.tables import AuditEvent, OutboundEmail
from tests.helpers import asgi_transport, found, post_form


async def log_in(
    client: httpx.AsyncClient, email: str, password: str, next_path: str | None = None
) -> httpx.Response:
    data = {"email": email, "password": password}
    if next_path is not None:
        data["next"] = next_path
    return await post_form(client, "/login", data)


def issued_session(response: httpx.Response) -> str | None:
    """The session token a response sets, if it sets one."""
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name == SESSION_COOKIE:
            value = rest.split(";", 1)[0]
            return value or None
    return None


async def get_with_session(client: httpx.AsyncClient, path: str, token: str) -> httpx.Response:
    """A GET that carries exactly this session cookie, whatever the client's jar holds."""
    return await client.get(path, headers={"cookie": f"{SESSION_COOKIE}={token}"})


async def session_exists(token: str) -> bool:
    return bool(await UserSession.exists().where(UserSession.id == token_digest(token)))


async def sessions_of(user_id: int) -> int:
    return int(await UserSession.count().where(UserSession.user == user_id))


async def password_hash_of(user_id: int) -> str:
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    return str(found(row)["password_hash"])


async def counts() -> dict[str, int]:
    """How many users, outbox rows and audit events there are: to show nothing changed."""
    return {
        "users": int(await User.count()),
        "emails": int(await OutboundEmail.count()),
        "events": int(await AuditEvent.count()),
    }


@asynccontextmanager
async def browser(app: Litestar, address: str = "203.0.113.7") -> AsyncIterator[httpx.AsyncClient]:
    """A second browser, optionally from another address."""
    transport = asgi_transport(app, client=(address, 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
