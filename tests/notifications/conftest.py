"""People and records for the notification tests, a clock to move, and the outbox delivery
job pointed at a real SMTP server on loopback."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine

from governance.accounts.tables import User
from governance.actions.tables import ActionItem, ActionOwner
from governance.core.clock import organisation_today, utcnow
from governance.core.tables import OutboundEmail
from governance.groups.tables import ReportingLine
from governance.meetings.tables import AgendaItem, Attendance, Decision, Meeting, Minutes
from governance.notifications import jobs
from governance.notifications.reminders import run_reminder_sweep
from governance.reports.tables import Delivery, Report
from governance.settings import get_settings
from tests.factories import make_group, make_membership, make_user
from tests.helpers import SmtpSink, found, free_port, html_part, text_part

# A Monday; London keeps UTC in winter, so 09:00 UTC is 09:00 there.
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """Time stands still at START until the test moves it (move_to, shift)."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@dataclass
class People:
    group_id: int
    slug: str
    other_group_id: int
    chair: int
    secretary: int
    member: int
    member2: int
    former: int
    director: int
    board: int
    board2: int
    stranger: int
    other: int


@pytest.fixture
async def people(clock: time_machine.Traveller) -> People:
    """A group with chair, secretary, two members and a former member; a Director, two
    Board members, a stranger and a member of another group."""
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    other_group = await make_group(slug="ndi", name="Working Group on NDI")
    today = organisation_today()
    chair = await make_user("chair@example.org", "Chair Person")
    secretary = await make_user("secretary@example.org", "Secretary Person")
    member = await make_user("member@example.org", "Member One")
    member2 = await make_user("member2@example.org", "Member Two")
    former = await make_user("former@example.org", "Former Member")
    director = await make_user("director@example.org", "The Director", director=True)
    board = await make_user("board@example.org", "Board Member", board=True)
    board2 = await make_user("board2@example.org", "Second Board Member", board=True)
    stranger = await make_user("stranger@example.org", "Stranger")
    other = await make_user("other@example.org", "Other Group Member")
    start = today - dt.timedelta(days=400)
    await make_membership(chair, group_id, "chair", start)
    await make_membership(secretary, group_id, "secretary", start)
    await make_membership(member, group_id, "member", start)
    await make_membership(member2, group_id, "member", start)
    await make_membership(former, group_id, "member", start, today - dt.timedelta(days=100))
    await make_membership(other, other_group, "member", start)
    # Quiet unless a test turns digests on.
    await User.update({User.digest_frequency: "off"}).where(User.id > 0)
    return People(
        group_id,
        "wellbeing",
        other_group,
        chair,
        secretary,
        member,
        member2,
        former,
        director,
        board,
        board2,
        stranger,
        other,
    )


# --- records, inserted directly -----------------------------------------------------------


async def make_action(
    group_id: int,
    owners: list[int],
    due_on: dt.date,
    *,
    title: str = "Write the wellbeing policy",
    visibility: str = "internal",
    status: str = "open",
    created_by: int | None = None,
) -> int:
    now = utcnow()
    rows = await ActionItem.insert(
        ActionItem(
            group=group_id,
            title=title,
            due_on=due_on,
            status=status,
            visibility=visibility,
            created_by=created_by or owners[0],
            created_at=now,
            updated_at=now,
        )
    ).returning(ActionItem.id)
    action_id = int(rows[0]["id"])
    for owner in owners:
        await ActionOwner.insert(ActionOwner(action=action_id, user=owner))
    return action_id


async def make_meeting(
    group_id: int,
    starts_at: dt.datetime,
    *,
    title: str = "Monthly meeting",
    status: str = "scheduled",
    minutes_status: str = "draft",
    circulated_at: dt.datetime | None = None,
) -> int:
    now = utcnow()
    rows = await Meeting.insert(
        Meeting(
            group=group_id,
            title=title,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=2),
            location="Room 1",
            status=status,
            created_at=now,
            updated_at=now,
        )
    ).returning(Meeting.id)
    meeting_id = int(rows[0]["id"])
    await Minutes.insert(
        Minutes(
            meeting=meeting_id, status=minutes_status, circulated_at=circulated_at, updated_at=now
        )
    )
    return meeting_id


async def add_item(meeting_id: int, title: str, visibility: str = "internal") -> int:
    position = await AgendaItem.count().where(AgendaItem.meeting == meeting_id) + 1
    rows = await AgendaItem.insert(
        AgendaItem(meeting=meeting_id, position=position, title=title, visibility=visibility)
    ).returning(AgendaItem.id)
    return int(rows[0]["id"])


async def add_decision(meeting_id: int, item_id: int, text: str, recorded_by: int) -> int:
    rows = await Decision.insert(
        Decision(
            meeting=meeting_id,
            agenda_item=item_id,
            text=text,
            votes_for=3,
            quorum_met=True,
            recorded_by=recorded_by,
            created_at=utcnow(),
        )
    ).returning(Decision.id)
    return int(rows[0]["id"])


async def attend(meeting_id: int, user_id: int, mode: str = "present") -> None:
    await Attendance.insert(Attendance(meeting=meeting_id, user=user_id, mode=mode))


async def make_delivered_report(
    group_id: int,
    author: int,
    *,
    title: str = "Recommendation on workload",
    visibility: str = "internal",
    lines: tuple[str, ...] = ("director", "board"),
    response_due_on: dt.date,
    kind: str = "recommendation",
    period: str = "",
    state: str = "delivered",
) -> tuple[int, dict[str, int]]:
    """A submitted report and one delivery per line; returns its id and the delivery ids."""
    now = utcnow()
    rows = await Report.insert(
        Report(
            group=group_id,
            kind=kind,
            period=period,
            title=title,
            body="The body.",
            visibility=visibility,
            to_director="director" in lines,
            to_board="board" in lines,
            status="submitted",
            created_by=author,
            created_at=now,
            updated_at=now,
            submitted_at=now,
            submitted_by=author,
            content_hash="0" * 64,
        )
    ).returning(Report.id)
    report_id = int(rows[0]["id"])
    deliveries = {}
    for recipient in lines:
        line = found(
            await ReportingLine.select(ReportingLine.id)
            .where((ReportingLine.group == group_id) & (ReportingLine.recipient == recipient))
            .first()
        )
        rows = await Delivery.insert(
            Delivery(
                report=report_id,
                line=line["id"],
                recipient=recipient,
                state=state,
                delivered_at=now,
                response_due_on=response_due_on,
            )
        ).returning(Delivery.id)
        deliveries[recipient] = int(rows[0]["id"])
    return report_id, deliveries


# --- the outbox ---------------------------------------------------------------------------


async def queued() -> list[dict[str, Any]]:
    return await OutboundEmail.select().order_by(OutboundEmail.id)


async def queued_keys() -> list[str]:
    return [row["dedupe_key"] for row in await queued()]


async def sweep(times: int = 1) -> list[str]:
    """Runs the reminder sweep `times` times; returns the keys it queued, oldest first."""
    before = set(await queued_keys())
    for _ in range(times):
        await run_reminder_sweep()
    return [key for key in await queued_keys() if key not in before]


def keys_for(keys: list[str], user_id: int) -> list[str]:
    return [key for key in keys if key.endswith(f":user:{user_id}")]


class Mail:
    """The delivery job, sending to a real SMTP server on loopback, or to a dead port."""

    def __init__(self, sink: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sink = sink
        self.monkeypatch = monkeypatch
        self.server_up()

    def _point_at(self, url: str) -> None:
        settings = dataclasses.replace(get_settings(), smtp_url=url)
        self.monkeypatch.setattr(jobs, "get_settings", lambda: settings)

    def server_up(self) -> None:
        self._point_at(self.sink.url)

    def server_down(self) -> None:
        # Nothing listens on a fresh free port: connections are refused.
        self._point_at(f"smtp://127.0.0.1:{free_port()}")

    async def deliver(self) -> jobs.DeliveryReport:
        return await jobs.deliver_outbox_job()

    @property
    def messages(self) -> list[EmailMessage]:
        return self.sink.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.sink.messages if str(m["To"]) == address]

    @staticmethod
    def everything(message: EmailMessage) -> str:
        """Every part of a message as text: headers, both bodies, attachments."""
        raw = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
        parts = [str(raw["Subject"]), text_part(message), html_part(message)]
        for part in raw.walk():
            if part.get_content_type() == "text/calendar":
                parts.append(part.get_content())
        return "\n".join(parts)


@pytest.fixture
def mail(smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mail]:
    yield Mail(smtp_sink, monkeypatch)
