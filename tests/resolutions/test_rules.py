"""The rules of written resolutions: who proposes and votes, the outcome under the group's
rule (majority of members, unanimity) with quorum counted from the members on the closing
date, one final vote per member, no vote after the close, withdrawal, the close by the job
and by the last vote, the signed voting links, emails once per event and person, and the
audit trail."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from governance.core.clock import organisation_today, utcnow
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.core.tables import AuditEvent
from governance.groups.tables import Membership, WorkingGroup
from governance.resolutions import notices, queries, services
from governance.resolutions.schemas import NewResolution, NewVote
from governance.resolutions.services import decide, sweep_resolutions
from governance.resolutions.tables import ResolutionVote
from tests.factories import viewer_for
from tests.resolutions.conftest import (
    closes_at,
    emails,
    move_close,
    propose,
    status_of,
    vote,
)

MEMBERS = {1, 2, 3, 4}


# --- the outcome ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("votes", "carried"),
    [
        ({1: "for", 2: "for", 3: "for"}, True),
        ({1: "for", 2: "for", 3: "against", 4: "against"}, False),  # half is not more than half
        ({1: "for", 2: "for", 3: "abstain"}, False),
        ({1: "for", 2: "for", 3: "for", 4: "against"}, True),
    ],
)
def test_a_majority_of_members_carries(votes, carried):
    outcome = decide("majority", "majority", 0, MEMBERS, votes)
    assert outcome.carried is carried
    assert outcome.members == 4


def test_the_majority_is_of_members_not_of_votes_cast():
    # Two for and nobody against, but two of four members is not a majority of members.
    outcome = decide("majority", "fixed", 1, MEMBERS, {1: "for", 2: "for"})
    assert outcome.quorum_met and not outcome.carried


@pytest.mark.parametrize(
    ("votes", "carried"),
    [
        ({1: "for", 2: "for", 3: "for", 4: "for"}, True),
        ({1: "for", 2: "for", 3: "for", 4: "abstain"}, False),
        ({1: "for", 2: "for", 3: "for"}, False),  # one member did not vote
    ],
)
def test_unanimity_needs_every_member(votes, carried):
    assert decide("unanimity", "majority", 0, MEMBERS, votes).carried is carried


def test_without_quorum_nothing_is_carried():
    # A fixed quorum of four: three votes for are a majority of members, but too few voted.
    outcome = decide("majority", "fixed", 4, MEMBERS, {1: "for", 2: "for", 3: "for"})
    assert not outcome.quorum_met and not outcome.carried


def test_votes_of_non_members_do_not_count():
    outcome = decide("majority", "majority", 0, {1, 2, 3}, {1: "for", 2: "for", 9: "against"})
    assert outcome.carried and outcome.votes_against == 0


async def test_quorum_and_outcome_are_counted_from_the_members_on_the_closing_date(cast):
    """Member Two's term ends before voting closes: their vote is kept, marked not
    counted, and the outcome is that of the three members left."""
    resolution = await propose(cast, hours=96)
    today = organisation_today()
    await Membership.update({Membership.ends_on: today + dt.timedelta(days=1)}).where(
        Membership.user == cast.member2
    )
    await vote(resolution, cast.member2, "against")
    await vote(resolution, cast.chair, "for")
    await vote(resolution, cast.secretary, "for")
    # Counted with Member Two: 2 for of 4 members, not carried. Of the 3 on the closing
    # date: 2 for, carried.
    report = await sweep_resolutions(await closes_at(resolution) + dt.timedelta(minutes=1))
    assert report.closed == 1
    view = await queries.resolution_view(resolution, await viewer_for(cast.chair))
    assert view.status == "carried"
    assert (view.members_counted, view.votes_for, view.votes_against) == (3, 2, 0)
    assert view.quorum_met
    assert {v.voter_name: v.counted for v in view.votes}["Member Two"] is False


async def test_unanimity_is_the_groups_setting(cast):
    await WorkingGroup.update({WorkingGroup.resolution_rule: "unanimity"}).where(
        WorkingGroup.id == cast.group_id
    )
    resolution = await propose(cast)
    for user in (cast.chair, cast.secretary, cast.member):
        await vote(resolution, user, "for")
    assert await vote(resolution, cast.member2, "abstain") == "not_carried"
    view = await queries.resolution_view(resolution, await viewer_for(cast.chair))
    assert view.rule == "unanimity" and view.votes_abstain == 1


# --- proposing --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["member", "director", "board", "former", "stranger"])
async def test_only_the_chair_or_secretary_proposes(cast, who):
    with pytest.raises(PermissionDenied):
        await propose(cast, by=getattr(cast, who))
    assert await emails("resolution_proposed") == []


async def test_the_secretary_proposes(cast):
    assert await status_of(await propose(cast, by=cast.secretary)) == "open"


async def test_every_field_error_is_named_at_once(cast):
    command = NewResolution(
        title="", text="", closes_at=utcnow() + dt.timedelta(minutes=5), visibility="everyone"
    )
    with pytest.raises(InvalidInput) as refused:
        await services.propose_resolution(cast.slug, command, await viewer_for(cast.chair))
    assert set(refused.value.field_errors) == {"title", "text", "closes_at", "visibility"}
    far = NewResolution(title="T", text="M", closes_at=utcnow() + dt.timedelta(days=200))
    with pytest.raises(InvalidInput) as refused:
        await services.propose_resolution(cast.slug, far, await viewer_for(cast.chair))
    assert "90 days" in refused.value.field_errors["closes_at"]


# --- voting -----------------------------------------------------------------------------


async def test_a_second_vote_is_refused_and_changes_nothing(cast):
    resolution = await propose(cast)
    await vote(resolution, cast.member, "for")
    with pytest.raises(ConflictError):
        await vote(resolution, cast.member, "against")
    rows = await ResolutionVote.select(ResolutionVote.choice).where(
        ResolutionVote.user == cast.member
    )
    assert rows == [{"choice": "for"}]


async def test_two_votes_of_one_member_at_once_are_recorded_once(cast):
    """The page and the email link at once queue on the resolution's row: the second is
    refused as a second vote, not failed on the unique index."""
    resolution = await propose(cast)
    outcomes = await asyncio.gather(
        vote(resolution, cast.member, "for"),
        vote(resolution, cast.member, "against"),
        return_exceptions=True,
    )
    refused = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], ConflictError), outcomes
    assert await ResolutionVote.count().where(ResolutionVote.user == cast.member) == 1


async def test_only_current_members_vote(cast):
    resolution = await propose(cast)
    for who in ("director", "board"):
        with pytest.raises(PermissionDenied):
            await vote(resolution, getattr(cast, who), "for")
    for who in ("former", "stranger"):
        # Not a reader of the group's content at all: not found.
        with pytest.raises((NotFoundError, PermissionDenied)):
            await vote(resolution, getattr(cast, who), "for")
    assert await ResolutionVote.count() == 0


async def test_a_vote_after_the_closing_time_is_refused(cast):
    resolution = await propose(cast)
    await move_close(resolution, utcnow() - dt.timedelta(minutes=1))
    # Before the job has closed it, and after.
    with pytest.raises(ConflictError):
        await vote(resolution, cast.member, "for")
    await sweep_resolutions()
    assert await status_of(resolution) == "not_carried"
    with pytest.raises(ConflictError):
        await vote(resolution, cast.member, "for")
    assert await ResolutionVote.count() == 0


async def test_the_last_members_vote_closes_it(cast):
    resolution = await propose(cast)
    for user in (cast.chair, cast.secretary, cast.member):
        assert await vote(resolution, user, "for") == "open"
    assert await vote(resolution, cast.member2, "against") == "carried"
    result = await emails("resolution_result")
    assert len(result) == 4
    # The job finds nothing more to do.
    assert (await sweep_resolutions()).closed == 0
    assert len(await emails("resolution_result")) == 4


async def test_a_bad_vote_names_the_field(cast):
    resolution = await propose(cast)
    with pytest.raises(InvalidInput) as refused:
        await services.cast_vote(resolution, NewVote(choice="maybe"), await viewer_for(cast.member))
    assert "choice" in refused.value.field_errors


# --- withdrawing ------------------------------------------------------------------------


async def test_the_chair_withdraws_before_the_close(cast):
    resolution = await propose(cast)
    await vote(resolution, cast.member, "for")
    with pytest.raises(PermissionDenied):
        await services.withdraw_resolution(resolution, await viewer_for(cast.member))
    await services.withdraw_resolution(resolution, await viewer_for(cast.chair))
    assert await status_of(resolution) == "withdrawn"
    with pytest.raises(ConflictError):
        await vote(resolution, cast.member2, "for")
    with pytest.raises(ConflictError):
        await services.withdraw_resolution(resolution, await viewer_for(cast.chair))
    assert (await sweep_resolutions(utcnow() + dt.timedelta(days=30))).closed == 0
    assert await status_of(resolution) == "withdrawn"
    assert len(await emails("resolution_result")) == 4


async def test_no_withdrawal_after_the_close(cast):
    resolution = await propose(cast)
    await move_close(resolution, utcnow() - dt.timedelta(minutes=1))
    await sweep_resolutions()
    with pytest.raises(ConflictError):
        await services.withdraw_resolution(resolution, await viewer_for(cast.chair))


# --- voting links -----------------------------------------------------------------------


async def test_a_member_votes_from_the_signed_link(cast):
    resolution = await propose(cast)
    token = notices.vote_token(resolution, cast.member)
    ballot = await services.ballot(token)
    assert ballot.may_vote and ballot.voter_name == "Member One"
    await services.vote_by_link(token, NewVote(choice="for", comment="Good idea"))
    assert (await services.ballot(token)).my_vote == "for"
    with pytest.raises(ConflictError):
        await services.vote_by_link(token, NewVote(choice="against"))


async def test_an_altered_or_foreign_link_is_not_found(cast):
    resolution = await propose(cast)
    with pytest.raises(NotFoundError):
        await services.vote_by_link("not-a-link", NewVote(choice="for"))
    meeting_reply = notices.sign("meeting-reply", [resolution, cast.member])
    with pytest.raises(NotFoundError):
        await services.ballot(meeting_reply)


async def test_a_former_members_link_no_longer_votes(cast):
    resolution = await propose(cast)
    token = notices.vote_token(resolution, cast.former)
    with pytest.raises(PermissionDenied):
        await services.vote_by_link(token, NewVote(choice="for"))


# --- emails -----------------------------------------------------------------------------


async def test_the_proposal_goes_once_to_each_current_member(cast):
    await propose(cast)
    recipients = sorted(row["recipient"] for row in await emails("resolution_proposed"))
    assert recipients == [
        "chair@example.org",
        "member2@example.org",
        "member@example.org",
        "secretary@example.org",
    ]


async def test_the_reminder_goes_once_a_day_before_to_those_who_have_not_voted(cast):
    resolution = await propose(cast, hours=72)
    await vote(resolution, cast.member, "for")
    # Not yet: more than a day to go.
    assert (await sweep_resolutions()).reminded == 0
    within_a_day = await closes_at(resolution) - dt.timedelta(hours=23)
    first = await sweep_resolutions(within_a_day)
    again = await sweep_resolutions(within_a_day + dt.timedelta(minutes=5))
    assert first.reminded == 3 and again.reminded == 0
    recipients = sorted(row["recipient"] for row in await emails("resolution_reminder"))
    assert recipients == ["chair@example.org", "member2@example.org", "secretary@example.org"]


async def test_no_reminder_for_a_resolution_open_less_than_a_day(cast):
    await propose(cast, hours=3)
    assert (await sweep_resolutions()).reminded == 0


# --- the audit trail --------------------------------------------------------------------


async def test_each_step_is_audited_without_the_motion(cast):
    resolution = await propose(cast, title="Secret title")
    await vote(resolution, cast.member, "for")
    await move_close(resolution, utcnow() - dt.timedelta(minutes=1))
    await sweep_resolutions()
    withdrawn = await propose(cast)
    await services.withdraw_resolution(withdrawn, await viewer_for(cast.chair))
    events = await AuditEvent.select(AuditEvent.action, AuditEvent.summary).where(
        AuditEvent.action.like("resolution.%")
    )
    actions = sorted(event["action"] for event in events)
    assert actions == [
        "resolution.closed",
        "resolution.proposed",
        "resolution.proposed",
        "resolution.voted",
        "resolution.withdrawn",
    ]
    assert not any("Secret title" in e["summary"] or "survey" in e["summary"] for e in events)
