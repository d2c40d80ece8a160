"""Account pages: sign-in and out, password links, profile, and account administration.

Each form is read into its command (`accounts/schemas.py`) and handed to one service, which
finds every field's error at once; a refused form is shown again with all of them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from governance.accounts import queries, services
from governance.accounts.auth import (
    admin_only,
    as_signed_in,
    board_or_admin,
    current_user,
    expired_session_cookie,
    session_cookie,
    session_cookie_value,
    signed_in,
)
from governance.accounts.policy import Viewer
from governance.accounts.schemas import (
    AccountChange,
    AccountView,
    DigestFrequency,
    Invitation,
    Login,
    NewPassword,
    PasswordResetRequest,
    ProfileChange,
    Weekday,
)
from governance.accounts.sessions import end_session, start_session
from governance.core.contracts import read_form
from governance.core.errors import InvalidInput, NotFoundError, ServiceError, TooManyAttempts
from governance.core.forms import TIMEZONES
from governance.core.http import (
    RowId,
    client_ip,
    form_page,
    form_values,
    page,
    redirect,
    safe_next,
    submit_form,
)
from governance.core.urls import path_for
from governance.settings import get_settings

logger = logging.getLogger(__name__)
LOGIN = "accounts/login.html"
LINK_EXPIRED = "accounts/link_expired.html"


def _refused(
    request: Request[Any, Any, Any],
    template: str,
    data: Mapping[str, Any],
    error: InvalidInput,
    context: Mapping[str, Any] | None = None,
) -> Template:
    """The form again, with what was typed (never a password) and every field's error."""
    return form_page(
        request, template, form_values(data), error.field_errors, context, message=error.message
    )


def _link_on_its_way(_: None) -> Redirect:
    return redirect(
        path_for("accounts:login"),
        "If an active account has that email, a link to set a new password is on its way.",
    )


async def _send_password_reset(email: str) -> None:
    """After the answer has gone, nobody is left to show an error to: it is logged."""
    try:
        await services.send_password_reset(email)
    except Exception:
        logger.exception("Could not queue a password reset link")


def _to_account(user_id: int, message: str, category: str = "success") -> Redirect:
    return redirect(path_for("accounts:user", user_id=user_id), message, category)


class SessionController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema

    @get("/login", name="accounts:login")
    async def login_form(
        self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None
    ) -> Template | Redirect:
        if request.scope.get("user"):
            return redirect(safe_next(next))
        return page(request, LOGIN, {"next": safe_next(next)})

    @post("/login", name="accounts:sign-in")
    async def login(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        data = await request.form()
        command, unreadable = read_form(Login, data)
        context = {"next": safe_next(str(data.get("next", "")))}
        try:
            user = await services.authenticate(command, client_ip(request), unreadable=unreadable)
        except TooManyAttempts as error:
            refused = page(
                request,
                LOGIN,
                {**context, "values": form_values(data), "form_error": error.message},
                status_code=429,
            )
            refused.headers["Retry-After"] = str(error.retry_after_seconds)
            return refused
        except InvalidInput as error:
            return _refused(request, LOGIN, data, error, context)
        token = await start_session(
            user.id,
            client_ip(request),
            request.headers.get("user-agent", ""),
            previous_token=session_cookie_value(request.scope),
        )
        max_age = get_settings().session_absolute_hours * 3600
        return redirect(context["next"], cookies=[session_cookie(token, max_age)])

    @post("/logout", guards=[signed_in], name="accounts:sign-out")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        token = session_cookie_value(request.scope)
        if token:
            await end_session(token)
        return redirect(
            path_for("accounts:login"), "You have signed out.", cookies=[expired_session_cookie()]
        )


class PasswordController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/account"

    @get("/forgot-password", name="accounts:forgot-password-form")
    async def forgot_form(self, request: Request[Any, Any, Any]) -> Template:
        return page(request, "accounts/forgot_password.html")

    @post("/forgot-password", name="accounts:forgot-password")
    async def forgot(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        async def check(command: PasswordResetRequest, unreadable: dict[str, str]) -> str:
            return services.checked_reset_request(command, unreadable=unreadable)

        def answer_then_send(email: str) -> Redirect:
            # The link is queued once the answer has gone: how long the answer takes says
            # nothing of whether an account has this email.
            answer = _link_on_its_way(None)
            answer.background = BackgroundTask(_send_password_reset, email)
            return answer

        return await submit_form(
            request, PasswordResetRequest, check, answer_then_send, "accounts/forgot_password.html"
        )

    @get("/set-password/{token:str}", name="accounts:set-password")
    async def set_password_form(
        self, request: Request[Any, Any, Any], token: FromPath[str]
    ) -> Template:
        holder = await queries.link_holder(token)
        if holder is None:
            return page(request, LINK_EXPIRED, status_code=404)
        return page(request, "accounts/set_password.html", {"account": holder, "token": token})

    @post("/set-password/{token:str}", name="accounts:set-password-save")
    async def set_password(
        self, request: Request[Any, Any, Any], token: FromPath[str]
    ) -> Template | Redirect:
        command, unreadable = read_form(NewPassword, await request.form())
        try:
            await services.set_password_with_token(token, command, unreadable=unreadable)
        except InvalidInput as error:
            holder = await queries.link_holder(token)
            if holder is None:
                return page(request, LINK_EXPIRED, status_code=404)
            context = {"account": holder, "token": token}
            return form_page(request, "accounts/set_password.html", {}, error.field_errors, context)
        except NotFoundError:
            return page(request, LINK_EXPIRED, status_code=404)
        return redirect(path_for("accounts:login"), "Your password is set. Sign in with it now.")


def _profile_context() -> dict[str, Any]:
    return {
        "timezones": sorted(TIMEZONES),
        "digest_frequencies": list(DigestFrequency),
        "weekdays": list(Weekday),
    }


class ProfileController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/profile"
    guards = [signed_in]

    @get("/", name="accounts:profile")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        profile = await queries.get_profile(current_user(request))
        values = msgspec.structs.asdict(profile)
        return page(request, "accounts/profile.html", {**_profile_context(), "values": values})

    @post("/", name="accounts:profile-save")
    async def update(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        act = as_signed_in(request, services.update_profile)

        def done(_: None) -> Redirect:
            return redirect(path_for("accounts:profile"), "Your profile is saved.")

        template = "accounts/profile.html"
        return await submit_form(request, ProfileChange, act, done, template, _profile_context())


class UserAdminController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/admin/users"
    guards = [admin_only]

    @get("/", name="accounts:users")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        users = await queries.list_users(current_user(request))
        return page(request, "accounts/admin_users.html", {"users": users})

    @get("/invite", name="accounts:invite-form")
    async def invite_form(self, request: Request[Any, Any, Any]) -> Template:
        return page(request, "accounts/admin_invite.html")

    @post("/invite", name="accounts:invite")
    async def invite(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        act = as_signed_in(request, services.invite_user)

        def done(account: AccountView) -> Redirect:
            return redirect(path_for("accounts:users"), f"Invitation sent to {account.email}.")

        return await submit_form(request, Invitation, act, done, "accounts/admin_invite.html")

    @get("/{user_id:int}", name="accounts:user")
    async def edit_form(self, request: Request[Any, Any, Any], user_id: RowId) -> Template:
        account = await queries.get_account(user_id, current_user(request))
        context = {"account": account, "values": msgspec.structs.asdict(account)}
        return page(request, "accounts/admin_user_edit.html", context)

    @post("/{user_id:int}", name="accounts:user-save")
    async def edit(self, request: Request[Any, Any, Any], user_id: RowId) -> Template | Redirect:
        account = await queries.get_account(user_id, current_user(request))
        return await submit_form(
            request,
            AccountChange,
            as_signed_in(request, partial(services.update_user, user_id)),
            lambda _: _to_account(user_id, "Account saved."),
            "accounts/admin_user_edit.html",
            {"account": account},
        )

    @post("/{user_id:int}/deactivate", name="accounts:deactivate")
    async def deactivate(self, request: Request[Any, Any, Any], user_id: RowId) -> Redirect:
        try:
            await services.set_user_active(user_id, False, current_user(request))
        except InvalidInput as error:
            return _to_account(user_id, error.message, "error")
        return _to_account(user_id, "Account deactivated; its sessions have ended.")

    @post("/{user_id:int}/reactivate", name="accounts:reactivate")
    async def reactivate(self, request: Request[Any, Any, Any], user_id: RowId) -> Redirect:
        await services.set_user_active(user_id, True, current_user(request))
        return _to_account(user_id, "Account reactivated.")

    @post("/{user_id:int}/resend-invitation", name="accounts:resend-invitation")
    async def resend(self, request: Request[Any, Any, Any], user_id: RowId) -> Redirect:
        try:
            await services.resend_invitation(user_id, current_user(request))
        except ServiceError as error:
            return _to_account(user_id, error.message, "error")
        return _to_account(user_id, "Invitation sent again.")


# `page` would hide the page helper; the query keeps the name.
AuditPage = Annotated[int, QueryParameter(name="page", ge=1, le=queries.LAST_AUDIT_PAGE)]


class AuditTrailController(Controller):
    """The audit trail's metadata, for the Board and administrators."""

    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/audit"

    guards = [board_or_admin]

    @get("/", name="accounts:audit")
    async def index(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        page_number: AuditPage = 1,
    ) -> Template:
        trail = await queries.audit_trail(viewer, page_number)
        return page(request, "accounts/audit.html", msgspec.structs.asdict(trail))
