"""A person's data: the export holds everything about them and nothing about anyone else;
erasure puts a pseudonym in their place everywhere except the frozen records the
organisation keeps, and is audited (issue 14)."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from governance.accounts.policy import CurrentUser
from governance.accounts.tables import User
from governance.actions.tables import ActionItem, ActionOwner, ActionUpdate
from governance.core.audit import SYSTEM, record_event, verify_chain
from governance.core.clock import organisation_today, utcnow
from governance.core.db import write_transaction
from governance.core.email import render_email
from governance.core.errors import InvalidInput
from governance.core.tables import AuditEvent, OutboundEmail
from governance.groups.tables import ReportingLine
from governance.meetings.tables import (
    AgendaItem,
    Attendance,
    ConflictOfInterest,
    Minutes,
    MinutesComment,
)
from governance.operations.queries import personal_data, personal_data_json
from governance.operations.services import erase_person
from governance.reports.services import content_hash
from governance.reports.tables import Delivery, Report
from tests.conftest import Cast
from tests.factories import make_meeting, make_membership, make_user
from tests.helpers import found, sign_in

REPO_ROOT = Path(__file__).resolve().parents[2]
SUBJECT_NAME = "Riley Quartermain"
SUBJECT_EMAIL = "riley.quartermain@example.org"
OTHERS = [
    "Chair Person",
    "chair@example.org",
    "Member Two",
    "member2@example.org",
    "The Director",
    "director@example.org",
]


@dataclass
class World:
    subject: int
    meeting: int
    minutes: int
    action: int
    submitted_report: int
    approved_item: int


def as_user(row: dict) -> CurrentUser:
    return CurrentUser.from_row(row)


async def _meeting_records(cast: Cast, subject: int) -> tuple[int, int, int]:
    meeting = await make_meeting(cast.slug, cast.chair, title="Wellbeing meeting")
    async with write_transaction():
        item = (
            await AgendaItem.insert(
                AgendaItem(
                    meeting=meeting,
                    position=1,
                    title="Workload",
                    minutes_text=f"{SUBJECT_NAME} presented the workload survey.",
                )
            ).returning(AgendaItem.id)
        )[0]["id"]
        for user, mode in ((subject, "present"), (cast.member2, "remote")):
            await Attendance.insert(Attendance(meeting=meeting, user=user, mode=mode))
        await ConflictOfInterest.insert(
            ConflictOfInterest(agenda_item=item, user=subject, description="Survey author")
        )
        await ConflictOfInterest.insert(
            ConflictOfInterest(agenda_item=item, user=cast.member2, description="Other interest")
        )
        await Minutes.update(
            {
                Minutes.status: "approved",
                Minutes.summary: f"Approved. {SUBJECT_NAME} thanked.",
                Minutes.approved_at: utcnow(),
                Minutes.approved_by: cast.chair,
            }
        ).where(Minutes.meeting == meeting)
        minutes = found(await Minutes.select(Minutes.id).where(Minutes.meeting == meeting).first())[
            "id"
        ]
        for author, body in ((subject, "My comment on the minutes"), (cast.member2, "Hers")):
            await MinutesComment.insert(
                MinutesComment(minutes=minutes, author=author, body=body, created_at=utcnow())
            )
    return meeting, minutes, item


async def _action_records(cast: Cast, subject: int) -> int:
    now = utcnow()
    async with write_transaction():
        action = (
            await ActionItem.insert(
                ActionItem(
                    group=cast.group_id,
                    title="Run the workload survey",
                    due_on=organisation_today() + dt.timedelta(days=10),
                    created_by=cast.chair,
                    created_at=now,
                    updated_at=now,
                )
            ).returning(ActionItem.id)
        )[0]["id"]
        await ActionOwner.insert(ActionOwner(action=action, user=subject))
        await ActionUpdate.insert(
            ActionUpdate(
                action=action, author=subject, body="Draft questions ready", created_at=now
            )
        )
        await ActionUpdate.insert(
            ActionUpdate(
                action=action, author=cast.member2, body="Member Two checked it", created_at=now
            )
        )
    return action


async def _report_records(cast: Cast, subject: int) -> int:
    now = utcnow()
    line = found(
        await ReportingLine.select(ReportingLine.id)
        .where((ReportingLine.group == cast.group_id) & (ReportingLine.recipient == "board"))
        .first()
    )
    async with write_transaction():
        fields: dict[str, Any] = {
            "group": cast.group_id,
            "kind": "recommendation",
            "period": "",
            "title": "Workload recommendation",
            "body": f"Prepared with {SUBJECT_NAME} ({SUBJECT_EMAIL}).",
            "visibility": "internal",
            "to_director": False,
            "to_board": True,
            "follows_up": None,
        }
        report = (
            await Report.insert(
                Report(
                    **fields,
                    status="submitted",
                    created_by=cast.chair,
                    created_at=now,
                    updated_at=now,
                    submitted_at=now,
                    submitted_by=cast.chair,
                    content_hash=content_hash(fields),
                )
            ).returning(Report.id)
        )[0]["id"]
        await Delivery.insert(
            Delivery(
                report=report,
                line=line["id"],
                recipient="board",
                state="responded",
                delivered_at=now,
                response_due_on=organisation_today(),
                responded_at=now,
                responded_by=subject,
                response="accepted",
                rationale="Agreed by the Board",
            )
        )
    return report


async def _emails_and_events(cast: Cast, subject: int) -> None:
    subject_row = found(await User.select().where(User.id == subject).first())
    chair_row = found(await User.select().where(User.id == cast.chair).first())
    async with write_transaction():
        for recipient, key, name in (
            (SUBJECT_EMAIL, "test:subject", SUBJECT_NAME),
            ("member2@example.org", "test:other", "Member Two"),
        ):
            await OutboundEmail.insert(
                OutboundEmail(
                    recipient=recipient,
                    template="invitation",
                    context={
                        "display_name": name,
                        "invited_by": SUBJECT_NAME,
                        "link": "http://x",
                        "valid_days": 7,
                    },
                    dedupe_key=key,
                    next_attempt_at=utcnow(),
                    created_at=utcnow(),
                )
            )
        await record_event(as_user(subject_row), "test.acted", "user", subject, "Did a thing")
        await record_event(
            as_user(subject_row), "test.acted", "user", subject, "Asked member2@example.org"
        )
        await record_event(
            as_user(chair_row), "test.acted", "user", subject, f"Invited {SUBJECT_EMAIL}"
        )


@pytest.fixture
async def world(cast: Cast) -> World:
    subject = await make_user(SUBJECT_EMAIL, SUBJECT_NAME, board=True)
    await make_membership(subject, cast.group_id, "member")
    meeting, minutes, item = await _meeting_records(cast, subject)
    action = await _action_records(cast, subject)
    report = await _report_records(cast, subject)
    await _emails_and_events(cast, subject)
    return World(subject, meeting, minutes, action, report, item)


async def test_the_export_holds_every_kind_of_record_and_nothing_about_anyone_else(world: World):
    data = await personal_data(world.subject)
    text = personal_data_json(data).decode()
    exported = json.loads(text)

    assert exported["account"]["email"] == SUBJECT_EMAIL
    assert "password_hash" not in exported["account"]
    assert [m["group"] for m in exported["memberships"]] == ["Working Group on Wellbeing"]
    assert exported["attendance"] == [
        {
            "group": "Working Group on Wellbeing",
            "meeting": "Wellbeing meeting",
            "starts_at": exported["attendance"][0]["starts_at"],
            "mode": "present",
        }
    ]
    assert [c["description"] for c in exported["conflicts_declared"]] == ["Survey author"]
    [action] = exported["actions_owned"]
    assert action["title"] == "Run the workload survey"
    assert [(u["written_by_you"], u["body"]) for u in action["updates"]] == [
        (True, "Draft questions ready"),
        (False, ""),
    ]
    assert [c["body"] for c in exported["minutes_comments"]] == ["My comment on the minutes"]
    assert [(r["response"], r["rationale"]) for r in exported["responses_given"]] == [
        ("accepted", "Agreed by the Board")
    ]
    assert [e["template"] for e in exported["emails_queued"]] == ["invitation"]
    summaries = [e["summary"] for e in exported["audit_events_as_actor"]]
    assert summaries == ["Did a thing", "Asked [another person]"]
    for other in OTHERS:
        assert other not in text, other


async def test_the_profile_offers_the_download_of_ones_own_data(
    world: World, client: httpx.AsyncClient
):
    await sign_in(client, world.subject)

    profile = await client.get("/profile/")
    download = await client.get("/profile/my-data")

    assert "Download my data" in profile.text
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.json()["account"]["email"] == SUBJECT_EMAIL
    assert download.json()["minutes_comments"][0]["body"] == "My comment on the minutes"


async def test_an_active_account_is_not_erased(world: World):
    with pytest.raises(InvalidInput, match="Deactivate the account first"):
        await erase_person(SUBJECT_EMAIL, SYSTEM)

    assert await User.exists().where(User.email == SUBJECT_EMAIL)


async def _deactivate(subject: int) -> None:
    async with write_transaction():
        await User.update({User.is_active: False}).where(User.id == subject)


async def _pages_after_erasure(client: httpx.AsyncClient, cast: Cast, world: World) -> list[str]:
    await sign_in(client, cast.chair)
    pages = [
        f"/actions/{world.action}",
        f"/meetings/{world.meeting}",
        f"/reports/{world.submitted_report}",
        f"/groups/{cast.slug}/actions",
        f"/api/v1/actions/{world.action}",
        f"/api/v1/meetings/{world.meeting}",
    ]
    answers = [await client.get(path) for path in pages]
    admin = await make_user("admin@example.org", "Admin", admin=True)
    await sign_in(client, admin)
    answers += [await client.get(path) for path in ("/admin/users/", "/audit/", "/admin/outbox/")]
    assert all(answer.status_code == 200 for answer in answers), [
        (answer.url, answer.status_code) for answer in answers
    ]
    return [answer.text for answer in answers]


async def test_after_erasure_the_name_and_email_appear_nowhere_but_in_frozen_records(
    world: World, cast: Cast, client: httpx.AsyncClient
):
    report_before = await Report.select().where(Report.id == world.submitted_report).first()
    await _deactivate(world.subject)

    outcome = await erase_person(SUBJECT_EMAIL, SYSTEM)

    assert outcome.pseudonym == f"Former member {world.subject}"
    assert any("frozen" in line for line in outcome.kept)
    texts = await _pages_after_erasure(client, cast, world)
    texts.append(personal_data_json(await personal_data(world.subject)).decode())
    texts.append(personal_data_json(await personal_data(cast.member2)).decode())
    for row in await OutboundEmail.select():
        context = row["context"]
        context = json.loads(context) if isinstance(context, str) else context
        texts += [row["recipient"], json.dumps(context)]
        if row["status"] == "cancelled":  # the mail to them: never sent now
            assert row["recipient"] == f"former-member-{world.subject}@erased.invalid"
            continue
        rendered = render_email(row["template"], context)
        texts += [rendered.text, rendered.html]
    frozen_words = [
        f"{SUBJECT_NAME} presented the workload survey.",
        f"Approved. {SUBJECT_NAME} thanked.",
        f"Prepared with {SUBJECT_NAME} ({SUBJECT_EMAIL}).",
    ]
    for text in texts:
        # Read as text: a frozen report's address is rendered as a link (Markdown's linkify),
        # which is still the frozen words.
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
        for words in frozen_words:  # shown as approved or submitted, as they must be
            text = text.replace(words, "")
        assert SUBJECT_NAME not in text and SUBJECT_EMAIL not in text
    assert any(outcome.pseudonym in text for text in texts)

    # Frozen records keep their words, and their hashes still verify.
    report_after = found(await Report.select().where(Report.id == world.submitted_report).first())
    assert report_after == report_before
    assert content_hash(report_after) == report_after["content_hash"]
    item = found(await AgendaItem.select().where(AgendaItem.id == world.approved_item).first())
    assert item["minutes_text"] == f"{SUBJECT_NAME} presented the workload survey."
    minutes = found(await Minutes.select().where(Minutes.id == world.minutes).first())
    assert minutes["summary"] == f"Approved. {SUBJECT_NAME} thanked."
    # Erased in the open, and the chain still holds.
    last = found(await AuditEvent.select().order_by(AuditEvent.sequence, ascending=False).first())
    assert (last["action"], last["entity_id"]) == ("user.erased", str(world.subject))
    assert SUBJECT_NAME not in last["summary"]
    assert (await verify_chain()).intact


async def test_erasure_from_the_command_line_says_what_was_kept(world: World):
    await _deactivate(world.subject)

    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "governance.cli", "person", "erase", SUBJECT_EMAIL],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    again = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "governance.cli", "person", "erase", SUBJECT_EMAIL],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert f"is now Former member {world.subject}" in done.stdout
    assert "Kept, and why:" in done.stdout
    assert again.returncode == 1
    assert again.stderr.strip() == f"governance: No account with the email {SUBJECT_EMAIL}."


def test_personal_data_is_plain_json():
    from governance.operations.schemas import PersonalData

    empty = PersonalData(
        account={},
        memberships=[],
        attendance=[],
        meeting_replies=[],
        conflicts_declared=[],
        actions_owned=[],
        action_updates_written=[],
        minutes_comments=[],
        responses_given=[],
        resolutions_proposed=[],
        resolution_votes=[],
        board_responses_proposed=[],
        board_concurrences=[],
        reports_submitted=[],
        documents_added=[],
        emails_queued=[],
        audit_events_as_actor=[],
        sign_ins={},
    )
    assert json.loads(msgspec.json.encode(empty))["about"].startswith("Everything")
