"""Demo accounts and memberships for `governance init --demo`. Safe to run twice."""

from __future__ import annotations

import datetime as dt
import itertools

from governance.accounts.policy import CurrentUser, Viewer
from governance.accounts.services import RoleChoice, create_user
from governance.accounts.tables import User
from governance.core.audit import SYSTEM
from governance.core.clock import utcnow
from governance.core.db import write_transaction
from governance.groups.services import (
    MembershipFields,
    add_membership,
    get_group,
    load_viewer,
    organisation_date,
)
from governance.meetings import services as meetings
from governance.meetings.tables import Meeting

DEMO_PASSWORD = "governance-demo"  # noqa: S105 - documented demo password, demo data only

DEMO_ACCOUNTS = (
    ("admin@example.org", "Ada Lindqvist", RoleChoice(is_admin=True)),
    ("director@example.org", "Dana Mensah", RoleChoice(is_director=True)),
    ("board@example.org", "Bao Tran", RoleChoice(is_board=True)),
    ("board2@example.org", "Beatriz Silva", RoleChoice(is_board=True)),
    ("chair.wellbeing@example.org", "Wren Okafor", RoleChoice()),
    ("member.wellbeing@example.org", "Milo Haddad", RoleChoice()),
    ("chair.ndi@example.org", "Nia Castillo", RoleChoice()),
    ("member.ndi@example.org", "Noor Rahman", RoleChoice()),
)

DEMO_MEMBERSHIPS = (
    ("wellbeing", "chair.wellbeing@example.org", "chair"),
    ("wellbeing", "member.wellbeing@example.org", "member"),
    ("ndi", "chair.ndi@example.org", "chair"),
    ("ndi", "member.ndi@example.org", "member"),
)


async def seed_demo() -> int:
    """Creates whatever demo accounts, memberships and activity are missing.

    Returns how many accounts it created. One transaction: a demo is all there or not at all,
    and a single commit is much quicker than one per record.
    """
    async with write_transaction():
        return await _seed_demo()


async def _seed_demo() -> int:
    created = 0
    for email, name, roles in DEMO_ACCOUNTS:
        if not await User.exists().where(User.email == email):
            await create_user(email, name, roles, DEMO_PASSWORD, SYSTEM)
            created += 1
    if created:
        starts_on = organisation_date() - dt.timedelta(days=365)
        for slug, email, role in DEMO_MEMBERSHIPS:
            group = await get_group(slug)
            await add_membership(
                group["id"], email, MembershipFields(role, starts_on, None), SYSTEM
            )
    for slug, chair_email, member_email in (
        ("wellbeing", "chair.wellbeing@example.org", "member.wellbeing@example.org"),
        ("ndi", "chair.ndi@example.org", "member.ndi@example.org"),
    ):
        await seed_demo_meetings(slug, chair_email, member_email)
    return created


DEMO_TOPICS = {
    "wellbeing": [
        ("Staff wellbeing survey results", "public"),
        ("Workload in the research team", "internal"),
        ("Concerns about senior management conduct", "board"),
        ("Support for a colleague after a field mission", "group"),
    ],
    "ndi": [
        ("Inclusive recruitment guidance", "public"),
        ("Accessibility of the office move", "internal"),
        ("Pay-gap analysis raised with the Board", "board"),
        ("Personal circumstances of a staff member", "group"),
    ],
}


async def _viewer_by_email(email: str) -> Viewer:
    row = await User.select().where(User.email == email).first()
    return await load_viewer(CurrentUser.from_row(row))


async def seed_demo_meetings(slug: str, chair_email: str, member_email: str) -> None:
    """A year of monthly meetings: minutes at every stage, decisions, every visibility."""
    group = await get_group(slug)
    if await Meeting.exists().where(Meeting.group == group["id"]):
        return
    chair = await _viewer_by_email(chair_email)
    member = await _viewer_by_email(member_email)
    first = (utcnow() - dt.timedelta(days=365)).replace(hour=10, minute=0, second=0, microsecond=0)
    held: list[int] = []
    for month in range(13):
        starts_at = first + dt.timedelta(days=28 * month)
        fields = meetings.MeetingFields(
            f"Monthly meeting {starts_at:%B %Y}",
            starts_at,
            starts_at + dt.timedelta(hours=2),
            "Meeting room 2 / video link",
        )
        meeting_id = await meetings.schedule_meeting(slug, fields, chair)
        item_ids = [
            await meetings.add_agenda_item(
                meeting_id,
                meetings.AgendaItemFields(title, visibility, f"Papers for *{title.lower()}*."),
                chair,
            )
            for title, visibility in DEMO_TOPICS[slug]
        ]
        if month == 5:
            await meetings.cancel_meeting(meeting_id, "Too few members available", chair)
            continue
        await meetings.mark_meeting_held(meeting_id, chair)
        await meetings.record_attendance(
            meeting_id,
            [
                meetings.AttendanceEntry(chair.user.id, "present"),
                meetings.AttendanceEntry(member.user.id, "remote" if month % 3 else "apologies"),
            ],
            ["Guest speaker"] if month % 4 == 0 else [],
            chair,
        )
        await meetings.save_minutes(
            meeting_id,
            "The meeting opened on time.",
            {
                item_id: f"Discussion recorded for item {n + 1}."
                for n, item_id in enumerate(item_ids)
            },
            chair,
        )
        await meetings.record_decision(
            meeting_id,
            meetings.DecisionFields(
                item_ids[month % 4], "Agreed to follow up before the next meeting.", 2, 0, 0
            ),
            chair,
        )
        held.append(meeting_id)
    # Older minutes are approved at the following meeting; the last two are still moving:
    # one circulated for comment, the most recent still in draft.
    for earlier, later in itertools.pairwise(held[:-1]):
        await meetings.circulate_minutes(earlier, chair)
        await meetings.approve_minutes(earlier, "meeting", later, chair)
    await meetings.circulate_minutes(held[-2], chair)
    ahead = (utcnow() + dt.timedelta(days=10)).replace(hour=10, minute=0, second=0, microsecond=0)
    upcoming = meetings.MeetingFields(
        "Next monthly meeting", ahead, ahead + dt.timedelta(hours=2), "Meeting room 2"
    )
    meeting_id = await meetings.schedule_meeting(slug, upcoming, chair)
    await meetings.add_agenda_item(
        meeting_id, meetings.AgendaItemFields("Review of actions", "internal", ""), chair
    )
