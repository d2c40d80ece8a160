"""How the Board line decides (issue 19): the Board is a body, so its response is a Board
resolution, not one member's act.

A Board member *proposes* the Board's response (answer, rationale, follow-up actions, checked
as a response is). The other current Board members concur or object. The proposal is
recorded as the Board line's response, naming who proposed it and who concurred, once
enough of them concur:

- the number of concurrences needed is `GOVERNANCE_BOARD_CONCURRENCES` when set, else a
  majority of the current Board members with the proposer counting as one of them (so
  majority - 1 concurrences), and always at least one: one member never answers alone;
- it is fixed when the proposal is made, and shown with it;
- a member may concur or object once; the proposer neither (proposing is concurring);
- an objection (with an optional reason) counts against it: once too few current Board
  members are left who have not objected to reach the number needed, the proposal lapses,
  and another may be proposed;
- the proposer may withdraw it while it is pending;
- any current Board member may instead record it as decided at a Board meeting, naming the
  meeting and its date: then it is recorded as proposed, with the meeting as its authority.

Acknowledging a delivery stays one member's act (`services.acknowledge_delivery`).

Nobody but the Board reads a proposal (`accounts.scopes.board_proposals`): while it is
pending the delivery's row does not change, its audit events are Board-only and its emails
go to Board members, so the Director's view of the Board line (its state, its counts, its
timing) is the same with and without one. Someone no longer on the Board finds it "not
found", like a proposal that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from governance.accounts.policy import Line, Viewer, Visibility
from governance.core.audit import EventScope, record_event
from governance.core.clock import organisation_today, utcnow
from governance.core.contracts import NO_ERRORS, field_errors, refuse, trimmed
from governance.core.db import hold_row, write_transaction
from governance.core.errors import ConflictError, PermissionDenied
from governance.notifications import emails
from governance.notifications.emails import Recipient
from governance.reports import queries, services
from governance.reports.schemas import (
    DecidedAtMeeting,
    DeliveryState,
    LineResponse,
    Objection,
    ProposalStatus,
    ResponseAction,
    Stance,
)
from governance.reports.tables import BoardResponseProposal, ProposalConcurrence
from governance.settings import get_settings

PROPOSAL_NEEDS_CORRECTING = "The proposed response needs correcting. Nothing has been proposed."
ALREADY_PROPOSED = (
    "A proposed Board response is already awaiting concurrence: concur with it or object, "
    "or, if you proposed it, withdraw it first."
)
OWN_PROPOSAL = (
    "You proposed this response: your proposal counts as your concurrence. Another Board "
    "member must concur."
)
ONLY_THE_PROPOSER = "Only the Board member who proposed it can withdraw it."
CLOSED = {
    ProposalStatus.RECORDED: "This proposal has already been recorded as the Board's response.",
    ProposalStatus.WITHDRAWN: "This proposal was withdrawn; propose the Board's response anew.",
    ProposalStatus.LAPSED: "This proposal lapsed on the objections; propose the Board's "
    "response anew.",
}
ALREADY_STOOD = {
    Stance.CONCUR: "You have already concurred with this proposal.",
    Stance.OBJECT: "You have already objected to this proposal.",
}


def concurrences_needed(board_size: int) -> int:
    """Concurrences besides the proposer's that record a proposal (see the module)."""
    setting = get_settings().board_concurrences
    if setting:
        return setting
    majority = board_size // 2 + 1
    return max(1, majority - 1)


def _board_scope(delivery: Mapping[str, Any]) -> EventScope:
    """The Board's deliberation is read by the Board's readers only, never the Director."""
    return EventScope(delivery["group_id"], Visibility.BOARD)


async def _audit(
    viewer: Viewer, action: str, proposal_id: int, summary: str, scope: EventScope
) -> None:
    await record_event(viewer.user, action, "board_proposal", proposal_id, summary, scope)


async def _board_delivery(delivery_id: int, viewer: Viewer) -> dict[str, Any]:
    """The Board line's delivery, open to a response, for a current Board member."""
    delivery = await services.line_delivery(delivery_id, viewer)
    if delivery["recipient"] != Line.BOARD:
        raise ConflictError("Only the Board line answers by resolution; respond directly.")
    if delivery["state"] == DeliveryState.RESPONDED:
        raise ConflictError(services.ALREADY_RESPONDED)
    return delivery


async def _tell_the_board(
    proposal_id: int,
    delivery: Mapping[str, Any],
    command: LineResponse,
    viewer: Viewer,
    needed: int,
) -> None:
    """Every other current Board member is asked for their concurrence, once each."""
    for member in await queries.current_board_members():
        if member["user_id"] == viewer.user.id:
            continue
        await emails.board_concurrence_requested(
            Recipient.of(member),
            proposal_id=proposal_id,
            report_id=delivery["report"],
            report_title=delivery["report_title"],
            group_id=delivery["group_id"],
            group_name=delivery["group_name"],
            visibility=delivery["report_visibility"],
            kind=delivery["report_kind"],
            proposed_by=viewer.user.display_name,
            response=command.response,
            needed=needed,
            due_on=delivery["response_due_on"],
        )


async def propose_board_response(
    delivery_id: int,
    command: LineResponse,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> int:
    """A Board member proposes the Board's response; returns the proposal's id. Nothing is
    recorded on the delivery until the rule is met."""
    command = services.trimmed_response(command)
    async with write_transaction():
        delivery = await _board_delivery(delivery_id, viewer)
        if await queries.pending_proposal_of(delivery_id) is not None:
            raise ConflictError(ALREADY_PROPOSED)
        errors = await services.response_errors(command, delivery["group_id"], viewer, unreadable)
        refuse(errors, PROPOSAL_NEEDS_CORRECTING)
        needed = concurrences_needed(len(await queries.current_board_members()))
        rows = await BoardResponseProposal.insert(
            BoardResponseProposal(
                delivery=delivery_id,
                proposed_by=viewer.user.id,
                proposed_at=utcnow(),
                response=command.response,
                rationale=command.rationale.strip(),
                actions=msgspec.json.encode(command.actions).decode(),
                concurrences_needed=needed,
            )
        ).returning(BoardResponseProposal.id)
        proposal_id = int(rows[0]["id"])
        await _audit(
            viewer,
            "board_proposal.proposed",
            proposal_id,
            f"Board response to report {delivery['report']} proposed ('{command.response}'); "
            f"{needed} concurrence(s) needed",
            _board_scope(delivery),
        )
        await _tell_the_board(proposal_id, delivery, command, viewer, needed)
    return proposal_id


async def _pending(proposal_id: int, viewer: Viewer) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pending proposal and its delivery, for a current Board member; the proposal's row
    is held until the change commits, so two members acting at once queue."""
    await hold_row(BoardResponseProposal, proposal_id)
    proposal = await queries.proposal_row(proposal_id, viewer)
    status = proposal["status"]
    if status != ProposalStatus.PENDING:
        raise ConflictError(CLOSED[ProposalStatus(status)])
    delivery = await _board_delivery(proposal["delivery"], viewer)
    return proposal, delivery


def _command_of(proposal: Mapping[str, Any]) -> LineResponse:
    actions = msgspec.json.decode(proposal["actions"], type=list[ResponseAction])
    return LineResponse(
        response=proposal["response"], rationale=proposal["rationale"], actions=actions
    )


async def _close(proposal_id: int, status: str, viewer: Viewer, **columns: Any) -> None:
    """Closes a pending proposal, once (a second close finds it closed)."""
    changes: dict[Any, Any] = {
        BoardResponseProposal.status: status,
        BoardResponseProposal.closed_at: utcnow(),
        BoardResponseProposal.closed_by: viewer.user.id,
    }
    changes.update({getattr(BoardResponseProposal, name): v for name, v in columns.items()})
    updated = (
        await BoardResponseProposal.update(changes)
        .where(
            (BoardResponseProposal.id == proposal_id)
            & (BoardResponseProposal.status == ProposalStatus.PENDING)
        )
        .returning(BoardResponseProposal.id)
    )
    if not updated:
        raise ConflictError("This proposal has just been closed by someone else.")


async def _record(
    proposal: Mapping[str, Any], delivery: Mapping[str, Any], viewer: Viewer, how: str
) -> None:
    """The proposal becomes the Board line's response, with its actions; the group is told."""
    command = _command_of(proposal)
    await services.record_response(delivery, command, proposal["proposed_by"])
    action_ids = await services.insert_response_actions(command.actions, delivery, viewer)
    await services.audit_delivery(
        viewer,
        "delivery.responded",
        delivery,
        f"Report {delivery['report']}: Board line responded '{command.response}' with "
        f"{len(action_ids)} action(s), by Board resolution ({how})",
    )
    await services.tell_group_members(delivery, command.response)


async def _stand(proposal_id: int, stance: Stance, reason: str, viewer: Viewer) -> int:
    """Records one member's concurrence or objection and what follows from it; returns the
    delivery's id."""
    async with write_transaction():
        proposal, delivery = await _pending(proposal_id, viewer)
        # Checked once the member may act, so that nobody else learns anything from it.
        refuse(
            field_errors(Objection(reason=reason)),
            "The objection needs correcting. Nothing has been recorded.",
        )
        if proposal["proposed_by"] == viewer.user.id:
            raise ConflictError(OWN_PROPOSAL)
        stances = await queries.proposal_stances(proposal_id)
        if viewer.user.id in stances:
            raise ConflictError(ALREADY_STOOD[Stance(stances[viewer.user.id])])
        await ProposalConcurrence.insert(
            ProposalConcurrence(
                proposal=proposal_id,
                member=viewer.user.id,
                stance=stance,
                reason=reason,
                recorded_at=utcnow(),
            )
        )
        stances[viewer.user.id] = stance
        word = "concurred with" if stance == Stance.CONCUR else "objected to"
        summary = (
            f"A Board member {word} the proposed Board response to report {delivery['report']}"
        )
        await _audit(
            viewer, f"board_proposal.{stance}", proposal_id, summary, _board_scope(delivery)
        )
        await _follow_on(proposal, delivery, stances, viewer)
    return int(delivery["id"])


async def _follow_on(
    proposal: Mapping[str, Any],
    delivery: Mapping[str, Any],
    stances: dict[int, str],
    viewer: Viewer,
) -> None:
    """Records the proposal once enough members concur; lets it lapse once too few current
    Board members are left who have not objected."""
    needed = proposal["concurrences_needed"]
    names = {m["user_id"]: m["display_name"] for m in await queries.current_board_members()}
    board = set(names)
    concurring = [m for m, s in stances.items() if s == Stance.CONCUR and m in board]
    if len(concurring) >= needed:
        await _close(proposal["id"], ProposalStatus.RECORDED, viewer)
        proposer = await queries.display_name(proposal["proposed_by"])
        concurred = ", ".join(names[m] for m in concurring)
        await _record(
            proposal, delivery, viewer, f"proposed by {proposer}, concurred by {concurred}"
        )
        return
    objecting = {m for m, s in stances.items() if s == Stance.OBJECT}
    possible = board - objecting - {proposal["proposed_by"]}
    if len(possible) < needed:
        await _close(proposal["id"], ProposalStatus.LAPSED, viewer)
        await _audit(
            viewer,
            "board_proposal.lapsed",
            proposal["id"],
            f"The proposed Board response to report {delivery['report']} lapsed on objections",
            _board_scope(delivery),
        )


async def concur_with_proposal(proposal_id: int, viewer: Viewer) -> int:
    """A Board member concurs; at the number needed the response is recorded. Returns the
    delivery's id."""
    return await _stand(proposal_id, Stance.CONCUR, "", viewer)


async def object_to_proposal(proposal_id: int, command: Objection, viewer: Viewer) -> int:
    """A Board member objects, with an optional reason; returns the delivery's id."""
    return await _stand(proposal_id, Stance.OBJECT, trimmed(command).reason, viewer)


async def withdraw_proposal(proposal_id: int, viewer: Viewer) -> int:
    """The proposer withdraws a pending proposal; returns the delivery's id."""
    async with write_transaction():
        proposal, delivery = await _pending(proposal_id, viewer)
        if proposal["proposed_by"] != viewer.user.id:
            raise PermissionDenied(ONLY_THE_PROPOSER)
        await _close(proposal_id, ProposalStatus.WITHDRAWN, viewer)
        await _audit(
            viewer,
            "board_proposal.withdrawn",
            proposal_id,
            f"The proposed Board response to report {delivery['report']} was withdrawn",
            _board_scope(delivery),
        )
    return int(delivery["id"])


async def record_decided_at_meeting(
    proposal_id: int,
    command: DecidedAtMeeting,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> int:
    """A Board member records that a Board meeting decided the proposal; it becomes the
    Board line's response, naming its proposer and the meeting. Returns the delivery's id."""
    command = trimmed(command)
    async with write_transaction():
        proposal, delivery = await _pending(proposal_id, viewer)
        errors = {**field_errors(command), **unreadable}
        if "meeting_on" not in errors and command.meeting_on > organisation_today():
            errors["meeting_on"] = "The meeting date cannot be in the future."
        refuse(errors, "The meeting needs correcting. Nothing has been recorded.")
        await _close(
            proposal_id,
            ProposalStatus.RECORDED,
            viewer,
            meeting_name=command.meeting,
            meeting_on=command.meeting_on,
        )
        await _audit(
            viewer,
            "board_proposal.decided_at_meeting",
            proposal_id,
            f"The proposed Board response to report {delivery['report']} recorded as decided "
            f"at a Board meeting on {command.meeting_on.isoformat()}",
            _board_scope(delivery),
        )
        proposer = await queries.display_name(proposal["proposed_by"])
        await _record(
            proposal,
            delivery,
            viewer,
            f"proposed by {proposer}, decided at a Board meeting on {command.meeting_on}",
        )
    return int(delivery["id"])
