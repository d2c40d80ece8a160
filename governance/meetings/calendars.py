"""iCalendar: one meeting, a group's feed, and a personal feed at a secret URL.

Every event carries what its reader may read and nothing more: the agenda titles in the
description come from `queries.readable_item_titles`, filtered in the query through
`accounts.scopes`, so a `board` item never reaches the Director's calendar and a `group`
item never leaves the group. A feed costs the same few queries whatever the number of
meetings in it.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

from icalendar import Calendar, Event
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from governance.accounts.auth import signed_in
from governance.accounts.policy import Viewer
from governance.core.clock import utcnow
from governance.core.contracts import row_id
from governance.core.errors import NotFoundError
from governance.core.exports import content_disposition
from governance.core.http import page
from governance.core.urls import absolute_url
from governance.groups.dependencies import RequestViewer
from governance.groups.queries import load_viewer
from governance.meetings import queries, services
from governance.settings import get_settings

# Litestar adds "; charset=utf-8" to text types.
CALENDAR_MEDIA_TYPE = "text/calendar"
PRODID = "-//Governance//Meetings//EN"
ICS_SUFFIX = ".ics"


# --- addresses ------------------------------------------------------------------------


def feed_url(token: str) -> str:
    return absolute_url("calendar:personal", filename=f"{token}{ICS_SUFFIX}")


def _strip_suffix(filename: str) -> str:
    """`12.ics` → `12`; anything not ending in .ics is not a calendar here."""
    if not filename.endswith(ICS_SUFFIX) or len(filename) == len(ICS_SUFFIX):
        raise NotFoundError("There is no calendar at this address.")
    return filename[: -len(ICS_SUFFIX)]


# --- iCalendar --------------------------------------------------------------------------


def _printable(character: str, keep: str) -> str:
    if character in keep:
        return character
    if unicodedata.category(character) in {"Cc", "Cs"} or character in "\u2028\u2029":
        return " "
    return character


def one_line(value: object) -> str:
    """Text for a one-line property (SUMMARY, LOCATION, X-WR-CALNAME): any control
    character, line breaks included, becomes a space. The forms refuse them, but a row
    written before they did (or by hand) must still give a calendar, not an error."""
    return "".join(_printable(c, "") for c in str(value or "")).strip()


def several_lines(value: object) -> str:
    """Text for DESCRIPTION: line breaks kept (icalendar escapes them), other control
    characters made spaces."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(_printable(c, "\n") for c in text)


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
    return absolute_url("meetings:show", meeting_id=meeting_id)


def _description(meeting: dict[str, Any], titles: list[str]) -> str:
    lines: list[str] = []
    if meeting["status"] == "cancelled":
        reason = one_line(meeting.get("cancel_reason"))
        lines += [f"Cancelled: {reason}" if reason else "Cancelled.", ""]
    if titles:
        lines.append("Agenda:")
        lines += [f"{number}. {one_line(title)}" for number, title in enumerate(titles, start=1)]
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
    event.add("summary", one_line(f"{meeting['group_name']}: {meeting['title']}"))
    if one_line(meeting.get("location")):
        event.add("location", one_line(meeting["location"]))
    event.add("description", several_lines(_description(meeting, titles)))
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
    calendar.add("x-wr-calname", one_line(name))
    for meeting in meetings:
        calendar.add_component(meeting_event(meeting, titles.get(meeting["id"], [])))
    return bytes(calendar.to_ical())


# iTIP methods (RFC 5546) of the invitations in meeting emails.
METHOD_REQUEST = "REQUEST"
METHOD_CANCEL = "CANCEL"


def invitation(
    meeting: dict[str, Any], titles: list[str], *, method: str, attendee: str, organizer: str
) -> str:
    """One meeting as an iTIP message to one member (the notice or a change: REQUEST; a
    cancellation: CANCEL): the meeting's stable UID and its current SEQUENCE, so calendar
    clients update or remove the event they already hold; the agenda titles are the ones
    that member may read."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = meeting_event(meeting, titles)
    event.add(
        "organizer", f"mailto:{organizer}", parameters={"cn": one_line(meeting["group_name"])}
    )
    parameters = {"role": "REQ-PARTICIPANT", "rsvp": "FALSE"}
    if method == METHOD_REQUEST:
        parameters["partstat"] = "NEEDS-ACTION"
    event.add("attendee", f"mailto:{attendee}", parameters=parameters)
    calendar.add_component(event)
    return bytes(calendar.to_ical()).decode()


def ics_response(body: bytes, filename: str, *, attachment: bool = False) -> Response[bytes]:
    disposition = "attachment" if attachment else "inline"
    return Response(
        body,
        media_type=CALENDAR_MEDIA_TYPE,
        headers={
            "content-disposition": content_disposition(filename, disposition),
            # A calendar carries confidential titles for its reader; no shared cache keeps it.
            "cache-control": "private, no-store",
        },
    )


# --- routes ---------------------------------------------------------------------------


class CalendarController(Controller):
    include_in_schema = False  # calendar files and their page; the API is described at /schema
    path = "/calendar"

    @get("/", guards=[signed_in], name="calendar:settings")
    async def settings_page(
        self, request: Request[Any, Any, Any], viewer: RequestViewer
    ) -> Template:
        """My personal feed: whether I have one, with the buttons that make or reset it. A
        GET changes nothing; making the feed is a POST."""
        return await _calendar_page(request, viewer, None)

    @post("/feed", guards=[signed_in], name="calendar:create")
    async def create(self, request: Request[Any, Any, Any], viewer: RequestViewer) -> Template:
        # As for a reset, the address exists only in this response.
        token = await services.create_feed_if_missing(viewer.user)
        return await _calendar_page(request, viewer, token, already_had=token is None)

    @post("/reset", guards=[signed_in], name="calendar:reset")
    async def reset(self, request: Request[Any, Any, Any], viewer: RequestViewer) -> Template:
        # The new address exists only in this response (only its hash is stored), so the
        # page is shown here rather than after a redirect that would have to carry it.
        token = await services.reset_feed(viewer.user)
        return await _calendar_page(request, viewer, token, was_reset=True)

    @get("/meetings/{filename:str}", guards=[signed_in], name="calendar:meeting")
    async def meeting(self, viewer: RequestViewer, filename: FromPath[str]) -> Response[bytes]:
        meeting_id = row_id(_strip_suffix(filename))
        if meeting_id is None:
            raise NotFoundError(queries.NOT_FOUND)
        meeting = await queries.readable_meeting(meeting_id, viewer)
        titles = await queries.readable_item_titles([meeting], viewer)
        body = build_calendar(f"{meeting['group_name']}: {meeting['title']}", [meeting], titles)
        return ics_response(body, f"meeting-{meeting['id']}.ics", attachment=True)

    @get("/groups/{filename:str}", guards=[signed_in], name="calendar:group")
    async def group(self, viewer: RequestViewer, filename: FromPath[str]) -> Response[bytes]:
        group, meetings = await queries.group_meetings(_strip_suffix(filename), viewer)
        titles = await queries.readable_item_titles(meetings, viewer)
        body = build_calendar(group["name"], meetings, titles)
        return ics_response(body, f"{group['slug']}.ics")

    @get("/me/{filename:str}", name="calendar:personal")
    async def personal(self, filename: FromPath[str]) -> Response[bytes]:
        """No session: calendar apps fetch this; the secret token in the URL is the key."""
        owner = await queries.feed_owner(_strip_suffix(filename))
        viewer = await load_viewer(owner)
        meetings = await queries.readable_meetings_for_user(viewer)
        titles = await queries.readable_item_titles(meetings, viewer)
        body = build_calendar("My meetings", meetings, titles)
        return ics_response(body, "my-meetings.ics")


async def _calendar_page(
    request: Request[Any, Any, Any],
    viewer: Viewer,
    token: str | None,
    *,
    was_reset: bool = False,
    already_had: bool = False,
) -> Template:
    url = feed_url(token) if token else None
    return page(
        request,
        "meetings/calendar.html",
        {
            "feed_url": url,
            "webcal_url": "webcal://" + url.split("://", 1)[1] if url else None,
            "feed_created_at": None if token else await queries.feed_created_at(viewer.user.id),
            "was_reset": was_reset,
            "already_had": already_had,
            "groups": await queries.calendar_groups(viewer),
        },
    )
