"""Every reminder fires once, at the right time, and never again however often the sweep runs."""

from __future__ import annotations

import datetime as dt

from governance.accounts.tables import User
from governance.actions.tables import ActionItem
from governance.groups.tables import Membership
from governance.meetings.tables import MinutesComment
from governance.notifications.reminders import action_stage, membership_stage
from governance.reports.tables import Delivery
from tests.factories import make_membership
from tests.helpers import found, html_part
from tests.notifications.conftest import (
    START,
    Mail,
    People,
    add_item,
    attend,
    make_action,
    make_delivered_report,
    make_meeting,
    queued,
    sweep,
)

DAY = dt.timedelta(days=1)


def _days_from_start(days: int, hour: int = 9) -> dt.datetime:
    return (START + dt.timedelta(days=days)).replace(hour=hour)


async def _sweep_each_day(
    clock, days: range, hours: tuple[int, ...] = (0, 23)
) -> dict[int, list[str]]:
    """Runs the sweep at these hours of each day, twice at the first; returns what each day
    queued."""
    found = {}
    for day in days:
        keys = []
        for index, hour in enumerate(hours):
            clock.move_to(_days_from_start(day, hour))
            keys += await sweep(times=2 if index == 0 else 1)
        found[day] = keys
    return found


# --- actions ------------------------------------------------------------------------------


def test_action_stages():
    due = dt.date(2026, 11, 20)
    assert action_stage(due, due - 4 * DAY) is None
    assert action_stage(due, due - 3 * DAY) == ("soon", "soon:2026-11-20")
    assert action_stage(due, due - DAY) == ("soon", "soon:2026-11-20")
    assert action_stage(due, due) == ("today", "today:2026-11-20")
    # Weekly while overdue: the same week's key from the day after for seven days.
    first = action_stage(due, due + DAY)
    assert first is not None and first[0] == "overdue"
    assert all(action_stage(due, due + n * DAY) == first for n in range(1, 8))
    second = action_stage(due, due + 8 * DAY)
    assert second is not None and second != first
    assert action_stage(due, due + 14 * DAY) == second


async def test_action_reminders_fire_once_each_at_the_right_time(clock, people: People):
    due = START.date() + 10 * DAY
    action = await make_action(people.group_id, [people.member, people.member2], due)
    await make_action(people.group_id, [people.member], due, status="done", title="Finished")

    by_day = await _sweep_each_day(clock, range(0, 27))

    expected_days = {7: "soon", 10: "today", 11: "overdue", 18: "overdue", 25: "overdue"}
    for day, keys in by_day.items():
        if day in expected_days:
            assert sorted(int(key.rsplit(":", 1)[1]) for key in keys) == sorted(
                [people.member, people.member2]
            ), day
            stage = expected_days[day]
            assert all(key.startswith(f"reminder:action:{action}:{stage}:") for key in keys)
        else:
            assert keys == [], (day, keys)
    rows = await queued()
    assert len(rows) == len({row["dedupe_key"] for row in rows}) == 2 * 5


async def test_no_reminder_once_an_action_is_done(clock, people: People):
    due = START.date() + DAY
    action = await make_action(people.group_id, [people.member], due)
    clock.move_to(_days_from_start(1))
    assert len(await sweep()) == 1
    await ActionItem.update({ActionItem.status: "done"}).where(ActionItem.id == action)
    assert await _sweep_each_day(clock, range(2, 20)) == {day: [] for day in range(2, 20)}


async def test_an_action_reminder_reaches_the_owner_by_smtp(clock, people: People, mail: Mail):
    await make_action(
        people.group_id, [people.member], START.date(), title="Book the venue & <catering>"
    )
    await sweep()
    await mail.deliver()

    [message] = mail.to("member@example.org")
    # The subject names the group (issue 10, defect 14).
    assert message["Subject"] == (
        "Action due today: Book the venue & <catering> (Working Group on Wellbeing)"
    )
    assert "Book the venue & <catering>" in mail.everything(message)
    assert "Book the venue &amp; &lt;catering&gt;" in html_part(message)
    assert message["List-Unsubscribe"].startswith("<http://testserver/email/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "http://testserver/email/preferences/" in mail.everything(message)


async def test_the_same_reminder_for_two_groups_has_two_subjects(clock, people: People, mail: Mail):
    """Issue 10, defect 14: subjects name the group, so one person never gets two
    identical subjects for two groups."""
    await make_membership(people.member, people.other_group_id, "member", START.date())
    for group_id in (people.group_id, people.other_group_id):
        await make_action(group_id, [people.member], START.date(), title="Book the venue")
    await sweep()
    await mail.deliver()

    subjects = sorted(str(m["Subject"]) for m in mail.to("member@example.org"))
    assert subjects == [
        "Action due today: Book the venue (Working Group on NDI)",
        "Action due today: Book the venue (Working Group on Wellbeing)",
    ]


async def test_list_unsubscribe_reaches_the_server_as_a_plain_address(
    clock, people: People, mail: Mail
):
    """Issue 10, defect 9: RFC 8058 one-click needs `<https://...>` as is, not RFC 2047
    encoded words, or mail clients never offer it."""
    await make_action(people.group_id, [people.member], START.date(), title="Book the venue")
    await sweep()
    await mail.deliver()

    [raw] = mail.sink.raw
    headers = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = headers.replace("\r\n ", " ").replace("\r\n\t", " ")
    [line] = [h for h in unfolded.split("\r\n") if h.startswith("List-Unsubscribe:")]
    assert line.startswith("List-Unsubscribe: <http://testserver/email/unsubscribe/")
    assert line.endswith(">") and "=?" not in line
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in unfolded


# --- meetings -----------------------------------------------------------------------------


async def test_meeting_reminder_two_days_ahead_to_current_members_with_agenda_and_ics(
    clock, people: People, mail: Mail
):
    starts = START + dt.timedelta(days=5, hours=9)
    meeting = await make_meeting(people.group_id, starts, title="November meeting")
    await add_item(meeting, "Workload survey")
    await add_item(meeting, "Complaint about the Director", "board")
    await add_item(meeting, "Members only matter", "group")

    clock.move_to(starts - dt.timedelta(hours=49))
    assert await sweep() == []
    clock.move_to(starts - dt.timedelta(hours=47))
    keys = await sweep(times=3)
    members = {people.chair, people.secretary, people.member, people.member2}
    assert sorted(keys) == sorted(
        f"reminder:meeting:{meeting}:ahead:20261107T1800Z:user:{user}" for user in members
    )
    clock.move_to(starts - dt.timedelta(hours=1))
    assert await sweep() == []

    await mail.deliver()
    assert {str(m["To"]) for m in mail.messages} == {
        "chair@example.org",
        "secretary@example.org",
        "member@example.org",
        "member2@example.org",
    }
    message = mail.to("member@example.org")[0]
    assert "November meeting" in message["Subject"]
    text = mail.everything(message)
    for title in ("Workload survey", "Complaint about the Director", "Members only matter"):
        assert text.count(title) >= 3  # text, HTML and the calendar's description
    [calendar] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert calendar.get_filename() == f"meeting-{meeting}.ics"
    ics = calendar.get_content()
    assert "BEGIN:VEVENT" in ics and "DTSTART:20261107T180000Z" in ics


async def test_a_rescheduled_meeting_is_announced_again_a_cancelled_one_is_not(
    clock, people: People
):
    from governance.meetings.tables import Meeting

    starts = START + dt.timedelta(days=1)
    meeting = await make_meeting(people.group_id, starts)
    assert len(await sweep()) == 4
    await Meeting.update(
        {Meeting.starts_at: starts + dt.timedelta(hours=3), Meeting.ends_at: starts + DAY}
    ).where(Meeting.id == meeting)
    assert len(await sweep()) == 4
    await Meeting.update({Meeting.status: "cancelled"}).where(Meeting.id == meeting)
    await Meeting.update({Meeting.starts_at: starts + dt.timedelta(hours=5)}).where(
        Meeting.id == meeting
    )
    assert await sweep() == []


# --- minutes ------------------------------------------------------------------------------


async def test_minutes_still_in_draft_seven_days_after_a_held_meeting(clock, people: People):
    held = await make_meeting(people.group_id, START - dt.timedelta(hours=3), status="held")
    await make_meeting(
        people.group_id,
        START - dt.timedelta(hours=2),
        status="held",
        minutes_status="circulated",
        circulated_at=START,
    )
    by_day = await _sweep_each_day(clock, range(0, 20))
    minutes_id = await _minutes_id(held)
    assert sorted(by_day.pop(7)) == sorted(
        f"reminder:minutes:{minutes_id}:draft:user:{user}"
        for user in (people.chair, people.secretary)
    )
    # The circulated minutes bring a review reminder on day 3, to attendees only (none here).
    assert all(keys == [] for keys in by_day.values()), by_day


async def _minutes_id(meeting_id: int) -> int:
    from governance.meetings.tables import Minutes

    row = found(await Minutes.select(Minutes.id).where(Minutes.meeting == meeting_id).first())
    return int(row["id"])


async def test_minutes_awaiting_review_reach_member_attendees_who_have_not_commented(
    clock, people: People
):
    meeting = await make_meeting(
        people.group_id,
        START - DAY,
        status="held",
        minutes_status="circulated",
        circulated_at=START,
    )
    minutes_id = await _minutes_id(meeting)
    for user in (people.chair, people.member, people.member2, people.former, people.director):
        await attend(meeting, user)
    await attend(meeting, people.secretary, "apologies")
    await MinutesComment.insert(
        MinutesComment(minutes=minutes_id, author=people.member2, body="Fine.", created_at=START)
    )

    by_day = await _sweep_each_day(clock, range(0, 15))
    # Not the former member (no longer a member), the Director (not a member), the
    # secretary (sent apologies) or the member who has already commented.
    assert sorted(by_day.pop(3)) == sorted(
        f"reminder:minutes:{minutes_id}:review:20261102T090000:user:{user}"
        for user in (people.chair, people.member)
    )
    assert all(keys == [] for keys in by_day.values()), by_day


# --- periodic reports ---------------------------------------------------------------------


async def test_periodic_report_due_in_fourteen_days_today_and_past_due(
    clock, people: People, mail: Mail
):
    # Quarterly, due 30 days after the quarter: 2026-Q4 is due on 30 Jan 2027.
    clock.move_to(dt.datetime(2027, 1, 10, 9, tzinfo=dt.UTC))
    found: dict[dt.date, list[str]] = {}
    day = dt.date(2027, 1, 10)
    while day <= dt.date(2027, 2, 20):
        for hour in (0, 23):
            clock.move_to(dt.datetime(day.year, day.month, day.day, hour, 30, tzinfo=dt.UTC))
            keys = [k for k in await sweep() if k.startswith("reminder:report:")]
            found.setdefault(day, []).extend(keys)
        day += DAY
    fired = {day: keys for day, keys in found.items() if keys}
    assert sorted(fired) == [dt.date(2027, 1, 16), dt.date(2027, 1, 30), dt.date(2027, 1, 31)]
    for day, stage in zip(sorted(fired), ("soon", "today", "overdue"), strict=True):
        group = people.group_id
        assert sorted(fired[day]) == sorted(
            f"reminder:report:group:{group}:2026-Q4:{stage}:2027-01-30:user:{user}"
            for user in (people.chair, people.secretary)
        )

    await mail.deliver()
    texts = [mail.everything(m) for m in mail.to("chair@example.org") if "2026-Q4" in m["Subject"]]
    assert len(texts) == 3
    for text in texts:
        assert "missing" not in text.lower()
        assert "Executive Director and Board" in text or "Executive Director and the Board" in text
    assert any("is due on 30 Jan 2027, in 14 days" in text for text in texts)


async def test_no_report_reminder_once_the_period_is_submitted(clock, people: People):
    clock.move_to(dt.datetime(2027, 1, 16, 9, tzinfo=dt.UTC))
    await make_delivered_report(
        people.group_id,
        people.chair,
        kind="periodic",
        period="2026-Q4",
        title="Report for 2026-Q4",
        response_due_on=dt.date(2027, 2, 15),
    )
    assert [k for k in await sweep() if k.startswith("reminder:report:")] == []


# --- deliveries ---------------------------------------------------------------------------


async def test_delivery_past_due_reminds_the_line_and_the_chair_weekly(
    clock, people: People, mail: Mail
):
    """Issue 10, defect 14: the overdue reminder went once and never again."""
    due = START.date() + 5 * DAY
    _, deliveries = await make_delivered_report(people.group_id, people.chair, response_due_on=due)
    await Delivery.update({Delivery.state: "acknowledged"}).where(
        Delivery.id == deliveries["board"]
    )
    by_day = await _sweep_each_day(clock, range(0, 20))
    fired = {day: keys for day, keys in by_day.items() if keys}
    # The day after the due date, then every seven days while it stays unanswered.
    assert list(fired) == [6, 13]
    assert len(fired[13]) == len(fired[6]) and not set(fired[13]) & set(fired[6])
    director_line = [k for k in fired[6] if f":delivery:{deliveries['director']}:" in k]
    board_line = [k for k in fired[6] if f":delivery:{deliveries['board']}:" in k]
    assert sorted(int(k.rsplit(":", 1)[1]) for k in director_line) == sorted(
        [people.director, people.chair]
    )
    assert sorted(int(k.rsplit(":", 1)[1]) for k in board_line) == sorted(
        [people.board, people.board2, people.chair]
    )

    await mail.deliver()
    to_director = mail.to("director@example.org")[0]
    assert len(mail.to("director@example.org")) == 2  # one a week
    assert "List-Unsubscribe" not in to_director  # required notice: it cannot be turned off
    text = mail.everything(to_director)
    assert "not yet been acknowledged" in text
    assert "cannot be turned off" in text
    board_text = mail.everything(mail.to("board@example.org")[0])
    assert "has been acknowledged; the response is not yet recorded" in board_text
    chair_messages = mail.to("chair@example.org")
    assert len(chair_messages) == 4  # two lines, two weeks
    assert all(m["List-Unsubscribe"] for m in chair_messages)


async def test_a_responded_delivery_brings_no_reminder(clock, people: People):
    _, deliveries = await make_delivered_report(
        people.group_id, people.chair, response_due_on=START.date() - DAY
    )
    await Delivery.update({Delivery.state: "responded"}).where(
        Delivery.id.is_in(list(deliveries.values()))
    )
    assert await sweep() == []


async def test_muting_reports_stops_the_chairs_copy_never_the_lines_notice(clock, people: People):
    await User.update({User.notification_categories: list(("reports", "actions"))}).where(
        User.id.is_in([people.chair, people.director])
    )
    await make_delivered_report(
        people.group_id, people.chair, lines=("director",), response_due_on=START.date() - DAY
    )
    keys = await sweep()
    assert [int(k.rsplit(":", 1)[1]) for k in keys] == [people.director]


# --- memberships --------------------------------------------------------------------------


def test_membership_stages():
    ends = dt.date(2027, 3, 1)
    assert membership_stage(ends, ends - 61 * DAY) is None
    assert membership_stage(ends, ends - 60 * DAY) == 60
    assert membership_stage(ends, ends - 31 * DAY) == 60
    assert membership_stage(ends, ends - 30 * DAY) == 30
    assert membership_stage(ends, ends - DAY) == 30
    assert membership_stage(ends, ends) is None


async def test_membership_ending_in_sixty_and_thirty_days(clock, people: People, mail: Mail):
    ends = START.date() + 70 * DAY
    await Membership.update({Membership.ends_on: ends}).where(
        (Membership.user == people.member) & (Membership.group == people.group_id)
    )
    by_day = await _sweep_each_day(clock, range(0, 72), hours=(12,))
    fired = {day: sorted(keys) for day, keys in by_day.items() if keys}
    assert sorted(fired) == [10, 40]
    for day, notice in ((10, 60), (40, 30)):
        assert [k.rsplit(":", 1)[1] for k in fired[day]] == sorted(
            [str(people.member), str(people.chair)]
        )
        assert all(f":{notice}:user:" in k for k in fired[day])

    await mail.deliver()
    own = mail.to("member@example.org")
    assert len(own) == 2
    assert (
        own[0]["Subject"]
        .strip()
        .startswith("Your membership of Working Group on Wellbeing ends on")
    )
    assert mail.to("chair@example.org")[0]["Subject"].strip().startswith("Member One's membership")


async def test_a_term_followed_by_another_is_not_an_ending(clock, people: People):
    ends = START.date() + 40 * DAY
    await Membership.update({Membership.ends_on: ends}).where(
        (Membership.user == people.member2) & (Membership.group == people.group_id)
    )
    await make_membership(people.member2, people.group_id, "secretary", ends + DAY)
    assert await sweep() == []


# --- catching up --------------------------------------------------------------------------


async def test_a_sweep_after_downtime_sends_what_fell_due_meanwhile_once(clock, people: People):
    """No sweep ran on the due date: the next one, two days later, still sends it."""
    due = START.date() + DAY
    action = await make_action(people.group_id, [people.member], due)
    clock.move_to(_days_from_start(3))
    keys = await sweep(times=3)
    assert keys == [f"reminder:action:{action}:overdue:2026-W45:user:{people.member}"]
    assert await sweep() == []


async def test_no_reminder_to_a_deactivated_account(clock, people: People):
    await User.update({User.is_active: False}).where(User.id == people.chair)
    await make_action(people.group_id, [people.chair], START.date())
    assert await sweep() == []


async def test_papers_added_after_the_notice_are_listed_in_the_next_reminder(
    clock, people: People, mail: Mail
):
    from governance.core.tables import OutboundEmail
    from governance.documents.schemas import NewDocuments
    from governance.documents.services import add_documents
    from governance.meetings.services import send_meeting_notice
    from tests.factories import viewer_for
    from tests.search.world import TextUpload

    starts = START + dt.timedelta(days=5, hours=9)
    meeting = await make_meeting(people.group_id, starts, title="November meeting")
    board_item = await add_item(meeting, "Complaint about the Director", "board")
    chair = await viewer_for(people.chair)
    await add_documents(
        "meeting", meeting, [TextUpload("early.txt")], NewDocuments(title="Early paper"), chair
    )
    await send_meeting_notice(meeting, chair)
    # A member whose notice is not in the outbox was never sent the papers: nothing is
    # "later" for them, and their reminder lists no added papers.
    await OutboundEmail.delete().where(
        (OutboundEmail.template == "meeting_notice")
        & (OutboundEmail.recipient == "member2@example.org")
    )
    clock.shift(dt.timedelta(hours=1))
    await add_documents(
        "meeting", meeting, [TextUpload("late.txt")], NewDocuments(title="Late paper"), chair
    )
    await add_documents(
        "meeting",
        meeting,
        [TextUpload("late-board.txt")],
        NewDocuments(title="Late Board paper", visibility="board", agenda_item_id=board_item),
        chair,
    )

    clock.move_to(starts - dt.timedelta(hours=47))
    keys = await sweep(times=2)
    assert len([key for key in keys if key.startswith(f"reminder:meeting:{meeting}:")]) == 4
    await mail.deliver()
    text = mail.everything(mail.to("member@example.org")[-1])
    added = text.split("Papers added since the notice or the papers were sent:")[1]
    added = added.split("The meeting pack")[0]
    assert "Late paper" in added and "Late Board paper" in added
    assert "Early paper" not in added
    assert f"/meetings/{meeting}/pack" in text
    untold = mail.everything(mail.to("member2@example.org")[-1])
    assert "Papers added since" not in untold
