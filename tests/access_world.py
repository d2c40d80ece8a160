"""The world the access matrix runs in (tests/test_access_matrix.py), and a cheap way back to it.

`build_world` makes, through the application's own services, one of everything a route can be
asked about: two groups, a person in each seat of the matrix, meetings at each stage of their
life with agenda items of every visibility, an action, a draft and submitted reports with their
deliveries on both lines, transparency reports, an outbox email parked for an administrator,
signed email links and a personal calendar feed.

Building it takes a few hundred queries, too many to repeat for every route. Instead, after
a request, `counts` (one cheap query) or `fingerprint` (one query over every row) tell
whether anything changed; if so, `dump` reads every table (sign-in sessions aside) and
`restore` puts back the rows the request inserted, changed or deleted, so that each persona
meets the world as it was built.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from piccolo.columns import UUID, Bytea
from piccolo.table import Table, sort_table_classes

from governance.accounts.services import password_link
from governance.accounts.tables import UserSession
from governance.actions.schemas import NewAction
from governance.actions.services import create_action
from governance.core.clock import organisation_today, utcnow
from governance.core.db import get_engine, is_postgres, write_transaction
from governance.core.email import STATUS_PARKED, STATUS_UNCERTAIN
from governance.core.tables import OutboundEmail
from governance.groups.tables import ReportingLine
from governance.meetings import services as meetings
from governance.meetings.notices import reply_token
from governance.meetings.schemas import (
    AgendaItemDetails,
    Approval,
    AttendanceEntry,
    AttendanceRecord,
    MinutesDraft,
    NewDecision,
    NewErratum,
)
from governance.meetings.services import reset_feed
from governance.notifications.links import preferences_token, unsubscribe_token
from governance.piccolo_conf import APP_REGISTRY
from governance.reports import board_line
from governance.reports import services as reports
from governance.reports.schemas import LineResponse, ReportDraft
from governance.reports.tables import Delivery
from governance.resolutions.notices import vote_token
from governance.resolutions.schemas import NewResolution
from governance.resolutions.services import propose_resolution
from governance.transparency import services as transparency
from governance.transparency.metrics import last_ended_quarter, previous_period
from governance.transparency.schemas import GenerateReport
from tests.factories import make_group, make_meeting, make_membership, make_user, viewer_for
from tests.helpers import found

PERSONAS = ("anonymous", "other_member", "member", "chair", "director", "board", "admin")

# Titles in the world that some personas must never be shown, whatever they ask for: the
# Director learns nothing of `board` content, the Board nothing of `group` content, drafts
# stay in the group, and outsiders (administrators included) read no content at all.
_BEYOND_BOARD = ("group item", "Unsent draft")
_BEYOND_DIRECTOR = (
    *_BEYOND_BOARD,
    "board item",
    "Independence channel",
    "Raise with the Board",
    # A proposed Board response (its rationale, and that there is one).
    "Board proposes an ombudsperson",
    "Proposed Board response",
)
_OUTSIDE = (*_BEYOND_DIRECTOR, "internal item", "Flexitime recommendation", "Write the policy")
SECRETS = {
    "anonymous": _OUTSIDE,
    "other_member": _OUTSIDE,
    "admin": _OUTSIDE,
    "director": _BEYOND_DIRECTOR,
    "board": _BEYOND_BOARD,
}

# Rows of these tables are not part of the world: every request signs in afresh.
VOLATILE_TABLES = frozenset({UserSession._meta.tablename})


@dataclass
class World:
    users: dict[str, int]
    # Values for the routes' path parameters, and anything else a request body needs.
    params: dict[str, str]


def _visibility_items(prefix: str) -> dict[str, AgendaItemDetails]:
    return {
        visibility: AgendaItemDetails(
            title=f"{prefix} {visibility} item", visibility=visibility, notes="Notes"
        )
        for visibility in ("public", "internal", "board", "group")
    }


async def _meeting_with_items(
    chair: int, title: str, starts_at: dt.datetime
) -> tuple[int, dict[str, int]]:
    viewer = await viewer_for(chair)
    meeting_id = await make_meeting("alpha", chair, title=title, starts_at=starts_at)
    items = {}
    for visibility, fields in _visibility_items(title).items():
        items[visibility] = await meetings.add_agenda_item(meeting_id, fields, viewer)
    return meeting_id, items


async def _hold(meeting_id: int, chair: int, attendees: list[int]) -> None:
    viewer = await viewer_for(chair)
    await meetings.mark_meeting_held(meeting_id, viewer)
    entries = [AttendanceEntry(user_id=user_id, mode="present") for user_id in attendees]
    await meetings.record_attendance(
        meeting_id, AttendanceRecord(entries=entries, guests=[]), viewer
    )
    await meetings.save_minutes(
        meeting_id, MinutesDraft(summary="Summary of the meeting", items={}), viewer
    )


async def _papers(
    meeting_id: int, items: dict[str, int], draft_report: int, leader: Any
) -> dict[str, int]:
    """A paper on each of the held meeting's items, at the item's visibility, and an annex
    of the draft report; each title names what holds it, so a leak is caught."""
    from governance.documents import services as documents
    from governance.documents.schemas import NewDocuments
    from tests.documents.files import MemoryUpload, pdf

    content = pdf("A paper")
    found = {}
    for visibility in ("internal", "board", "group"):
        [found[f"{visibility}_paper"]] = await documents.add_documents(
            "meeting",
            meeting_id,
            [MemoryUpload(f"{visibility}.pdf", content)],
            NewDocuments(
                title=f"Paper on the {visibility} item",
                visibility=visibility,
                agenda_item_id=items[visibility],
            ),
            leader,
        )
    [found["draft_annex"]] = await documents.add_documents(
        "report",
        draft_report,
        [MemoryUpload("annex.pdf", content)],
        NewDocuments(title="Annex of the Unsent draft", visibility="internal"),
        leader,
    )
    return found


async def build_world() -> World:
    alpha = await make_group(slug="alpha", name="Alpha group")
    beta = await make_group(slug="beta", name="Beta group")
    users = {
        "other_member": await make_user(name="Other member"),
        "member": await make_user(name="Member"),
        "chair": await make_user(name="Chair"),
        "director": await make_user(name="Director", director=True),
        "board": await make_user(name="Board member", board=True),
        "admin": await make_user(name="Admin", admin=True),
    }
    member, chair = users["member"], users["chair"]
    await make_membership(users["other_member"], beta, "member")
    membership = await make_membership(member, alpha, "member")
    await make_membership(chair, alpha, "chair")
    # An invited person who has not yet set a password: the target of the user admin routes.
    target = await make_user(name="Invitee", password_hash="")
    line = found(
        await ReportingLine.select(ReportingLine.id).where(ReportingLine.group == alpha).first()
    )
    leader = await viewer_for(chair)
    now = utcnow().replace(microsecond=0)
    today = organisation_today()

    # Meetings of the alpha group at each stage: scheduled ahead; started but not yet marked
    # held; held with draft minutes; with minutes circulated; with minutes approved.
    scheduled, scheduled_items = await _meeting_with_items(
        chair, "Scheduled", now + dt.timedelta(days=7)
    )
    started = await make_meeting(
        "alpha", chair, title="Started", starts_at=now - dt.timedelta(hours=1)
    )
    held, held_items = await _meeting_with_items(chair, "Held", now - dt.timedelta(days=3))
    await meetings.set_item_open(held_items["board"], True, leader)
    await _hold(held, chair, [member, chair])
    # Minutes and decisions carry their item's secrets into pages, exports and calendars.
    await meetings.save_minutes(
        held,
        MinutesDraft(
            summary="Summary of the meeting",
            items={
                item: f"Minutes of the {visibility} item" for visibility, item in held_items.items()
            },
        ),
        leader,
    )
    decision = await meetings.record_decision(
        held,
        NewDecision(
            agenda_item_id=held_items["internal"],
            text="Agreed",
            votes_for=2,
            votes_against=0,
            votes_abstain=0,
        ),
        leader,
    )
    for visibility in ("board", "group"):
        await meetings.record_decision(
            held,
            NewDecision(
                agenda_item_id=held_items[visibility],
                text=f"Settled the {visibility} item",
                votes_for=2,
                votes_against=0,
                votes_abstain=0,
            ),
            leader,
        )
    circulated, _ = await _meeting_with_items(chair, "Circulated", now - dt.timedelta(days=10))
    await _hold(circulated, chair, [member, chair])
    await meetings.circulate_minutes(circulated, leader)
    approved, _ = await _meeting_with_items(chair, "Approved", now - dt.timedelta(days=20))
    await _hold(approved, chair, [member, chair])
    await meetings.circulate_minutes(approved, leader)
    await meetings.approve_minutes(approved, Approval(method="circulation"), leader)
    for visibility in ("internal", "board", "group"):
        await meetings.add_erratum(
            approved,
            NewErratum(body=f"Erratum on the {visibility} item", visibility=visibility),
            leader,
        )

    # An internal action owned by the member, from the held meeting's decision.
    action = await create_action(
        alpha,
        NewAction(
            title="Write the policy",
            description="",
            due_on=today + dt.timedelta(days=10),
            visibility="internal",
            owner_ids=[member],
            source_type="decision",
            source_id=decision,
        ),
        leader,
    )

    # The same at `board` visibility: never the Director's to read.
    board_action = await create_action(
        alpha,
        NewAction(
            title="Raise with the Board",
            description="",
            due_on=today + dt.timedelta(days=10),
            visibility="board",
            owner_ids=[member],
        ),
        leader,
    )

    # Reports: a recommendation submitted to both lines, one to the Board only, and a draft.
    both = await reports.create_report(
        "alpha",
        ReportDraft(
            kind="recommendation",
            period="",
            title="Flexitime recommendation",
            body="We recommend.",
            route="both",
        ),
        leader,
    )
    await reports.submit_report(both, leader)
    board_only = await reports.create_report(
        "alpha",
        ReportDraft(
            kind="recommendation",
            period="",
            title="Independence channel",
            body="About management.",
            route="board",
        ),
        leader,
    )
    await reports.submit_report(board_only, leader)
    draft = await reports.create_report(
        "alpha",
        ReportDraft(
            kind="recommendation", period="", title="Unsent draft", body="Not yet.", route="both"
        ),
        leader,
    )
    papers = await _papers(held, held_items, draft, leader)
    deliveries = {
        (row["report"], row["recipient"]): row["id"]
        for row in await Delivery.select(Delivery.id, Delivery.report, Delivery.recipient)
    }
    # On the Board line of the report to both lines, another Board member's proposed
    # response awaits the Board persona's concurrence: the Director must learn nothing of it.
    second_board = await viewer_for(await make_user(name="Second Board member", board=True))
    proposal = await board_line.propose_board_response(
        deliveries[both, "board"],
        LineResponse(response="accepted", rationale="Board proposes an ombudsperson"),
        second_board,
    )

    # Transparency: the last quarter's board edition as a draft; the quarter before, the
    # board edition approved and the public edition published.
    quarter = last_ended_quarter(today)
    earlier = previous_period(quarter).label
    board_draft = await transparency.generate_report(
        GenerateReport(scope="alpha", period=quarter.label, edition="board"), leader
    )
    board_approved = await transparency.generate_report(
        GenerateReport(scope="alpha", period=earlier, edition="board"), leader
    )
    await transparency.approve_report(board_approved.report_id, leader)
    public = await transparency.generate_report(
        GenerateReport(scope="alpha", period=earlier, edition="public"), leader
    )
    await transparency.approve_report(public.report_id, leader)
    await transparency.publish_report(public.report_id, leader)

    # One email the outbox could not send, for the administrator to retry.
    first_email, second_email = await (
        OutboundEmail.select(OutboundEmail.id).order_by(OutboundEmail.id).limit(2)
    )
    # And one that may have been sent, for the administrator to decide about.
    await OutboundEmail.update({OutboundEmail.status: STATUS_UNCERTAIN}).where(
        OutboundEmail.id == second_email["id"]
    )
    await OutboundEmail.update({OutboundEmail.status: STATUS_PARKED}).where(
        OutboundEmail.id == first_email["id"]
    )

    resolutions = await _resolutions(leader)
    pulses = await _pulses(users["admin"], leader)

    feed = await reset_feed((await viewer_for(member)).user)
    return World(
        users=users,
        params={
            "slug": "alpha",
            "user_id": str(target),
            "membership_id": str(membership),
            "line_id": str(line["id"]),
            "token": password_link(target, "", "invitation").rsplit("/", 1)[1],
            "member_id": str(member),
            "meeting_id": str(held),
            "scheduled_meeting_id": str(scheduled),
            "started_meeting_id": str(started),
            "circulated_meeting_id": str(circulated),
            "approved_meeting_id": str(approved),
            **{f"{v}_item_id": str(i) for v, i in scheduled_items.items()},
            "held_internal_item_id": str(held_items["internal"]),
            "open_board_item_id": str(held_items["board"]),
            "action_id": str(action),
            "board_action_id": str(board_action),
            "report_id": str(both),
            "board_report_id": str(board_only),
            "draft_report_id": str(draft),
            "director_delivery_id": str(deliveries[both, "director"]),
            "board_delivery_id": str(deliveries[both, "board"]),
            "board_only_delivery_id": str(deliveries[board_only, "board"]),
            "proposal_id": str(proposal),
            "today": today.isoformat(),
            "email_id": str(first_email["id"]),
            "uncertain_email_id": str(second_email["id"]),
            "preferences_token": preferences_token(member),
            "unsubscribe_token": unsubscribe_token(member, "actions"),
            "reply_token": reply_token(scheduled, member),
            **{key: str(value) for key, value in resolutions.items()},
            "vote_token": vote_token(resolutions["resolution_id"], member),
            "meeting_ics": f"{held}.ics",
            "group_ics": "alpha.ics",
            "feed_ics": f"{feed}.ics",
            "quarter": quarter.label,
            "tr_board_draft_id": str(board_draft.report_id),
            "tr_board_approved_id": str(board_approved.report_id),
            "tr_public_id": str(public.report_id),
            **{f"{kind}_id": str(document_id) for kind, document_id in papers.items()},
            "chart": "actions.svg",
            "unknown_feed_ics": "not-a-feed.ics",
            "bad_token": "not-a-signed-link",
            **pulses,
        },
    )


async def _resolutions(leader: Any) -> dict[str, int]:
    """A written resolution open for votes at each visibility, titled with its secret."""
    titles = {
        "resolution_id": ("internal", "Resolution on the internal item"),
        "board_resolution_id": ("board", "Resolution on the board item"),
        "group_resolution_id": ("group", "Resolution on the group item"),
    }
    closes_at = utcnow().replace(microsecond=0) + dt.timedelta(days=5)
    made = {}
    for key, (visibility, title) in titles.items():
        command = NewResolution(
            title=title, text="Motion.", closes_at=closes_at, visibility=visibility
        )
        made[key] = await propose_resolution("alpha", command, leader)
    return made


async def _pulses(admin: int, leader: Any) -> dict[str, str]:
    """A roster, a pulse at each visibility with a run (each title names its visibility, so
    a leak is caught), a pulse with no run yet (its questions can change), and one unused
    link to the internal run."""
    from governance.pulses import services as pulses
    from governance.pulses.schemas import NewPulse, NewRun
    from governance.pulses.tables import PulseQuestion, StaffMember

    roster = b"email,name\nstaff1@example.org,One\nstaff2@example.org,Two\n"
    await pulses.import_roster(roster, await viewer_for(admin))
    closes_on = organisation_today() + dt.timedelta(days=10)
    found = {}
    for visibility in ("internal", "board", "group"):
        pulse_id = await pulses.create_pulse(
            await _group_id("alpha"),
            NewPulse(title=f"Pulse on the {visibility} item", visibility=visibility),
            leader,
        )
        found[f"{visibility}_pulse_id"] = str(pulse_id)
        run_id = await pulses.launch_run(pulse_id, NewRun(closes_on=closes_on), leader)
        found[f"{visibility}_run_id"] = str(run_id)
    editable = await pulses.create_pulse(
        await _group_id("alpha"), NewPulse(title="Pulse on the internal item, new"), leader
    )
    question = (
        await PulseQuestion.select(PulseQuestion.id).where(PulseQuestion.pulse == editable).first()
    )
    staff = await StaffMember.select(StaffMember.id).order_by(StaffMember.id).first()
    assert question is not None and staff is not None
    token = pulses.invitation_token(int(found["internal_run_id"]), staff["id"])
    return {
        **found,
        "editable_pulse_id": str(editable),
        "question_id": str(question["id"]),
        "pulse_token": token,
    }


async def _group_id(slug: str) -> int:
    from governance.groups.queries import get_group

    return int((await get_group(slug))["id"])


# --- back to the world as built ----------------------------------------------------------


def _tables() -> list[type[Table]]:
    """Every table of the application, each after the tables it refers to."""
    tables = [
        table
        for app_config in APP_REGISTRY.app_configs.values()
        for table in app_config.table_classes
        if table._meta.tablename not in VOLATILE_TABLES
    ]
    return sort_table_classes(tables)


Dump = dict[str, dict[Any, dict[str, Any]]]


async def dump(names: Collection[str] | None = None) -> Dump:
    """Every row of every table but the sessions (or of the tables named), by table and id."""
    result = {}
    for table in _tables():
        name = table._meta.tablename
        if names is not None and name not in names:
            continue
        # Raw SQL: a third of the time of a Piccolo select, and dumps are many.
        rows = await table.raw(f"SELECT * FROM {name}")
        result[name] = {row["id"]: dict(row) for row in rows}
    return result


def _fingerprint_query() -> str:
    """One query for the content of every table but the sessions, as JSON text per table."""
    parts = []
    for number, table in enumerate(_tables()):
        name = table._meta.tablename
        if is_postgres():
            parts.append(f"(SELECT json_agg(t ORDER BY t.id)::text FROM {name} t) AS t{number}")
        else:
            # JSON cannot hold a BLOB (a document's content): its hex digits stand for it.
            pairs = ", ".join(
                f"'{column._meta.db_column_name}', "
                + (
                    f'hex("{column._meta.db_column_name}")'
                    if isinstance(column, Bytea)
                    else f'"{column._meta.db_column_name}"'
                )
                for column in table._meta.columns
            )
            parts.append(
                f"(SELECT json_group_array(json_object({pairs})) "
                f"FROM (SELECT * FROM {name} ORDER BY id)) AS t{number}"
            )
    return "SELECT " + ", ".join(parts)


def _comparable_id(table: type[Table]) -> str:
    # PostgreSQL has no max() of a UUID (a pulse response's random id): its text has one.
    if isinstance(table._meta.primary_key, UUID):
        return "CAST(id AS TEXT)"
    return "id"


async def counts() -> list[Any]:
    """The number of rows and the highest id of every table but the sessions, in one query
    a tenth of the cost of `fingerprint`: enough to see any insert or delete, and so every
    change the services make (each records an audit event)."""
    tables = _tables()
    columns = ", ".join(
        f"(SELECT count(*) FROM {t._meta.tablename}) AS c{i}, "
        f"(SELECT max({_comparable_id(t)}) FROM {t._meta.tablename}) AS m{i}"
        for i, t in enumerate(tables)
    )
    rows = await tables[0].raw(f"SELECT {columns}")
    return list(rows[0].values())


async def fingerprint() -> dict[str, Any]:
    """Every row of every table but the sessions, in one query, by table: equal fingerprints,
    equal rows. (`dump` reads the rows themselves, to say what changed and to put them back.)"""
    tables = _tables()
    rows = await tables[0].raw(_fingerprint_query())
    return {
        table._meta.tablename: text for table, text in zip(tables, rows[0].values(), strict=True)
    }


def differences(before: Dump, after: Dump) -> list[str]:
    """What changed, as `table: inserted [ids] / changed [ids] / deleted [ids]`."""
    found = []
    for name, rows in after.items():
        old = before.get(name, {})
        if old == rows:
            continue
        parts = []
        for label, ids in (
            ("inserted", sorted(set(rows) - set(old))),
            ("changed", sorted(i for i in set(rows) & set(old) if rows[i] != old[i])),
            ("deleted", sorted(set(old) - set(rows))),
        ):
            if ids:
                parts.append(f"{label} {ids}")
        found.append(f"{name}: {', '.join(parts)}")
    return found


async def restore(pristine: Dump, current: Dump) -> None:
    """Puts back the pristine rows of the tables in `current`: changed and deleted rows
    parents first, then deletes the rows that were added, children first."""
    tables = [table for table in _tables() if table._meta.tablename in current]
    async with write_transaction():
        for table in tables:
            name = table._meta.tablename
            old, now = pristine[name], current[name]
            if old == now:
                continue
            # Only the table's own columns: a column the database computes (the search
            # index's tsvector on PostgreSQL) is not Piccolo's to write.
            known = {column._meta.name for column in table._meta.columns}
            missing = [row for key, row in old.items() if key not in now]
            if missing:
                await table.insert(
                    *[table(**{c: v for c, v in row.items() if c in known}) for row in missing]
                )
            for key, row in old.items():
                if key in now and now[key] != row:
                    await table.update(
                        {
                            table._meta.get_column_by_name(c): v
                            for c, v in row.items()
                            if c != "id" and c in known
                        }
                    ).where(table._meta.primary_key == key)
        for table in reversed(tables):
            name = table._meta.tablename
            added = [key for key in current[name] if key not in pristine[name]]
            if added:
                await table.delete().where(table._meta.primary_key.is_in(added))


async def empty_all_tables() -> None:
    """Every table emptied, as tests/conftest.py leaves the database after a test."""
    engine = get_engine()
    names = [
        table._meta.tablename
        for app_config in APP_REGISTRY.app_configs.values()
        for table in app_config.table_classes
    ]
    if is_postgres(engine):
        await engine.run_ddl(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
    else:
        await engine.run_ddl("PRAGMA foreign_keys = OFF")
        try:
            for name in names:
                await engine.run_ddl(f"DELETE FROM {name}")
        finally:
            await engine.run_ddl("PRAGMA foreign_keys = ON")
