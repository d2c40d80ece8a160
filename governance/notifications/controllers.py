"""Email preferences (by signed link or signed in), one-click unsubscribe, and the outbox
page for administrators. Each handler reads the request, calls one service or query, and
renders or redirects; a refused form is shown again with every field's error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from governance.accounts.auth import admin_only, current_user, signed_in, signed_in_of
from governance.accounts.policy import Viewer
from governance.core.contracts import read_form
from governance.core.errors import InvalidInput
from governance.core.http import (
    RowId,
    kept_refusal,
    page,
    redirect,
    refuse_form,
    request_state,
)
from governance.core.paging import MAX_CURSOR_LENGTH
from governance.core.urls import path_for
from governance.groups.dependencies import RequestViewer, provide_viewer
from governance.notifications import links, needs_me, queries, services
from governance.notifications.schemas import (
    CATEGORIES,
    DIGEST,
    DIGEST_FREQUENCIES,
    RECIPIENT_FILTER_MAX_LENGTH,
    WEEKDAYS,
    EmailChoices,
    PreferencesView,
    category_label,
)

TASKS_STATE = "tasks"
PREFERENCES_TEMPLATE = "notifications/preferences.html"
UNSUBSCRIBE_TEMPLATE = "notifications/unsubscribe.html"
INVALID_LINK_TEMPLATE = "notifications/link_invalid.html"
SAVED = "Your email choices are saved."
T = TypeVar("T")


def _form_context(preferences: PreferencesView, action: str) -> dict[str, Any]:
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
    preferences = await queries.get_preferences(user_id)
    context = _form_context(preferences, action)
    kept = kept_refusal(request)
    if kept is not None and isinstance(kept.values.get("categories"), list):
        # The boxes as they were ticked when the form was refused (`page` shows the rest).
        context["enabled"] = frozenset(kept.values["categories"])
    return page(request, PREFERENCES_TEMPLATE, context)


async def _save(request: Request[Any, Any, Any], user_id: int, action: str) -> Template | Redirect:
    command, unreadable = read_form(EmailChoices, await request.form())
    try:
        await services.save_email_choices(user_id, command, unreadable=unreadable)
    except InvalidInput as error:
        context = _form_context(await queries.get_preferences(user_id), action)
        context["enabled"] = frozenset(command.categories)
        values = {
            "digest_frequency": command.digest_frequency,
            "digest_weekday": command.digest_weekday,
            "categories": [str(category) for category in command.categories],
        }
        # The form's address is its page's (the signed link's too): shown again there.
        return await refuse_form(request, action, PREFERENCES_TEMPLATE, values, error, context)
    return redirect(action, SAVED)


async def _by_link(
    request: Request[Any, Any, Any],
    token: str,
    handle: Callable[[Request[Any, Any, Any], int, str], Awaitable[T]],
) -> T | Template:
    """Shows or saves the email choices whose signed link this is (the link is the form's
    address too); an altered or expired link opens nothing."""
    user_id = links.user_of_preferences_token(token)
    if user_id is None:
        return _invalid_link(request)
    action = path_for("notifications:preferences-by-link", preferences_token=token)
    return await handle(request, user_id, action)


async def _unsubscribe_page(request: Request[Any, Any, Any], token: str, *, done: bool) -> Template:
    """The unsubscribe link's page: asking first, or (`done`) once the category is off."""
    payload = links.read_unsubscribe_token(token)
    if payload is None:
        return _invalid_link(request)
    user_id, category = payload
    if done:
        preferences = await services.unsubscribe(user_id, category)
    else:
        preferences = await queries.get_preferences(user_id)
    return page(
        request,
        UNSUBSCRIBE_TEMPLATE,
        {
            "preferences": preferences,
            "category_label": category_label(category),
            "token": token,
            "preferences_url": links.preferences_url(preferences.user_id),
            "done": done,
            "is_digest": category == DIGEST,
        },
    )


class EmailPreferencesController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/email"

    @get("/preferences", guards=[signed_in], name="notifications:preferences")
    async def mine(self, request: Request[Any, Any, Any]) -> Template:
        """My email choices, signed in (linked from the profile)."""
        return await _show(request, current_user(request).id, path_for("notifications:preferences"))

    @post("/preferences", guards=[signed_in], name="notifications:save-preferences")
    async def save_mine(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        action = path_for("notifications:preferences")
        return await _save(request, current_user(request).id, action)

    @get("/preferences/{preferences_token:str}", name="notifications:preferences-by-link")
    async def by_link(
        self, request: Request[Any, Any, Any], preferences_token: FromPath[str]
    ) -> Template:
        """My email choices from the signed link in any email; no sign-in needed."""
        return await _by_link(request, preferences_token, _show)

    @post("/preferences/{preferences_token:str}", name="notifications:save-preferences-by-link")
    async def save_by_link(
        self, request: Request[Any, Any, Any], preferences_token: FromPath[str]
    ) -> Template | Redirect:
        return await _by_link(request, preferences_token, _save)

    @get("/unsubscribe/{unsubscribe_token:str}", name="notifications:unsubscribe")
    async def confirm_unsubscribe(
        self, request: Request[Any, Any, Any], unsubscribe_token: FromPath[str]
    ) -> Template:
        """Asks before turning anything off: mail scanners open links, people press buttons."""
        return await _unsubscribe_page(request, unsubscribe_token, done=False)

    # One-click unsubscribe (RFC 8058): mail clients POST here with no cookie and no CSRF
    # token. The signed token is the authority, and all it can do is turn email off.
    @post(
        "/unsubscribe/{unsubscribe_token:str}",
        exclude_from_csrf=True,
        status_code=200,
        name="notifications:unsubscribe-now",
    )
    async def unsubscribe(
        self, request: Request[Any, Any, Any], unsubscribe_token: FromPath[str]
    ) -> Template:
        return await _unsubscribe_page(request, unsubscribe_token, done=True)


class OutboxAdminController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/admin/outbox"
    guards = [admin_only]

    @get("/", name="notifications:outbox")
    async def index(
        self,
        request: Request[Any, Any, Any],
        viewer: RequestViewer,
        to: Annotated[str, QueryParameter(max_length=RECIPIENT_FILTER_MAX_LENGTH)] = "",
        cursor: Annotated[str | None, QueryParameter(max_length=MAX_CURSOR_LENGTH)] = None,
    ) -> Template:
        """Parked, waiting and possibly sent mail this administrator may see; a retry
        button for each parked message, and a decision for each that may have been sent;
        then a page of the mail sent lately, to one address if asked (`to`)."""
        overview = await queries.outbox_overview(viewer)
        sent = await queries.sent_mail(viewer, to, cursor)
        context = {**msgspec.structs.asdict(overview), "sent": sent}
        return page(request, "notifications/outbox.html", context)

    @post("/{email_id:int}/retry", name="notifications:retry-email")
    async def retry(
        self, request: Request[Any, Any, Any], email_id: RowId, viewer: RequestViewer
    ) -> Redirect:
        await services.retry_parked_email(email_id, viewer)
        return redirect(path_for("notifications:outbox"), f"Email {email_id} is queued again.")

    @post("/{email_id:int}/resend", name="notifications:resend-email")
    async def resend(
        self, request: Request[Any, Any, Any], email_id: RowId, viewer: RequestViewer
    ) -> Redirect:
        """It did not arrive: send it again, with the same Message-ID."""
        await services.decide_uncertain_email(email_id, True, viewer)
        return redirect(path_for("notifications:outbox"), f"Email {email_id} will be sent again.")

    @post("/{email_id:int}/settle", name="notifications:settle-email")
    async def settle(
        self, request: Request[Any, Any, Any], email_id: RowId, viewer: RequestViewer
    ) -> Redirect:
        """It arrived: record it as sent, never to be sent again."""
        await services.decide_uncertain_email(email_id, False, viewer)
        return redirect(path_for("notifications:outbox"), f"Email {email_id} is recorded as sent.")


class TasksController(Controller):
    """What waits for the signed-in person ("needs me"), oldest first."""

    include_in_schema = False  # a page for people; the API is described at /schema
    guards = [signed_in]

    @get("/me/tasks", name="notifications:tasks")
    async def tasks(self, request: Request[Any, Any, Any], viewer: RequestViewer) -> Template:
        listing = await tasks_of_request(request, viewer)
        return page(request, "notifications/tasks.html", {"tasks": listing})


async def tasks_of_request(
    request: Request[Any, Any, Any], viewer: Viewer
) -> list[needs_me.TaskView]:
    """The reader's tasks, read once per request (the navigation's count and the page
    share them), and again only once the data has changed (`needs_me.recent_tasks_for`)."""
    state = request_state(request)
    cached = state.get(TASKS_STATE)
    if cached is None:
        signed_in = signed_in_of(request)
        if signed_in is not None and signed_in.viewer.user is viewer.user:
            cached = await needs_me.recent_tasks_for(viewer, signed_in.data_version)
        else:
            cached = await needs_me.tasks_for(viewer)
        state[TASKS_STATE] = cached
    return cached  # type: ignore[no-any-return]


def _renders_a_page(request: Request[Any, Any, Any]) -> bool:
    annotation = request.route_handler.parsed_fn_signature.return_type.annotation
    return request.method == "GET" and "Template" in repr(annotation)


async def count_tasks_for_navigation(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook: for a signed-in person's page, the number of things that
    wait for them, for the navigation (`tasks_count` in the request's state). The viewer
    it builds is the one the handler is given (`groups.dependencies.provide_viewer`)."""
    if request.scope.get("user") is None or not _renders_a_page(request):
        return
    request_state(request)[TASKS_STATE + "_count"] = len(
        await tasks_of_request(request, await provide_viewer(request))
    )
