"""The rules of action items: who creates, who updates, who reassigns; the status state
machine with every refused transition; due dates; visibility in every read; the audit trail."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from governance.actions import queries, schemas, services
from governance.actions.schemas import NewAction, ProgressNote, Reassignment, StatusChange
from governance.actions.tables import ActionItem, ActionOwner, ActionUpdate
from governance.core.clock import organisation_today, utcnow
from governance.core.db import write_transaction
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.core.tables import AuditEvent
from governance.meetings import services as meetings
from governance.meetings.schemas import (
    AgendaItemDetails,
    AttendanceEntry,
    AttendanceRecord,
    NewDecision,
)
from tests.actions.conftest import fields, make_action, make_overdue
from tests.factories import make_meeting, make_membership, make_user, viewer_for
from tests.helpers import found


async def _events(action: str | None = None) -> int:
    query = AuditEvent.count()
    if action:
        query = query.where(AuditEvent.action == action)
    return int(await query)


async def _status(action_id: int) -> str:
    row = found(
        await ActionItem.select(ActionItem.status).where(ActionItem.id == action_id).first()
    )
    return str(row["status"])


async def _snapshot() -> dict[str, object]:
    """Everything a refused change must leave as it was."""
    return {
        "actions": await ActionItem.select().order_by(ActionItem.id),
        "owners": await ActionOwner.select().order_by(ActionOwner.id),
        "updates": await ActionUpdate.count(),
        "audit": await AuditEvent.count(),
    }


# --- creating ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["chair", "secretary"])
async def test_chair_and_secretary_create_actions(cast, who):
    action_id = await make_action(cast, by=getattr(cast, who), owners=[cast.member, cast.member2])
    action = await queries.get_action(action_id, await viewer_for(cast.member))
    assert action.status == "open"
    assert action.owner_names == ["Member One", "Member Two"]
    assert action.created_by == getattr(cast, who)
    assert action.source_type == "group" and action.source_id is None
    assert await _events("action.created") == 1


@pytest.mark.parametrize("who", ["member", "former", "director", "board", "admin", "stranger"])
async def test_no_one_else_creates_actions(cast, who):
    with pytest.raises(PermissionDenied):
        await make_action(cast, by=getattr(cast, who))
    assert await ActionItem.count() == 0
    assert await _events("action.created") == 0


async def test_a_due_date_in_the_past_is_refused_on_creation(cast):
    chair = await viewer_for(cast.chair)
    events = await _events()
    with pytest.raises(InvalidInput) as refused:
        await services.create_action(
            cast.group_id, fields(owners=[cast.member], due_in_days=-1), chair
        )
    assert refused.value.field_errors == {"due_on": "The due date cannot be in the past."}
    assert await ActionItem.count() == 0
    assert await _events() == events
    # Today is not in the past.
    await services.create_action(cast.group_id, fields(owners=[cast.member], due_in_days=0), chair)
    assert await ActionItem.count() == 1


async def test_every_bad_field_is_named_and_nothing_is_saved(cast):
    chair = await viewer_for(cast.chair)
    events = await _events()
    bad = NewAction(
        title="   ",
        description="",
        due_on=organisation_today() - dt.timedelta(days=3),
        visibility="secret",
        owner_ids=[],
    )
    with pytest.raises(InvalidInput) as refused:
        await services.create_action(cast.group_id, bad, chair)
    assert set(refused.value.field_errors) == {"title", "due_on", "visibility", "owner_ids"}
    with pytest.raises(InvalidInput) as refused:
        await services.create_action(
            cast.group_id, fields("x" * 301, owners=[cast.member], description="a\x00b"), chair
        )
    assert set(refused.value.field_errors) == {"title", "description"}
    assert await ActionItem.count() == 0
    assert await _events() == events


@pytest.mark.parametrize("who", ["former", "stranger", "director", "board"])
async def test_owners_are_current_members_of_the_group(cast, who):
    chair = await viewer_for(cast.chair)
    with pytest.raises(InvalidInput) as refused:
        await services.create_action(
            cast.group_id, fields(owners=[cast.member, getattr(cast, who)]), chair
        )
    assert refused.value.field_errors == {
        "owner_ids": "Choose owners from the group's current members."
    }
    assert await ActionItem.count() == 0


async def test_owners_must_have_active_accounts(cast):
    gone = await make_user("gone@example.org", active=False)
    chair = await viewer_for(cast.chair)
    for owners in ([gone], [2_000_000]):
        with pytest.raises(InvalidInput) as refused:
            await services.create_action(cast.group_id, fields(owners=owners), chair)
        assert "active account" in refused.value.field_errors["owner_ids"]
    assert await ActionItem.count() == 0


async def test_an_action_comes_from_a_meeting_or_decision_of_its_own_group(cast):
    # A meeting that has started, with three members present: it takes a 3-0 decision.
    started = (utcnow() - dt.timedelta(hours=1)).replace(microsecond=0)
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=started)
    chair = await viewer_for(cast.chair)
    item_id = await meetings.add_agenda_item(
        meeting_id, AgendaItemDetails(title="Budget", visibility="board", notes=""), chair
    )
    present = [
        AttendanceEntry(user_id=user, mode="present")
        for user in (cast.chair, cast.secretary, cast.member)
    ]
    await meetings.record_attendance(meeting_id, AttendanceRecord(entries=present), chair)
    decision_id = await meetings.record_decision(
        meeting_id,
        NewDecision(
            agenda_item_id=item_id,
            text="Fund the survey",
            votes_for=3,
            votes_against=0,
            votes_abstain=0,
        ),
        chair,
    )
    from_meeting = await make_action(cast, source_type="meeting", source_id=meeting_id)
    from_decision = await make_action(cast, source_type="decision", source_id=decision_id)
    found = await queries.actions_for_sources("meeting", [meeting_id], chair)
    assert [a.id for a in found[meeting_id]] == [from_meeting]
    found = await queries.actions_for_sources("decision", [decision_id, 99], chair)
    assert [a.id for a in found[decision_id]] == [from_decision] and found[99] == []
    # The decision's item is `board`: the form suggests that visibility.
    source = await queries.describe_source(cast.group_id, "decision", decision_id)
    assert source is not None and source.visibility == "board"
    # Another group's meeting, a missing decision, a response, a group action with a source.
    other_chair = await make_user("other-chair@example.org")
    await make_membership(other_chair, cast.other_group_id, "chair")
    other_meeting = await make_meeting("ndi", other_chair)
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"source_type": "meeting", "source_id": other_meeting}, "source_id"),
        ({"source_type": "decision", "source_id": decision_id + 100}, "source_id"),
        ({"source_type": "meeting"}, "source_id"),
        ({"source_type": "response", "source_id": 1}, "source_type"),
        ({"source_type": "group", "source_id": meeting_id}, "source_id"),
        ({"source_type": "minutes", "source_id": 1}, "source_type"),
    ]
    for source_args, field in refusals:
        with pytest.raises(InvalidInput) as refused:
            await make_action(cast, **source_args)
        assert field in refused.value.field_errors, source_args
    assert await ActionItem.count() == 2
    with pytest.raises(NotFoundError):
        await queries.describe_source(cast.group_id, "meeting", other_meeting)


async def test_insert_action_for_a_response_has_no_permission_check_and_any_active_owner(cast):
    director = await viewer_for(cast.director)
    action_id = await services.insert_action(
        cast.group_id,
        fields(
            "Review the workload policy",
            owners=[cast.director, cast.chair],
            source_type="response",
            source_id=7,
        ),
        director.user,
    )
    action = await queries.get_action(action_id, director)
    assert action.source_type == "response" and action.source_id == 7
    assert action.created_by == cast.director
    assert action.is_owner and not action.can_manage and action.can_update
    event = await AuditEvent.select().where(AuditEvent.action == "action.created").first()
    assert event is not None
    assert event["actor_id"] == cast.director and event["entity_id"] == str(action_id)
    found = await queries.actions_for_sources("response", [7, 8], director)
    assert [a.id for a in found[7]] == [action_id] and found[8] == []


async def test_insert_action_never_gives_a_board_action_to_the_director(cast):
    board = await viewer_for(cast.board)
    for visibility, owner in (("board", cast.director), ("group", cast.board)):
        with pytest.raises(InvalidInput) as refused:
            await services.insert_action(
                cast.group_id,
                fields(owners=[owner], visibility=visibility, source_type="response", source_id=3),
                board.user,
            )
        assert "may not read" in refused.value.field_errors["owner_ids"]
    await services.insert_action(
        cast.group_id,
        fields(owners=[cast.board], visibility="board", source_type="response", source_id=3),
        board.user,
    )
    assert await ActionItem.count() == 1


async def test_insert_action_joins_the_callers_transaction(cast):
    actor = (await viewer_for(cast.board)).user
    events = await _events()

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with write_transaction():
            await services.insert_action(
                cast.group_id,
                fields(owners=[cast.member], source_type="response", source_id=1),
                actor,
            )
            assert await ActionItem.count() == 1
            raise Boom
    assert await ActionItem.count() == 0
    assert await ActionOwner.count() == 0
    assert await _events() == events
    async with write_transaction():
        first = await services.insert_action(
            cast.group_id, fields(owners=[cast.member], source_type="response", source_id=1), actor
        )
        second = await services.insert_action(
            cast.group_id, fields(owners=[cast.member2], source_type="response", source_id=1), actor
        )
    assert second == first + 1 and await _events("action.created") == 2


async def test_insert_action_checks_the_group_and_the_source(cast):
    actor = (await viewer_for(cast.board)).user
    with pytest.raises(NotFoundError):
        await services.insert_action(9999, fields(owners=[cast.member]), actor)
    with pytest.raises(InvalidInput):
        await services.insert_action(
            cast.group_id, fields(owners=[cast.member], source_type="response"), actor
        )
    assert await ActionItem.count() == 0


# --- the status state machine -----------------------------------------------------------


ALLOWED = [
    ("open", "in_progress"),
    ("open", "done"),
    ("open", "dropped"),
    ("in_progress", "done"),
    ("in_progress", "dropped"),
]
REFUSED = [
    ("open", "open"),
    ("in_progress", "open"),
    ("in_progress", "in_progress"),
    *[("done", to) for to in schemas.ACTION_STATUSES],
    *[("dropped", to) for to in schemas.ACTION_STATUSES],
]


async def _action_in(cast, status: str) -> int:
    action_id = await make_action(cast)
    owner = await viewer_for(cast.member)
    if status in ("in_progress", "done", "dropped"):
        await services.update_status(action_id, StatusChange(status="in_progress", note=""), owner)
    if status in ("done", "dropped"):
        await services.update_status(
            action_id, StatusChange(status=status, note="Reason enough"), owner
        )
    assert await _status(action_id) == status
    return action_id


@pytest.mark.parametrize(("start", "to"), ALLOWED)
async def test_allowed_transitions(cast, start, to):
    action_id = await _action_in(cast, start)
    before = await _events("action.status_changed")
    await services.update_status(
        action_id, StatusChange(status=to, note="Because"), await viewer_for(cast.member)
    )
    row = found(await ActionItem.select().where(ActionItem.id == action_id).first())
    assert row["status"] == to
    assert (row["completed_at"] is not None) == (to == "done")
    assert row["drop_reason"] == ("Because" if to == "dropped" else "")
    update = found(
        await ActionUpdate.select()
        .where(ActionUpdate.action == action_id)
        .order_by(ActionUpdate.id, ascending=False)
        .first()
    )
    assert (update["status_from"], update["status_to"], update["body"]) == (start, to, "Because")
    assert update["author"] == cast.member
    assert await _events("action.status_changed") == before + 1


@pytest.mark.parametrize(("start", "to"), REFUSED)
async def test_refused_transitions_change_nothing(cast, start, to):
    action_id = await _action_in(cast, start)
    before = await _snapshot()
    with pytest.raises(ConflictError) as refused:
        await services.update_status(
            action_id, StatusChange(status=to, note="Try"), await viewer_for(cast.chair)
        )
    if start in ("done", "dropped"):
        assert refused.value.message == f"This action is {start}; its status is final."
    assert await _snapshot() == before


async def test_dropping_needs_a_reason(cast):
    action_id = await make_action(cast)
    before = await _snapshot()
    with pytest.raises(InvalidInput) as refused:
        await services.update_status(
            action_id, StatusChange(status="dropped", note="   "), await viewer_for(cast.member)
        )
    assert refused.value.field_errors == {"note": "Give the reason for dropping this action."}
    with pytest.raises(InvalidInput) as refused:
        await services.update_status(
            action_id, StatusChange(status="finished", note=""), await viewer_for(cast.member)
        )
    assert "status" in refused.value.field_errors
    assert await _snapshot() == before


# --- who may change what ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["member", "chair", "secretary"])
async def test_owners_chairs_and_secretaries_update_status_and_progress(cast, who):
    action_id = await make_action(cast)
    viewer = await viewer_for(getattr(cast, who))
    await services.add_progress(action_id, ProgressNote(body="Questions drafted"), viewer)
    await services.update_status(action_id, StatusChange(status="in_progress", note=""), viewer)
    action = await queries.get_action(action_id, viewer)
    assert action.status == "in_progress"
    assert [u.body for u in action.updates] == ["Questions drafted", ""]
    assert action.updates[0].author_name == action.updates[1].author_name
    assert await _events("action.progress_added") == 1


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("member2", PermissionDenied),
        ("director", PermissionDenied),
        ("board", PermissionDenied),
        ("former", NotFoundError),
        ("stranger", NotFoundError),
        ("admin", NotFoundError),
    ],
)
async def test_no_one_else_updates(cast, who, error):
    action_id = await make_action(cast)
    viewer = await viewer_for(getattr(cast, who))
    before = await _snapshot()
    with pytest.raises(error):
        await services.update_status(action_id, StatusChange(status="done", note=""), viewer)
    with pytest.raises(error):
        await services.add_progress(action_id, ProgressNote(body="Mine"), viewer)
    with pytest.raises(error):
        await services.change_owners_and_due(
            action_id,
            Reassignment(
                owner_ids=[cast.member2], due_on=organisation_today() + dt.timedelta(days=30)
            ),
            viewer,
        )
    assert await _snapshot() == before


async def test_an_owner_who_left_the_group_still_updates_what_they_own(cast):
    action_id = await make_action(cast)
    await ActionOwner.insert(ActionOwner(action=action_id, user=cast.former))
    former = await viewer_for(cast.former)
    await services.update_status(action_id, StatusChange(status="done", note="Handed over"), former)
    assert await _status(action_id) == "done"


async def test_progress_needs_text_and_an_open_action(cast):
    action_id = await make_action(cast)
    owner = await viewer_for(cast.member)
    with pytest.raises(InvalidInput) as refused:
        await services.add_progress(action_id, ProgressNote(body="  "), owner)
    assert refused.value.field_errors == {"body": "A progress note cannot be empty."}
    await services.update_status(action_id, StatusChange(status="done", note=""), owner)
    before = await _snapshot()
    with pytest.raises(ConflictError):
        await services.add_progress(action_id, ProgressNote(body="After the fact"), owner)
    assert await _snapshot() == before


async def test_only_chairs_and_secretaries_reassign_or_move_the_due_date(cast):
    action_id = await make_action(cast)
    owner = await viewer_for(cast.member)
    later = organisation_today() + dt.timedelta(days=40)
    before = await _snapshot()
    with pytest.raises(PermissionDenied):
        await services.change_owners_and_due(
            action_id, Reassignment(owner_ids=[cast.member], due_on=later), owner
        )
    with pytest.raises(PermissionDenied):
        await services.change_owners_and_due(
            action_id, Reassignment(owner_ids=[cast.member2], due_on=later), owner
        )
    assert await _snapshot() == before
    await services.change_owners_and_due(
        action_id,
        Reassignment(owner_ids=[cast.member2, cast.secretary], due_on=later),
        await viewer_for(cast.chair),
    )
    action = await queries.get_action(action_id, await viewer_for(cast.chair))
    assert set(action.owner_ids) == {cast.member2, cast.secretary}
    assert action.due_on == later
    assert "Owners: Member One → Member Two, Secretary Person." in action.updates[-1].body
    assert await _events("action.reassigned") == 1
    # No longer the owner, the member no longer finds it in My actions.
    assert await queries.my_actions(owner) == []


async def test_reassignment_rules(cast):
    action_id = await make_action(cast)
    chair = await viewer_for(cast.chair)
    due = (await queries.get_action(action_id, chair)).due_on
    before = await _snapshot()
    cases = [
        ([], due, "owner_ids"),
        ([cast.stranger], due, "owner_ids"),
        ([cast.former], due, "owner_ids"),
        ([cast.member], organisation_today() - dt.timedelta(days=1), "due_on"),
        ([cast.member], due, "owner_ids"),  # nothing to change
    ]
    for owners, due_on, field in cases:
        with pytest.raises(InvalidInput) as refused:
            await services.change_owners_and_due(
                action_id, Reassignment(owner_ids=owners, due_on=due_on), chair
            )
        assert field in refused.value.field_errors, (owners, due_on)
    assert await _snapshot() == before
    # An overdue action can be reassigned without moving its date.
    await make_overdue(action_id)
    await services.change_owners_and_due(
        action_id,
        Reassignment(owner_ids=[cast.member2], due_on=organisation_today() - dt.timedelta(days=3)),
        chair,
    )
    await services.update_status(action_id, StatusChange(status="done", note=""), chair)
    with pytest.raises(ConflictError):
        await services.change_owners_and_due(
            action_id,
            Reassignment(
                owner_ids=[cast.member], due_on=organisation_today() + dt.timedelta(days=3)
            ),
            chair,
        )


# --- reading ----------------------------------------------------------------------------


READERS = {
    # who: the visibilities they read of the group's actions (they own none)
    "chair": {"public", "internal", "board", "group"},
    "secretary": {"public", "internal", "board", "group"},
    "member2": {"public", "internal", "board", "group"},
    "director": {"public", "internal"},
    "board": {"public", "internal", "board"},
    "former": set(),
    "stranger": set(),
    "admin": set(),
}


async def _one_of_each(cast) -> dict[str, int]:
    return {
        visibility: await make_action(cast, f"{visibility.upper()}-ACTION", visibility=visibility)
        for visibility in ("public", "internal", "board", "group")
    }


@pytest.mark.parametrize("who", sorted(READERS))
async def test_visibility_matrix(cast, who):
    ids = await _one_of_each(cast)
    viewer = await viewer_for(getattr(cast, who))
    listed = await queries.list_group_actions(cast.slug, viewer)
    assert {a.visibility for a in listed.actions} == READERS[who]
    for visibility, action_id in ids.items():
        if visibility in READERS[who]:
            assert (await queries.get_action(action_id, viewer)).id == action_id
        else:
            with pytest.raises(NotFoundError):
                await queries.get_action(action_id, viewer)
    found = await queries.actions_for_sources("group", [], viewer)
    assert found == {}
    # My actions holds only what they own or created: the chair created all four.
    mine = await queries.my_actions(viewer)
    assert len(mine) == (4 if who == "chair" else 0)


async def test_owners_always_see_what_they_own(cast):
    ids = await _one_of_each(cast)
    # Someone who owns all four and has since left the group still sees them, and only them.
    await make_action(cast, "NOT-OWNED")
    await ActionOwner.insert(
        *[ActionOwner(action=action_id, user=cast.former) for action_id in ids.values()]
    )
    former = await viewer_for(cast.former)
    listed = await queries.list_group_actions(cast.slug, former)
    assert len(listed.actions) == 4 and not listed.can_read
    assert len(await queries.my_actions(former)) == 4


async def test_board_action_is_invisible_to_the_director_everywhere(cast):
    ids = await _one_of_each(cast)
    director = await viewer_for(cast.director)
    listed = await queries.list_group_actions(cast.slug, director, owner_id=cast.member)
    assert "BOARD-ACTION" not in {a.title for a in listed.actions}
    assert await queries.my_actions(director) == []
    found = await queries.actions_for_sources("group", [0], director)
    assert found == {0: []}
    with pytest.raises(NotFoundError):
        await queries.get_action(ids["board"], director)
    board = await viewer_for(cast.board)
    with pytest.raises(NotFoundError):
        await queries.get_action(ids["group"], board)


async def test_filters(cast):
    first = await make_action(cast, "First", owners=[cast.member])
    second = await make_action(cast, "Second", owners=[cast.member2])
    chair = await viewer_for(cast.chair)
    await services.update_status(second, StatusChange(status="in_progress", note=""), chair)
    by_owner = await queries.list_group_actions(cast.slug, chair, owner_id=cast.member2)
    assert [a.id for a in by_owner.actions] == [second]
    by_status = await queries.list_group_actions(cast.slug, chair, status="open")
    assert [a.id for a in by_status.actions] == [first]
    with pytest.raises(InvalidInput):
        await queries.list_group_actions(cast.slug, chair, status="late")
    with pytest.raises(NotFoundError):
        await queries.list_group_actions("nowhere", chair)
    created = await queries.my_actions(chair, status="in_progress")
    assert [a.id for a in created] == [second]
    assert await queries.my_actions(chair, group_slug="ndi") == []
    assert len(await queries.my_actions(chair, group_slug=cast.slug)) == 2


async def test_my_actions_are_assigned_or_created_and_overdue_first(cast):
    later = await make_action(cast, "Later", due_in_days=30)
    soon = await make_action(cast, "Soon", due_in_days=2)
    overdue_long = await make_action(cast, "Overdue long", due_in_days=1)
    overdue_short = await make_action(cast, "Overdue short", due_in_days=1)
    done_late = await make_action(cast, "Done late", due_in_days=1)
    not_mine = await make_action(cast, "Not mine", owners=[cast.member2])
    await make_overdue(overdue_long, days=10)
    await make_overdue(overdue_short, days=2)
    await make_overdue(done_late, days=20)
    owner = await viewer_for(cast.member)
    await services.update_status(done_late, StatusChange(status="done", note=""), owner)
    mine = await queries.my_actions(owner)
    assert [a.id for a in mine] == [overdue_long, overdue_short, done_late, soon, later]
    assert [a.is_overdue for a in mine] == [True, True, False, False, False]
    assert not_mine not in [a.id for a in mine]
    # The chair created them all.
    assert len(await queries.my_actions(await viewer_for(cast.chair))) == 6


async def test_a_row_carries_owners_names_and_the_overdue_flag(cast):
    action_id = await make_action(cast, owners=[cast.member2, cast.member])
    await make_overdue(action_id)
    [row] = (await queries.list_group_actions(cast.slug, await viewer_for(cast.board))).actions
    assert row.owner_names == ["Member One", "Member Two"]
    assert row.is_overdue is True
    assert row.group_slug == cast.slug and row.created_by_name == "Chair Person"


# --- the audit trail --------------------------------------------------------------------


async def test_each_change_is_audited_without_the_title(cast):
    action_id = await make_action(cast, "SECRET-TITLE", visibility="board")
    chair = await viewer_for(cast.chair)
    owner = await viewer_for(cast.member)
    await services.add_progress(action_id, ProgressNote(body="SECRET-NOTE"), owner)
    await services.change_owners_and_due(
        action_id,
        Reassignment(owner_ids=[cast.member2], due_on=organisation_today() + dt.timedelta(days=20)),
        chair,
    )
    await services.update_status(
        action_id, StatusChange(status="dropped", note="SECRET-REASON"), chair
    )
    events = await AuditEvent.select().order_by(AuditEvent.sequence)
    actions = [e["action"] for e in events if e["entity_type"] == "action"]
    assert actions == [
        "action.created",
        "action.progress_added",
        "action.reassigned",
        "action.status_changed",
    ]
    for event in events:
        assert "SECRET" not in event["summary"]
        if event["entity_type"] == "action":
            assert event["entity_id"] == str(action_id)
            assert "(board)" in event["summary"]
    assert events[-1]["actor_id"] == cast.chair
    assert "open → dropped" in events[-1]["summary"]


async def test_no_event_for_a_refused_change(cast):
    action_id = await make_action(cast)
    before = await _events()
    attempts = [
        services.update_status(
            action_id, StatusChange(status="open", note=""), await viewer_for(cast.member)
        ),
        services.update_status(
            action_id, StatusChange(status="done", note=""), await viewer_for(cast.member2)
        ),
        services.add_progress(action_id, ProgressNote(body=""), await viewer_for(cast.member)),
        services.change_owners_and_due(
            action_id,
            Reassignment(owner_ids=[cast.member], due_on=utcnow().date()),
            await viewer_for(cast.member),
        ),
    ]
    for attempt in attempts:
        with pytest.raises((ConflictError, PermissionDenied, InvalidInput)):
            await attempt
    assert await _events() == before


# --- changes at the same moment ---------------------------------------------------------


async def test_two_changes_at_once_are_made_one_after_the_other(cast):
    action_id = await make_action(cast)
    owner = await viewer_for(cast.member)
    chair = await viewer_for(cast.chair)
    results = await asyncio.gather(
        services.update_status(action_id, StatusChange(status="done", note=""), owner),
        services.update_status(action_id, StatusChange(status="dropped", note="Not needed"), chair),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["ConflictError", "NoneType"]
    assert await _events("action.status_changed") == 1
    assert await ActionUpdate.count() == 1

    second = await make_action(cast)
    due = organisation_today() + dt.timedelta(days=30)
    await asyncio.gather(
        services.change_owners_and_due(
            second, Reassignment(owner_ids=[cast.member2], due_on=due), chair
        ),
        services.change_owners_and_due(
            second,
            Reassignment(owner_ids=[cast.secretary], due_on=due),
            await viewer_for(cast.secretary),
        ),
        return_exceptions=True,
    )
    owners = await ActionOwner.select(ActionOwner.user).where(ActionOwner.action == second)
    # One reassignment or the other, never a mixture of both.
    assert [o["user"] for o in owners] in ([cast.member2], [cast.secretary])
