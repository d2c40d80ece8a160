"""Who is making the request: a bearer token or a session cookie; and the route guards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from governance.accounts.policy import CurrentUser
from governance.accounts.sessions import (
    SESSION_COOKIE,
    SignedIn,
    keep_refused_form,
    signed_in_by_session,
    signed_in_by_token,
    take_refused_form,
)
from governance.core.errors import StepRequired
from governance.core.http import KEEP_REFUSED_FORM_SCOPE, REFUSED_FORM_SCOPE, FormFailure
from governance.core.security import CROSS_SITE, cookie, cookie_name, sent_from_another_site
from governance.core.urls import path_for
from governance.settings import get_settings

UNAUTHENTICATED_PREFIXES = ("/static/", "/health", "/favicon.ico")
# What a person who must still enrol a second factor may reach: the enrolment itself and
# signing out.
ENROLMENT_PATHS = ("/profile/two-factor", "/logout")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ENROL_FIRST = (
    "Your role requires two-factor sign-in. Set it up from your profile before anything else."
)
READ_ONLY_TOKEN = "This API token is read-only: it cannot change anything."  # noqa: S105 - a message
ResultT = TypeVar("ResultT")
# Where the middleware leaves the `SignedIn` of the request (None when nobody is).
SIGNED_IN_SCOPE = "signed_in"


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return None


def session_cookie_value(scope: Scope) -> str | None:
    """The session token the browser sent, under the cookie's name for this service (only
    the `__Host-` one when cookies are Secure)."""
    wanted = cookie_name(SESSION_COOKIE)
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, cookie_value = part.strip().partition("=")
                if key == wanted and cookie_value:
                    return cookie_value
    return None


class AuthenticationMiddleware(ASGIMiddleware):
    """Puts the signed-in user (or None) in scope["user"] for guards and handlers."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        signed_in: SignedIn | None = None
        if not scope["path"].startswith(UNAUTHENTICATED_PREFIXES):
            token = bearer_token(scope)
            if token is not None:
                # A request that brings a token is judged by the token alone.
                signed_in, refusal = await signed_in_by_token(token, get_settings())
                scope["auth_refusal"] = refusal  # type: ignore[typeddict-unknown-key]
                scope["auth"] = "token"
            elif cookie := session_cookie_value(scope):
                signed_in = await signed_in_by_session(cookie, get_settings())
                scope["auth"] = "session"
                await _take_refused_form(scope, signed_in)
                _leave_form_keeper(scope, signed_in)
        # The person, their roles today and the data version, read in one query.
        scope[SIGNED_IN_SCOPE] = signed_in  # type: ignore[literal-required]
        user = signed_in.viewer.user if signed_in else None
        scope["user"] = user
        if user is not None:
            _refuse_what_user_may_not_reach(scope, user)
        await next_app(scope, receive, send)


async def _take_refused_form(scope: Scope, signed_in: SignedIn | None) -> None:
    """A page view after a refused POST's redirect finds the refused form in the scope
    (`core.http.page_with_forms` shows it); any page view ends the session's keeping it."""
    session_id = signed_in.viewer.user.session_id if signed_in else None
    if signed_in is None or not signed_in.refused_form or session_id is None:
        return
    if scope.get("method") != "GET":
        return
    kept = await take_refused_form(session_id, signed_in.refused_form, scope["path"])
    if kept is not None:
        scope[REFUSED_FORM_SCOPE] = FormFailure.from_kept(kept)  # type: ignore[literal-required]


def _leave_form_keeper(scope: Scope, signed_in: SignedIn | None) -> None:
    """For a request signed in by its session cookie, how a refused form is kept for the
    next view of its page (`core.http.refused_to_page`); a bearer token's client gets none,
    and is shown the refusal where it posted."""
    session_id = signed_in.viewer.user.session_id if signed_in else None
    if session_id is None:
        return

    async def keep(page_path: str, failure: FormFailure) -> None:
        await keep_refused_form(session_id, page_path, failure.to_kept())

    scope[KEEP_REFUSED_FORM_SCOPE] = keep  # type: ignore[literal-required]


def _refuse_what_user_may_not_reach(scope: Scope, user: CurrentUser) -> None:
    """A read-only token changes nothing; a person who must enrol a second factor reaches
    only the enrolment (a page is sent there, an API client told why)."""
    if user.read_only and scope.get("method", "GET") in UNSAFE_METHODS:
        raise PermissionDeniedException(READ_ONLY_TOKEN)
    if user.must_enrol_second_factor and not scope["path"].startswith(ENROLMENT_PATHS):
        raise StepRequired(ENROL_FIRST, page=path_for("accounts:two-factor"))


class BearerAwareCSRFMiddleware(CSRFMiddleware):
    """For cookie-authenticated requests, an unsafe one sent from another site (by its
    Origin, or its Sec-Fetch-Site) is refused, and every unsafe one must carry the CSRF
    token; a bearer token cannot be forged cross-site, so token requests pass both."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and bearer_token(scope) is not None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and sent_from_another_site(scope):
            raise PermissionDeniedException(CROSS_SITE)
        await super().__call__(scope, receive, send)


def session_cookie(token: str, max_age: int) -> Cookie:
    return cookie(SESSION_COOKIE, token, max_age)


def expired_session_cookie() -> Cookie:
    return cookie(SESSION_COOKIE, "", 0)


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser:
    user = connection.scope.get("user")
    if user is None:
        # A refused bearer token says why (expired, revoked); otherwise, sign in.
        raise NotAuthorizedException(connection.scope.get("auth_refusal") or "Sign in to continue.")
    return user  # type: ignore[no-any-return]


def signed_in_of(connection: ASGIConnection[Any, Any, Any, Any]) -> SignedIn | None:
    """The person, their roles and the data version as the middleware read them."""
    return connection.scope.get(SIGNED_IN_SCOPE)  # type: ignore[return-value]


# Guards are coroutines: Litestar runs a plain function guard in a worker thread, a hop per
# request for a check that reads only the scope.
async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    current_user(connection)


async def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not current_user(connection).is_admin:
        raise PermissionDeniedException("Only an administrator can do this.")


async def board_or_admin(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    user = current_user(connection)
    if not (user.is_board or user.is_admin):
        raise PermissionDeniedException("Only Board members and administrators can see this.")


def as_signed_in(
    connection: ASGIConnection[Any, Any, Any, Any], service: Callable[..., Awaitable[ResultT]]
) -> Callable[[Any, dict[str, str]], Awaitable[ResultT]]:
    """A service taking `(command, user, *, unreadable)` as the signed-in user, in the form
    `core.http.submit_form` calls it: `(command, unreadable)`."""

    async def act(command: Any, unreadable: dict[str, str]) -> ResultT:
        return await service(command, current_user(connection), unreadable=unreadable)

    return act
