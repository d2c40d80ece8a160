"""How the Board line decides (issue 19): a Board member proposes the Board's response, other
Board members concur or object, and only when the rule is met is it recorded, naming who
proposed and who concurred. The Director learns nothing of a proposal: not on the page, in
the API, in an email, in the audit trail or in any count."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re

import pytest

from governance.accounts import scopes
from governance.accounts.tables import User
from governance.core.clock import organisation_today
from governance.core.email import render_email
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.core.tables import AuditEvent, OutboundEmail
from governance.notifications.needs_me import tasks_for
from governance.reports import board_line, queries, services
from governance.reports.schemas import (
    DecidedAtMeeting,
    DeliveryFilters,
    LineResponse,
    Objection,
    ReportDraft,
    ResponseAction,
)
from governance.reports.tables import BoardResponseProposal, Delivery, ProposalConcurrence
from governance.settings import get_settings
from tests.factories import make_user, viewer_for
from tests.helpers import csrf_token, field_error, found, post_form, shown_after_refusal, sign_in

ANSWER = LineResponse(response="accepted", rationale="The Board supports it in full.")


async def board_delivery(cast, route: str = "both") -> int:
    chair = await viewer_for(cast.chair)
    draft = ReportDraft(
        kind="recommendation", title="Flexible hours", body="We recommend.", route=route
    )
    report_id = await services.create_report(cast.slug, draft, chair)
    await services.submit_report(report_id, chair)
    row = found(
        await Delivery.select(Delivery.id)
        .where((Delivery.report == report_id) & (Delivery.recipient == "board"))
        .first()
    )
    return int(row["id"])


async def delivery(delivery_id: int) -> dict:
    return found(await Delivery.select().where(Delivery.id == delivery_id).first())


async def more_board_members(count: int) -> list[int]:
    return [
        await make_user(f"board-extra{n}@example.org", f"Extra Board {n}", board=True)
        for n in range(count)
    ]


# --- the rule ---------------------------------------------------------------------------


def test_the_default_rule_is_a_majority_with_the_proposer_counting_as_one() -> None:
    assert [board_line.concurrences_needed(n) for n in range(1, 8)] == [1, 1, 1, 2, 2, 3, 3]


async def test_a_board_of_two_needs_the_other_members_concurrence(cast):
    delivery_id = await board_delivery(cast)
    board, board2 = await viewer_for(cast.board), await viewer_for(cast.board2)
    proposal = await board_line.propose_board_response(delivery_id, ANSWER, board)
    assert (await delivery(delivery_id))["state"] == "delivered"  # nothing recorded yet
    await board_line.concur_with_proposal(proposal, board2)
    row = await delivery(delivery_id)
    assert (row["state"], row["response"], row["responded_by"]) == (
        "responded",
        "accepted",
        cast.board,
    )
    event = found(
        await AuditEvent.select().where(AuditEvent.action == "delivery.responded").first()
    )
    assert "proposed by Board Member, concurred by Second Board Member" in event["summary"]
    view = await queries.get_delivery(delivery_id, await viewer_for(cast.chair))
    assert view.resolution is not None
    assert view.resolution.proposed_by.user_id == cast.board
    assert [p.user_id for p in view.resolution.concurred_by] == [cast.board2]
    assert view.proposal is None


async def test_a_board_of_five_needs_two_concurrences(cast):
    extra = await more_board_members(3)
    delivery_id = await board_delivery(cast)
    proposal = await board_line.propose_board_response(
        delivery_id, ANSWER, await viewer_for(cast.board)
    )
    await board_line.concur_with_proposal(proposal, await viewer_for(cast.board2))
    assert (await delivery(delivery_id))["state"] == "delivered"
    await board_line.concur_with_proposal(proposal, await viewer_for(extra[0]))
    assert (await delivery(delivery_id))["state"] == "responded"
    # Once recorded, nobody acts on it any more.
    with pytest.raises(ConflictError, match="already been recorded"):
        await board_line.concur_with_proposal(proposal, await viewer_for(extra[1]))


async def test_the_setting_names_the_number_of_concurrences(cast, monkeypatch):
    settings = dataclasses.replace(get_settings(), board_concurrences=2)
    monkeypatch.setattr(board_line, "get_settings", lambda: settings)
    extra = await more_board_members(1)
    delivery_id = await board_delivery(cast)
    proposal = await board_line.propose_board_response(
        delivery_id, ANSWER, await viewer_for(cast.board)
    )
    await board_line.concur_with_proposal(proposal, await viewer_for(cast.board2))
    assert (await delivery(delivery_id))["state"] == "delivered"
    await board_line.concur_with_proposal(proposal, await viewer_for(extra[0]))
    assert (await delivery(delivery_id))["state"] == "responded"


async def test_the_board_never_answers_directly_and_the_director_line_never_by_proposal(cast):
    delivery_id = await board_delivery(cast)
    with pytest.raises(ConflictError, match="resolution"):
        await services.respond_to_delivery(delivery_id, ANSWER, await viewer_for(cast.board))
    director_delivery = found(
        await Delivery.select(Delivery.id).where(Delivery.recipient == "director").first()
    )["id"]
    with pytest.raises(ConflictError):
        await board_line.propose_board_response(
            director_delivery, ANSWER, await viewer_for(cast.director)
        )
    with pytest.raises(PermissionDenied):
        await board_line.propose_board_response(
            delivery_id, ANSWER, await viewer_for(cast.director)
        )


async def test_a_proposal_is_checked_like_a_response_and_one_at_a_time(cast):
    delivery_id = await board_delivery(cast)
    board = await viewer_for(cast.board)
    past = organisation_today() - dt.timedelta(days=1)
    bad = LineResponse(
        response="declined",
        rationale="",
        actions=[ResponseAction(title="Do it", due_on=past, owner_ids=[cast.board])],
    )
    with pytest.raises(InvalidInput) as refused:
        await board_line.propose_board_response(delivery_id, bad, board)
    assert set(refused.value.field_errors) == {"rationale", "actions[0].due_on"}
    assert await BoardResponseProposal.count() == 0
    await board_line.propose_board_response(delivery_id, ANSWER, board)
    with pytest.raises(ConflictError, match="already awaiting"):
        await board_line.propose_board_response(delivery_id, ANSWER, await viewer_for(cast.board2))


# --- concurring, objecting, withdrawing --------------------------------------------------


async def test_double_concurrence_and_concurring_with_ones_own_proposal_are_refused(cast):
    extra = await more_board_members(3)  # five members: two concurrences needed
    delivery_id = await board_delivery(cast)
    board, board2 = await viewer_for(cast.board), await viewer_for(cast.board2)
    proposal = await board_line.propose_board_response(delivery_id, ANSWER, board)
    with pytest.raises(ConflictError, match="counts as your concurrence"):
        await board_line.concur_with_proposal(proposal, board)
    await board_line.concur_with_proposal(proposal, board2)
    with pytest.raises(ConflictError, match="already concurred"):
        await board_line.concur_with_proposal(proposal, board2)
    with pytest.raises(ConflictError, match="already concurred"):
        await board_line.object_to_proposal(proposal, Objection(), board2)
    assert await ProposalConcurrence.count() == 1
    assert (await delivery(delivery_id))["state"] == "delivered"
    await board_line.concur_with_proposal(proposal, await viewer_for(extra[2]))
    assert (await delivery(delivery_id))["state"] == "responded"


async def test_one_member_concurring_twice_at_once_is_recorded_once(cast):
    """A double click, or the page and the email at once: the two requests queue on the
    proposal's row, and the second is refused as a second concurrence (on PostgreSQL both
    would otherwise read "not yet" and the second would fail on the unique index)."""
    await more_board_members(3)  # five members: one concurrence does not close it
    delivery_id = await board_delivery(cast)
    board, board2 = await viewer_for(cast.board), await viewer_for(cast.board2)
    proposal = await board_line.propose_board_response(delivery_id, ANSWER, board)

    outcomes = await asyncio.gather(
        board_line.concur_with_proposal(proposal, board2),
        board_line.concur_with_proposal(proposal, board2),
        return_exceptions=True,
    )

    refused = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], ConflictError), outcomes
    assert "already concurred" in str(refused[0])
    assert await ProposalConcurrence.count() == 1


async def test_withdrawal_by_the_proposer_only_and_nothing_after_it(cast):
    delivery_id = await board_delivery(cast)
    board, board2 = await viewer_for(cast.board), await viewer_for(cast.board2)
    proposal = await board_line.propose_board_response(delivery_id, ANSWER, board)
    with pytest.raises(PermissionDenied):
        await board_line.withdraw_proposal(proposal, board2)
    await board_line.withdraw_proposal(proposal, board)
    for act in (
        board_line.concur_with_proposal(proposal, board2),
        board_line.withdraw_proposal(proposal, board),
        board_line.record_decided_at_meeting(
            proposal, DecidedAtMeeting(meeting="Board", meeting_on=organisation_today()), board2
        ),
    ):
        with pytest.raises(ConflictError, match="withdrawn"):
            await act
    assert (await delivery(delivery_id))["state"] == "delivered"
    # Another proposal may now be made.
    again = await board_line.propose_board_response(delivery_id, ANSWER, board2)
    await board_line.concur_with_proposal(again, board)
    assert (await delivery(delivery_id))["state"] == "responded"


async def test_objections_that_leave_the_rule_out_of_reach_lapse_the_proposal(cast):
    extra = await more_board_members(1)  # three members: one concurrence needed
    delivery_id = await board_delivery(cast)
    proposal = await board_line.propose_board_response(
        delivery_id, ANSWER, await viewer_for(cast.board)
    )
    await board_line.object_to_proposal(
        proposal, Objection(reason="Too soon."), await viewer_for(cast.board2)
    )
    assert found(await BoardResponseProposal.select().first())["status"] == "pending"
    await board_line.object_to_proposal(proposal, Objection(), await viewer_for(extra[0]))
    assert found(await BoardResponseProposal.select().first())["status"] == "lapsed"
    assert (await delivery(delivery_id))["state"] == "delivered"
    reasons = [
        row["reason"] for row in await ProposalConcurrence.select().order_by(ProposalConcurrence.id)
    ]
    assert reasons == ["Too soon.", ""]


async def test_a_member_whose_board_membership_ended_cannot_concur(cast):
    delivery_id = await board_delivery(cast)
    proposal = await board_line.propose_board_response(
        delivery_id, ANSWER, await viewer_for(cast.board)
    )
    await User.update({User.is_board: False}).where(User.id == cast.board2)
    with pytest.raises(NotFoundError):
        await board_line.concur_with_proposal(proposal, await viewer_for(cast.board2))
    assert await ProposalConcurrence.count() == 0


async def test_recorded_as_decided_at_a_board_meeting(cast):
    delivery_id = await board_delivery(cast)
    board = await viewer_for(cast.board)
    proposal = await board_line.propose_board_response(delivery_id, ANSWER, board)
    tomorrow = organisation_today() + dt.timedelta(days=1)
    with pytest.raises(InvalidInput) as refused:
        await board_line.record_decided_at_meeting(
            proposal, DecidedAtMeeting(meeting=" ", meeting_on=tomorrow), board
        )
    assert set(refused.value.field_errors) == {"meeting", "meeting_on"}
    today = organisation_today()
    await board_line.record_decided_at_meeting(
        proposal, DecidedAtMeeting(meeting="Board meeting of December", meeting_on=today), board
    )
    view = await queries.get_delivery(delivery_id, await viewer_for(cast.director))
    assert view.state == "responded"
    assert view.resolution is not None
    assert (view.resolution.meeting, view.resolution.meeting_on) == (
        "Board meeting of December",
        today,
    )


# --- emails, tasks ------------------------------------------------------------------------


async def test_each_other_board_member_is_asked_once_and_it_is_in_their_list(cast):
    extra = await more_board_members(1)
    delivery_id = await board_delivery(cast)
    board = await viewer_for(cast.board)
    proposal = await board_line.propose_board_response(delivery_id, ANSWER, board)
    asked = await OutboundEmail.select(OutboundEmail.recipient, OutboundEmail.dedupe_key).where(
        OutboundEmail.template == "board_concurrence"
    )
    assert sorted(row["recipient"] for row in asked) == [
        "board-extra0@example.org",
        "board2@example.org",
    ]
    assert all(row["dedupe_key"].startswith(f"proposal:{proposal}:") for row in asked)
    row = found(
        await OutboundEmail.select().where(OutboundEmail.template == "board_concurrence").first()
    )
    context = json.loads(row["context"]) if isinstance(row["context"], str) else row["context"]
    rendered = render_email("board_concurrence", context)
    assert "A proposed Board response awaits your concurrence" in rendered.subject
    assert "Board Member proposes" in rendered.text
    assert "accepted" in rendered.html
    board2 = await viewer_for(cast.board2)
    kinds = [task.kind for task in await tasks_for(board2)]
    assert kinds == ["proposal_to_concur"]
    assert [task.kind for task in await tasks_for(board)] == []
    await board_line.object_to_proposal(proposal, Objection(), board2)
    assert [task.kind for task in await tasks_for(board2)] == []
    assert [t.kind for t in await tasks_for(await viewer_for(extra[0]))] == ["proposal_to_concur"]


# --- the Director learns nothing -----------------------------------------------------------


async def _what_the_director_sees(client, cast, report_id: int) -> dict:
    director = await viewer_for(cast.director)
    page = (await client.get(f"/reports/{report_id}")).text
    board_line_html = re.search(r'<div class="line line-board".*?</div>\s*</div>', page, re.S)
    api = (await client.get(f"/api/v1/reports/{report_id}")).json()
    return {
        "page": re.sub(r'name="_csrf_token" value="[^"]*"', "", found(board_line_html).group(0)),
        "api": [d for d in api["deliveries"] if d["recipient"] == "board"],
        "list": await queries.list_deliveries(director, DeliveryFilters()),
        "tasks": await tasks_for(director),
        "audit": await AuditEvent.count().where(scopes.audit_events(director)),
        "emails": await OutboundEmail.count().where(
            OutboundEmail.recipient == "director@example.org"
        ),
    }


async def test_the_director_sees_the_board_line_the_same_with_and_without_a_proposal(client, cast):
    delivery_id = await board_delivery(cast)
    report_id = (await delivery(delivery_id))["report"]
    board = await viewer_for(cast.board)
    await services.open_report(report_id, board)  # read on the Board line, before
    await sign_in(client, cast.director)
    before = await _what_the_director_sees(client, cast, report_id)
    proposal = await board_line.propose_board_response(delivery_id, ANSWER, board)
    after = await _what_the_director_sees(client, cast, report_id)
    assert after == before
    assert before["api"][0]["proposal"] is None
    # Acting on it is "not found", worded exactly as for a proposal that does not exist.
    token = {"x-csrftoken": await csrf_token(client)}
    answers = []
    for some_id in (proposal, proposal + 1000):
        response = await client.post(f"/api/v1/board-proposals/{some_id}/concur", headers=token)
        answers.append((response.status_code, response.json()["detail"]))
    assert answers[0] == answers[1] and answers[0][0] in {403, 404}
    page = await post_form(client, f"/board-proposals/{proposal}/concur", {})
    missing = await post_form(client, f"/board-proposals/{proposal + 1000}/concur", {})
    assert page.status_code == missing.status_code == 404
    assert await ProposalConcurrence.count() == 0


async def test_the_pages_say_clearly_why_a_step_is_refused(client, cast):
    delivery_id = await board_delivery(cast)
    report_id = (await delivery(delivery_id))["report"]
    await sign_in(client, cast.board)
    response = await post_form(
        client, f"/deliveries/{delivery_id}/propose", {"response": "declined", "rationale": ""}
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "rationale")
    response = await post_form(
        client, f"/deliveries/{delivery_id}/propose", {"response": "accepted", "rationale": ""}
    )
    assert response.status_code == 302
    proposal = found(await BoardResponseProposal.select().first())["id"]
    # Concurring with one's own proposal.
    response = await post_form(client, f"/board-proposals/{proposal}/concur", {})
    response = await shown_after_refusal(client, response)
    assert "your proposal counts as your concurrence" in response.text
    # A meeting date in the future, with every field's error.
    tomorrow = (organisation_today() + dt.timedelta(days=1)).isoformat()
    response = await post_form(
        client,
        f"/board-proposals/{proposal}/decided-at-meeting",
        {"meeting": "", "meeting_on": tomorrow},
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "meeting") and field_error(response.text, "meeting_on")
    # A group member is no Board member: there is nothing there for them.
    await sign_in(client, cast.chair)
    response = await post_form(client, f"/board-proposals/{proposal}/concur", {})
    assert response.status_code == 404
    page = (await client.get(f"/reports/{report_id}")).text
    assert "Proposed Board response" not in page
    # The second Board member reads it and objects; acting after that is refused, saying why.
    await sign_in(client, cast.board2)
    page = (await client.get(f"/reports/{report_id}")).text
    assert "Proposed Board response: Accepted" in page
    response = await post_form(client, f"/board-proposals/{proposal}/object", {"reason": ""})
    assert response.status_code == 302
    # Two Board members: the objection left nobody to concur, so the proposal lapsed.
    assert found(await BoardResponseProposal.select().first())["status"] == "lapsed"
    response = await post_form(client, f"/board-proposals/{proposal}/concur", {})
    response = await shown_after_refusal(client, response)
    assert "lapsed" in response.text
