"""iCalendar: one meeting, a group's feed, and a personal feed at a secret URL.

Every event carries what its reader may read and nothing more: the agenda titles in the
description are filtered in the query by `Viewer.readable_visibilities`, so a `board` item
never reaches the Director's calendar and a `group` item never leaves the group. A feed
costs the same few queries whatever the number of meetings in it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import operator
import secrets
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

from icalendar import Calendar, Event
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from governance.accounts.auth import current_user, signed_in
from governance.accounts.policy import CurrentUser, Viewer
from governance.core.audit import record_event
from governance.core.clock import utcnow
from governance.core.db import write_transaction
from governance.core.errors import NotFoundError
from governance.core.http import page
from governance.groups.dependencies import current_viewer
from governance.groups.queries import load_viewer
from governance.groups.tables import WorkingGroup
from governance.meetings import services
from governance.meetings.tables import AgendaItem, CalendarFeed, Meeting
from governance.settings import get_settings

# Litestar adds "; charset=utf-8" to text types.
CALENDAR_MEDIA_TYPE = "text/calendar"
PRODID = "-//Governance//Meetings//EN"
ICS_SUFFIX = ".ics"
NO_SUCH_GROUP = "There is no working group at this address."
NO_SUCH_FEED = "There is no calendar at this address. It may have been reset."


# --- tokens -----------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def feed_url(token: str) -> str:
    return f"{get_settings().base_url}/calendar/me/{token}{ICS_SUFFIX}"


def _strip_suffix(filename: str) -> str:
    """`12.ics` → `12`; anything not ending in .ics is not a calendar here."""
    if not filename.endswith(ICS_SUFFIX) or len(filename) == len(ICS_SUFFIX):
        raise NotFoundError("There is no calendar at this address.")
    return filename[: -len(ICS_SUFFIX)]


async def create_feed_if_missing(user: CurrentUser) -> str | None:
    """Gives the user a personal feed on first use; returns the new token, or None if they
    already had one (only its hash is kept, so an existing URL cannot be shown again)."""
    token = new_token()
    async with write_transaction():
        rows = (
            await CalendarFeed.insert(
                CalendarFeed(user=user.id, token_hash=hash_token(token), created_at=utcnow())
            )
            .on_conflict(target=CalendarFeed.user, action="DO NOTHING")
            .returning(CalendarFeed.id)
        )
        if not rows:
            return None
        await record_event(
            user, "calendar_feed.created", "user", user.id, "Personal calendar feed created"
        )
    return token


async def reset_feed(user: CurrentUser) -> str:
    """Replaces the user's secret token (or creates one): the old URL stops working."""
    token = new_token()
    async with write_transaction():
        await CalendarFeed.insert(
            CalendarFeed(user=user.id, token_hash=hash_token(token), created_at=utcnow())
        ).on_conflict(
            target=CalendarFeed.user,
            action="DO UPDATE",
            values=[CalendarFeed.token_hash, CalendarFeed.created_at],
        )
        await record_event(
            user,
            "calendar_feed.reset",
            "user",
            user.id,
            "Personal calendar feed reset; the previous address no longer works",
        )
    return token


async def feed_created_at(user_id: int) -> dt.datetime | None:
    row = (
        await CalendarFeed.select(CalendarFeed.created_at)
        .where(CalendarFeed.user == user_id)
        .first()
    )
    return row["created_at"] if row else None


async def feed_owner(token: str) -> CurrentUser:
    """The active user whose feed this token opens; unknown or reset tokens are not found."""
    row = (
        await CalendarFeed.select(
            CalendarFeed.user.id.as_alias("id"),
            CalendarFeed.user.email.as_alias("email"),
            CalendarFeed.user.display_name.as_alias("display_name"),
            CalendarFeed.user.is_admin.as_alias("is_admin"),
            CalendarFeed.user.is_director.as_alias("is_director"),
            CalendarFeed.user.is_board.as_alias("is_board"),
            CalendarFeed.user.timezone.as_alias("timezone"),
            CalendarFeed.user.is_active.as_alias("is_active"),
        )
        .where(CalendarFeed.token_hash == hash_token(token))
        .first()
    )
    if row is None or not row["is_active"]:
        raise NotFoundError(NO_SUCH_FEED)
    return CurrentUser.from_row(row)


# --- queries ----------------------------------------------------------------------------


async def readable_item_titles(
    meetings: list[dict[str, Any]], viewer: Viewer
) -> dict[int, list[str]]:
    """Agenda titles the viewer may read, for all these meetings, in one query.

    The meetings' groups are sorted by the set of visibilities the viewer may read in them
    (a member reads everything in their group, the Board all but `group`, the Director only
    `public` and `internal`), and each set becomes one clause of the query's filter.
    """
    if not meetings:
        return {}
    groups_by_visibilities: dict[frozenset[str], set[int]] = defaultdict(set)
    for meeting in meetings:
        readable = viewer.readable_visibilities(meeting["group"])
        if readable:
            groups_by_visibilities[readable].add(meeting["group"])
    if not groups_by_visibilities:
        return {}
    clauses: list[Any] = [
        AgendaItem.meeting.group.is_in(sorted(group_ids))
        & AgendaItem.visibility.is_in(sorted(visibilities))
        for visibilities, group_ids in groups_by_visibilities.items()
    ]
    wanted = {meeting["id"] for meeting in meetings}
    rows = (
        await AgendaItem.select(AgendaItem.meeting, AgendaItem.title)
        .where(functools.reduce(operator.or_, clauses))
        .order_by(AgendaItem.meeting, AgendaItem.position)
    )
    titles: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        if row["meeting"] in wanted:
            titles[row["meeting"]].append(row["title"])
    return titles


async def group_meetings(slug: str, viewer: Viewer) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A group and all its meetings, for someone who may read them; otherwise not found."""
    group = (
        await WorkingGroup.select(WorkingGroup.id, WorkingGroup.name, WorkingGroup.slug)
        .where(WorkingGroup.slug == slug)
        .first()
    )
    # A group whose meetings the viewer may not read looks exactly like a missing one.
    if group is None or not services.can_read_group_proceedings(viewer, group["id"]):
        raise NotFoundError(NO_SUCH_GROUP)
    meetings = (
        await Meeting.select(
            *Meeting.all_columns(),
            Meeting.group.name.as_alias("group_name"),
            Meeting.group.slug.as_alias("group_slug"),
        )
        .where(Meeting.group == group["id"])
        .order_by(Meeting.starts_at)
    )
    return group, meetings


# --- iCalendar --------------------------------------------------------------------------


def _utc(moment: dt.datetime | None) -> dt.datetime:
    if moment is None:
        return utcnow()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def uid_host() -> str:
    return urlparse(get_settings().base_url).hostname or "governance"


def meeting_uid(meeting_id: int) -> str:
    return f"meeting-{meeting_id}@{uid_host()}"


def meeting_link(meeting_id: int) -> str:
    return f"{get_settings().base_url}/meetings/{meeting_id}"


def _description(meeting: dict[str, Any], titles: list[str]) -> str:
    lines: list[str] = []
    if meeting["status"] == "cancelled":
        reason = (meeting.get("cancel_reason") or "").strip()
        lines += [f"Cancelled: {reason}" if reason else "Cancelled.", ""]
    if titles:
        lines.append("Agenda:")
        lines += [f"{number}. {title}" for number, title in enumerate(titles, start=1)]
    else:
        lines.append("No agenda items yet.")
    lines += ["", meeting_link(meeting["id"])]
    return "\n".join(lines)


def meeting_event(meeting: dict[str, Any], titles: list[str]) -> Event:
    event = Event()
    event.add("uid", meeting_uid(meeting["id"]))
    event.add("dtstamp", _utc(meeting.get("updated_at")))
    if meeting.get("created_at"):
        event.add("created", _utc(meeting["created_at"]))
    if meeting.get("updated_at"):
        event.add("last-modified", _utc(meeting["updated_at"]))
    event.add("dtstart", _utc(meeting["starts_at"]))
    event.add("dtend", _utc(meeting["ends_at"]))
    event.add("summary", f"{meeting['group_name']}: {meeting['title']}")
    if meeting.get("location"):
        event.add("location", meeting["location"])
    event.add("description", _description(meeting, titles))
    event.add("url", meeting_link(meeting["id"]))
    event.add("sequence", int(meeting.get("calendar_sequence") or 0))
    event.add("status", "CANCELLED" if meeting["status"] == "cancelled" else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if meeting["status"] == "cancelled" else "OPAQUE")
    return event


def build_calendar(
    name: str, meetings: Iterable[dict[str, Any]], titles: dict[int, list[str]]
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for meeting in meetings:
        calendar.add_component(meeting_event(meeting, titles.get(meeting["id"], [])))
    return bytes(calendar.to_ical())


def ics_response(body: bytes, filename: str, *, attachment: bool = False) -> Response[bytes]:
    disposition = "attachment" if attachment else "inline"
    return Response(
        body,
        media_type=CALENDAR_MEDIA_TYPE,
        headers={
            "content-disposition": f'{disposition}; filename="{filename}"',
            # A calendar carries confidential titles for its reader; no shared cache keeps it.
            "cache-control": "private, no-store",
        },
    )


# --- routes -----------------------------------------------------------------------------


class CalendarController(Controller):
    path = "/calendar"

    @get("/", guards=[signed_in])
    async def settings_page(self, request: Request[Any, Any, Any]) -> Template:
        """My personal feed: created on the first visit, when its address is shown once."""
        user = current_user(request)
        token = await create_feed_if_missing(user)
        return await _calendar_page(request, user, token)

    @post("/reset", guards=[signed_in])
    async def reset(self, request: Request[Any, Any, Any]) -> Template:
        # The new address exists only in this response (only its hash is stored), so the
        # page is shown here rather than after a redirect that would have to carry it.
        user = current_user(request)
        token = await reset_feed(user)
        return await _calendar_page(request, user, token, was_reset=True)

    @get("/meetings/{filename:str}", guards=[signed_in])
    async def meeting(
        self, request: Request[Any, Any, Any], filename: FromPath[str]
    ) -> Response[bytes]:
        raw_id = _strip_suffix(filename)
        if not raw_id.isdigit():
            raise NotFoundError("There is no meeting at this address, or you cannot see it.")
        viewer = await current_viewer(request)
        meeting = await services.get_meeting(int(raw_id), viewer)
        titles = await readable_item_titles([meeting], viewer)
        body = build_calendar(f"{meeting['group_name']}: {meeting['title']}", [meeting], titles)
        return ics_response(body, f"meeting-{meeting['id']}.ics", attachment=True)

    @get("/groups/{filename:str}", guards=[signed_in])
    async def group(
        self, request: Request[Any, Any, Any], filename: FromPath[str]
    ) -> Response[bytes]:
        slug = _strip_suffix(filename)
        viewer = await current_viewer(request)
        group, meetings = await group_meetings(slug, viewer)
        titles = await readable_item_titles(meetings, viewer)
        body = build_calendar(group["name"], meetings, titles)
        return ics_response(body, f"{group['slug']}.ics")

    @get("/me/{filename:str}")
    async def personal(self, filename: FromPath[str]) -> Response[bytes]:
        """No session: calendar apps fetch this; the secret token in the URL is the key."""
        owner = await feed_owner(_strip_suffix(filename))
        viewer = await load_viewer(owner)
        meetings = await services.readable_meetings_for_user(viewer)
        titles = await readable_item_titles(meetings, viewer)
        body = build_calendar("My meetings", meetings, titles)
        return ics_response(body, "my-meetings.ics")


async def _calendar_page(
    request: Request[Any, Any, Any],
    user: CurrentUser,
    token: str | None,
    *,
    was_reset: bool = False,
) -> Template:
    viewer = await load_viewer(user)
    groups_query = WorkingGroup.select(WorkingGroup.name, WorkingGroup.slug).order_by(
        WorkingGroup.name
    )
    if not (user.is_director or user.is_board):
        groups_query = groups_query.where(WorkingGroup.id.is_in(list(viewer.group_roles) or [-1]))
    groups = await groups_query
    url = feed_url(token) if token else None
    return page(
        request,
        "meetings/calendar.html",
        {
            "feed_url": url,
            "webcal_url": "webcal://" + url.split("://", 1)[1] if url else None,
            "feed_created_at": None if token else await feed_created_at(user.id),
            "was_reset": was_reset,
            "groups": groups,
        },
    )
