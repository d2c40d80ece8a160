"""One bad row never stops a scheduled job: the item is logged, counted and skipped, and
every other reminder is still queued (issue 11, item 1)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from icalendar import Calendar

from governance.core.tables import OutboundEmail
from governance.meetings.tables import Meeting
from governance.notifications import reminders
from governance.notifications.reminders import run_reminder_sweep
from governance.scheduler import GovernanceScheduler
from tests.notifications.conftest import START, Mail, People, make_action, make_meeting

DAY = dt.timedelta(days=1)


async def _meetings_with_a_bad_title(people: People) -> tuple[int, int]:
    """Two meetings in their reminder window; the first's title holds a line break, written
    straight into the database as a row from before the forms refused it would be."""
    bad = await make_meeting(people.group_id, START + DAY, title="Budget")
    good = await make_meeting(people.group_id, START + DAY, title="Workload")
    await Meeting.update({Meeting.title: "Budget\r\nand\x0bmore"}).where(Meeting.id == bad)
    return bad, good


async def test_a_line_break_in_a_title_still_gives_every_reminder_with_a_calendar(
    clock, people: People, mail: Mail
):
    bad, good = await _meetings_with_a_bad_title(people)
    action = await make_action(people.group_id, [people.member], START.date() + DAY)

    report = await run_reminder_sweep()

    assert report.failed == 0
    keys = [row["dedupe_key"] for row in await OutboundEmail.select(OutboundEmail.dedupe_key)]
    assert sum(f"meeting:{bad}:" in key for key in keys) == 4
    assert sum(f"meeting:{good}:" in key for key in keys) == 4
    assert any(f"action:{action}:" in key for key in keys)
    delivered = await mail.deliver()
    assert delivered.sent == 9 and delivered.failed == 0
    [message] = [m for m in mail.to("member@example.org") if "Budget" in str(m["Subject"])]
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    event = Calendar.from_ical(part.get_content()).walk("VEVENT")[0]
    assert str(event["summary"]) == "Working Group on Wellbeing: Budget  and more"


async def test_a_meeting_that_breaks_the_sweep_is_skipped_counted_and_logged(
    clock, people: People, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    bad, good = await _meetings_with_a_bad_title(people)
    action = await make_action(people.group_id, [people.member], START.date() + DAY)
    real_build = reminders.build_calendar

    def build_as_before_the_fix(name: str, meetings, titles) -> bytes:
        # Today's fault, as it was: the raw title in X-WR-CALNAME makes icalendar raise.
        if "\n" in name:
            calendar = Calendar()
            calendar.add("x-wr-calname", name)
            return bytes(calendar.to_ical())
        return real_build(name, meetings, titles)

    monkeypatch.setattr(reminders, "build_calendar", build_as_before_the_fix)
    scheduler = GovernanceScheduler(holder="isolation")
    assert await scheduler.lease.acquire()
    with caplog.at_level(logging.INFO):
        report = await scheduler.run_job("reminders")

    assert report.failed == 1
    assert report.failed_items == [f"meeting {bad}"]
    assert "1 failed" in str(report)
    keys = [row["dedupe_key"] for row in await OutboundEmail.select(OutboundEmail.dedupe_key)]
    assert not any(f"meeting:{bad}:" in key for key in keys)
    assert sum(f"meeting:{good}:" in key for key in keys) == 4
    assert any(f"action:{action}:" in key for key in keys)
    assert f"Skipped meeting {bad}" in caplog.text
    assert any(
        r.levelno == logging.WARNING and "1 failed" in r.getMessage() for r in caplog.records
    )

    # The next sweep tries the bad meeting again and skips it again; nothing else repeats.
    again = await run_reminder_sweep()
    assert again.failed == 1 and again.queued == 0
