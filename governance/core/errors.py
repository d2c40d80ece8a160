"""Errors a service can raise, and how the web layer shows any error: a page or JSON problem."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any
from urllib.parse import quote, urlsplit

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from governance.core.security import security_headers

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """A rule refused the request. Services raise these; they know nothing of HTTP."""

    status_code = 400
    title = "Request refused"

    def __init__(self, message: str, field_errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class InvalidInput(ServiceError):
    status_code = 422
    title = "Some values need correcting"


class NotFoundError(ServiceError):
    status_code = 404
    title = "Not found"


class PermissionDenied(ServiceError):
    status_code = 403
    title = "Not allowed"


class ConflictError(ServiceError):
    status_code = 409
    title = "Conflict"


class TooManyAttempts(ServiceError):
    status_code = 429
    title = "Too many attempts"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class StepRequired(ServiceError):
    """The request must wait for a step the person has to take first: a page is sent to
    `page` to take it; an API client gets a 403 saying what it is."""

    status_code = 403
    title = "A step is needed first"

    def __init__(self, message: str, page: str) -> None:
        super().__init__(message)
        self.page = page


# Long enough for the writers queued ahead to finish, short enough that a person retrying
# by hand waits no longer than they would anyway.
BUSY_RETRY_AFTER_SECONDS = 2
BUSY_MESSAGE = (
    "The service is busy saving other changes and could not save yours in time. "
    "Nothing has been saved. Try again in a moment."
)


class DatabaseBusy(ServiceError):
    """Writers were queued longer than the database's busy timeout: the request was fine,
    the service was busy, so it answers 503 with Retry-After (never 500)."""

    status_code = 503
    title = "Busy, try again"

    def __init__(self, message: str = BUSY_MESSAGE) -> None:
        super().__init__(message)
        self.retry_after_seconds = BUSY_RETRY_AFTER_SECONDS


ERROR_TITLES = {
    400: "Bad request",
    401: "Sign-in needed",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Some values need correcting",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Busy, try again",
}
# A JSON client asked for a resource, not a page.
PROBLEM_TITLES = {**ERROR_TITLES, 404: "Not found"}
PAGE_TEMPLATES = {403, 404, 405, 429, 500, 503}


def wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.startswith("/schema")


PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(msgspec.Struct, kw_only=True):
    """The body of every error answer of the API (RFC 9457 problem details), as
    `problem_response` writes it: declared so that the OpenAPI description says what a
    client gets back when it is refused."""

    status: int
    title: str
    detail: str
    # A refused command's error for each field by name, or (400) where the request's
    # shape was wrong: each a message with the parameter's `key` and `source`.
    errors: dict[str, str] | list[dict[str, Any]] | None = None


# Why the API answers each error status, for the OpenAPI description.
PROBLEM_DESCRIPTIONS = {
    400: "A parameter or the body is not of the declared shape, type or range",
    401: "No credentials, or a token or session that is unknown, expired or revoked",
    403: "The caller may not do this (or, signed in by session cookie, sent no CSRF token)",
    404: "There is no such record, or the caller may not read it",
    409: "The record's state does not allow this now",
    413: "The request's body is larger than the route accepts",
    422: "Values of the right type that break a rule: `errors` names every such field",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The error answers a route of the API gives, for its `responses=`: each a `Problem`
    in `application/problem+json`."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=PROBLEM_DESCRIPTIONS[status],
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }


def problem_response(
    status: int, detail: str, extra: dict[str, Any] | None = None
) -> Response[Any]:
    body: dict[str, Any] = {
        "status": status,
        "title": PROBLEM_TITLES.get(status, "Error"),
        "detail": detail,
    }
    body.update(extra or {})
    return Response(content=body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def error_page(request: Request[Any, Any, Any], status: int, detail: str) -> Response[Any]:
    template = f"errors/{status}.html" if status in PAGE_TEMPLATES else "errors/generic.html"
    return Template(
        template_name=template,
        context={"status": status, "title": ERROR_TITLES.get(status, "Error"), "detail": detail},
        status_code=status,
        media_type=MediaType.HTML,
    )


def sign_in_target(request: Request[Any, Any, Any]) -> str:
    """Where to send someone after they sign in. The browser will GET it, so a form posted
    without a session goes back to the page the form was on (a POST-only address such as
    /logout would answer 405), and a page keeps its query string."""
    if request.method in {"GET", "HEAD"}:
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


def is_unstorable_value(exc: Exception) -> bool:
    """A value from the request that the database refuses as data, such as an id too large
    for its column: SQLite's driver raises OverflowError, PostgreSQL a data exception
    (SQLSTATE class 22). The request was bad, not the service."""
    if isinstance(exc, OverflowError):
        return True
    try:
        from asyncpg.exceptions import DataError
    except ImportError:  # pragma: no cover - asyncpg comes with piccolo[postgres]
        return False
    return isinstance(exc, DataError)


# Litestar's words (as a 500) when the client disconnects before its body has arrived.
CLIENT_WENT_AWAY = "client disconnected prematurely"

# SQLite's primary result codes for "another connection holds the lock" (extended codes
# such as SQLITE_BUSY_SNAPSHOT keep the primary code in their low byte).
_SQLITE_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED


def is_contention(exc: Exception) -> bool:
    """The database gave up waiting for another writer: SQLite's "database is locked" after
    its busy timeout, or PostgreSQL's serialization failure, deadlock or lock timeout
    (SQLSTATE class 40 and 55P03). Nothing was saved and the same request may succeed."""
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in _SQLITE_BUSY_CODES
        return "locked" in str(exc) or "busy" in str(exc)
    try:
        from asyncpg.exceptions import LockNotAvailableError, TransactionRollbackError
    except ImportError:  # pragma: no cover - asyncpg comes with piccolo[postgres]
        return False
    return isinstance(exc, TransactionRollbackError | LockNotAvailableError)


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # Errors raised before a route's middleware runs (no such path, wrong method, a CSRF
    # failure) would otherwise leave without the security headers every response carries.
    headers: dict[str, str] = security_headers()
    if request.scope.get("user") is not None:
        headers["cache-control"] = "no-store"
    extra: dict[str, Any] = {}
    if is_contention(exc):
        logger.warning("Database busy on %s: %s", request.url.path, exc)
        exc = DatabaseBusy()
    if isinstance(exc, StepRequired) and not wants_json(request):
        return Redirect(path=exc.page, headers=headers)
    if isinstance(exc, ServiceError):
        status, detail = exc.status_code, exc.message
        if exc.field_errors:
            extra["errors"] = exc.field_errors
        if isinstance(exc, TooManyAttempts | DatabaseBusy):
            headers["Retry-After"] = str(exc.retry_after_seconds)
    elif isinstance(exc, HTTPException):
        status, detail = exc.status_code, str(exc.detail)
        if exc.extra and isinstance(exc.extra, list | dict):
            extra["errors"] = exc.extra
        headers.update(exc.headers or {})
        if status == 401 and not wants_json(request):
            return Redirect(path=f"/login?next={quote(sign_in_target(request))}", headers=headers)
        if detail == CLIENT_WENT_AWAY:
            # A closed tab, or a load generator stopping: no one is left to answer, and the
            # service did not fail, so it is not logged as an error.
            logger.info("Client went away during %s", request.url.path)
            status, detail = 400, "The request did not arrive in full."
        elif status >= 500:
            logger.exception("Unhandled error on %s", request.url.path, exc_info=exc)
            detail = "The service could not complete this request. It has been logged."
    elif is_unstorable_value(exc):
        logger.warning("Refused a value on %s: %s", request.url.path, exc)
        status, detail = 400, "A value in this request is out of range."
    else:
        logger.exception("Unhandled error on %s", request.url.path, exc_info=exc)
        status = HTTP_500_INTERNAL_SERVER_ERROR
        detail = "The service could not complete this request. It has been logged."
    response = (
        problem_response(status, detail, extra)
        if wants_json(request)
        else error_page(request, status, detail)
    )
    response.headers.update(headers)
    return response


__all__ = [
    "ConflictError",
    "DatabaseBusy",
    "InvalidInput",
    "NotAuthorizedException",
    "NotFoundError",
    "PermissionDenied",
    "ServiceError",
    "TooManyAttempts",
    "handle_exception",
]
