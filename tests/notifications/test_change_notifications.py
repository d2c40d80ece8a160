"""Change notifications: each queued once per event and person, in the change's own
transaction, honouring the person's email choices, and never carrying what its reader may
not read. Delivered through a real SMTP server on loopback."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from governance.accounts.tables import User
from governance.actions import services as actions
from governance.actions.schemas import NewAction, Reassignment
from governance.core.audit import SYSTEM
from governance.core.clock import organisation_today
from governance.core.email import render_email
from governance.core.errors import InvalidInput
from governance.core.tables import OutboundEmail
from governance.groups import services as groups
from governance.groups.schemas import MembershipTerm, NewMembership
from governance.meetings import services as meetings
from governance.meetings.schemas import Approval, Cancellation, MeetingDetails
from governance.meetings.tables import Meeting
from governance.notifications.schemas import CATEGORIES, Category
from tests.factories import make_meeting, viewer_for
from tests.helpers import found, html_part, text_part
from tests.notifications.conftest import START, Mail, People, add_item, queued

SECRET = "Concerns about the Director's conduct"


async def rows(template: str) -> list[dict]:
    return await OutboundEmail.select().where(OutboundEmail.template == template)


async def recipients(template: str) -> list[str]:
    return sorted(row["recipient"] for row in await rows(template))


async def mute(user_id: int, *categories: str) -> None:
    await User.update({User.notification_categories: list(categories)}).where(User.id == user_id)


MEMBERS = sorted(
    ["chair@example.org", "secretary@example.org", "member@example.org", "member2@example.org"]
)


def details(starts_at: dt.datetime, location: str = "Room 1") -> MeetingDetails:
    return MeetingDetails(
        title="Monthly meeting",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        location=location,
    )


def test_every_change_notification_has_a_category_of_its_own():
    for category in (
        Category.MEETING_CHANGES,
        Category.ACTION_CHANGES,
        Category.MEMBERSHIP_CHANGES,
        Category.MINUTES_CHANGES,
        Category.REPORT_RESPONSES,
    ):
        assert category in CATEGORIES


async def test_a_meeting_scheduled_moved_and_cancelled_tells_current_members_once_each(
    people: People, mail: Mail
):
    await User.update({User.timezone: "America/New_York"}).where(User.id == people.member)
    chair = await viewer_for(people.chair)
    starts = START + dt.timedelta(days=10)
    meeting_id = await make_meeting(people.slug, people.chair, starts_at=starts, announce=True)
    # Current members only: not the former member, the Director, the Board or outsiders.
    assert await recipients("meeting_scheduled") == MEMBERS

    moved = starts + dt.timedelta(days=1, hours=2)
    for _ in range(2):  # the same change twice tells once
        await meetings.update_meeting(meeting_id, details(moved), chair)
    assert await recipients("meeting_changed") == MEMBERS

    await meetings.cancel_meeting(meeting_id, Cancellation(reason="The venue is closed"), chair)
    assert await recipients("meeting_cancelled") == MEMBERS

    await mail.deliver()
    to_member = mail.to("member@example.org")
    subjects = sorted(str(m["Subject"]) for m in to_member)
    assert subjects == [
        "Meeting cancelled: Monthly meeting (Working Group on Wellbeing)",
        "Meeting changed: Monthly meeting (Working Group on Wellbeing)",
        "Meeting scheduled: Monthly meeting (Working Group on Wellbeing)",
    ]
    changed = next(m for m in to_member if "changed" in str(m["Subject"]))
    # The old and the new time, in the reader's own zone (New York: UTC-5 in November), each
    # a range with its zone once, at the end, as pages write it (time_range).
    body = text_part(changed).replace("\r\n", "\n")
    assert "It was: 12 Nov 2026, 04:00 \u2013 06:00 (America/New_York)\n" in body
    assert "It is now: 13 Nov 2026, 06:00 \u2013 08:00 (America/New_York)\n" in body
    assert "When:   13 Nov 2026, 06:00 \u2013 08:00 (America/New_York)\n" in body
    assert body.count("America/New_York") == 3
    html = html_part(changed)
    assert "It was: 12 Nov 2026, 04:00 \u2013 06:00 (America/New_York)<br>" in html
    assert "<strong>13 Nov 2026, 06:00 \u2013 08:00 (America/New_York)</strong>" in html
    cancelled = next(m for m in to_member if "cancelled" in str(m["Subject"]))
    assert "The venue is closed" in Mail.everything(cancelled)
    # Each carries its category's one-click unsubscribe.
    assert all(m["List-Unsubscribe"] for m in to_member)


async def test_a_change_queued_before_the_ranges_still_renders(people: People):
    """The outbox keeps each email's context: one queued before the time ranges carried
    each end with its zone (`old_starts`, `old_ends`, and `starts`, `ends` below)."""
    chair = await viewer_for(people.chair)
    starts = START + dt.timedelta(days=10)
    meeting_id = await make_meeting(people.slug, people.chair, starts_at=starts, announce=True)
    await meetings.update_meeting(meeting_id, details(starts + dt.timedelta(hours=3)), chair)
    row = found(
        await OutboundEmail.select(OutboundEmail.context)
        .where(OutboundEmail.template == "meeting_changed")
        .first()
    )
    context = row["context"] if isinstance(row["context"], dict) else json.loads(row["context"])
    assert {"when", "old_when"} <= context.keys()
    earlier = {key: value for key, value in context.items() if key not in ("when", "old_when")}
    earlier |= {
        "old_starts": "12 Nov 2026, 09:00 (UTC)",
        "old_ends": "12 Nov 2026, 11:00 (UTC)",
        "starts": "12 Nov 2026, 12:00 (UTC)",
        "ends": "12 Nov 2026, 14:00 (UTC)",
    }
    rendered = render_email("meeting_changed", earlier)
    assert "It was: 12 Nov 2026, 09:00 (UTC) to 12 Nov 2026, 11:00 (UTC)" in rendered.text
    assert "It is now: 12 Nov 2026, 12:00 (UTC) to 12 Nov 2026, 14:00 (UTC)" in rendered.text
    assert "Starts: 12 Nov 2026, 12:00 (UTC)" in rendered.text
    assert "It was: 12 Nov 2026, 09:00 (UTC) to 12 Nov 2026, 11:00 (UTC)" in rendered.html
    assert "Ends: 12 Nov 2026, 14:00 (UTC)" in rendered.html


async def test_saving_a_meeting_unchanged_tells_no_one_and_keeps_its_sequence(people: People):
    chair = await viewer_for(people.chair)
    starts = START + dt.timedelta(days=10)
    meeting_id = await make_meeting(people.slug, people.chair, starts_at=starts)
    await meetings.update_meeting(meeting_id, details(starts), chair)
    assert await rows("meeting_changed") == []
    sequence = await Meeting.select(Meeting.calendar_sequence).where(Meeting.id == meeting_id)
    assert sequence[0]["calendar_sequence"] == 0


async def test_a_muted_category_is_not_sent_and_others_still_are(people: People):
    await mute(people.member, Category.MEETING_CHANGES)
    await make_meeting(
        people.slug, people.chair, starts_at=START + dt.timedelta(days=9), announce=True
    )
    assert "member@example.org" not in await recipients("meeting_scheduled")
    assert "member2@example.org" in await recipients("meeting_scheduled")


async def test_actions_assigned_reassigned_and_due_date_moved(people: People):
    chair = await viewer_for(people.chair)
    due = organisation_today() + dt.timedelta(days=20)
    action_id = await actions.create_action(
        people.group_id,
        NewAction(title="Draft the survey", due_on=due, owner_ids=[people.member]),
        chair,
    )
    assert await recipients("action_assigned") == ["member@example.org"]

    later = due + dt.timedelta(days=7)
    change = Reassignment(owner_ids=[people.member2], due_on=later)
    await actions.change_owners_and_due(action_id, change, chair)
    with pytest.raises(InvalidInput):  # the same change again changes nothing: refused
        await actions.change_owners_and_due(action_id, change, chair)
    assert await recipients("action_assigned") == ["member2@example.org", "member@example.org"]
    assert await recipients("action_unassigned") == ["member@example.org"]
    # The new owner learns the date with the assignment, not twice.
    assert await recipients("action_due_changed") == []

    await actions.change_owners_and_due(
        action_id,
        Reassignment(owner_ids=[people.member2], due_on=later + dt.timedelta(days=1)),
        chair,
    )
    assert await recipients("action_due_changed") == ["member2@example.org"]
    due_email = (await rows("action_due_changed"))[0]
    assert due_email["visibility"] == "internal" and due_email["group_id"] == people.group_id


async def test_membership_added_and_changed_told_to_the_member_once(people: People):
    newcomer_id = await User.insert(
        User(
            email="newcomer@example.org",
            display_name="New Comer",
            password_hash="x",
            created_at=START,
        )
    ).returning(User.id)
    newcomer = newcomer_id[0]["id"]
    today = organisation_today()
    membership_id = await groups.add_membership(
        people.group_id,
        NewMembership(email="newcomer@example.org", role="member", starts_on=today),
        SYSTEM,
    )
    assert await recipients("membership_added") == ["newcomer@example.org"]
    term = MembershipTerm(role="secretary", starts_on=today, ends_on=today + dt.timedelta(days=365))
    admin = dataclasses.replace((await viewer_for(people.chair)).user, is_admin=True)
    for _ in range(2):
        await groups.update_membership(membership_id, term, admin)
    changed = await rows("membership_changed")
    assert [row["recipient"] for row in changed] == ["newcomer@example.org"]
    assert '"role": "secretary"' in str(changed[0]["context"]).replace("'", '"')
    assert newcomer


async def test_minutes_circulated_to_members_and_approved_to_members(people: People, clock):
    chair = await viewer_for(people.chair)
    starts = START + dt.timedelta(hours=1)
    meeting_id = await make_meeting(people.slug, people.chair, starts_at=starts)
    clock.move_to(starts + dt.timedelta(hours=3))
    await meetings.mark_meeting_held(meeting_id, chair)
    await meetings.circulate_minutes(meeting_id, chair)
    assert await recipients("minutes_circulated") == MEMBERS
    await meetings.approve_minutes(meeting_id, Approval(method="circulation"), chair)
    assert await recipients("minutes_approved") == MEMBERS


async def test_no_email_ever_carries_a_board_only_title_to_the_director(
    people: People, mail: Mail, clock
):
    """Every notification of a meeting with a Board-only item, and of a Board-only action:
    the Director is no reader of either, and no row or message for them holds the title."""
    chair = await viewer_for(people.chair)
    starts = START + dt.timedelta(days=5)
    meeting_id = await make_meeting(people.slug, people.chair, starts_at=starts, announce=True)
    await add_item(meeting_id, SECRET, "board")
    await add_item(meeting_id, "Budget", "internal")
    await meetings.send_meeting_notice(meeting_id, chair)
    await meetings.update_meeting(meeting_id, details(starts + dt.timedelta(hours=1)), chair)
    action_id = await actions.create_action(
        people.group_id,
        NewAction(
            title=SECRET,
            due_on=organisation_today() + dt.timedelta(days=9),
            owner_ids=[people.member],
            visibility="board",
        ),
        chair,
    )
    await actions.change_owners_and_due(
        action_id,
        Reassignment(
            owner_ids=[people.member2], due_on=organisation_today() + dt.timedelta(days=10)
        ),
        chair,
    )
    await meetings.cancel_meeting(meeting_id, Cancellation(reason="Postponed"), chair)

    everything = await queued()
    assert any(SECRET in str(row["context"]) for row in everything)  # members read it
    for row in everything:
        if row["recipient"] == "director@example.org":
            assert SECRET not in str(row["context"])
        if SECRET in str(row["context"]):
            assert row["visibility"] == "board"
    await mail.deliver()
    assert all(SECRET not in Mail.everything(m) for m in mail.to("director@example.org"))
    assert any(SECRET in Mail.everything(m) for m in mail.to("member@example.org"))
