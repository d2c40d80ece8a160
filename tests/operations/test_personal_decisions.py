"""A person's part in decisions: their meeting replies, the resolutions they proposed and
their own votes, the Board responses they proposed and their concurrences are in their
export, never another person's vote; erasure rewords what is still under way and keeps the
words of what was decided (issues 14 and 19)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from governance.accounts.tables import User
from governance.core.audit import SYSTEM
from governance.core.clock import organisation_today, utcnow
from governance.core.db import write_transaction
from governance.groups.tables import ReportingLine
from governance.meetings.tables import MeetingReply
from governance.operations.queries import personal_data, personal_data_json
from governance.operations.services import erase_person
from governance.reports.tables import BoardResponseProposal, Delivery, ProposalConcurrence, Report
from governance.resolutions.tables import ResolutionVote, WrittenResolution
from tests.conftest import Cast
from tests.factories import make_meeting, make_membership, make_user
from tests.helpers import found

SUBJECT_NAME = "Riley Quartermain"
SUBJECT_EMAIL = "riley.quartermain@example.org"


@dataclass
class Decisions:
    subject: int
    open_resolution: int
    closed_resolution: int
    pending_proposal: int
    recorded_proposal: int


async def _resolution(cast: Cast, proposer: int, title: str, status: str) -> int:
    now = utcnow()
    return (
        await WrittenResolution.insert(
            WrittenResolution(
                group=cast.group_id,
                title=title,
                text=f"Moved by {SUBJECT_NAME}.",
                closes_at=now + dt.timedelta(days=3),
                status=status,
                proposed_by=proposer,
                proposed_at=now,
                closed_at=None if status == "open" else now,
            )
        ).returning(WrittenResolution.id)
    )[0]["id"]


async def _vote(resolution: int, user: int, choice: str, comment: str) -> None:
    await ResolutionVote.insert(
        ResolutionVote(
            resolution=resolution, user=user, choice=choice, comment=comment, cast_at=utcnow()
        )
    )


async def _board_delivery(cast: Cast) -> int:
    now = utcnow()
    line = found(
        await ReportingLine.select(ReportingLine.id)
        .where((ReportingLine.group == cast.group_id) & (ReportingLine.recipient == "board"))
        .first()
    )
    report = (
        await Report.insert(
            Report(
                group=cast.group_id,
                kind="recommendation",
                title="Flexible hours recommendation",
                body="",
                status="submitted",
                created_by=cast.chair,
                created_at=now,
                updated_at=now,
                submitted_at=now,
                submitted_by=cast.chair,
            )
        ).returning(Report.id)
    )[0]["id"]
    return (
        await Delivery.insert(
            Delivery(
                report=report,
                line=line["id"],
                recipient="board",
                state="acknowledged",
                delivered_at=now,
                response_due_on=organisation_today(),
            )
        ).returning(Delivery.id)
    )[0]["id"]


async def _proposal(delivery: int, proposer: int, status: str) -> int:
    return (
        await BoardResponseProposal.insert(
            BoardResponseProposal(
                delivery=delivery,
                proposed_by=proposer,
                proposed_at=utcnow(),
                response="accepted",
                rationale=f"As {SUBJECT_NAME} argued.",
                status=status,
            )
        ).returning(BoardResponseProposal.id)
    )[0]["id"]


async def _stance(proposal: int, member: int, stance: str, reason: str) -> None:
    await ProposalConcurrence.insert(
        ProposalConcurrence(
            proposal=proposal, member=member, stance=stance, reason=reason, recorded_at=utcnow()
        )
    )


async def _decisions(cast: Cast) -> Decisions:
    subject = await make_user(SUBJECT_EMAIL, SUBJECT_NAME, board=True)
    await make_membership(subject, cast.group_id, "member")
    meeting = await make_meeting(cast.slug, cast.chair, title="Wellbeing meeting")
    delivery = await _board_delivery(cast)
    async with write_transaction():
        await MeetingReply.insert(
            MeetingReply(meeting=meeting, user=subject, mode="apologies", replied_at=utcnow())
        )
        await MeetingReply.insert(
            MeetingReply(meeting=meeting, user=cast.member2, mode="attending", replied_at=utcnow())
        )
        open_one = await _resolution(cast, subject, "Adopt the quiet-hours policy", "open")
        closed_one = await _resolution(cast, cast.chair, "Fund the survey", "carried")
        await _vote(open_one, subject, "for", "I support it")
        await _vote(open_one, cast.member2, "against", "Member Two's reason")
        await _vote(closed_one, subject, "abstain", f"{SUBJECT_NAME} abstains")
        pending = await _proposal(delivery, subject, "pending")
        recorded = await _proposal(delivery, cast.board, "recorded")
        await _stance(pending, cast.board2, "object", "Board Two's objection")
        await _stance(recorded, subject, "concur", f"{SUBJECT_NAME} concurs")
    return Decisions(subject, open_one, closed_one, pending, recorded)


async def test_the_export_holds_their_replies_votes_and_proposals_and_no_one_elses(cast: Cast):
    decisions = await _decisions(cast)

    text = personal_data_json(await personal_data(decisions.subject)).decode()
    exported = json.loads(text)

    assert [(r["meeting"], r["mode"]) for r in exported["meeting_replies"]] == [
        ("Wellbeing meeting", "apologies")
    ]
    assert [r["title"] for r in exported["resolutions_proposed"]] == [
        "Adopt the quiet-hours policy"
    ]
    assert sorted((v["resolution"], v["choice"]) for v in exported["resolution_votes"]) == [
        ("Adopt the quiet-hours policy", "for"),
        ("Fund the survey", "abstain"),
    ]
    assert [(p["report"], p["status"]) for p in exported["board_responses_proposed"]] == [
        ("Flexible hours recommendation", "pending")
    ]
    assert [(c["stance"], c["reason"]) for c in exported["board_concurrences"]] == [
        ("concur", f"{SUBJECT_NAME} concurs")
    ]
    for others in ("Member Two's reason", "Board Two's objection", "attending"):
        assert others not in text, others


async def test_erasure_rewords_decisions_under_way_and_keeps_decided_words(cast: Cast):
    decisions = await _decisions(cast)
    async with write_transaction():
        await User.update({User.is_active: False}).where(User.id == decisions.subject)

    outcome = await erase_person(SUBJECT_EMAIL, SYSTEM)

    resolutions = {
        row["id"]: row["text"]
        for row in await WrittenResolution.select(WrittenResolution.id, WrittenResolution.text)
    }
    assert SUBJECT_NAME not in resolutions[decisions.open_resolution]
    assert outcome.pseudonym in resolutions[decisions.open_resolution]
    assert resolutions[decisions.closed_resolution] == f"Moved by {SUBJECT_NAME}."
    comments = [row["comment"] for row in await ResolutionVote.select(ResolutionVote.comment)]
    assert f"{SUBJECT_NAME} abstains" in comments  # a vote on a decided resolution
    rationales = {
        row["id"]: row["rationale"]
        for row in await BoardResponseProposal.select(
            BoardResponseProposal.id, BoardResponseProposal.rationale
        )
    }
    assert rationales[decisions.pending_proposal] == f"As {outcome.pseudonym} argued."
    assert rationales[decisions.recorded_proposal] == f"As {SUBJECT_NAME} argued."
    assert any("closed resolutions" in line for line in outcome.kept)
