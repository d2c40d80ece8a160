"""Email preferences (by signed link or signed in), one-click unsubscribe, and the outbox
page for administrators."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import Redirect, Template

from governance.accounts.auth import admin_only, current_user, signed_in
from governance.core.errors import InvalidInput
from governance.core.http import RowId, page, redirect
from governance.notifications import services
from governance.notifications.services import (
    CATEGORIES,
    DIGEST,
    DIGEST_FREQUENCIES,
    WEEKDAYS,
    Preferences,
)

INVALID_LINK_TEMPLATE = "notifications/link_invalid.html"


def _form_context(preferences: Preferences, action: str) -> dict[str, Any]:
    return {
        "preferences": preferences,
        "categories": CATEGORIES,
        "digest_frequencies": DIGEST_FREQUENCIES,
        "weekdays": WEEKDAYS,
        "action": action,
        "values": {
            "digest_frequency": preferences.digest_frequency,
            "digest_weekday": preferences.digest_weekday,
        },
        "enabled": preferences.enabled,
    }


def _invalid_link(request: Request[Any, Any, Any]) -> Template:
    return page(request, INVALID_LINK_TEMPLATE, status_code=404)


async def _show(request: Request[Any, Any, Any], user_id: int, action: str) -> Template:
    preferences = await services.get_preferences(user_id)
    return page(request, "notifications/preferences.html", _form_context(preferences, action))


async def _save(request: Request[Any, Any, Any], user_id: int, action: str) -> Template | Redirect:
    data: FormMultiDict = await request.form()
    frequency = str(data.get("digest_frequency", "")).strip()
    weekday = str(data.get("digest_weekday", "") or "monday").strip()
    enabled = [str(value) for value in data.getall("categories", [])]
    try:
        await services.save_preferences(user_id, frequency, weekday, enabled)
    except InvalidInput as error:
        preferences = await services.get_preferences(user_id)
        context = _form_context(preferences, action)
        context["values"] = {"digest_frequency": frequency, "digest_weekday": weekday}
        context["enabled"] = frozenset(enabled)
        return page(
            request,
            "notifications/preferences.html",
            {**context, "errors": error.field_errors, "form_error": error.message},
            status_code=422,
        )
    return redirect(action, "Your email choices are saved.")


class EmailPreferencesController(Controller):
    path = "/email"

    @get("/preferences", guards=[signed_in])
    async def mine(self, request: Request[Any, Any, Any]) -> Template:
        """My email choices, signed in (linked from the profile)."""
        return await _show(request, current_user(request).id, "/email/preferences")

    @post("/preferences", guards=[signed_in])
    async def save_mine(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        return await _save(request, current_user(request).id, "/email/preferences")

    @get("/preferences/{preferences_token:str}", name="notifications:preferences-by-link")
    async def by_link(
        self, request: Request[Any, Any, Any], preferences_token: FromPath[str]
    ) -> Template:
        """My email choices from the signed link in any email; no sign-in needed."""
        user_id = services.user_of_preferences_token(preferences_token)
        if user_id is None:
            return _invalid_link(request)
        return await _show(request, user_id, f"/email/preferences/{preferences_token}")

    @post("/preferences/{preferences_token:str}")
    async def save_by_link(
        self, request: Request[Any, Any, Any], preferences_token: FromPath[str]
    ) -> Template | Redirect:
        user_id = services.user_of_preferences_token(preferences_token)
        if user_id is None:
            return _invalid_link(request)
        return await _save(request, user_id, f"/email/preferences/{preferences_token}")

    @get("/unsubscribe/{unsubscribe_token:str}", name="notifications:unsubscribe")
    async def confirm_unsubscribe(
        self, request: Request[Any, Any, Any], unsubscribe_token: FromPath[str]
    ) -> Template:
        """Asks before turning anything off: mail scanners open links, people press buttons."""
        payload = services.read_unsubscribe_token(unsubscribe_token)
        if payload is None:
            return _invalid_link(request)
        user_id, category = payload
        preferences = await services.get_preferences(user_id)
        return page(
            request,
            "notifications/unsubscribe.html",
            {
                "preferences": preferences,
                "category_label": services.category_label(category),
                "token": unsubscribe_token,
                "preferences_url": services.preferences_url(user_id),
                "done": False,
            },
        )

    # One-click unsubscribe (RFC 8058): mail clients POST here with no cookie and no CSRF
    # token. The signed token is the authority, and all it can do is turn email off.
    @post("/unsubscribe/{unsubscribe_token:str}", exclude_from_csrf=True, status_code=200)
    async def unsubscribe(
        self, request: Request[Any, Any, Any], unsubscribe_token: FromPath[str]
    ) -> Template:
        payload = services.read_unsubscribe_token(unsubscribe_token)
        if payload is None:
            return _invalid_link(request)
        user_id, category = payload
        preferences = await services.unsubscribe(user_id, category)
        return page(
            request,
            "notifications/unsubscribe.html",
            {
                "preferences": preferences,
                "category_label": services.category_label(category),
                "token": unsubscribe_token,
                "preferences_url": services.preferences_url(user_id),
                "done": True,
                "is_digest": category == DIGEST,
            },
        )


class OutboxAdminController(Controller):
    path = "/admin/outbox"
    guards = [admin_only]

    @get("/")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """Parked and waiting mail, and a retry button for each parked message."""
        return page(request, "notifications/outbox.html", await services.outbox_overview())

    @post("/{email_id:int}/retry")
    async def retry(self, request: Request[Any, Any, Any], email_id: RowId) -> Redirect:
        await services.retry_parked_email(email_id, current_user(request))
        return redirect("/admin/outbox", f"Email {email_id} is queued again.")
