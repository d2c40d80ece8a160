"""The meeting notice and its replies: the chair sends it with one action; each member
gets the agenda they may read, the papers' link, signed reply links and an iCalendar
invitation (REQUEST, a stable UID, a SEQUENCE that rises with each change; CANCEL when
cancelled); a reply from the link needs no sign-in (GET asks, POST records); replies
give the expected quorum and start the attendance form; the notice goes out by itself 7
days ahead when the chair has not sent it."""

# ruff: noqa: F811 - the notification tests' fixtures, imported, are parameters here
from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from email.message import EmailMessage

import pytest
from icalendar import Calendar

from governance.core.errors import ConflictError
from governance.core.tables import OutboundEmail
from governance.groups.tables import WorkingGroup
from governance.meetings import notices, services
from governance.meetings.calendars import meeting_uid
from governance.meetings.schemas import Cancellation, MeetingDetails, NoticeReply
from governance.meetings.tables import AgendaItem, MeetingReply
from governance.notifications.jobs import meeting_notice_job
from tests.factories import make_meeting, viewer_for
from tests.helpers import found, post_form, sign_in
from tests.notifications.conftest import (  # noqa: F401 - fixtures
    START,
    Mail,
    People,
    add_item,
    clock,
    mail,
    people,
)
from tests.notifications.conftest import (
    make_meeting as insert_meeting,
)

SECRET = "Complaint about the Director"


async def notices_to(address: str) -> list[dict]:
    return (
        await OutboundEmail.select()
        .where((OutboundEmail.template == "meeting_notice") & (OutboundEmail.recipient == address))
        .order_by(OutboundEmail.id)
    )


def calendar_of(message: EmailMessage) -> tuple[Calendar, str]:
    raw = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    for part in raw.walk():
        if part.get_content_type() == "text/calendar":
            return Calendar.from_ical(part.get_content()), str(part["Content-Type"])
    raise AssertionError("no calendar part")


def event_of(calendar: Calendar):  # type: ignore[no-untyped-def]
    return next(component for component in calendar.walk("VEVENT"))


async def upcoming(people: People, days: int = 10) -> int:
    meeting_id = await make_meeting(
        people.slug, people.chair, starts_at=START + dt.timedelta(days=days)
    )
    await add_item(meeting_id, "Budget", "internal")
    await add_item(meeting_id, SECRET, "board")
    return meeting_id


def link_path(url: str) -> str:
    return url.removeprefix("http://testserver")


async def test_the_notice_reaches_each_member_once_with_agenda_papers_replies_and_invitation(
    people: People, mail: Mail
):
    meeting_id = await upcoming(people)
    chair = await viewer_for(people.chair)
    assert await services.send_meeting_notice(meeting_id, chair) == 4
    with pytest.raises(ConflictError):  # sending twice: refused, and nothing queued twice
        await services.send_meeting_notice(meeting_id, chair)
    assert len(await notices_to("member@example.org")) == 1
    assert await notices_to("director@example.org") == []
    assert await notices_to("former@example.org") == []

    await mail.deliver()
    (message,) = mail.to("member@example.org")
    assert str(message["Subject"]).startswith(
        "Notice of meeting: Monthly meeting (Working Group on Wellbeing)"
    )
    text = Mail.everything(message)
    assert "Budget" in text and SECRET in text  # members read every item of their group
    assert f"/meetings/{meeting_id}/pack" in text
    assert "/notice-replies/" in text and "mode=apologies" in text
    calendar, content_type = calendar_of(message)
    assert "method=REQUEST" in content_type.replace('"', "")
    assert calendar["METHOD"] == "REQUEST"
    event = event_of(calendar)
    assert str(event["UID"]) == meeting_uid(meeting_id)
    assert int(event["SEQUENCE"]) == 0
    assert "member@example.org" in str(event["ATTENDEE"])


async def test_a_change_after_the_notice_updates_calendars_and_a_cancellation_removes_it(
    people: People, mail: Mail
):
    meeting_id = await upcoming(people)
    chair = await viewer_for(people.chair)
    await services.send_meeting_notice(meeting_id, chair)
    starts = START + dt.timedelta(days=11)
    moved = MeetingDetails(
        title="Monthly meeting",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        location="Room 2",
    )
    await services.update_meeting(meeting_id, moved, chair)
    await services.cancel_meeting(meeting_id, Cancellation(reason="Room unavailable"), chair)
    await mail.deliver()
    by_subject = {str(m["Subject"]).split(":")[0]: m for m in mail.to("member2@example.org")}
    sequences, uids = [], set()
    for subject, method in (
        ("Notice of meeting", "REQUEST"),
        ("Meeting changed", "REQUEST"),
        ("Meeting cancelled", "CANCEL"),
    ):
        calendar, content_type = calendar_of(by_subject[subject])
        assert calendar["METHOD"] == method
        assert f"method={method}" in content_type.replace('"', "")
        event = event_of(calendar)
        uids.add(str(event["UID"]))
        sequences.append(int(event["SEQUENCE"]))
    assert uids == {meeting_uid(meeting_id)}
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    assert "Room unavailable" in Mail.everything(by_subject["Meeting cancelled"])


async def test_a_reply_link_asks_on_get_records_on_post_and_needs_no_sign_in(
    people: People, client
):
    meeting_id = await upcoming(people)
    await services.send_meeting_notice(meeting_id, await viewer_for(people.chair))
    (row,) = await notices_to("member@example.org")
    context = row["context"] if isinstance(row["context"], dict) else json.loads(row["context"])
    link = link_path(context["reply_links"]["apologies"])

    page = await client.get(link)
    assert page.status_code == 200
    assert "Monthly meeting" in page.text and SECRET not in page.text
    assert 'value="apologies" checked' in page.text
    assert await MeetingReply.count() == 0  # a GET (a mail scanner) records nothing

    token = link.split("/notice-replies/")[1].split("?")[0]
    response = await post_form(client, f"/notice-replies/{token}", {"mode": "apologies"})
    assert response.status_code == 200, response.text
    assert "Your reply is recorded" in response.text
    replies = await MeetingReply.select(MeetingReply.user, MeetingReply.mode)
    assert replies == [{"user": people.member, "mode": "apologies"}]
    await post_form(client, f"/notice-replies/{token}", {"mode": "apologies"})
    assert await MeetingReply.count() == 1

    altered = await client.get(f"/notice-replies/{token[:-2]}xx?mode=attending")
    assert altered.status_code == 404
    bad = await post_form(client, f"/notice-replies/{token}", {"mode": "maybe"})
    assert bad.status_code == 422


async def test_replies_give_the_expected_quorum_and_start_the_attendance_form(
    people: People, client, clock
):
    meeting_id = await upcoming(people, days=2)
    chair = await viewer_for(people.chair)
    await services.send_meeting_notice(meeting_id, chair)
    for user_id, mode in (
        (people.chair, "attending"),
        (people.secretary, "remote"),
        (people.member, "apologies"),
    ):
        await services.reply_to_notice(
            meeting_id,
            NoticeReply(mode=mode),
            await viewer_for(user_id),
        )
    await sign_in(client, people.chair)
    page = await client.get(f"/meetings/{meeting_id}")
    # 4 members on the day; a majority quorum needs 3.
    assert "2 of 4 expected; quorum 3: not met (1 apologies)." in page.text

    clock.move_to(START + dt.timedelta(days=2, hours=1))
    await sign_in(client, people.chair)  # two days on: a new session
    page = await client.get(f"/meetings/{meeting_id}")
    assert "expected; quorum" not in page.text
    assert f'<select id="mode_{people.member}"' in page.text
    form = page.text.split('id="attendance-heading"')[1]
    chosen = {
        mode: form.split(f'id="mode_{user}"')[1].split("</select>")[0]
        for user, mode in ((people.chair, "present"), (people.secretary, "remote"))
    }
    for mode, options in chosen.items():
        assert f'value="{mode}" selected' in options
    member_options = form.split(f'id="mode_{people.member}"')[1].split("</select>")[0]
    assert 'value="apologies" selected' in member_options


async def test_the_notice_goes_out_by_itself_seven_days_ahead_once_and_only_if_wanted(
    people: People, monkeypatch
):
    soon = await upcoming(people, days=6)
    later = await upcoming(people, days=9)
    other = await insert_meeting(people.other_group_id, START + dt.timedelta(days=5))
    await WorkingGroup.update({WorkingGroup.notice_by_hand_only: True}).where(
        WorkingGroup.id == people.other_group_id
    )
    assert other  # a group that sends its notices by hand is left alone
    report = await meeting_notice_job()
    assert (report.meetings, report.emails, report.failed) == (1, 4, 0)
    assert (await meeting_notice_job()).meetings == 0  # run twice: once
    sent = await OutboundEmail.select(OutboundEmail.dedupe_key).where(
        OutboundEmail.template == "meeting_notice"
    )
    assert all(f"meeting:{soon}:" in row["dedupe_key"] for row in sent)
    assert later


async def test_one_meeting_that_breaks_does_not_stop_the_others(people: People, monkeypatch):
    first = await upcoming(people, days=3)
    second = await upcoming(people, days=4)
    real = notices.send_notice

    async def breaks_on_first(meeting):  # type: ignore[no-untyped-def]
        if meeting["id"] == first:
            raise RuntimeError("a bad row")
        return await real(meeting)

    monkeypatch.setattr(notices, "send_notice", breaks_on_first)
    report = await meeting_notice_job()
    assert (report.meetings, report.failed) == (1, 1)
    keys = [row["dedupe_key"] for row in await OutboundEmail.select(OutboundEmail.dedupe_key)]
    assert all(f"meeting:{second}:" in key for key in keys if ":notice:" in key)
    assert not any(f"meeting:{first}:notice" in key for key in keys)
    assert await AgendaItem.count() == 4


async def test_a_member_who_joins_after_the_notice_gets_it_for_the_meetings_ahead(
    people: People, mail: Mail
):
    from governance.accounts.tables import User
    from governance.core.clock import organisation_today
    from tests.factories import make_membership

    noticed = await upcoming(people)
    await upcoming(people, days=20)  # no notice yet: nothing to catch up on
    far = await upcoming(people, days=60)
    chair = await viewer_for(people.chair)
    await services.send_meeting_notice(noticed, chair)
    await services.send_meeting_notice(far, chair)
    today = organisation_today()
    # Joins today until the day before the far meeting: told of the noticed meeting only.
    await make_membership(
        people.stranger, people.group_id, "member", today, today + dt.timedelta(days=40)
    )
    (notice,) = await notices_to("stranger@example.org")
    context = notice["context"]
    context = json.loads(context) if isinstance(context, str) else context
    assert notice["dedupe_key"].startswith(f"meeting:{noticed}:notice:")
    assert SECRET in context["agenda"]  # a member now, who reads every item of the group
    # Joining from a later day: not a member yet, not told (the notice is for members).
    later = found(await User.select(User.id).where(User.email == "other@example.org").first())
    await make_membership(later["id"], people.group_id, "member", today + dt.timedelta(days=2))
    assert await notices_to("other@example.org") == []

    await mail.deliver()
    (message,) = mail.to("stranger@example.org")
    assert "/notice-replies/" in Mail.everything(message)
    assert int(event_of(calendar_of(message)[0])["SEQUENCE"]) == 0
