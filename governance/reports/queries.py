"""Reads of reports and deliveries, returning views, with visibility applied in the query.

Who may read a report: the group's current members (drafts too); once submitted, whoever
may read its visibility as Director or Board member (`accounts.scopes.reports`): a `board`
report never reaches the Director, not even as a count. A delivery is read by whoever may
read its report (`accounts.scopes.deliveries`). A report or delivery its reader may not see
is "not found", exactly like one that does not exist, in the same single query.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count

from governance.accounts import scopes
from governance.accounts.policy import Line, Viewer
from governance.accounts.tables import User
from governance.actions.queries import actions_for_sources
from governance.actions.schemas import ActionSummaryView, SourceType
from governance.core.clock import date_in_zone, organisation_today, organisation_zone
from governance.core.contracts import field_errors, refuse
from governance.core.db import PreparedSelect, one_row, read_at_once
from governance.core.errors import PermissionDenied
from governance.core.markdown import render_markdown
from governance.core.paging import keyset_page
from governance.groups.queries import get_group, members_on
from governance.groups.tables import ReportingLineSettings, WorkingGroup
from governance.reports import schedule
from governance.reports.integrity import annexes_of, integrity
from governance.reports.schemas import (
    DELIVERY_STATES,
    INBOX_RANGE_MESSAGE,
    UNACKNOWLEDGED,
    BoardProposalView,
    BoardResolutionView,
    DeliveryFilters,
    DeliveryItemView,
    DeliveryListView,
    DeliveryState,
    DeliveryStateView,
    DeliveryView,
    DraftView,
    FollowUpView,
    GroupNameView,
    InboxFilters,
    InboxPageView,
    InboxStatus,
    InboxView,
    LeadReportingView,
    LineScheduleView,
    PeriodView,
    PersonView,
    ProposalStatus,
    ReportDraft,
    ReportKind,
    ReportListView,
    ReportStatus,
    ReportSummaryView,
    ReportView,
    ResponseAction,
    Route,
    Stance,
    StanceView,
)
from governance.reports.tables import (
    BoardResponseProposal,
    Delivery,
    ProposalConcurrence,
    Report,
    ReportingPeriod,
)

PROPOSAL_NOT_FOUND = "There is no such proposed Board response, or you cannot see it."
NOT_FOUND = "There is no report at this address, or you cannot see it."
DELIVERY_NOT_FOUND = "There is no such delivery, or you cannot see it."
# Serial ids start at 1: a list holding only this id matches no row.
NO_ROW = 0
# The latest answers of a line shown in its inbox.
ANSWERED_SHOWN = 20


def route_of(report: Mapping[str, Any]) -> str:
    """The lines a report goes to, from its two flags."""
    if report["to_director"] and report["to_board"]:
        return Route.BOTH
    return Route.BOARD if report["to_board"] else Route.DIRECTOR


def route_label(report: Mapping[str, Any]) -> str:
    """How the report page names the lines it goes to. A periodic report is for the
    lines whose period it covers (the lines' cadences may differ), and is read on both."""
    route = route_of(report)
    if report["kind"] != ReportKind.PERIODIC or route == Route.BOTH:
        return Route(route).label
    line = Line(route).label
    return f"The {line} only: {report['period']} is a period of its schedule alone"


def _report_columns() -> tuple[Any, ...]:
    return (
        *Report.all_columns(),
        Report.group.name.as_alias("group_name"),
        Report.group.slug.as_alias("group_slug"),
        Report.created_by.display_name.as_alias("created_by_name"),
        Report.submitted_by.display_name.as_alias("submitted_by_name"),
    )


async def report_row(report_id: int, viewer: Viewer) -> dict[str, Any]:
    """The report's row if this viewer may read it; not found otherwise (one query)."""
    query = Report.select(*_report_columns()).where(
        (Report.id == report_id) & scopes.reports(viewer)
    )
    return await one_row(query, NOT_FOUND)


def _delivery_columns() -> tuple[Any, ...]:
    return (
        *Delivery.all_columns(),
        Delivery.read_by.display_name.as_alias("read_by_name"),
        Delivery.acknowledged_by.display_name.as_alias("acknowledged_by_name"),
        Delivery.responded_by.display_name.as_alias("responded_by_name"),
    )


def _person(user_id: int | None, name: str | None) -> PersonView | None:
    return None if user_id is None else PersonView(user_id, name or "")


def _timing(row: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """What every view of a delivery derives from its row: its line's name, the days left
    to answer, whether it is past due, and its response (null until there is one)."""
    return {
        "line_name": Line(row["recipient"]).label,
        "days_left": (row["response_due_on"] - today).days,
        "is_overdue": row["state"] != DeliveryState.RESPONDED and row["response_due_on"] < today,
        "response": row["response"] or None,
    }


def _delivery(
    row: Mapping[str, Any],
    viewer: Viewer,
    today: dt.date,
    actions: list[ActionSummaryView],
    decisions: BoardDecisions | None = None,
) -> DeliveryView:
    decisions = decisions or BoardDecisions()
    return msgspec.convert(
        {
            "proposal": decisions.pending.get(row["id"]),
            "resolution": decisions.recorded.get(row["id"]),
            **row,
            **_timing(row, today),
            "report_id": row["report"],
            "read_by": _person(row["read_by"], row["read_by_name"]),
            "acknowledged_by": _person(row["acknowledged_by"], row["acknowledged_by_name"]),
            "responded_by": _person(row["responded_by"], row["responded_by_name"]),
            "can_act": viewer.user.acts_for(row["recipient"]),
            "actions": actions,
        },
        DeliveryView,
    )


async def _deliveries(report_id: int, viewer: Viewer) -> list[DeliveryView]:
    """A report's deliveries, the Director line first, each with the readable actions that
    came of its response: three queries."""
    rows = (
        await Delivery.select(*_delivery_columns())
        .where(Delivery.report == report_id)
        .order_by(Delivery.recipient, ascending=False)
    )
    ids = [row["id"] for row in rows]
    actions = await actions_for_sources(SourceType.RESPONSE, ids, viewer)
    decisions = await board_decisions(ids, viewer)
    today = organisation_today()
    return [_delivery(row, viewer, today, actions[row["id"]], decisions) for row in rows]


async def _follow_ups(
    report: Mapping[str, Any], viewer: Viewer
) -> tuple[int | None, list[FollowUpView]]:
    """The report it follows up, if the viewer may read that one (naming one they may not
    would tell them it exists), and the readable reports that follow it up: one query."""
    wanted = Report.follows_up == report["id"]
    if report["follows_up"] is not None:
        wanted = wanted | (Report.id == report["follows_up"])
    rows = (
        await Report.select(Report.id, Report.title, Report.submitted_at, Report.follows_up)
        .where(wanted & scopes.reports(viewer))
        .order_by(Report.id)
    )
    follows_up = next((row["id"] for row in rows if row["id"] == report["follows_up"]), None)
    later = [
        FollowUpView(row["id"], row["title"], row["submitted_at"])
        for row in rows
        if row["follows_up"] == report["id"]
    ]
    return follows_up, later


def _closed(deliveries: list[DeliveryView]) -> bool:
    """Every line has answered and every action from the answers is done or dropped."""
    return (
        bool(deliveries)
        and all(d.state == DeliveryState.RESPONDED for d in deliveries)
        and not any(action.is_active for d in deliveries for action in d.actions)
    )


async def report_view(report: Mapping[str, Any], viewer: Viewer) -> ReportView:
    """The trail of a report already read with `report_row`: both lines side by side and
    the actions that came of each response, in a fixed number of queries."""
    deliveries = await _deliveries(report["id"], viewer)
    follows_up, follow_ups = await _follow_ups(report, viewer)
    route = route_of(report)
    leads = viewer.leads(report["group"])
    annexes: list[dict[str, Any]] = []
    if report["status"] == ReportStatus.SUBMITTED:
        annexes = (await annexes_of([report["id"]])).get(report["id"], [])
    return msgspec.convert(
        {
            **report,
            "group_id": report["group"],
            "period": report["period"] or None,
            "body_html": str(render_markdown(report["body"])),
            "route": route,
            "route_label": route_label(report),
            "to_director": bool(report["to_director"]),
            "to_board": bool(report["to_board"]),
            "follows_up": follows_up,
            "content_hash": report["content_hash"] or None,
            "integrity": integrity(report, annexes),
            "can_submit": report["status"] == ReportStatus.DRAFT and leads,
            "can_follow_up": report["status"] == ReportStatus.SUBMITTED and leads,
            "closed": _closed(deliveries),
            "deliveries": deliveries,
            "follow_ups": follow_ups,
        },
        ReportView,
    )


async def get_report(report_id: int, viewer: Viewer) -> ReportView:
    """A report's trail, without recording a read receipt (`services.open_report` does)."""
    return await report_view(await report_row(report_id, viewer), viewer)


def draft_of(report: Mapping[str, Any]) -> ReportDraft:
    """The command that would write this report as it stands."""
    return ReportDraft(
        kind=report["kind"],
        title=report["title"],
        body=report["body"],
        period=report["period"],
        # A periodic report goes to the lines whose period it covers; its command says both.
        route=Route.BOTH if report["kind"] == ReportKind.PERIODIC else route_of(report),
        follows_up=report["follows_up"],
    )


async def follow_up_values(report_id: int | None, viewer: Viewer) -> dict[str, Any]:
    """What the form of a follow-up of that report starts with: a periodic report's
    correction is a periodic report for the same period; a recommendation's follow-up, a
    recommendation. Only what the viewer may read of it (else a plain new form)."""
    values: dict[str, Any] = {"kind": ReportKind.RECOMMENDATION, "route": Route.BOTH}
    if not report_id:
        return {**values, "follows_up": ""}
    row = (
        await Report.select(Report.kind, Report.period)
        .where((Report.id == report_id) & scopes.reports(viewer))
        .first()
    )
    if row is not None and row["kind"] == ReportKind.PERIODIC:
        values.update({"kind": ReportKind.PERIODIC, "period": row["period"]})
    return {**values, "follows_up": report_id}


def draft_view(report: Mapping[str, Any]) -> DraftView:
    return msgspec.convert({**report, "draft": draft_of(report)}, DraftView)


# --- deliveries -------------------------------------------------------------------------


async def delivery_row(delivery_id: int, viewer: Viewer) -> dict[str, Any]:
    """A delivery with its report's group, title and visibility, if the viewer may read its
    report; "not found", worded the same, whether it does not exist or may not be read."""
    query = Delivery.select(
        *Delivery.all_columns(),
        Delivery.report.group.as_alias("group_id"),
        Delivery.report.group.name.as_alias("group_name"),  # type: ignore[union-attr]
        Delivery.report.title.as_alias("report_title"),
        Delivery.report.kind.as_alias("report_kind"),
        Delivery.report.visibility.as_alias("report_visibility"),
    ).where((Delivery.id == delivery_id) & scopes.deliveries(viewer))
    return await one_row(query, DELIVERY_NOT_FOUND)


async def get_delivery(delivery_id: int, viewer: Viewer) -> DeliveryView:
    """One delivery with its response and the readable actions that came of it."""
    query = Delivery.select(*_delivery_columns()).where(
        (Delivery.id == delivery_id) & scopes.deliveries(viewer)
    )
    row = await one_row(query, DELIVERY_NOT_FOUND)
    actions = await actions_for_sources(SourceType.RESPONSE, [delivery_id], viewer)
    decisions = await board_decisions([delivery_id], viewer)
    return _delivery(row, viewer, organisation_today(), actions[delivery_id], decisions)


# --- how the Board line decides -----------------------------------------------------------


@dataclass(frozen=True)
class BoardDecisions:
    """Of some deliveries: the pending Board proposals the reader may read (Board members
    only), and how each recorded Board response was decided (for whoever reads it)."""

    pending: dict[int, BoardProposalView] = dataclasses.field(default_factory=dict)
    recorded: dict[int, BoardResolutionView] = dataclasses.field(default_factory=dict)


def _stance(row: Mapping[str, Any]) -> StanceView:
    return StanceView(
        member=PersonView(row["member"], row["member_name"]),
        stance=row["stance"],
        reason=row["reason"],
        recorded_at=row["recorded_at"],
    )


def _proposal_view(
    row: Mapping[str, Any], stances: list[StanceView], viewer: Viewer
) -> BoardProposalView:
    me = viewer.user.id
    stood = {stance.member.user_id for stance in stances}
    pending = row["status"] == ProposalStatus.PENDING
    return BoardProposalView(
        id=row["id"],
        status=row["status"],
        proposed_by=PersonView(row["proposed_by"], row["proposed_by_name"]),
        proposed_at=row["proposed_at"],
        response=row["response"],
        rationale=row["rationale"],
        actions=msgspec.json.decode(row["actions"], type=list[ResponseAction]),
        concurrences_needed=row["concurrences_needed"],
        concurrences=[s for s in stances if s.stance == Stance.CONCUR],
        objections=[s for s in stances if s.stance == Stance.OBJECT],
        can_concur=pending and me != row["proposed_by"] and me not in stood,
        can_withdraw=pending and me == row["proposed_by"],
        can_record_at_meeting=pending,
    )


def _resolution_view(row: Mapping[str, Any], stances: list[StanceView]) -> BoardResolutionView:
    return BoardResolutionView(
        proposed_by=PersonView(row["proposed_by"], row["proposed_by_name"]),
        concurred_by=[s.member for s in stances if s.stance == Stance.CONCUR],
        meeting=row["meeting_name"] or None,
        meeting_on=row["meeting_on"],
    )


async def board_decisions(delivery_ids: list[int], viewer: Viewer) -> BoardDecisions:
    """The Board proposals of these deliveries (already read by the caller's rule): a
    pending one only for a Board member who may read it, a recorded one for anyone, as the
    delivery's response. Two queries, whoever reads."""
    wanted = (BoardResponseProposal.status == ProposalStatus.RECORDED) | (
        (BoardResponseProposal.status == ProposalStatus.PENDING) & scopes.board_proposals(viewer)
    )
    rows = await BoardResponseProposal.select(
        *BoardResponseProposal.all_columns(),
        BoardResponseProposal.proposed_by.display_name.as_alias("proposed_by_name"),
    ).where(BoardResponseProposal.delivery.is_in(delivery_ids or [NO_ROW]) & wanted)
    proposal_ids = [row["id"] for row in rows]
    stance_rows = (
        await ProposalConcurrence.select(
            *ProposalConcurrence.all_columns(),
            ProposalConcurrence.member.display_name.as_alias("member_name"),
        )
        .where(ProposalConcurrence.proposal.is_in(proposal_ids or [NO_ROW]))
        .order_by(ProposalConcurrence.recorded_at)
        .order_by(ProposalConcurrence.id)
    )
    stances: dict[int, list[StanceView]] = {proposal_id: [] for proposal_id in proposal_ids}
    for stance_row in stance_rows:
        stances[stance_row["proposal"]].append(_stance(stance_row))
    decisions = BoardDecisions()
    for row in rows:
        if row["status"] == ProposalStatus.PENDING:
            decisions.pending[row["delivery"]] = _proposal_view(row, stances[row["id"]], viewer)
        else:
            decisions.recorded[row["delivery"]] = _resolution_view(row, stances[row["id"]])
    return decisions


async def proposal_row(proposal_id: int, viewer: Viewer) -> dict[str, Any]:
    """A proposed Board response, if this viewer (a current Board member) may read it; "not
    found", worded the same, whether it does not exist or may not be read."""
    query = BoardResponseProposal.select(*BoardResponseProposal.all_columns()).where(
        (BoardResponseProposal.id == proposal_id) & scopes.board_proposals(viewer)
    )
    return await one_row(query, PROPOSAL_NOT_FOUND)


async def proposal_report_id(proposal_id: int, viewer: Viewer) -> int:
    """The report a proposal the viewer may read answers (its page shows the proposal)."""
    query = BoardResponseProposal.select(
        BoardResponseProposal.delivery.report.as_alias("report_id")
    ).where((BoardResponseProposal.id == proposal_id) & scopes.board_proposals(viewer))
    return int((await one_row(query, PROPOSAL_NOT_FOUND))["report_id"])


async def proposal_stances(proposal_id: int) -> dict[int, str]:
    """Each member's stance on a proposal, by user id."""
    rows = await ProposalConcurrence.select(
        ProposalConcurrence.member, ProposalConcurrence.stance
    ).where(ProposalConcurrence.proposal == proposal_id)
    return {row["member"]: row["stance"] for row in rows}


async def pending_proposal_of(delivery_id: int) -> int | None:
    """The delivery's pending Board proposal, if there is one (for the rules, not a view)."""
    row = (
        await BoardResponseProposal.select(BoardResponseProposal.id)
        .where(
            (BoardResponseProposal.delivery == delivery_id)
            & (BoardResponseProposal.status == ProposalStatus.PENDING)
        )
        .first()
    )
    return None if row is None else int(row["id"])


async def display_name(user_id: int) -> str:
    """A person's name as the record names them."""
    row = await User.select(User.display_name).where(User.id == user_id).first()
    return str(row["display_name"]) if row else f"user {user_id}"


async def current_board_members() -> list[dict[str, Any]]:
    """The Board as it is now: every active user holding the Board role (user_id, email,
    display_name)."""
    return list(
        await User.select(User.id.as_alias("user_id"), User.email, User.display_name)
        .where((User.is_board == True) & (User.is_active == True))  # noqa: E712
        .order_by(User.id)
    )


async def response_owner_choices(group_id: int, viewer: Viewer) -> list[PersonView]:
    """Who may own an action that comes of a line's response: the responder, or a current
    member of the group."""
    members = await members_on(group_id, organisation_today())
    responder = PersonView(viewer.user.id, viewer.user.display_name)
    others = [PersonView(m["user"], m["display_name"]) for m in members]
    return [responder, *(person for person in others if person.user_id != responder.user_id)]


def _delivery_query(condition: Any) -> Any:
    return Delivery.select(
        *Delivery.all_columns(),
        Delivery.report.title.as_alias("report_title"),
        Delivery.report.kind.as_alias("report_kind"),
        Delivery.report.group.name.as_alias("group_name"),  # type: ignore[union-attr]
        Delivery.report.group.slug.as_alias("group_slug"),  # type: ignore[union-attr]
        Delivery.responded_by.display_name.as_alias("responded_by_name"),
    ).where(condition)


def _delivery_items(rows: Iterable[Mapping[str, Any]], viewer: Viewer) -> list[DeliveryItemView]:
    today = organisation_today()
    return [
        msgspec.convert(
            {
                **row,
                **_timing(row, today),
                "report_id": row["report"],
                "can_act": viewer.user.acts_for(row["recipient"]),
            },
            DeliveryItemView,
        )
        for row in rows
    ]


async def readable_deliveries(viewer: Viewer, line: str | None = None) -> list[DeliveryItemView]:
    """The deliveries of the reports the viewer may read, on one line or both, soonest due
    first: one query, the reading rule in it."""
    condition = scopes.deliveries(viewer)
    if line:
        condition = condition & (Delivery.recipient == line)
    query = _delivery_query(condition).order_by(Delivery.response_due_on).order_by(Delivery.id)
    return _delivery_items(await query, viewer)


async def list_deliveries(
    viewer: Viewer, filters: DeliveryFilters, cursor: str | None = None, limit: int | None = None
) -> DeliveryListView:
    """The deliveries list of the API: on a line, in a state, a page at a time (soonest due
    first, the reading rule in the query, so a page has no gap), with counts by state and
    of those past due over all the reader may read on the line: three queries."""
    errors = dict(field_errors(filters))
    if filters.since and filters.until and filters.until < filters.since:
        errors["until"] = INBOX_RANGE_MESSAGE
    refuse(errors, "Unknown filter.")
    condition = scopes.deliveries(viewer) & _delivered_between(filters.since, filters.until)
    if filters.line:
        condition = condition & (Delivery.recipient == filters.line)
    counts = {state: 0 for state in DELIVERY_STATES}
    for row in (
        await Delivery.select(Delivery.state, Count(alias="n"))
        .where(condition)
        .group_by(Delivery.state)
    ):
        counts[row["state"]] = row["n"]
    overdue = await Delivery.count().where(
        condition
        & (Delivery.state != DeliveryState.RESPONDED)
        & (Delivery.response_due_on < organisation_today())
    )
    if filters.state:
        condition = condition & (Delivery.state == filters.state)
    found = await keyset_page(
        _delivery_query(condition),
        Delivery.response_due_on,
        Delivery.id,
        cursor,
        limit,
        descending=False,
    )
    return DeliveryListView(
        line=filters.line or None,
        state=filters.state or None,
        counts=counts,
        overdue=overdue,
        deliveries=_delivery_items(found.rows, viewer),
        older=found.older,
        newer=found.newer,
    )


async def inbox(viewer: Viewer) -> InboxView:
    """What awaits this person on their line, and, for the Board, the Director line's state:
    for the Executive Director and the Board only."""
    lines = [str(line) for line in Line if viewer.user.acts_for(line)]
    if not lines:
        raise PermissionDenied("This page is for the Executive Director and the Board.")
    deliveries = await readable_deliveries(viewer)
    mine = [d for d in deliveries if d.recipient in lines]
    to_director = [d for d in deliveries if d.recipient == Line.DIRECTOR]
    board = viewer.user.is_board
    return InboxView(
        lines=lines,
        awaiting=[d for d in mine if d.state != DeliveryState.RESPONDED],
        answered=[d for d in mine if d.state == DeliveryState.RESPONDED][-ANSWERED_SHOWN:],
        awaiting_management=[d for d in to_director if d.is_overdue] if board else [],
        director_line=to_director if board else [],
    )


def inbox_lines(viewer: Viewer) -> tuple[list[str], list[str]]:
    """The lines this person acts for, and those the deliveries page may show them (the
    Board also follows the Director's); refused for anyone else."""
    lines = [str(line) for line in Line if viewer.user.acts_for(line)]
    if not lines:
        raise PermissionDenied("This page is for the Executive Director and the Board.")
    shown = [str(Line.DIRECTOR), *lines] if viewer.user.is_board else lines
    return lines, list(dict.fromkeys(shown))


def inbox_filter_errors(viewer: Viewer, filters: InboxFilters) -> dict[str, str]:
    """Why these filters cannot be applied for this reader, field by field."""
    errors = dict(field_errors(filters))
    _, shown = inbox_lines(viewer)
    if filters.line and filters.line not in shown:
        errors["line"] = f"Choose {' or '.join(shown)}."
    if filters.since and filters.until and filters.until < filters.since:
        errors["until"] = INBOX_RANGE_MESSAGE
    return errors


def _inbox_status_condition(status: str, today: dt.date) -> Any:
    waiting = Delivery.state != DeliveryState.RESPONDED
    return {
        InboxStatus.AWAITING: waiting,
        InboxStatus.AWAITING_ACKNOWLEDGEMENT: Delivery.state.is_in(list(UNACKNOWLEDGED)),
        InboxStatus.AWAITING_RESPONSE: Delivery.state == DeliveryState.ACKNOWLEDGED,
        InboxStatus.ANSWERED: Delivery.state == DeliveryState.RESPONDED,
        InboxStatus.OVERDUE: waiting & (Delivery.response_due_on < today),
    }.get(InboxStatus(status))


def _inbox_condition(viewer: Viewer, filters: InboxFilters, lines: list[str]) -> Any:
    """The reading rule, the lines and the delivery dates: everything but the status."""
    return (
        scopes.deliveries(viewer)
        & Delivery.recipient.is_in(lines)
        & _delivered_between(filters.since, filters.until)
    )


def _delivered_between(since: dt.date | None, until: dt.date | None) -> Any:
    """Delivered on or after `since`, on or before `until` (days of the organisation's
    time zone; either may be absent)."""
    condition: Any = Delivery.id.is_not_null()
    midnight = dt.time(0, tzinfo=organisation_zone())
    if since is not None:
        condition = condition & (Delivery.delivered_at >= dt.datetime.combine(since, midnight))
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), midnight)
        condition = condition & (Delivery.delivered_at < end)
    return condition


async def _inbox_counts(condition: Any, today: dt.date) -> dict[str, int]:
    """How many of each status there are under `condition`: two queries."""
    by_state = {state: 0 for state in DELIVERY_STATES}
    for row in (
        await Delivery.select(Delivery.state, Count(alias="n"))
        .where(condition)
        .group_by(Delivery.state)
    ):
        by_state[row["state"]] = row["n"]
    unacknowledged = sum(by_state[state] for state in UNACKNOWLEDGED)
    return {
        InboxStatus.AWAITING: sum(by_state.values()) - by_state[DeliveryState.RESPONDED],
        InboxStatus.AWAITING_ACKNOWLEDGEMENT: unacknowledged,
        InboxStatus.AWAITING_RESPONSE: by_state[DeliveryState.ACKNOWLEDGED],
        InboxStatus.ANSWERED: by_state[DeliveryState.RESPONDED],
        InboxStatus.OVERDUE: await Delivery.count().where(
            condition & _inbox_status_condition(InboxStatus.OVERDUE, today)
        ),
    }


async def inbox_page(
    viewer: Viewer, filters: InboxFilters, limit: int | None = None
) -> InboxPageView:
    """The deliveries page of the Executive Director or a Board member: a page of the
    deliveries on their line (or, for the Board, the Director's), of a status, delivered
    within dates; the reading rule and every filter in the query, so a page has no gap and
    no count or "next" link betrays a hidden delivery. Three queries (four for the Board)."""
    lines, shown = inbox_lines(viewer)
    refuse(inbox_filter_errors(viewer, filters), "A filter was not understood.")
    today = organisation_today()
    condition = _inbox_condition(viewer, filters, [filters.line] if filters.line else lines)
    counts = await _inbox_counts(condition, today)
    management_overdue = 0
    if viewer.user.is_board:
        director = _inbox_condition(viewer, InboxFilters(), [str(Line.DIRECTOR)])
        management_overdue = await Delivery.count().where(
            director & _inbox_status_condition(InboxStatus.OVERDUE, today)
        )
    if filters.status != InboxStatus.ALL:
        condition = condition & _inbox_status_condition(filters.status, today)
    found = await keyset_page(
        _delivery_query(condition),
        Delivery.response_due_on,
        Delivery.id,
        filters.cursor or None,
        limit,
        descending=filters.status in (InboxStatus.ANSWERED, InboxStatus.ALL),
    )
    return InboxPageView(
        lines=lines,
        shown_lines=shown,
        counts={str(status): count for status, count in counts.items()},
        management_overdue=management_overdue,
        deliveries=_delivery_items(found.rows, viewer),
        older=found.older,
        newer=found.newer,
    )


# --- a group's reports and its schedule -------------------------------------------------


@dataclass(frozen=True)
class LinePlan:
    """A reporting line with every version of its schedule, oldest first."""

    line_id: int
    group_id: int
    group_name: str
    group_slug: str
    recipient: str
    cadence: str
    report_due_days: int
    response_days: int
    # The group's first day: its schedule begins with the period containing it.
    first_day: dt.date
    versions: tuple[schedule.Settings, ...]

    @property
    def line_name(self) -> str:
        return Line(self.recipient).label

    def slots(self, last_day: dt.date) -> list[schedule.Slot]:
        """Its periods from the group's first to the one containing last_day."""
        return schedule.line_periods(self.versions, self.first_day, last_day)


def _line_plan_rows(group_ids: list[Any] | None = None) -> Any:
    query = ReportingLineSettings.select(
        ReportingLineSettings.line,
        ReportingLineSettings.cadence.as_alias("version_cadence"),
        ReportingLineSettings.report_due_days.as_alias("version_due_days"),
        ReportingLineSettings.made_at,
        *(
            getattr(ReportingLineSettings.line, name).as_alias(name)
            for name in ("group", "recipient", "cadence", "report_due_days", "response_days")
        ),
        ReportingLineSettings.line.group.name.as_alias("group_name"),  # type: ignore[union-attr]
        ReportingLineSettings.line.group.slug.as_alias("group_slug"),  # type: ignore[union-attr]
        ReportingLineSettings.line.group.created_at.as_alias("group_created_at"),  # type: ignore[union-attr]
    )
    if group_ids is not None:
        query = query.where(ReportingLineSettings.line.group.is_in(group_ids))
    return (
        query.order_by(ReportingLineSettings.line)
        .order_by(ReportingLineSettings.made_at)
        .order_by(ReportingLineSettings.id)
    )


# Built once (the pages ask for them on every view: the dashboard, the navigation's count).
_EVERY_LINE_PLAN = PreparedSelect(_line_plan_rows)
_LINE_PLANS_OF = PreparedSelect(lambda group_ids: _line_plan_rows(group_ids))
_RECORDED_PERIODS_OF = PreparedSelect(
    lambda line_ids: ReportingPeriod.select().where(ReportingPeriod.line.is_in(line_ids))
)
_RECORDED_PERIODS_OF_GROUPS = PreparedSelect(
    lambda group_ids: ReportingPeriod.select(*ReportingPeriod.all_columns()).where(
        ReportingPeriod.line._.group.is_in(group_ids)
    )
)


async def line_plans(group_ids: Iterable[int] | None = None) -> list[LinePlan]:
    """The lines of these groups (of every group without any), the Director line first,
    each with its schedule's versions: one query."""
    if group_ids is None:
        rows = await _EVERY_LINE_PLAN.run()
    else:
        rows = await _LINE_PLANS_OF.run(group_ids=list(group_ids) or [NO_ROW])
    versions: dict[int, list[schedule.Settings]] = {}
    lines: dict[int, dict[str, Any]] = {}
    for row in rows:
        lines.setdefault(row["line"], row)
        versions.setdefault(row["line"], []).append(
            schedule.Settings(
                row["version_cadence"], row["version_due_days"], date_in_zone(row["made_at"])
            )
        )
    plans = [
        LinePlan(
            line_id=line_id,
            group_id=row["group"],
            group_name=row["group_name"],
            group_slug=row["group_slug"],
            recipient=row["recipient"],
            cadence=row["cadence"],
            report_due_days=row["report_due_days"],
            response_days=row["response_days"],
            first_day=date_in_zone(row["group_created_at"]),
            versions=tuple(versions[line_id]),
        )
        for line_id, row in lines.items()
    ]
    # The Director line first, as the pages and the API have always listed them.
    return sorted(plans, key=lambda plan: (plan.group_id, plan.recipient != Line.DIRECTOR))


RecordedPeriods = dict[tuple[int, str], dict[str, Any]]


def _by_line_and_period(rows: Iterable[dict[str, Any]]) -> RecordedPeriods:
    return {(row["line"], row["period"]): row for row in rows}


async def recorded_periods(line_ids: Iterable[int]) -> RecordedPeriods:
    """The recorded periods of these lines, by line and period: one query."""
    return _by_line_and_period(await _RECORDED_PERIODS_OF.run(line_ids=list(line_ids) or [NO_ROW]))


async def plans_and_periods_of_groups(
    group_ids: Sequence[int],
) -> tuple[list[LinePlan], RecordedPeriods]:
    """The lines of these groups and their recorded periods, read at once (the periods by
    their lines' group, not by the lines found: so the two are one step, not two)."""
    plans, rows = await read_at_once(
        line_plans(group_ids),
        _RECORDED_PERIODS_OF_GROUPS.run(group_ids=list(group_ids) or [NO_ROW]),
    )
    return plans, _by_line_and_period(rows)


def period_entry(slot: schedule.Slot, row: Mapping[str, Any] | None, today: dt.date) -> PeriodView:
    """One period of a line as recorded (its dates and outcome from its row, once there is
    one) or, until then, as the settings it began with make it."""
    due_on, closes_on = (row["due_on"], row["closes_on"]) if row else (slot.due_on, slot.closes_on)
    outcome = row["outcome"] if row else ""
    state = outcome or schedule.owed_state(slot.period, due_on, closes_on, today)
    return PeriodView(
        period=slot.period.label,
        starts_on=slot.period.starts_on,
        ends_on=slot.period.ends_on,
        due_on=due_on,
        submitted_on=row["submitted_on"] if row else None,
        state=state,
        state_text=schedule.STATE_WORDS[state],
        closes_on=closes_on,
        recorded=bool(outcome),
    )


def _recorded_slot(row: Mapping[str, Any]) -> schedule.Slot:
    period = schedule.Period(row["period"], row["starts_on"], row["ends_on"])
    return schedule.Slot(period, row["cadence"], row["due_on"], row["closes_on"])


def line_entries(
    plan: LinePlan, recorded: Mapping[tuple[int, str], Mapping[str, Any]], today: dt.date
) -> list[PeriodView]:
    """Every period of the line up to today, oldest first: what its settings make of it,
    and whatever was recorded (a recorded period is shown as recorded, always)."""
    slots = {slot.period.label: slot for slot in plan.slots(today)}
    for (line_id, label), row in recorded.items():
        if line_id == plan.line_id and label not in slots:
            slots[label] = _recorded_slot(row)
    ordered = sorted(slots.values(), key=lambda slot: slot.period.starts_on)
    return [period_entry(s, recorded.get((plan.line_id, s.period.label)), today) for s in ordered]


def describe_next_due(line_name: str, entry: PeriodView | None, today: dt.date) -> str:
    """'The 2026-Q4 report to the Board is due on 30 Jan 2027, in 67 days.'"""
    if entry is None:
        return f"No periodic report is owed to the {line_name} at the moment."
    days = (entry.due_on - today).days
    when = f"{entry.due_on:%-d %b %Y}"
    if days > 1:
        tail = f"in {days} days"
    elif days == 1:
        tail = "tomorrow"
    elif days == 0:
        tail = "today"
    else:
        tail = f"{-days} days ago"
    return f"The {entry.period} report to the {line_name} is due on {when}, {tail}."


def _line_schedule(
    plan: LinePlan, recorded: Mapping[tuple[int, str], Mapping[str, Any]], today: dt.date
) -> LineScheduleView:
    """Every period of one line since the group began, with its state, and the first still
    owed."""
    entries = line_entries(plan, recorded, today)
    owed = [entry for entry in entries if entry.state in schedule.OWED_STATES]
    next_due = owed[0] if owed else None
    return LineScheduleView(
        recipient=plan.recipient,
        line_name=plan.line_name,
        cadence=plan.cadence,
        report_due_days=plan.report_due_days,
        response_days=plan.response_days,
        next_due=next_due,
        next_due_text=describe_next_due(plan.line_name, next_due, today),
        periods=list(reversed(entries)),
        owed=[entry.period for entry in owed],
    )


async def schedules_for_groups(
    group_ids: Sequence[int], today: dt.date
) -> dict[int, list[LineScheduleView]]:
    """The line schedules of several groups in two selects read at once, whatever their
    number."""
    plans, recorded = await plans_and_periods_of_groups(group_ids)
    schedules: dict[int, list[LineScheduleView]] = {group_id: [] for group_id in group_ids}
    for plan in plans:
        schedules[plan.group_id].append(_line_schedule(plan, recorded, today))
    return schedules


@dataclass(frozen=True)
class OwedPeriod:
    """A period of one line still owed its report."""

    group_id: int
    group_name: str
    group_slug: str
    recipient: str
    period: str
    due_on: dt.date


async def owed_periods(today: dt.date, first_due: dt.date, last_due: dt.date) -> list[OwedPeriod]:
    """Every line's periods still owed a report on that day (not yet due, due or past its
    due date) whose due date falls between first_due and last_due, as recorded or as the
    settings they began with make them: two queries. A line whose schedule cannot be read
    is left out (the schedule's sweep logs it)."""
    plans = await line_plans()
    recorded = await recorded_periods(plan.line_id for plan in plans)
    owed = []
    for plan in plans:
        try:
            slots = plan.slots(last_due)
        except KeyError:  # a cadence this version of the service does not know
            continue
        for slot in slots:
            entry = period_entry(slot, recorded.get((plan.line_id, slot.period.label)), today)
            if entry.state in schedule.OWED_STATES and first_due <= entry.due_on <= last_due:
                owed.append(
                    OwedPeriod(
                        plan.group_id,
                        plan.group_name,
                        plan.group_slug,
                        plan.recipient,
                        entry.period,
                        entry.due_on,
                    )
                )
    return owed


async def line_schedules(group: Mapping[str, Any], today: dt.date) -> list[LineScheduleView]:
    """Per line: every period since the group began, with its state, and the next due."""
    return (await schedules_for_groups([group["id"]], today))[group["id"]]


def _summary(report: Mapping[str, Any], deliveries: list[DeliveryStateView]) -> ReportSummaryView:
    return msgspec.convert(
        {
            **report,
            "period": report["period"] or None,
            "route": route_of(report),
            "deliveries": deliveries,
        },
        ReportSummaryView,
    )


async def group_reports(
    slug: str,
    viewer: Viewer,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> ReportListView:
    """A page of a group's reports the viewer may read (the visibility in the query, so a
    page is full), newest first, of one status if asked, and each line's schedule."""
    group = await get_group(slug)
    condition = (Report.group == group["id"]) & scopes.reports(viewer)
    if status:
        condition = condition & (Report.status == status)
    # Everything but the text, which may be long and is not listed.
    query = Report.select(*Report.all_columns(exclude=[Report.body])).where(condition)
    found = await keyset_page(query, Report.created_at, Report.id, cursor, limit)
    reports = found.rows
    rows = (
        await Delivery.select(*Delivery.all_columns())
        .where(Delivery.report.is_in([report["id"] for report in reports] or [NO_ROW]))
        .order_by(Delivery.recipient, ascending=False)
    )
    today = organisation_today()
    deliveries: dict[int, list[DeliveryStateView]] = {report["id"]: [] for report in reports}
    for row in rows:
        view = msgspec.convert({**row, **_timing(row, today)}, DeliveryStateView)
        deliveries[row["report"]].append(view)
    return ReportListView(
        group_slug=group["slug"],
        group_name=group["name"],
        can_draft=viewer.leads(group["id"]),
        reports=[_summary(report, deliveries[report["id"]]) for report in reports],
        schedules=await line_schedules(group, today),
        older=found.older,
        newer=found.newer,
    )


_GROUPS_BY_ID = PreparedSelect(
    lambda ids: WorkingGroup.select().where(WorkingGroup.id.is_in(ids)).order_by(WorkingGroup.name)
)


async def reporting_overview_for_leads(viewer: Viewer) -> list[LeadReportingView]:
    """For chairs and secretaries: what is due from each group they lead."""
    # No early return for someone who leads nothing: the page costs the same queries for all.
    led = [group_id for group_id in viewer.group_roles if viewer.leads(group_id)]
    groups, schedules = await read_at_once(
        _GROUPS_BY_ID.run(ids=led or [NO_ROW]), schedules_for_groups(led, organisation_today())
    )
    return [
        LeadReportingView(
            group=GroupNameView(group["slug"], group["name"]),
            next_due=[entry.next_due_text for entry in schedules[group["id"]]],
        )
        for group in groups
    ]
