"""What every domain's adapters (controllers.py, api.py) share: a row id in a path, one parser
for choices in a query string, a page with its flash messages, a form shown again with every
field's error, redirects after POST.

The signed-in `viewer` is injected by Litestar's dependency injection (`Provide`, wired in
`app.py` from `groups/dependencies.py`, since building it reads memberships): a handler
declares `viewer: Viewer` and gets it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from urllib.parse import urlparse, urlsplit

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.params import PathParameter
from litestar.response import Redirect, Template

from governance.core.contracts import MAX_ROW_ID, read_form
from governance.core.errors import InvalidInput, NotFoundError, ServiceError
from governance.core.security import cookie, cookie_name
from governance.core.signing import sign, unsign

FLASH_COOKIE = "governance_flash"
# Where the authentication middleware leaves a refused form kept for this page view (a
# `FormFailure`), after its POST was answered with a redirect here (Post/Redirect/Get).
REFUSED_FORM_SCOPE = "refused_form"
# Where the authentication middleware leaves, for a request signed in by a session cookie
# only, the coroutine that keeps a refused form for the next view of a page (a `FormKeeper`):
# core cannot reach the session itself, which belongs to accounts.
KEEP_REFUSED_FORM_SCOPE = "keep_refused_form"
CommandT = TypeVar("CommandT", bound=msgspec.Struct)
ResultT = TypeVar("ResultT")

# A row id in a path, e.g. /admin/groups/memberships/{membership_id:int}. A number no row can
# have is refused with a 400 here instead of reaching the database driver, which cannot bind
# it (SQLite: OverflowError; PostgreSQL: out of int32 range) and would answer with a 500.
RowId = Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID)]


def refuse_non_ascii_path_ids(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook for the whole app: a number in a path is read by Litestar's
    `int()`, which takes an Arabic-Indic or full-width one for 1 ("²" it refuses); an id in an
    address is ASCII digits only, like every id the application reads (`contracts.row_id`),
    so any other writing of it is an address that does not exist."""
    template = str(request.scope.get("path_template") or "").split("/")
    parameters = request.scope.get("path_params") or {}
    for part, raw in zip(template, str(request.scope.get("path", "")).split("/"), strict=False):
        if not (part.startswith("{") and part.endswith("}")):
            continue
        value = parameters.get(part[1:-1])
        if isinstance(value, int) and not isinstance(value, bool) and not raw.isascii():
            raise NotFoundError("There is nothing at this address.")


def query_choice(
    value: str | None, choices: Iterable[str], name: str, message: str = ""
) -> str | None:
    """A filter from a query string: empty means "any"; anything not in `choices` is a 422
    naming the field."""
    if not value:
        return None
    allowed = [str(choice) for choice in choices]
    if value not in allowed:
        raise InvalidInput(
            "Unknown filter.", {name: message or f"Choose one of: {', '.join(allowed)}."}
        )
    return value


def request_state(connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
    """What this request keeps for later steps of itself (the viewer, the navigation's
    count), as the dict it is: `connection.state` builds a `State` at every use, whose `.get`
    finds a missing key by catching a KeyError, a cost on every page."""
    return connection.scope.setdefault("state", {})  # type: ignore[typeddict-item]


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def _read_flash(request: Request[Any, Any, Any]) -> list[dict[str, str]]:
    raw = request.cookies.get(cookie_name(FLASH_COOKIE))
    if not raw:
        return []
    payload = unsign("flash", raw, max_age_seconds=300)
    return payload if isinstance(payload, list) else []


def page(
    request: Request[Any, Any, Any],
    template_name: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    """A page, with any flash message left by the previous redirect (shown once), and the
    form refused by the POST that redirected here, when the context shows no errors of its
    own: a GET handler of a page with one form needs nothing more for Post/Redirect/Get."""
    messages = _read_flash(request)
    cookies = [cookie(FLASH_COOKIE, "", 0)] if messages else []
    shown = {"flash_messages": messages, "errors": {}, "values": {}, **(context or {})}
    kept = kept_refusal(request)
    if kept is not None and not shown["errors"]:
        shown.update(_failure_context(kept))
    return Template(
        template_name=template_name, context=shown, status_code=status_code, cookies=cookies
    )


def kept_refusal(request: Request[Any, Any, Any]) -> FormFailure | None:
    """The refused form this page view shows again, when it is the view a refused POST
    redirected to (Post/Redirect/Get)."""
    kept = request.scope.get(REFUSED_FORM_SCOPE)
    return kept if isinstance(kept, FormFailure) else None


def _failure_context(failure: FormFailure) -> dict[str, Any]:
    """What a template reads of a refused form: each field's error, what was typed, which
    form it was and, for the error summary, why."""
    shown: dict[str, Any] = {
        "errors": dict(failure.errors),
        "values": dict(failure.values),
        "failed_form": failure.form,
    }
    if failure.message:
        shown["form_error"] = failure.message
    return shown


def form_page(
    request: Request[Any, Any, Any],
    template_name: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    context: Mapping[str, Any] | None = None,
    message: str = "Some values need correcting. Nothing has been saved.",
) -> Template:
    """A form shown again with what was typed and each field's error; 422, nothing saved."""
    return page(
        request,
        template_name,
        {**(context or {}), "values": values, "errors": errors, "form_error": message},
        status_code=422,
    )


@dataclass(frozen=True)
class FormFailure:
    """A refused form on a page that holds several: each field's error, what was typed,
    which form it was (so only that one shows them), why, and the status to answer with."""

    errors: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)
    form: str = ""
    message: str = ""
    status_code: int = 422

    @classmethod
    def of(
        cls, error: ServiceError, form: str = "", values: Mapping[str, Any] | None = None
    ) -> FormFailure:
        """A service's refusal: bad input is 422, a refused state change 409."""
        status = 422 if isinstance(error, InvalidInput) else 409
        return cls(error.field_errors, values or {}, form, error.message, status)

    def to_kept(self) -> dict[str, Any]:
        """The failure as the session keeps it until the page is shown again: text only (a
        file chosen is never kept; a browser never fills a file field back in)."""
        return {
            "errors": {str(name): str(text) for name, text in self.errors.items()},
            "values": {str(name): value for name, value in self.values.items() if _keepable(value)},
            "form": self.form,
            "message": self.message,
        }

    @classmethod
    def from_kept(cls, kept: Mapping[str, Any]) -> FormFailure:
        """A kept failure, shown on the page its POST redirected to: the page itself is
        fine, so it answers 200."""
        errors, values = kept.get("errors"), kept.get("values")
        return cls(
            dict(errors) if isinstance(errors, dict) else {},
            dict(values) if isinstance(values, dict) else {},
            str(kept.get("form") or ""),
            str(kept.get("message") or ""),
            200,
        )


def _keepable(value: Any) -> bool:
    """Text typed, or the ticked values of a list of boxes (ids or text), survives being kept;
    anything else (a file) is not typed back in."""
    if isinstance(value, list):
        return all(isinstance(item, str | int) and not isinstance(item, bool) for item in value)
    return isinstance(value, str)


def page_with_forms(
    request: Request[Any, Any, Any],
    template_name: str,
    context: Mapping[str, Any],
    failure: FormFailure | None = None,
) -> Template:
    """A page holding several forms, shown again with the failed one's errors, if any:
    the one given, or the one kept for this view after a refused POST's redirect."""
    if failure is None:
        failure = kept_refusal(request) or FormFailure(status_code=200)
    full_context = {**context, **_failure_context(failure)}
    return page(request, template_name, full_context, status_code=failure.status_code)


# Keeps a refused form for the next view of the page at a path (its address's path part).
FormKeeper = Callable[[str, FormFailure], Awaitable[None]]


async def refused_to_page(
    request: Request[Any, Any, Any], page_address: str, failure: FormFailure
) -> Redirect | None:
    """Post/Redirect/Get for a refused form: the refusal is kept for the next view of its
    page, and the answer is a 303 to the page's exact address (query string included), so
    the address bar shows the page, not the POST. None when the request has no session to
    keep it in (a bearer token): the caller shows the refusal where it was posted, 422."""
    keep = request.scope.get(KEEP_REFUSED_FORM_SCOPE)
    if not callable(keep):
        return None
    await keep(urlsplit(page_address).path, failure)
    return Redirect(path=page_address, status_code=303)


def redirect(
    path: str,
    message: str | None = None,
    category: str = "success",
    cookies: list[Cookie] | None = None,
) -> Redirect:
    all_cookies = list(cookies or [])
    if message:
        token = sign("flash", [{"category": category, "message": message}])
        all_cookies.append(cookie(FLASH_COOKIE, token, 300))
    return Redirect(path=path, cookies=all_cookies)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: an attacker's ?next=https://... must not bounce users away."""
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


# Never typed back into a form shown again: passwords, one-time codes, signed tokens.
SECRET_FIELDS = frozenset(
    {"password", "password_confirm", "current_password", "code", "_csrf_token"}
)


def form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """What the user typed, minus secrets, to fill a re-rendered form."""
    return {k: v for k, v in data.items() if k not in SECRET_FIELDS}


def to_json(value: Any) -> str:
    return json.dumps(value, default=str)


async def submit_form(
    request: Request[Any, Any, Any],
    command_type: type[CommandT],
    act: Callable[[CommandT, dict[str, str]], Awaitable[ResultT]],
    done: Callable[[ResultT], Redirect],
    template_name: str,
    context: Mapping[str, Any] | None = None,
    shown_at: str | None = None,
) -> Template | Redirect:
    """A form posted to one service: read into its command, handed to `act` with the
    fields it could not read, and on success `done` with what `act` returned. A refusal of
    the values is answered with a redirect to the form's page `shown_at`, which shows it
    again with what was typed and every field's error (`page`); without a session to keep
    it in, or without `shown_at`, the form is shown again here, 422."""
    data = await request.form()
    command, unreadable = read_form(command_type, data)
    try:
        result = await act(command, unreadable)
    except InvalidInput as error:
        values = form_values(data)
        if shown_at is None:
            return form_page(
                request, template_name, values, error.field_errors, context, error.message
            )
        return await refuse_form(request, shown_at, template_name, values, error, context)
    return done(result)


async def refuse_form(
    request: Request[Any, Any, Any],
    shown_at: str,
    template_name: str,
    values: Mapping[str, Any],
    error: InvalidInput,
    context: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Template | Redirect:
    """A refused single form: a redirect to its page `shown_at`, whose view shows what was
    typed and each field's error (`errors`, else the refusal's own); without a session to
    keep them in, the form shown again here (`template_name`, `context`), 422."""
    field_errors = error.field_errors if errors is None else errors
    failure = FormFailure(field_errors, values, "", error.message)
    if redirected := await refused_to_page(request, shown_at, failure):
        return redirected
    return form_page(request, template_name, values, field_errors, context, error.message)
