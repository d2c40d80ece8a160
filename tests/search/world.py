"""A world with a secret word in every kind of searchable record, at every visibility and
stage, made through the services (so the index is filled by the audit listener), and who
of the personas may read each one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from governance.actions.schemas import NewAction
from governance.actions.services import create_action
from governance.core.clock import organisation_today, utcnow
from governance.meetings import services as meetings
from governance.meetings.schemas import (
    AgendaItemDetails,
    AttendanceEntry,
    AttendanceRecord,
    MinutesDraft,
    NewDecision,
)
from governance.reports import services as reports
from governance.reports.schemas import LineResponse, ReportDraft
from governance.reports.tables import Delivery
from tests.factories import make_group, make_meeting, make_membership, make_user, viewer_for

PERSONAS = ("admin", "director", "board", "chair", "member", "other_member")
MEMBERS = {"chair", "member"}
INTERNAL = MEMBERS | {"director", "board"}
BOARD = MEMBERS | {"board"}
# A word in no record: what a search for a hidden record must look exactly like.
NONSENSE = "qqnothingatallqq"


@dataclass
class SearchWorld:
    users: dict[str, int]
    # Secret word -> the personas who may find the record that holds it.
    readers: dict[str, set[str]] = field(default_factory=dict)
    meeting_id: int = 0
    draft_report_id: int = 0


async def _people(world: SearchWorld) -> tuple[int, int]:
    alpha = await make_group(slug="alpha", name="Alpha group")
    beta = await make_group(slug="beta", name="Beta group")
    world.users = {
        "admin": await make_user(name="Admin", admin=True),
        "director": await make_user(name="Director", director=True),
        "board": await make_user(name="Board member", board=True),
        "chair": await make_user(name="Chair"),
        "member": await make_user(name="Member"),
        "other_member": await make_user(name="Other member"),
    }
    await make_membership(world.users["chair"], alpha, "chair")
    await make_membership(world.users["member"], alpha, "member")
    await make_membership(world.users["other_member"], beta, "member")
    return alpha, beta


def _items(prefix: str) -> dict[str, AgendaItemDetails]:
    return {
        visibility: AgendaItemDetails(
            title=f"Item {prefix}{visibility}title",
            visibility=visibility,
            notes=f"Notes {prefix}{visibility}notes",
        )
        for visibility in ("public", "internal", "board", "group")
    }


ITEM_READERS = {"public": INTERNAL, "internal": INTERNAL, "board": BOARD, "group": MEMBERS}


async def _held_meeting(world: SearchWorld, prefix: str, days_ago: int) -> dict[str, int]:
    chair = world.users["chair"]
    leader = await viewer_for(chair)
    starts_at = utcnow().replace(microsecond=0) - dt.timedelta(days=days_ago)
    meeting_id = await make_meeting(
        "alpha", chair, title=f"Meeting {prefix}meetingtitle", starts_at=starts_at
    )
    world.readers[f"{prefix}meetingtitle"] = INTERNAL
    items = {}
    for visibility, details in _items(prefix).items():
        items[visibility] = await meetings.add_agenda_item(meeting_id, details, leader)
        world.readers[f"{prefix}{visibility}title"] = ITEM_READERS[visibility]
        world.readers[f"{prefix}{visibility}notes"] = ITEM_READERS[visibility]
    await meetings.mark_meeting_held(meeting_id, leader)
    entries = [AttendanceEntry(user_id=u, mode="present") for u in (chair, world.users["member"])]
    await meetings.record_attendance(
        meeting_id, AttendanceRecord(entries=entries, guests=[]), leader
    )
    minutes = MinutesDraft(
        summary=f"Summary {prefix}summary",
        items={item: f"Recorded {prefix}{visibility}record" for visibility, item in items.items()},
    )
    await meetings.save_minutes(meeting_id, minutes, leader)
    for visibility, item in items.items():
        decision = NewDecision(
            agenda_item_id=item,
            text=f"Decided {prefix}{visibility}decision",
            votes_for=2,
            votes_against=0,
            votes_abstain=0,
        )
        await meetings.record_decision(meeting_id, decision, leader)
        world.readers[f"{prefix}{visibility}decision"] = ITEM_READERS[visibility]
    world.meeting_id = meeting_id
    return items


async def _minutes(world: SearchWorld) -> None:
    """Draft minutes are read by their writers only (the chair); circulated ones by each
    item's readers."""
    await _held_meeting(world, "xqdraft", 3)
    world.readers["xqdraftsummary"] = {"chair"}
    for visibility in ITEM_READERS:
        world.readers[f"xqdraft{visibility}record"] = {"chair"}
    await _held_meeting(world, "xqcirc", 10)
    await meetings.circulate_minutes(world.meeting_id, await viewer_for(world.users["chair"]))
    world.readers["xqcircsummary"] = INTERNAL
    for visibility, readers in ITEM_READERS.items():
        world.readers[f"xqcirc{visibility}record"] = readers


async def _actions(world: SearchWorld, alpha: int) -> None:
    leader = await viewer_for(world.users["chair"])
    due = organisation_today() + dt.timedelta(days=10)
    for visibility, readers in ITEM_READERS.items():
        await create_action(
            alpha,
            NewAction(
                title=f"Action xq{visibility}action",
                description=f"Described xq{visibility}actiondescription",
                due_on=due,
                visibility=visibility,
                owner_ids=[world.users["member"]],
            ),
            leader,
        )
        world.readers[f"xq{visibility}action"] = readers
        world.readers[f"xq{visibility}actiondescription"] = readers


async def _report(world: SearchWorld, word: str, route: str, submit: bool) -> int:
    leader = await viewer_for(world.users["chair"])
    draft = ReportDraft(
        kind="recommendation",
        period="",
        title=f"Report {word}",
        body=f"Body {word}body",
        route=route,
    )
    report_id = await reports.create_report("alpha", draft, leader)
    if submit:
        await reports.submit_report(report_id, leader)
    return report_id


async def _reports(world: SearchWorld) -> None:
    both = await _report(world, "xqbothreport", "both", True)
    board_only = await _report(world, "xqboardreport", "board", True)
    world.draft_report_id = await _report(world, "xqdraftreport", "both", False)
    for word, readers in (
        ("xqbothreport", INTERNAL),
        ("xqboardreport", BOARD),
        ("xqdraftreport", MEMBERS),
    ):
        world.readers[word] = readers
        world.readers[f"{word}body"] = readers
    deliveries = {
        (row["report"], row["recipient"]): row["id"]
        for row in await Delivery.select(Delivery.id, Delivery.report, Delivery.recipient)
    }
    for (report_id, line), word, user in (
        ((both, "director"), "xqdirectorresponse", "director"),
        ((both, "board"), "xqboardlineresponse", "board"),
        ((board_only, "board"), "xqboardonlyresponse", "board"),
    ):
        await reports.respond_to_delivery(
            deliveries[report_id, line],
            LineResponse(response="noted", rationale=f"Rationale {word}"),
            await viewer_for(world.users[user]),
        )
    world.readers["xqdirectorresponse"] = INTERNAL
    world.readers["xqboardlineresponse"] = INTERNAL
    world.readers["xqboardonlyresponse"] = BOARD


async def build_search_world() -> SearchWorld:
    world = SearchWorld(users={})
    alpha, _ = await _people(world)
    await _minutes(world)
    await _actions(world, alpha)
    await _reports(world)
    return world
