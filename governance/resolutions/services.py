"""The rules of written resolutions: proposing, voting, withdrawing and closing.

A group's chair or secretary proposes; its current members vote, once each, until the
closing time or until every current member has voted; the proposer's side (chair or
secretary) may withdraw an open resolution. At the close the outcome is worked out from the
group's `ResolutionRule` against the members on the closing date: a vote by someone whose
term had ended by then is kept but not counted, and enough of those members must have voted
(the group's quorum rule). Every use case authorises (a resolution its caller may not read
is "not found"; one they may read but not act on is refused before any value is looked at),
refuses what the resolution's state does not allow, finds every field's error at once, then
writes, audits and queues its emails in one write transaction. Audit summaries never carry
a resolution's title or text, which may be confidential.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from governance.accounts.policy import Viewer
from governance.accounts.tables import User
from governance.core.audit import Actor, EventScope, SystemActor, record_event
from governance.core.clock import date_in_zone, organisation_today, utcnow
from governance.core.contracts import NO_ERRORS, field_errors, refuse
from governance.core.db import hold_row, one_row, write_transaction
from governance.core.errors import ConflictError, NotFoundError, PermissionDenied
from governance.core.isolation import SkippedItems
from governance.documents import services as documents
from governance.documents.schemas import HolderKind
from governance.documents.storage import UploadedFile
from governance.groups.queries import get_group, members_on
from governance.groups.schemas import QuorumRule, ResolutionRule
from governance.groups.tables import WorkingGroup
from governance.resolutions import notices, queries
from governance.resolutions.schemas import (
    LONGEST_OPEN,
    REMINDER_BEFORE,
    SHORTEST_OPEN,
    STATUS_LABELS,
    BallotPage,
    NewResolution,
    NewVote,
    ResolutionStatus,
    VoteChoice,
)
from governance.resolutions.tables import ResolutionVote, WrittenResolution

NOT_A_LEADER = "Only the group's chair or secretary can do this."
NOT_A_MEMBER = "Only the group's current members vote on its resolutions."
CLOSED = "Voting on this resolution has closed."
ALREADY_VOTED = "Your vote on this resolution is already recorded; a vote cannot be changed."
NEEDS_CORRECTING = "The resolution needs correcting. Nothing has been saved."
VOTE_LINK_INVALID = "This voting link is not valid. Vote from the resolution's page instead."
SCHEDULER = SystemActor(actor_label="scheduler")
# What holds a resolution's papers, in the documents domain.
HOLDER = HolderKind.RESOLUTION


@dataclass(frozen=True)
class Voter:
    """A member voting from the signed link in their email, without signing in."""

    actor_id: int
    actor_label: str


# --- the outcome ------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    carried: bool
    quorum_met: bool
    members: int
    votes_for: int
    votes_against: int
    votes_abstain: int


def decide(
    rule: str, quorum_rule: str, quorum_count: int, member_ids: set[int], votes: dict[int, str]
) -> Outcome:
    """The outcome under the group's rules, from the members on the closing date and each
    voter's choice: only those members' votes count. Majority: more than half of the
    members vote for; unanimity: every member votes for. Either way enough members must
    have voted (the quorum rule, as for a meeting)."""
    counted = [choice for user, choice in votes.items() if user in member_ids]
    tally = {choice: counted.count(choice) for choice in VoteChoice}
    members = len(member_ids)
    needed = QuorumRule(quorum_rule).needed(quorum_count, members)
    quorum_met = members > 0 and len(counted) >= needed
    votes_for = tally[VoteChoice.FOR]
    if ResolutionRule(rule) is ResolutionRule.UNANIMITY:
        carried = votes_for == members
    else:
        carried = 2 * votes_for > members
    return Outcome(
        carried=quorum_met and members > 0 and carried,
        quorum_met=quorum_met,
        members=members,
        votes_for=votes_for,
        votes_against=tally[VoteChoice.AGAINST],
        votes_abstain=tally[VoteChoice.ABSTAIN],
    )


# --- proposing --------------------------------------------------------------------------


def _scope(row: Mapping[str, Any]) -> EventScope:
    return EventScope(row["group"], row["visibility"])


def _closing_error(closes_at: dt.datetime, now: dt.datetime) -> str | None:
    try:
        closes = closes_at.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return "Write the closing time as a date and time."
    if closes < now + SHORTEST_OPEN:
        return "Voting must stay open for at least an hour."
    if closes > now + LONGEST_OPEN:
        return "Voting may stay open for at most 90 days."
    return None


def _proposal_errors(
    command: NewResolution, unreadable: Mapping[str, str], now: dt.datetime
) -> dict[str, str]:
    errors = {**field_errors(command), **unreadable}
    if "closes_at" not in errors and command.closes_at is not None:
        message = _closing_error(command.closes_at, now)
        if message:
            errors["closes_at"] = message
    return errors


async def propose_resolution(
    slug: str,
    command: NewResolution,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
    files: Sequence[UploadedFile] = (),
) -> int:
    """Puts a motion to the group's current members, each told with their voting links and
    the links to its papers (`files`: each a paper of the resolution's visibility, read and
    checked before anything is written, so a refused one stores nothing)."""
    now = utcnow()
    group = await get_group(slug)
    if not viewer.leads(group["id"]):
        raise PermissionDenied(NOT_A_LEADER)
    scanned, paper_errors = await documents.check_papers(files)
    async with write_transaction():
        refuse({**_proposal_errors(command, unreadable, now), **paper_errors}, NEEDS_CORRECTING)
        rows = await WrittenResolution.insert(
            WrittenResolution(
                group=group["id"],
                title=command.title,
                text=command.text.strip(),
                visibility=command.visibility,
                closes_at=command.closes_at.astimezone(dt.UTC),
                status=ResolutionStatus.OPEN,
                proposed_by=viewer.user.id,
                proposed_at=now,
            )
        ).returning(WrittenResolution.id)
        resolution_id = int(rows[0]["id"])
        row = await queries.resolution_row(resolution_id)
        await record_event(
            viewer.user,
            "resolution.proposed",
            "written_resolution",
            resolution_id,
            f"Written resolution {resolution_id} ({command.visibility}) put to the members of "
            f"group {group['id']}, closing {row['closes_at']:%Y-%m-%d %H:%M} UTC",
            scope=_scope(row),
        )
        if files:
            await documents.store_papers(HOLDER, resolution_id, files, scanned, viewer)
        await notices.tell_proposed(row, viewer.user.display_name, with_papers=bool(files))
    return resolution_id


# --- voting -----------------------------------------------------------------------------


def _require_open(row: Mapping[str, Any], now: dt.datetime) -> None:
    if not queries.is_open(row, now):
        raise ConflictError(CLOSED)


async def _record_vote(
    row: Mapping[str, Any], user_id: int, command: NewVote, actor: Actor, now: dt.datetime
) -> str:
    """Records one member's vote, and closes the resolution when every current member has
    voted; returns the resolution's status afterwards."""
    # Two votes at once (a double click, the page and the link) queue here, and the second
    # reads the first: refused as a second vote, or finding the resolution closed.
    await hold_row(WrittenResolution, row["id"])
    row = await queries.resolution_row(row["id"])
    _require_open(row, now)
    already = await ResolutionVote.exists().where(
        (ResolutionVote.resolution == row["id"]) & (ResolutionVote.user == user_id)
    )
    if already:
        raise ConflictError(ALREADY_VOTED)
    await ResolutionVote.insert(
        ResolutionVote(
            resolution=row["id"],
            user=user_id,
            choice=command.choice,
            comment=command.comment.strip(),
            cast_at=now,
        )
    )
    await record_event(
        actor,
        "resolution.voted",
        "written_resolution",
        row["id"],
        f"Vote on written resolution {row['id']}: {command.choice}",
        scope=_scope(row),
    )
    members = {m["user"] for m in await members_on(row["group"], organisation_today())}
    voted = {user for resolution, user in await queries.voters_of([row["id"]])}
    if members and members <= voted:
        return await _close(row["id"], now, actor, "every member has voted")
    return str(row["status"])


def _vote_errors(command: NewVote, unreadable: Mapping[str, str]) -> None:
    refuse({**field_errors(command), **unreadable}, "Choose for, against or abstain.")


async def cast_vote(
    resolution_id: int,
    command: NewVote,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> str:
    """A signed-in current member votes from the resolution's page or the API."""
    now = utcnow()
    async with write_transaction():
        row = await queries.readable_resolution(resolution_id, viewer)
        if not viewer.is_member_of(row["group"]):
            raise PermissionDenied(NOT_A_MEMBER)
        _require_open(row, now)
        _vote_errors(command, unreadable)
        return await _record_vote(row, viewer.user.id, command, viewer.user, now)


def _link_owner(token: str) -> tuple[int, int]:
    owner = notices.read_vote_token(token)
    if owner is None:
        raise NotFoundError(VOTE_LINK_INVALID)
    return owner


async def _link_voter(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The resolution and the active member a voting link is for."""
    resolution_id, user_id = _link_owner(token)
    user = await one_row(
        User.select(User.id, User.email, User.display_name).where(
            (User.id == user_id) & (User.is_active == True)  # noqa: E712 - SQL comparison
        ),
        VOTE_LINK_INVALID,
    )
    try:
        row = await queries.resolution_row(resolution_id)
    except NotFoundError:
        raise NotFoundError(VOTE_LINK_INVALID) from None
    return row, user


async def vote_by_link(
    token: str, command: NewVote, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> str:
    """A member votes from the signed link in their email, with no sign-in: the link names
    the resolution and the member, and is the authority for that vote only; they must still
    be a member of the group today."""
    now = utcnow()
    async with write_transaction():
        row, user = await _link_voter(token)
        members = {m["user"] for m in await members_on(row["group"], organisation_today())}
        if user["id"] not in members:
            raise PermissionDenied(NOT_A_MEMBER)
        _require_open(row, now)
        _vote_errors(command, unreadable)
        actor = Voter(actor_id=user["id"], actor_label=user["email"])
        return await _record_vote(row, user["id"], command, actor, now)


async def ballot(token: str) -> BallotPage:
    """What a voting link opens: the motion, the member and their vote so far."""
    row, user = await _link_voter(token)
    return await queries.ballot_page(row["id"], user["id"], user["display_name"])


# --- withdrawing and closing ------------------------------------------------------------


async def withdraw_resolution(resolution_id: int, viewer: Viewer) -> None:
    """The chair or secretary withdraws an open resolution; nothing is decided, and the
    members are told."""
    now = utcnow()
    async with write_transaction():
        row = await queries.readable_resolution(resolution_id, viewer)
        if not viewer.leads(row["group"]):
            raise PermissionDenied(NOT_A_LEADER)
        _require_open(row, now)
        await WrittenResolution.update(
            {
                WrittenResolution.status: ResolutionStatus.WITHDRAWN,
                WrittenResolution.closed_at: now,
            }
        ).where(WrittenResolution.id == resolution_id)
        await record_event(
            viewer.user,
            "resolution.withdrawn",
            "written_resolution",
            resolution_id,
            f"Written resolution {resolution_id} withdrawn before voting closed",
            scope=_scope(row),
        )
        await notices.tell_result(await queries.resolution_row(resolution_id), "withdrawn")


async def _outcome_at(
    row: Mapping[str, Any], closing: dt.datetime
) -> tuple[Outcome, set[int], str]:
    """The outcome under the group's rules today, with the members on the closing date."""
    group = await one_row(
        WorkingGroup.select(
            WorkingGroup.quorum_rule, WorkingGroup.quorum_count, WorkingGroup.resolution_rule
        ).where(WorkingGroup.id == row["group"]),
        queries.NOT_FOUND,
    )
    member_ids = {m["user"] for m in await members_on(row["group"], date_in_zone(closing))}
    votes = {v["user"]: v["choice"] for v in await queries.votes_of(row["id"])}
    outcome = decide(
        group["resolution_rule"],
        group["quorum_rule"],
        group["quorum_count"],
        member_ids,
        votes,
    )
    return outcome, member_ids, str(group["resolution_rule"])


async def _close(resolution_id: int, closing: dt.datetime, actor: Actor, why: str) -> str:
    """Decides the resolution as of `closing`, in the caller's transaction: records the
    outcome with its votes (those not counted marked so), audits, tells the members.
    Returns the status; an already closed resolution is left as it is."""
    row = await queries.resolution_row(resolution_id)
    if row["status"] != ResolutionStatus.OPEN:
        return str(row["status"])
    outcome, member_ids, rule = await _outcome_at(row, closing)
    status = ResolutionStatus.CARRIED if outcome.carried else ResolutionStatus.NOT_CARRIED
    await WrittenResolution.update(
        {
            WrittenResolution.status: status,
            WrittenResolution.closed_at: closing,
            WrittenResolution.rule: rule,
            WrittenResolution.members_counted: outcome.members,
            WrittenResolution.votes_for: outcome.votes_for,
            WrittenResolution.votes_against: outcome.votes_against,
            WrittenResolution.votes_abstain: outcome.votes_abstain,
            WrittenResolution.quorum_met: outcome.quorum_met,
        }
    ).where(
        (WrittenResolution.id == resolution_id)
        & (WrittenResolution.status == ResolutionStatus.OPEN)
    )
    await ResolutionVote.update({ResolutionVote.counted: False}).where(
        (ResolutionVote.resolution == resolution_id)
        & ResolutionVote.user.not_in(sorted(member_ids) or [queries.NO_ROW])
    )
    label = STATUS_LABELS[status].lower()
    await record_event(
        actor,
        "resolution.closed",
        "written_resolution",
        resolution_id,
        f"Written resolution {resolution_id} {label} ({why}): {outcome.votes_for} for, "
        f"{outcome.votes_against} against, {outcome.votes_abstain} abstaining of "
        f"{outcome.members} members" + ("" if outcome.quorum_met else "; quorum NOT met"),
        scope=_scope(row),
    )
    await notices.tell_result(await queries.resolution_row(resolution_id), label)
    return str(status)


# --- the scheduled job ------------------------------------------------------------------


@dataclass
class ResolutionsSwept(SkippedItems):
    """One run of the job: resolutions closed, reminders queued, and those that broke."""

    closed: int = 0
    reminded: int = 0

    def __str__(self) -> str:
        return (
            f"{self.closed} resolutions closed, {self.reminded} reminders queued; "
            + self.failures_summary()
        )


async def close_due_resolutions(report: ResolutionsSwept, now: dt.datetime) -> None:
    """Closes every open resolution whose time has come, as of its closing time (a
    scheduler that was down closes it late, but with the members of its closing date)."""
    for resolution_id in await queries.due_to_close(now):
        with report.skipping(f"resolution {resolution_id}"):
            async with write_transaction():
                row = await queries.resolution_row(resolution_id)
                if row["status"] == ResolutionStatus.OPEN:
                    await _close(resolution_id, row["closes_at"], SCHEDULER, "voting closed")
                    report.closed += 1


async def remind_voters(report: ResolutionsSwept, now: dt.datetime) -> None:
    """Reminds each current member who has not voted, once, a day before voting closes;
    not for a resolution proposed less than a day before its close (its proposal is news
    enough)."""
    for row in await queries.closing_within(now, REMINDER_BEFORE):
        if row["proposed_at"] > row["closes_at"] - REMINDER_BEFORE:
            continue
        with report.skipping(f"resolution {row['id']}"):
            async with write_transaction():
                voted = {user for _, user in await queries.voters_of([row["id"]])}
                report.reminded += await notices.remind(row, voted)


async def sweep_resolutions(now: dt.datetime | None = None) -> ResolutionsSwept:
    """The job: close what is due, then remind; idempotent, one bad resolution never
    stops the others."""
    now = now or utcnow()
    report = ResolutionsSwept()
    await close_due_resolutions(report, now)
    await remind_voters(report, now)
    return report
