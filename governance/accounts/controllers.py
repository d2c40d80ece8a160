"""Account pages: sign-in and out, password links, profile, and account administration."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from governance.accounts import services
from governance.accounts.auth import (
    admin_only,
    board_or_admin,
    current_user,
    expired_session_cookie,
    session_cookie,
    session_cookie_value,
    signed_in,
)
from governance.accounts.forms import (
    read_invitation,
    read_login,
    read_new_password,
    read_profile,
    read_user_edit,
)
from governance.accounts.services import DIGEST_FREQUENCIES, WEEKDAYS
from governance.accounts.sessions import end_session, start_session
from governance.core.audit import recent_events
from governance.core.errors import InvalidInput, ServiceError, TooManyAttempts
from governance.core.forms import TIMEZONES
from governance.core.http import RowId, client_ip, form_page, form_values, page, redirect, safe_next
from governance.settings import get_settings


class SessionController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema

    @get("/login", name="login")
    async def login_form(
        self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None
    ) -> Template | Redirect:
        if request.scope.get("user"):
            return redirect(safe_next(next))
        return page(request, "accounts/login.html", {"next": safe_next(next)})

    @post("/login")
    async def login(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        data = await request.form()
        form, errors = read_login(data)
        next_path = safe_next(str(data.get("next", "")))
        context = {"next": next_path}
        if errors:
            return form_page(request, "accounts/login.html", form_values(data), errors, context)
        try:
            user = await services.authenticate(form.email, form.password, client_ip(request))
        except TooManyAttempts as error:
            refused = page(
                request,
                "accounts/login.html",
                {**context, "values": form_values(data), "form_error": error.message},
                status_code=429,
            )
            refused.headers["Retry-After"] = str(error.retry_after_seconds)
            return refused
        except InvalidInput as error:
            return form_page(
                request,
                "accounts/login.html",
                form_values(data),
                {},
                context,
                message=error.message,
            )
        token = await start_session(
            user.id,
            client_ip(request),
            request.headers.get("user-agent", ""),
            previous_token=session_cookie_value(request.scope),
        )
        max_age = get_settings().session_absolute_hours * 3600
        return redirect(next_path, cookies=[session_cookie(token, max_age)])

    @post("/logout", guards=[signed_in])
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        token = session_cookie_value(request.scope)
        if token:
            await end_session(token)
        return redirect("/login", "You have signed out.", cookies=[expired_session_cookie()])


class PasswordController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/account"

    @get("/forgot-password")
    async def forgot_form(self, request: Request[Any, Any, Any]) -> Template:
        return page(request, "accounts/forgot_password.html")

    @post("/forgot-password")
    async def forgot(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        data = await request.form()
        from governance.core.forms import FormReader

        reader = FormReader(data)
        email = reader.email("email")
        if not reader.ok:
            return form_page(
                request, "accounts/forgot_password.html", form_values(data), reader.errors
            )
        await services.request_password_reset(email)
        return redirect(
            "/login",
            "If an active account has that email, a link to set a new password is on its way.",
        )

    @get("/set-password/{token:str}", name="accounts:set-password")
    async def set_password_form(
        self, request: Request[Any, Any, Any], token: FromPath[str]
    ) -> Template:
        user = await services.user_for_password_token(token)
        if user is None:
            return page(request, "accounts/link_expired.html", status_code=404)
        return page(request, "accounts/set_password.html", {"account": user, "token": token})

    @post("/set-password/{token:str}")
    async def set_password(
        self, request: Request[Any, Any, Any], token: FromPath[str]
    ) -> Template | Redirect:
        user = await services.user_for_password_token(token)
        if user is None:
            return page(request, "accounts/link_expired.html", status_code=404)
        data = await request.form()
        password, errors = read_new_password(data)
        if errors:
            return form_page(
                request, "accounts/set_password.html", {}, errors, {"account": user, "token": token}
            )
        try:
            await services.set_password_with_token(token, password)
        except ServiceError:
            return page(request, "accounts/link_expired.html", status_code=404)
        return redirect("/login", "Your password is set. Sign in with it now.")


def _profile_context() -> dict[str, Any]:
    return {
        "timezones": sorted(TIMEZONES),
        "digest_frequencies": DIGEST_FREQUENCIES,
        "weekdays": WEEKDAYS,
    }


class ProfileController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/profile"
    guards = [signed_in]

    @get("/")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        user = current_user(request)
        row = await services.get_user(user.id, user)
        return page(request, "accounts/profile.html", {**_profile_context(), "values": row})

    @post("/")
    async def update(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        user = current_user(request)
        data = await request.form()
        form, errors = read_profile(data)
        if errors:
            return form_page(
                request, "accounts/profile.html", form_values(data), errors, _profile_context()
            )
        await services.update_profile(
            user, form.display_name, form.timezone, form.digest_frequency, form.digest_weekday
        )
        return redirect("/profile", "Your profile is saved.")


class UserAdminController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/admin/users"
    guards = [admin_only]

    @get("/")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        users = await services.list_users(current_user(request))
        return page(request, "accounts/admin_users.html", {"users": users})

    @get("/invite")
    async def invite_form(self, request: Request[Any, Any, Any]) -> Template:
        return page(request, "accounts/admin_invite.html")

    @post("/invite")
    async def invite(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        data = await request.form()
        form, errors = read_invitation(data)
        if not errors:
            try:
                await services.invite_user(
                    form.email, form.display_name, form.roles, current_user(request)
                )
            except InvalidInput as error:
                errors = error.field_errors or {"email": error.message}
        if errors:
            return form_page(request, "accounts/admin_invite.html", form_values(data), errors)
        return redirect("/admin/users", f"Invitation sent to {form.email}.")

    @get("/{user_id:int}")
    async def edit_form(self, request: Request[Any, Any, Any], user_id: RowId) -> Template:
        account = await services.get_user(user_id, current_user(request))
        return page(
            request, "accounts/admin_user_edit.html", {"account": account, "values": account}
        )

    @post("/{user_id:int}")
    async def edit(self, request: Request[Any, Any, Any], user_id: RowId) -> Template | Redirect:
        actor = current_user(request)
        account = await services.get_user(user_id, actor)
        data = await request.form()
        form, errors = read_user_edit(data)
        if not errors:
            try:
                await services.update_user(user_id, form.display_name, form.roles, actor)
            except InvalidInput as error:
                errors = error.field_errors or {"display_name": error.message}
        if errors:
            return form_page(
                request,
                "accounts/admin_user_edit.html",
                form_values(data),
                errors,
                {"account": account},
            )
        return redirect(f"/admin/users/{user_id}", "Account saved.")

    @post("/{user_id:int}/deactivate")
    async def deactivate(self, request: Request[Any, Any, Any], user_id: RowId) -> Redirect:
        try:
            await services.set_user_active(user_id, False, current_user(request))
        except InvalidInput as error:
            return redirect(f"/admin/users/{user_id}", error.message, "error")
        return redirect(f"/admin/users/{user_id}", "Account deactivated; its sessions have ended.")

    @post("/{user_id:int}/reactivate")
    async def reactivate(self, request: Request[Any, Any, Any], user_id: RowId) -> Redirect:
        await services.set_user_active(user_id, True, current_user(request))
        return redirect(f"/admin/users/{user_id}", "Account reactivated.")

    @post("/{user_id:int}/resend-invitation")
    async def resend(self, request: Request[Any, Any, Any], user_id: RowId) -> Redirect:
        try:
            await services.resend_invitation(user_id, current_user(request))
        except ServiceError as error:
            return redirect(f"/admin/users/{user_id}", error.message, "error")
        return redirect(f"/admin/users/{user_id}", "Invitation sent again.")


class AuditTrailController(Controller):
    """The audit trail's metadata, for the Board and administrators."""

    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/audit"

    guards = [board_or_admin]

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], before: FromQuery[int | None] = None
    ) -> Template:
        events, older = await recent_events(before_sequence=before, limit=100)
        return page(request, "accounts/audit.html", {"events": events, "older": older})
