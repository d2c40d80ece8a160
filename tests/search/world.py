"""A world with a secret word in every kind of searchable record, at every visibility and
stage, made through the services (so the index is filled by the audit listener), and who
of the personas may read each one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from governance.actions.schemas import NewAction
from governance.actions.services import create_action
from governance.core.clock import organisation_today, utcnow
from governance.documents import services as documents
from governance.documents.schemas import NewDocuments, NewVersion
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
from governance.resolutions import services as resolutions
from governance.resolutions.schemas import NewResolution
from tests.factories import (
    board_responds,
    make_group,
    make_meeting,
    make_membership,
    make_user,
    viewer_for,
)

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
    draft_meeting_id: int = 0
    draft_items: dict[str, int] = field(default_factory=dict)


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
    # Not a persona: the chair who puts the other group's motion.
    world.users["beta_chair"] = await make_user(name="Beta chair")
    await make_membership(world.users["beta_chair"], beta, "chair")
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
    world.draft_items = await _held_meeting(world, "xqdraft", 3)
    world.draft_meeting_id = world.meeting_id
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
        respond = reports.respond_to_delivery if line == "director" else board_responds
        await respond(
            deliveries[report_id, line],
            LineResponse(response="noted", rationale=f"Rationale {word}"),
            await viewer_for(world.users[user]),
        )
    world.readers["xqdirectorresponse"] = INTERNAL
    world.readers["xqboardlineresponse"] = INTERNAL
    world.readers["xqboardonlyresponse"] = BOARD


class TextUpload:
    """A plain-text file as an upload (what the documents service reads)."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self._content = b"Paper text.\n"
        self._position = 0

    async def read(self, size: int = -1) -> bytes:
        end = len(self._content) if size < 0 else self._position + size
        chunk = self._content[self._position : end]
        self._position += len(chunk)
        return chunk

    async def seek(self, offset: int) -> int:
        self._position = offset
        return offset


async def _paper(
    world: SearchWorld, kind: str, holder_id: int, word: str, visibility: str, **extra: int
) -> int:
    command = NewDocuments(title=f"Paper {word}", visibility=visibility, **extra)
    leader = await viewer_for(world.users["chair"])
    ids = await documents.add_documents(kind, holder_id, [TextUpload("paper.txt")], command, leader)
    return ids[0]


async def _documents(world: SearchWorld) -> None:
    """Papers at each visibility, on a meeting and its items, annexes of draft minutes and
    draft reports, a report's annex once it is submitted, a withdrawn paper and a paper's
    older version (neither found by anyone)."""
    leader = await viewer_for(world.users["chair"])
    meeting, items = world.draft_meeting_id, world.draft_items
    for word, visibility, readers in (
        ("xqinternalpaper", "internal", INTERNAL),
        ("xqboardpaper", "board", BOARD),
        ("xqgrouppaper", "group", MEMBERS),
    ):
        await _paper(world, "meeting", meeting, word, visibility)
        world.readers[word] = readers
    await _paper(
        world, "meeting", meeting, "xqboarditempaper", "board", agenda_item_id=items["board"]
    )
    await _paper(
        world, "meeting", meeting, "xqgroupitempaper", "group", agenda_item_id=items["group"]
    )
    world.readers["xqboarditempaper"] = BOARD
    world.readers["xqgroupitempaper"] = MEMBERS
    await _paper(world, "minutes", meeting, "xqdraftminutesannex", "internal")
    world.readers["xqdraftminutesannex"] = {"chair"}
    await _paper(world, "report", world.draft_report_id, "xqdraftreportannex", "internal")
    world.readers["xqdraftreportannex"] = MEMBERS
    submitted = await _report(world, "xqlatersubmitted", "both", False)
    await _paper(world, "report", submitted, "xqsubmittedannex", "internal")
    await reports.submit_report(submitted, leader)
    world.readers["xqlatersubmitted"] = world.readers["xqlatersubmittedbody"] = INTERNAL
    world.readers["xqsubmittedannex"] = INTERNAL
    withdrawn = await _paper(world, "meeting", meeting, "xqwithdrawnpaper", "internal")
    await documents.withdraw_document(withdrawn, leader)
    world.readers["xqwithdrawnpaper"] = set()
    versioned = await _paper(world, "meeting", meeting, "xqoldversion", "internal")
    upload = TextUpload("second.txt")
    await documents.add_version(versioned, upload, NewVersion(title="Paper xqnewversion"), leader)
    world.readers["xqoldversion"] = set()
    world.readers["xqnewversion"] = INTERNAL


async def _resolutions(world: SearchWorld) -> None:
    """A written resolution at each visibility in the chair's group, and one in the other
    group: each persona has one it may not find (its title and its motion)."""
    closes_at = utcnow() + dt.timedelta(days=5)
    leader = await viewer_for(world.users["chair"])
    for visibility, readers in ITEM_READERS.items():
        if visibility == "public":  # a motion is never public
            continue
        motion = NewResolution(
            title=f"Resolution xq{visibility}resolution",
            text=f"Moved xq{visibility}motion",
            closes_at=closes_at,
            visibility=visibility,
        )
        await resolutions.propose_resolution("alpha", motion, leader)
        world.readers[f"xq{visibility}resolution"] = readers
        world.readers[f"xq{visibility}motion"] = readers
    other = NewResolution(
        title="Resolution xqotherresolution", text="Moved xqothermotion", closes_at=closes_at
    )
    await resolutions.propose_resolution("beta", other, await viewer_for(world.users["beta_chair"]))
    world.readers["xqotherresolution"] = world.readers["xqothermotion"] = {
        "other_member",
        "director",
        "board",
    }


async def build_search_world() -> SearchWorld:
    world = SearchWorld(users={})
    alpha, _ = await _people(world)
    await _minutes(world)
    await _actions(world, alpha)
    await _reports(world)
    await _documents(world)
    await _resolutions(world)
    return world
