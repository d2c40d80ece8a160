"""Calendars: one meeting, a group's feed and a personal feed at a secret URL, parsed with
`icalendar`; what each reader's calendar may say; a fixed number of queries per feed."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import httpx
import pytest
from icalendar import Calendar

from governance.accounts.policy import CurrentUser, Viewer
from governance.accounts.tables import User
from governance.core.clock import organisation_today, utcnow
from governance.core.tables import AuditEvent
from governance.groups.queries import load_viewer
from governance.meetings import services
from governance.meetings.queries import hash_token
from governance.meetings.schemas import AgendaItemDetails, Cancellation, MeetingDetails
from governance.meetings.tables import CalendarFeed
from tests.factories import make_group, make_membership, make_user
from tests.helpers import found, post_form, sign_in

TITLES = {
    "public": "Annual budget overview",
    "internal": "Staff wellbeing survey results",
    "board": "Concern about the Director's handling of complaints",
    "group": "Members-only rota",
}


@dataclass
class People:
    slug: str
    group_id: int
    chair: int
    member: int
    former: int
    director: int
    board: int
    stranger: int
    other_member: int


@pytest.fixture
async def people() -> People:
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    other_group = await make_group(slug="ndi", name="Working Group on NDI")
    today = organisation_today()
    start = today - dt.timedelta(days=200)
    chair = await make_user("cal-chair@example.org", "Calendar Chair")
    member = await make_user("cal-member@example.org", "Calendar Member")
    former = await make_user("cal-former@example.org", "Former Member")
    director = await make_user("cal-director@example.org", "The Director", director=True)
    board = await make_user("cal-board@example.org", "Board Member", board=True)
    stranger = await make_user("cal-stranger@example.org", "Stranger")
    other = await make_user("cal-other@example.org", "Other Group Member")
    await make_membership(chair, group_id, "chair", start)
    await make_membership(member, group_id, "member", start)
    await make_membership(former, group_id, "member", start, today - dt.timedelta(days=30))
    await make_membership(other, other_group, "member", start)
    return People("wellbeing", group_id, chair, member, former, director, board, stranger, other)


async def viewer_of(user_id: int) -> Viewer:
    row = await User.select().where(User.id == user_id).first()
    return await load_viewer(CurrentUser.from_row(found(row)))


async def schedule(
    people: People, title: str = "Monthly meeting", days: int = 7, with_items: bool = True
) -> int:
    chair = await viewer_of(people.chair)
    starts = (utcnow() + dt.timedelta(days=days)).replace(microsecond=0)
    meeting_id = await services.schedule_meeting(
        people.slug,
        MeetingDetails(
            title=title, starts_at=starts, ends_at=starts + dt.timedelta(hours=2), location="Room 4"
        ),
        chair,
    )
    if with_items:
        for visibility, item_title in TITLES.items():
            await services.add_agenda_item(
                meeting_id,
                AgendaItemDetails(title=item_title, visibility=visibility, notes=""),
                chair,
            )
    return meeting_id


def parse(response: httpx.Response) -> Calendar:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(calendar: Calendar) -> list:
    return list(calendar.walk("VEVENT"))


def event_text(calendar: Calendar) -> str:
    return "\n".join(
        f"{event.get('summary')}\n{event.get('description')}" for event in events(calendar)
    )


async def personal_feed_url(client: httpx.AsyncClient, user_id: int) -> str:
    await sign_in(client, user_id)
    response = await client.get("/calendar")
    assert response.status_code == 200
    assert "Create my calendar address" in response.text
    response = await post_form(client, "/calendar/feed")
    assert response.status_code == 200
    match = re.search(r"http://testserver(/calendar/me/[A-Za-z0-9_-]+\.ics)", response.text)
    assert match, "the new feed address is shown once, in the answer to the POST"
    return match.group(1)


async def test_meeting_ics_parses_with_stable_uid_and_rising_sequence(client, people):
    meeting_id = await schedule(people)
    await sign_in(client, people.member)
    first = parse(await client.get(f"/calendar/meetings/{meeting_id}.ics"))
    second = parse(await client.get(f"/calendar/meetings/{meeting_id}.ics"))
    (event,) = events(first)
    assert str(event["uid"]) == f"meeting-{meeting_id}@testserver"
    assert str(events(second)[0]["uid"]) == str(event["uid"])
    assert int(event["sequence"]) == 0
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["summary"]) == "Working Group on Wellbeing: Monthly meeting"
    assert str(event["location"]) == "Room 4"
    start = event.decoded("dtstart")
    assert start.utcoffset() == dt.timedelta(0)
    assert event.decoded("dtend") - start == dt.timedelta(hours=2)
    assert f"http://testserver/meetings/{meeting_id}" in str(event["description"])
    assert event.get("dtstamp") is not None

    chair = await viewer_of(people.chair)
    new_start = (utcnow() + dt.timedelta(days=9)).replace(microsecond=0, second=0)
    await services.update_meeting(
        meeting_id,
        MeetingDetails(
            title="Moved meeting",
            starts_at=new_start,
            ends_at=new_start + dt.timedelta(hours=1),
            location="Room 5",
        ),
        chair,
    )
    (updated,) = events(parse(await client.get(f"/calendar/meetings/{meeting_id}.ics")))
    assert str(updated["uid"]) == str(event["uid"])
    assert int(updated["sequence"]) == 1
    assert updated.decoded("dtstart") == new_start
    assert str(updated["summary"]).endswith("Moved meeting")


async def test_control_characters_in_old_rows_still_give_every_calendar(app, client, people):
    """Rows written before the forms refused control characters (or by hand) still make a
    calendar: one-line properties get spaces, the description keeps its line breaks."""
    from governance.groups.tables import WorkingGroup
    from governance.meetings.tables import AgendaItem, Meeting

    meeting_id = await schedule(people)
    await Meeting.update(
        {
            Meeting.title: "Budget\r\nreview\x1f",
            Meeting.location: "Room\n4\x1b[31m",
        }
    ).where(Meeting.id == meeting_id)
    await AgendaItem.update({AgendaItem.title: "Line\nbreak\x07item"}).where(
        AgendaItem.meeting == meeting_id
    )
    await WorkingGroup.update({WorkingGroup.name: "Wellbeing\ngroup"}).where(
        WorkingGroup.id == people.group_id
    )
    feed = await personal_feed_url(client, people.member)
    await sign_in(client, people.member)
    for path in (
        f"/calendar/meetings/{meeting_id}.ics",
        f"/calendar/groups/{people.slug}.ics",
        feed,
    ):
        (event,) = events(parse(await client.get(path)))
        assert str(event["summary"]) == "Wellbeing group: Budget  review", path
        assert str(event["location"]) == "Room 4 [31m", path
        assert "1. Line break item" in str(event["description"]), path
        assert "\n" in str(event["description"]), path


async def test_cancelled_meeting_is_marked_cancelled_in_every_feed(client, people):
    meeting_id = await schedule(people)
    await services.cancel_meeting(
        meeting_id, Cancellation(reason="Venue closed"), await viewer_of(people.chair)
    )
    await sign_in(client, people.member)
    (single,) = events(parse(await client.get(f"/calendar/meetings/{meeting_id}.ics")))
    (in_feed,) = events(parse(await client.get(f"/calendar/groups/{people.slug}.ics")))
    for event in (single, in_feed):
        assert str(event["status"]) == "CANCELLED"
        assert int(event["sequence"]) == 1
        assert "Venue closed" in str(event["description"])


@pytest.mark.parametrize(
    ("persona", "readable"),
    [
        ("member", {"public", "internal", "board", "group"}),
        ("chair", {"public", "internal", "board", "group"}),
        ("board", {"public", "internal", "board"}),
        ("director", {"public", "internal"}),
    ],
)
async def test_group_feed_carries_only_what_its_reader_may_read(client, people, persona, readable):
    await schedule(people, "First")
    await schedule(people, "Second", days=14)
    await sign_in(client, getattr(people, persona))
    calendar = parse(await client.get(f"/calendar/groups/{people.slug}.ics"))
    assert len(events(calendar)) == 2
    text = event_text(calendar)
    for visibility, title in TITLES.items():
        assert (title in text) is (visibility in readable), (persona, visibility)
    # Nor anywhere else in the file, such as a property this test does not look at.
    raw = (await client.get(f"/calendar/groups/{people.slug}.ics")).content.decode()
    unfolded = raw.replace("\r\n ", "")
    for visibility, title in TITLES.items():
        if visibility not in readable:
            assert title.replace(",", "\\,") not in unfolded
            assert title not in unfolded


@pytest.mark.parametrize("persona", ["stranger", "former", "other_member"])
async def test_group_feed_and_meeting_ics_are_not_found_for_those_who_cannot_read(
    client, people, persona
):
    meeting_id = await schedule(people)
    await sign_in(client, getattr(people, persona))
    group_feed = await client.get(f"/calendar/groups/{people.slug}.ics")
    missing_group = await client.get("/calendar/groups/no-such-group.ics")
    assert group_feed.status_code == missing_group.status_code == 404
    assert TITLES["internal"] not in group_feed.text
    meeting = await client.get(f"/calendar/meetings/{meeting_id}.ics")
    assert meeting.status_code == 404
    assert "Monthly meeting" not in meeting.text


async def test_calendar_routes_need_a_calendar_address(client, people):
    meeting_id = await schedule(people)
    await sign_in(client, people.member)
    for path in (
        f"/calendar/meetings/{meeting_id}",
        f"/calendar/meetings/{meeting_id}.ical",
        "/calendar/meetings/abc.ics",
        "/calendar/meetings/.ics",
        f"/calendar/groups/{people.slug}",
    ):
        assert (await client.get(path)).status_code == 404, path


async def test_anonymous_is_sent_to_sign_in_for_session_calendars(client, people):
    meeting_id = await schedule(people)
    for path in (
        f"/calendar/meetings/{meeting_id}.ics",
        f"/calendar/groups/{people.slug}.ics",
        "/calendar",
    ):
        response = await client.get(path)
        assert response.status_code == 302
        assert response.headers["location"].startswith("/login")


async def test_personal_feed_works_without_a_session(app, client, people):
    await schedule(people, "Wellbeing meeting")
    url = await personal_feed_url(client, people.member)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as calendar_app:
        response = await calendar_app.get(url)
    calendar = parse(response)
    assert calendar.get("x-wr-calname") == "My meetings"
    text = event_text(calendar)
    assert "Wellbeing meeting" in text
    assert TITLES["group"] in text


async def test_personal_feed_of_the_director_never_names_a_board_item(app, client, people):
    await schedule(people)
    url = await personal_feed_url(client, people.director)
    client.cookies.clear()
    calendar = parse(await client.get(url))
    text = event_text(calendar)
    assert TITLES["internal"] in text
    assert TITLES["public"] in text
    assert TITLES["board"] not in text
    assert TITLES["group"] not in text


async def test_personal_feed_has_only_the_owners_groups(client, people):
    await schedule(people, "Wellbeing meeting")
    url = await personal_feed_url(client, people.other_member)
    client.cookies.clear()
    calendar = parse(await client.get(url))
    assert events(calendar) == []


async def test_unknown_token_and_deactivated_owner_are_not_found(client, people):
    await schedule(people)
    assert (await client.get("/calendar/me/not-a-real-token.ics")).status_code == 404
    url = await personal_feed_url(client, people.member)
    client.cookies.clear()
    assert (await client.get(url)).status_code == 200
    await User.update({User.is_active: False}).where(User.id == people.member)
    assert (await client.get(url)).status_code == 404


async def test_only_the_tokens_hash_is_stored_and_the_address_is_shown_once(client, people):
    url = await personal_feed_url(client, people.member)
    token = url.removeprefix("/calendar/me/").removesuffix(".ics")
    rows = await CalendarFeed.select().where(CalendarFeed.user == people.member)
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hash_token(token) != token
    again = await client.get("/calendar")
    assert again.status_code == 200
    assert "/calendar/me/" not in again.text
    assert "Reset to get a new address" in again.text
    assert await CalendarFeed.count().where(CalendarFeed.user == people.member) == 1
    created = await AuditEvent.count().where(AuditEvent.action == "calendar_feed.created")
    assert created == 1


async def test_reset_replaces_the_address_and_is_audited(client, people):
    await schedule(people)
    old_url = await personal_feed_url(client, people.member)
    response = await post_form(client, "/calendar/reset")
    assert response.status_code == 200
    match = re.search(r"http://testserver(/calendar/me/[A-Za-z0-9_-]+\.ics)", response.text)
    assert match
    new_url = match.group(1)
    assert new_url != old_url
    assert "The previous address no longer works" in response.text
    client.cookies.clear()
    assert (await client.get(old_url)).status_code == 404
    assert len(events(parse(await client.get(new_url)))) == 1
    event = await AuditEvent.select().where(AuditEvent.action == "calendar_feed.reset").first()
    assert event is not None
    assert event["actor_id"] == people.member
    assert new_url.split("/")[-1].removesuffix(".ics") not in event["summary"]


async def test_visiting_the_calendar_page_changes_nothing(client, people):
    await sign_in(client, people.member)
    before = await AuditEvent.select().order_by(AuditEvent.sequence)
    for _ in range(2):
        response = await client.get("/calendar")
        assert response.status_code == 200
        assert "/calendar/me/" not in response.text
        assert "Create my calendar address" in response.text
    assert await CalendarFeed.count() == 0
    assert await AuditEvent.select().order_by(AuditEvent.sequence) == before


async def test_creating_the_feed_is_a_post_with_csrf_and_is_audited_once(client, people):
    await sign_in(client, people.member)
    refused = await post_form(client, "/calendar/feed", with_csrf=False)
    assert refused.status_code == 403
    assert await CalendarFeed.count() == 0
    await personal_feed_url(client, people.member)
    again = await post_form(client, "/calendar/feed")
    assert again.status_code == 200
    assert "/calendar/me/" not in again.text
    assert "You already have a personal feed; nothing was changed." in again.text
    assert await CalendarFeed.count() == 1
    created = await AuditEvent.count().where(AuditEvent.action == "calendar_feed.created")
    assert created == 1


async def test_reset_needs_the_csrf_token(client, people):
    old_url = await personal_feed_url(client, people.member)
    response = await post_form(client, "/calendar/reset", with_csrf=False)
    assert response.status_code == 403
    client.cookies.clear()
    assert (await client.get(old_url)).status_code == 200


async def test_feeds_cost_the_same_queries_for_2_and_20_meetings(client, people, count_queries):
    for number in range(2):
        await schedule(people, f"Meeting {number}", days=number + 1)
    url = await personal_feed_url(client, people.director)

    async def measure() -> tuple[int, int, int]:
        await sign_in(client, people.board)
        with count_queries() as group_feed:
            response = await client.get(f"/calendar/groups/{people.slug}.ics")
            assert response.status_code == 200
        client.cookies.clear()
        with count_queries() as personal:
            response = await client.get(url)
            assert response.status_code == 200
        return group_feed.count, personal.count, len(events(parse(response)))

    group_small, personal_small, meetings_small = await measure()
    for number in range(2, 20):
        await schedule(people, f"Meeting {number}", days=number + 1)
    group_large, personal_large, meetings_large = await measure()
    assert (meetings_small, meetings_large) == (2, 20)
    assert group_large == group_small
    assert personal_large == personal_small
    assert personal_small <= 5
