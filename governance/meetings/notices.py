"""What a meeting's members are told, and how they answer: the notice (agenda as each
member may read it, place, papers, reply links, a calendar invitation), the change
notifications (scheduled, moved, cancelled), and the signed reply links.

The services call these inside their write transaction, so an email is queued with the
change it tells of or not at all. Each member's agenda and calendar hold only the items
that member may read (`accounts.scopes`), and the outbox row carries the narrowest
visibility among them; the Director and the Board are not a meeting's audience unless they
are members of its group.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterable, Mapping
from typing import Any

from governance.accounts import scopes
from governance.accounts.policy import Visibility
from governance.core.clock import date_in_zone, organisation_today, utcnow
from governance.core.signing import sign, unsign_id_pair
from governance.core.urls import absolute_url
from governance.groups.services import on_joining
from governance.meetings.calendars import METHOD_CANCEL, METHOD_REQUEST, invitation
from governance.meetings.schemas import REPLY_MODES
from governance.meetings.tables import AgendaItem, Meeting
from governance.notifications import emails
from governance.notifications.audiences import member_readers, readers
from governance.notifications.emails import CalendarPart, MeetingRef
from governance.notifications.queries import Subscriber
from governance.settings import get_settings

REPLY_PURPOSE = "meeting-reply"
# A reply link works until long after any meeting it is for; the meeting's state decides
# whether a reply is still taken.
REPLY_LINK_MAX_AGE_SECONDS = 400 * 24 * 3600


# --- reply links ------------------------------------------------------------------------


def reply_token(meeting_id: int, user_id: int) -> str:
    return sign(REPLY_PURPOSE, [meeting_id, user_id])


def read_reply_token(token: str) -> tuple[int, int] | None:
    """(meeting id, user id) of a reply link; None for an altered, foreign or old link."""
    return unsign_id_pair(REPLY_PURPOSE, token, REPLY_LINK_MAX_AGE_SECONDS)


def reply_links(meeting_id: int, user_id: int) -> dict[str, str]:
    """One signed address per reply; each opens a page that asks before recording."""
    base = absolute_url("meetings:reply-by-link", reply_token=reply_token(meeting_id, user_id))
    return {mode: f"{base}?mode={mode}" for mode in REPLY_MODES}


def pack_link(meeting_id: int) -> str:
    """The meeting's papers in one pack (the route is the documents domain's)."""
    return absolute_url("meetings:show", meeting_id=meeting_id) + "/pack"


# --- what each member reads -------------------------------------------------------------


def meeting_ref(meeting: Mapping[str, Any]) -> MeetingRef:
    return MeetingRef(
        meeting_id=meeting["id"],
        group_id=meeting["group"],
        group_name=meeting["group_name"],
        title=meeting["title"],
        starts_at=meeting["starts_at"],
        ends_at=meeting["ends_at"],
        location=meeting["location"],
        sequence=int(meeting["calendar_sequence"] or 0),
    )


async def agenda_of(meeting_id: int) -> list[dict[str, Any]]:
    return (
        await AgendaItem.select(  # type: ignore[no-any-return]
            AgendaItem.title, AgendaItem.visibility
        )
        .where(AgendaItem.meeting == meeting_id)
        .order_by(AgendaItem.position)
    )


def readable_agenda(
    reader: Subscriber, group_id: int, agenda: Iterable[Mapping[str, Any]]
) -> tuple[list[str], str]:
    """The titles this reader may read, and the narrowest visibility among them (the
    outbox row's scope; internal when there is none narrower)."""
    titles, narrowest = [], str(Visibility.INTERNAL)
    for item in agenda:
        if scopes.may_read(reader.viewer, group_id, item["visibility"]):
            titles.append(item["title"])
            if scopes.narrows(narrowest, item["visibility"]):
                narrowest = item["visibility"]
    return titles, narrowest


def _organiser() -> str:
    return email.utils.parseaddr(get_settings().mail_from)[1] or "governance@localhost"


def calendar_part(
    meeting: dict[str, Any], titles: list[str], reader: Subscriber, method: str
) -> CalendarPart:
    body = invitation(
        meeting, titles, method=method, attendee=reader.viewer.user.email, organizer=_organiser()
    )
    return CalendarPart(body, method, f"meeting-{meeting['id']}.ics")


# --- the notifications ------------------------------------------------------------------


async def _audience(meeting: Mapping[str, Any]) -> list[Subscriber]:
    """The current members, for a meeting yet to start: a past meeting recorded afterwards
    (or corrected) is no news to anyone."""
    if meeting["starts_at"] <= utcnow():
        return []
    return await member_readers(meeting["group"], Visibility.INTERNAL)


async def tell_scheduled(meeting: dict[str, Any], scheduled_by: str) -> int:
    """To each current member: the meeting was scheduled. Returns how many were queued."""
    ref = meeting_ref(meeting)
    told = 0
    for reader in await _audience(meeting):
        told += await emails.meeting_scheduled(
            reader.recipient, ref, timezone=reader.timezone, scheduled_by=scheduled_by
        )
    return told


async def tell_changed(before: dict[str, Any], after: dict[str, Any]) -> int:
    """To each current member: the meeting moved or its place changed; once the notice is
    out, with the calendar update."""
    old, new = meeting_ref(before), meeting_ref(after)
    agenda = await agenda_of(after["id"]) if after["notice_sent_at"] else []
    told = 0
    for reader in await _audience(after):
        calendar, narrowest = None, str(Visibility.INTERNAL)
        if after["notice_sent_at"]:
            titles, narrowest = readable_agenda(reader, after["group"], agenda)
            calendar = calendar_part(after, titles, reader, METHOD_REQUEST)
        told += await emails.meeting_changed(
            reader.recipient,
            new,
            old,
            timezone=reader.timezone,
            calendar=calendar,
            visibility=narrowest,
        )
    return told


async def tell_cancelled(meeting: dict[str, Any]) -> int:
    """To each current member: the meeting is cancelled, with the reason; once the notice
    is out, with the calendar's cancellation."""
    ref = meeting_ref(meeting)
    told = 0
    for reader in await _audience(meeting):
        calendar = None
        if meeting["notice_sent_at"]:
            calendar = calendar_part(meeting, [], reader, METHOD_CANCEL)
        told += await emails.meeting_cancelled(
            reader.recipient,
            ref,
            reason=meeting["cancel_reason"],
            timezone=reader.timezone,
            calendar=calendar,
        )
    return told


async def _notice_to(
    reader: Subscriber, meeting: dict[str, Any], agenda: Iterable[Mapping[str, Any]]
) -> int:
    titles, narrowest = readable_agenda(reader, meeting["group"], agenda)
    return int(
        await emails.meeting_notice(
            reader.recipient,
            meeting_ref(meeting),
            agenda=titles,
            visibility=narrowest,
            reply_links=reply_links(meeting["id"], reader.id),
            pack_link=pack_link(meeting["id"]),
            timezone=reader.timezone,
            calendar=calendar_part(meeting, titles, reader, METHOD_REQUEST),
        )
    )


async def send_notice(meeting: dict[str, Any]) -> int:
    """The notice, to each current member, with the agenda they may read; returns how many
    were queued (none for a notice of this version already sent)."""
    agenda = await agenda_of(meeting["id"])
    told = 0
    for reader in await _audience(meeting):
        told += await _notice_to(reader, meeting, agenda)
    return told


async def noticed_meetings_ahead(group_id: int) -> list[dict[str, Any]]:
    """The group's scheduled meetings yet to start whose notice is out, soonest first."""
    return (
        await Meeting.select(  # type: ignore[no-any-return]
            *Meeting.all_columns(), Meeting.group.name.as_alias("group_name")
        )
        .where(
            (Meeting.group == group_id)
            & (Meeting.status == "scheduled")
            & (Meeting.starts_at > utcnow())
            & Meeting.notice_sent_at.is_not_null()
        )
        .order_by(Meeting.starts_at)
    )


@on_joining
async def send_notices_to_joiner(membership: Mapping[str, Any]) -> int:
    """A member who joins after a meeting's notice went out gets that notice (the version
    current now), for each meeting ahead that falls within their term; returns how many
    were queued. Only a term already begun counts: the notice's agenda is what the person
    may read today, and someone joining later is not yet a member to be told."""
    group_id, starts_on, ends_on = (
        membership["group"],
        membership["starts_on"],
        membership["ends_on"],
    )
    if starts_on > organisation_today():
        return 0
    joiners = await readers([membership["user"]], group_id, str(Visibility.INTERNAL))
    told = 0
    for meeting in await noticed_meetings_ahead(group_id) if joiners else []:
        day = date_in_zone(meeting["starts_at"])
        if day < starts_on or (ends_on is not None and day > ends_on):
            continue
        agenda = await agenda_of(meeting["id"])
        for reader in joiners:
            told += await _notice_to(reader, meeting, agenda)
    return told
