"""Digests: at 07:00 in each user's own time zone, once per period, never empty."""

from __future__ import annotations

import datetime as dt

from governance.accounts.tables import User
from governance.notifications.digests import due_days, run_digests
from governance.notifications.tables import DigestRecord
from tests.factories import make_membership, make_user
from tests.notifications.conftest import (
    START,
    Mail,
    People,
    add_decision,
    add_item,
    attend,
    make_action,
    make_delivered_report,
    make_meeting,
    queued,
)

HOUR = dt.timedelta(hours=1)
# START is Monday 2 November 2026, 09:00 UTC.
MONDAY = START.date()


def at_utc(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """`hour` may run past 23 into the following days."""
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return midnight + dt.timedelta(hours=hour, minutes=minute)


async def digest_keys() -> list[str]:
    return [row["dedupe_key"] for row in await queued() if row["template"] == "digest"]


async def set_digest(user_id: int, frequency: str, timezone: str, weekday: str = "monday") -> None:
    await User.update(
        {User.digest_frequency: frequency, User.timezone: timezone, User.digest_weekday: weekday}
    ).where(User.id == user_id)


async def hourly_ticks(clock, first: dt.datetime, hours: int) -> dict[dt.datetime, list[str]]:
    """Runs the digest job on the hour (twice each time) for `hours` hours; returns the keys
    each tick queued."""
    found = {}
    for step in range(hours):
        moment = first + step * HOUR
        clock.move_to(moment)
        before = set(await digest_keys())
        await run_digests()
        await run_digests()
        found[moment] = [key for key in await digest_keys() if key not in before]
    return found


def test_due_days_groups_zones_whose_local_time_is_seven_or_later():
    now = at_utc(MONDAY, 7, 0)  # 07:00 London, 02:00 New York, 16:00 Tokyo
    days = due_days(now, ["Europe/London", "America/New_York", "Asia/Tokyo", "Asia/Kolkata"])
    assert days == {MONDAY: ["Europe/London", "Asia/Tokyo", "Asia/Kolkata"]}
    assert due_days(at_utc(MONDAY, 6, 59), ["Europe/London"]) == {}
    # Just after midnight in Tokyo it is a new day there, and before 07:00.
    assert due_days(at_utc(MONDAY, 16, 0), ["Asia/Tokyo"]) == {}


async def test_digest_arrives_at_seven_local_time_in_two_time_zones_once_a_day(
    clock, people: People, mail: Mail
):
    await set_digest(people.member, "daily", "Europe/London")
    await set_digest(people.member2, "daily", "America/New_York")
    await make_action(people.group_id, [people.member, people.member2], MONDAY + dt.timedelta(30))

    # From midnight in New York (05:00 UTC): on Sunday evening there, its 07:00 had passed.
    ticks = await hourly_ticks(clock, at_utc(MONDAY, 5), 48)

    fired = {moment: keys for moment, keys in ticks.items() if keys}
    assert fired == {
        at_utc(MONDAY, 7): [f"digest:user:{people.member}:2026-11-02"],
        at_utc(MONDAY, 12): [f"digest:user:{people.member2}:2026-11-02"],  # 07:00 in New York
        at_utc(MONDAY, 31): [f"digest:user:{people.member}:2026-11-03"],
        at_utc(MONDAY, 36): [f"digest:user:{people.member2}:2026-11-03"],
    }

    await mail.deliver()
    assert len(mail.to("member@example.org")) == 2
    # The outbox sends a batch in no particular order.
    message = min(mail.to("member2@example.org"), key=lambda m: str(m["Subject"]))
    assert message["Subject"] == "Your daily governance digest, 2 Nov 2026"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Write the wellbeing policy" in mail.everything(message)


async def test_weekly_digest_comes_on_the_chosen_weekday_only(clock, people: People):
    await set_digest(people.member, "weekly", "Asia/Tokyo", weekday="wednesday")
    await make_action(people.group_id, [people.member], MONDAY + dt.timedelta(30))
    ticks = await hourly_ticks(clock, at_utc(MONDAY, 0), 24 * 9)
    fired = {moment: keys for moment, keys in ticks.items() if keys}
    # 07:00 on Wednesday in Tokyo is 22:00 on Tuesday in UTC; then a week later.
    assert fired == {
        at_utc(MONDAY, 24 + 22): [f"digest:user:{people.member}:2026-11-04"],
        at_utc(MONDAY, 8 * 24 + 22): [f"digest:user:{people.member}:2026-11-11"],
    }


async def test_nothing_to_say_means_no_digest(clock, people: People):
    await set_digest(people.stranger, "daily", "Europe/London")
    clock.move_to(at_utc(MONDAY, 7, 5))
    report = await run_digests()
    assert (report.users_processed, report.digests_queued, report.nothing_to_say) == (1, 0, 1)
    assert await digest_keys() == []
    # Looked at for today: a later tick the same day does not look again.
    clock.move_to(at_utc(MONDAY, 15))
    assert (await run_digests()).users_processed == 0


async def test_a_tick_after_seven_catches_up_on_a_missed_digest(clock, people: People):
    await set_digest(people.member, "daily", "Europe/London")
    await make_action(people.group_id, [people.member], MONDAY + dt.timedelta(30))
    clock.move_to(at_utc(MONDAY, 16, 30))  # the scheduler was down from 06:00 to 16:30
    await run_digests()
    assert await digest_keys() == [f"digest:user:{people.member}:2026-11-02"]
    clock.move_to(at_utc(MONDAY, 17))
    await run_digests()
    assert len(await digest_keys()) == 1


async def test_digest_sections_newest_first_with_links(clock, people: People, mail: Mail):
    await set_digest(people.chair, "daily", "Europe/London")
    await set_digest(people.director, "daily", "Europe/London")
    await set_digest(people.board, "daily", "Europe/London")
    await attend(
        await make_meeting(
            people.group_id,
            START - dt.timedelta(days=2),
            title="October meeting",
            status="held",
            minutes_status="circulated",
            circulated_at=START - dt.timedelta(days=1),
        ),
        people.chair,
    )
    await make_meeting(people.group_id, START + dt.timedelta(days=3), title="Next meeting")
    await make_action(people.group_id, [people.chair], MONDAY - dt.timedelta(3), title="Late one")
    await make_action(people.group_id, [people.chair], MONDAY + dt.timedelta(9), title="Soon one")
    held = await make_meeting(people.group_id, START - dt.timedelta(hours=5), status="held")
    await add_decision(held, await add_item(held, "Budget"), "Adopt the budget.", people.chair)
    clock.move_to(START - dt.timedelta(hours=3))
    await make_delivered_report(
        people.group_id,
        people.chair,
        title="Older report",
        response_due_on=MONDAY + dt.timedelta(days=5),
    )
    clock.move_to(START - dt.timedelta(hours=2))
    await make_delivered_report(
        people.group_id,
        people.chair,
        title="Late reply wanted",
        response_due_on=MONDAY - dt.timedelta(days=1),
    )

    clock.move_to(at_utc(MONDAY + dt.timedelta(1), 7, 10))
    await run_digests()
    await mail.deliver()

    chair = mail.everything(mail.to("chair@example.org")[0])
    assert chair.index("[past due] Late one") < chair.index("Soon one")
    assert "MEETINGS AHEAD" in chair and "Next meeting" in chair
    assert "MINUTES TO REVIEW" in chair and "October meeting" in chair
    assert "DECISIONS SINCE YOUR LAST DIGEST" in chair and "Adopt the budget." in chair
    assert "http://testserver/actions/" in chair and "http://testserver/meetings/" in chair

    director = mail.everything(mail.to("director@example.org")[0])
    assert "AWAITING YOUR RESPONSE" in director
    assert director.index("Late reply wanted") < director.index("Older report")
    assert "AWAITING MANAGEMENT RESPONSE" not in director

    board = mail.everything(mail.to("board@example.org")[0])
    management = board[board.index("AWAITING MANAGEMENT RESPONSE") :].split("\n\n")[0]
    assert "Late reply wanted" in management
    assert "Older report" not in management  # not yet past its due date


async def test_decisions_are_those_since_the_last_digest(clock, people: People, mail: Mail):
    await set_digest(people.member, "daily", "Europe/London")
    held = await make_meeting(people.group_id, START - dt.timedelta(hours=30), status="held")
    item = await add_item(held, "Budget")
    clock.move_to(START - dt.timedelta(hours=12))
    await add_decision(held, item, "First decision.", people.chair)
    clock.move_to(at_utc(MONDAY, 7, 5))
    await run_digests()
    clock.move_to(at_utc(MONDAY, 12))
    await add_decision(held, item, "Second decision.", people.chair)
    clock.move_to(at_utc(MONDAY + dt.timedelta(1), 7, 5))
    await run_digests()
    await mail.deliver()
    first, second = (
        mail.everything(m)
        for m in sorted(mail.to("member@example.org"), key=lambda m: m["Subject"])
    )
    assert "First decision." in first and "Second decision." not in first
    assert "Second decision." in second and "First decision." not in second


async def test_users_are_read_in_batches_with_a_fixed_number_of_queries(clock, count_queries):
    """Every member has a meeting ahead; 3 users, then 33, cost the same queries."""
    await make_group_with_members(3)
    clock.move_to(at_utc(MONDAY, 8))
    with count_queries() as counter:
        small_report = await run_digests(batch_size=500)
    small = counter.count
    await DigestRecord.delete(force=True)
    await make_group_with_members(30)
    with count_queries() as counter:
        large_report = await run_digests(batch_size=500)
    large = counter.count
    assert (small_report.users_processed, large_report.users_processed) == (3, 33)
    assert large == small

    await DigestRecord.delete(force=True)
    await User.update({User.digest_frequency: "weekly", User.digest_weekday: "tuesday"}).where(
        User.id > 0
    )
    clock.move_to(at_utc(MONDAY + dt.timedelta(1), 8))
    report = await run_digests(batch_size=5)
    assert (report.users_processed, report.batches, report.digests_queued) == (33, 7, 33)


async def make_group_with_members(count: int) -> list[int]:
    from tests.factories import make_group

    group = await make_group()
    users = []
    for _ in range(count):
        user = await make_user()
        await make_membership(user, group, "member", MONDAY - dt.timedelta(days=10))
        users.append(user)
    await User.update({User.digest_frequency: "daily"}).where(User.id.is_in(users))
    await make_meeting(group, START + dt.timedelta(days=2), title="Upcoming")
    return [group, *users]
