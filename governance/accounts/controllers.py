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
    TOKEN_DEFAULT_DAYS,
    TOKEN_MAX_DAYS,
    AccountChange,
    AccountView,
    DigestFrequency,
    EmailChange,
    Invitation,
    Login,
    NewPassword,
    PasswordChange,
    PasswordResetRequest,
    ProfileChange,
    SecondFactorEnrolment,
    SecondFactorRemoval,
    SecondFactorSignIn,
    TokenRequest,
    Weekday,
)
from governance.accounts.sessions import end_session, start_session
from governance.core.contracts import read_form
from governance.core.errors import (
    ConflictError,
    InvalidInput,
    NotFoundError,
    PermissionDenied,
    ServiceError,
    TooManyAttempts,
)
from governance.core.forms import COMMON_TIMEZONES, TIMEZONE_CHOICES
from governance.core.http import (
    FormFailure,
    RowId,
    client_ip,
    form_page,
    form_values,
    page,
    page_with_forms,
    redirect,
    refused_to_page,
    safe_next,
    submit_form,
)
from governance.core.urls import path_for
from governance.settings import get_settings

logger = logging.getLogger(__name__)
LOGIN = "accounts/login.html"
LOGIN_CODE = "accounts/login_code.html"
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


async def _start_session(request: Request[Any, Any, Any], user_id: int, next_path: str) -> Redirect:
    """Signs the person in under a new session and sends them where they were going."""
    token = await start_session(
        user_id,
        client_ip(request),
        request.headers.get("user-agent", ""),
        previous_token=session_cookie_value(request.scope),
    )
    max_age = get_settings().session_absolute_hours * 3600
    return redirect(next_path, cookies=[session_cookie(token, max_age)])


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
        challenge = await services.second_factor_challenge(user, context["next"])
        if challenge is not None:
            return page(request, LOGIN_CODE, {"challenge": challenge})
        return await _start_session(request, user.id, context["next"])

    @post("/login/code", name="accounts:sign-in-code")
    async def login_code(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        data = await request.form()
        command, unreadable = read_form(SecondFactorSignIn, data)
        context = {"challenge": command.challenge}
        try:
            user, next_path = await services.verify_second_factor(
                command, client_ip(request), unreadable=unreadable
            )
        except NotFoundError as error:
            return redirect(path_for("accounts:login"), error.message, "error")
        except TooManyAttempts as error:
            refused = page(
                request, LOGIN_CODE, {**context, "form_error": error.message}, status_code=429
            )
            refused.headers["Retry-After"] = str(error.retry_after_seconds)
            return refused
        except InvalidInput as error:
            return _refused(request, LOGIN_CODE, data, error, context)
        return await _start_session(request, user.id, safe_next(next_path))

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
        "common_timezones": COMMON_TIMEZONES,
        "other_timezones": TIMEZONE_CHOICES[len(COMMON_TIMEZONES) :],
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
        return await submit_form(
            request,
            ProfileChange,
            act,
            done,
            template,
            _profile_context(),
            path_for("accounts:profile"),
        )


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

        return await submit_form(
            request,
            Invitation,
            act,
            done,
            "accounts/admin_invite.html",
            shown_at=path_for("accounts:invite-form"),
        )

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
            shown_at=path_for("accounts:user", user_id=user_id),
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

    @post("/{user_id:int}/reset-two-factor", name="accounts:reset-two-factor")
    async def reset_two_factor(self, request: Request[Any, Any, Any], user_id: RowId) -> Redirect:
        await services.reset_second_factor(user_id, current_user(request))
        return _to_account(user_id, "Two-factor sign-in reset; the person has been told by email.")

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


SECURITY = "accounts/security.html"
TWO_FACTOR = "accounts/two_factor.html"
NO_STORE = {"cache-control": "no-store"}


def _to_security(message: str, category: str = "success") -> Redirect:
    return redirect(path_for("accounts:security"), message, category)


async def _security_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    user = current_user(request)
    return {
        "sessions": await queries.list_sessions(user),
        "tokens": await queries.list_tokens(user.id),
        "second_factor": await queries.second_factor_status(
            user, services.second_factor_required(user)
        ),
        "token_days": TOKEN_DEFAULT_DAYS,
        "token_max_days": TOKEN_MAX_DAYS,
    }


class SecurityController(Controller):
    """A person's own account security: password, email, second factor, sessions, tokens."""

    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/profile"
    guards = [signed_in]

    @get("/security", name="accounts:security")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        return page_with_forms(request, SECURITY, await _security_context(request))

    @get("/password", name="accounts:password-form")
    async def password_form(self, request: Request[Any, Any, Any]) -> Template:
        return page(request, "accounts/change_password.html")

    @post("/password", name="accounts:change-password")
    async def change_password(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        return await submit_form(
            request,
            PasswordChange,
            as_signed_in(request, services.change_password),
            lambda _: _to_security("Your password is changed. Your other sessions have ended."),
            "accounts/change_password.html",
            shown_at=path_for("accounts:password-form"),
        )

    @get("/email", name="accounts:email-form")
    async def email_form(self, request: Request[Any, Any, Any]) -> Template:
        return page(request, "accounts/change_email.html")

    @post("/email", name="accounts:change-email")
    async def change_email(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        def done(new_email: str) -> Redirect:
            return _to_security(
                f"A link to confirm the change is on its way to {new_email}."
                " Your email stays as it is until you open it."
            )

        return await submit_form(
            request,
            EmailChange,
            as_signed_in(request, services.request_email_change),
            done,
            "accounts/change_email.html",
            shown_at=path_for("accounts:email-form"),
        )

    @post("/sessions/end-others", name="accounts:end-other-sessions")
    async def end_others(self, request: Request[Any, Any, Any]) -> Redirect:
        await services.end_other_sessions(current_user(request))
        return _to_security("Your other sessions have ended.")

    @post("/sessions/{handle:str}/end", name="accounts:end-session")
    async def end_one(self, request: Request[Any, Any, Any], handle: FromPath[str]) -> Redirect:
        try:
            await services.end_other_session(handle, current_user(request))
        except NotFoundError as error:
            return _to_security(error.message, "error")
        return _to_security("That session has ended.")

    @post("/tokens", name="accounts:create-token")
    async def create_token(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        command, unreadable = read_form(TokenRequest, await request.form())
        context = await _security_context(request)
        try:
            token = await services.create_token(
                command, current_user(request), unreadable=unreadable
            )
        except InvalidInput as error:
            failure = FormFailure.of(error, "token", msgspec.structs.asdict(command))
            shown_at = path_for("accounts:security")
            return await refused_to_page(request, shown_at, failure) or page_with_forms(
                request, SECURITY, context, failure
            )
        # The token is in this answer only: it is never stored, nor shown again.
        context = {**context, "tokens": await queries.list_tokens(current_user(request).id)}
        shown = page_with_forms(request, SECURITY, {**context, "new_token": token})
        shown.headers.update(NO_STORE)
        return shown

    @post("/tokens/{token_id:int}/revoke", name="accounts:revoke-token")
    async def revoke_token(self, request: Request[Any, Any, Any], token_id: RowId) -> Redirect:
        try:
            await services.revoke_token(token_id, current_user(request))
        except NotFoundError as error:
            return _to_security(error.message, "error")
        return _to_security("The token is revoked: it no longer works.")


class TwoFactorController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/profile/two-factor"
    guards = [signed_in]

    @get("/", name="accounts:two-factor")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        user = current_user(request)
        status = await queries.second_factor_status(user, services.second_factor_required(user))
        context: dict[str, Any] = {"status": status}
        if not status.enabled:
            context["setup"] = services.start_enrolment(user)
        shown = page(request, TWO_FACTOR, context)
        shown.headers.update(NO_STORE)
        return shown

    @post("/", name="accounts:two-factor-enable")
    async def enable(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        user = current_user(request)
        command, unreadable = read_form(SecondFactorEnrolment, await request.form())
        try:
            codes = await services.enable_second_factor(command, user, unreadable=unreadable)
        except InvalidInput as error:
            # Shown again with a new secret to scan either way: nothing typed is kept (the
            # code is a secret, the set-up signed for this page only).
            redirected = await refused_to_page(
                request, path_for("accounts:two-factor"), FormFailure.of(error)
            )
            if redirected is not None:
                return redirected
            status = await queries.second_factor_status(user, services.second_factor_required(user))
            context = {"status": status, "setup": services.start_enrolment(user)}
            return form_page(request, TWO_FACTOR, {}, error.field_errors, context, error.message)
        # Shown in this answer only: the codes are kept as hashes.
        shown = page(request, "accounts/recovery_codes.html", {"codes": codes})
        shown.headers.update(NO_STORE)
        return shown

    @post("/off", name="accounts:two-factor-disable")
    async def disable(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        user = current_user(request)
        status = await queries.second_factor_status(user, services.second_factor_required(user))
        try:
            return await submit_form(
                request,
                SecondFactorRemoval,
                as_signed_in(request, services.disable_second_factor),
                lambda _: _to_security("Two-factor sign-in is off."),
                TWO_FACTOR,
                {"status": status},
                shown_at=path_for("accounts:two-factor"),
            )
        except (PermissionDenied, ConflictError) as error:
            return _to_security(error.message, "error")


class EmailConfirmationController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/account/confirm-email"

    @get("/{token:str}", name="accounts:confirm-email-form")
    async def confirm_form(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        # Opening the link changes nothing (mail scanners open links): the page's button does.
        return page(request, "accounts/confirm_email.html", {"token": token})

    @post("/{token:str}", name="accounts:confirm-email")
    async def confirm(
        self, request: Request[Any, Any, Any], token: FromPath[str]
    ) -> Template | Redirect:
        try:
            new_email = await services.confirm_email_change(token)
        except NotFoundError:
            return page(request, LINK_EXPIRED, status_code=404)
        except ConflictError as error:
            return page(
                request,
                "accounts/confirm_email.html",
                {"token": token, "form_error": error.message},
                status_code=409,
            )
        return redirect(path_for("accounts:login"), f"Your email is now {new_email}.")
