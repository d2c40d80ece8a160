""" "Needs me": what waits for each person, oldest first, with where it is done.

One small builder per kind of task, each answering for a whole set of readers at once in a
fixed number of set-based queries (so the digest's batches cost the same as one page): the
page `/me/tasks`, the top of the dashboard, the count in the navigation, `GET
/api/v1/me/tasks` and the first section of the digest all come from `tasks_for_many`, so
they never disagree. A builder that no reader of the set can have anything for (a
transparency report for someone who chairs nothing and is not on the Board) still asks,
with a condition no row meets: every page costs the same queries for every reader, whatever
their roles and the amount of data (tests/test_query_counts.py). Every select is prepared
(`core.db.PreparedSelect`), so that on a page, where reads go together (core/together.py),
every select is sent in one statement: what a builder would read by the rows it found
(comments, replies, stances, recorded periods, votes) it reads by the same conditions
instead, so nothing waits on anything else.

A row disappears when its task is done: a comment made (or the minutes approved), the
action done or dropped, the delivery acknowledged then answered, the periodic report
submitted, the transparency report approved then published. Each row says only what its
reader may read, decided with `accounts/scopes.py`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from governance.accounts import scopes
from governance.accounts.policy import GroupRole, Line, Viewer
from governance.actions.tables import ActionOwner
from governance.core.clock import date_in_zone, organisation_today, utcnow
from governance.core.db import PreparedSelect, read_at_once
from governance.core.urls import path_for
from governance.meetings.tables import Meeting, MeetingReply, Minutes, MinutesComment
from governance.notifications.queries import delivery_columns, minutes_columns
from governance.notifications.schemas import (
    ACTION_DUE_SOON_DAYS,
    REPORT_DUE_SOON_DAYS,
    TASK_KIND_LABELS,
    TaskKind,
    TaskListView,
    TaskView,
)
from governance.reports.queries import line_entries, plans_and_periods_of_groups
from governance.reports.schemas import ProposalStatus
from governance.reports.tables import BoardResponseProposal, Delivery, ProposalConcurrence
from governance.resolutions.queries import open_in_groups, votes_on_open_in_groups
from governance.transparency.tables import TransparencyReport

# Matches no row: keeps `is_in([])` (invalid SQL on some engines) out of the queries.
NO_ROW = 0
ACTIVE_ACTION_STATUSES = ("open", "in_progress")
AWAITING_ACKNOWLEDGEMENT = ("delivered", "read")
TO_APPROVE = ("draft", "approved")
ORGANISATION_NAME = "The whole organisation"

Tasks = dict[int, list[TaskView]]


def _task(kind: str, **fields: Any) -> TaskView:
    return TaskView(kind=kind, label=TASK_KIND_LABELS[kind], **fields)


def _groups_of(viewers: Iterable[Viewer], *, leading: bool = False) -> list[int]:
    found = {
        group_id
        for viewer in viewers
        for group_id in viewer.group_roles
        if not leading or viewer.leads(group_id)
    }
    return sorted(found)


def _reader_ids(viewers: Iterable[Viewer]) -> list[int]:
    return [viewer.user.id for viewer in viewers] or [NO_ROW]


# --- minutes to comment on --------------------------------------------------------------


def _circulated(minutes: Any, group_ids: Any) -> Any:
    """Circulated minutes of these groups (`minutes` is the table, or the foreign key that
    leads to it)."""
    return (minutes.status == "circulated") & minutes.meeting.group.is_in(group_ids)


_CIRCULATED_MINUTES = PreparedSelect(
    lambda group_ids: (
        Minutes.select(*minutes_columns(), Minutes.meeting._.group._.slug.as_alias("slug"))
        .where(_circulated(Minutes, group_ids))
        .order_by(Minutes.circulated_at)
    )
)
# The readers' comments on those same minutes, chosen by the same conditions rather than by
# the minutes found, so that the two are read at once (one statement on a page).
_COMMENTERS = PreparedSelect(
    lambda group_ids, author_ids: MinutesComment.select(
        MinutesComment.minutes, MinutesComment.author
    ).where(
        _circulated(MinutesComment.minutes, group_ids) & MinutesComment.author.is_in(author_ids)
    )
)


async def minutes_to_comment(viewers: Sequence[Viewer], today: dt.date) -> Tasks:
    """Circulated minutes of each reader's groups on which they have not yet commented:
    two selects read at once."""
    group_ids = _groups_of(viewers) or [NO_ROW]
    rows, comments = await read_at_once(
        _CIRCULATED_MINUTES.run(group_ids=group_ids),
        _COMMENTERS.run(group_ids=group_ids, author_ids=_reader_ids(viewers)),
    )
    commented = {(row["minutes"], row["author"]) for row in comments}
    found: Tasks = defaultdict(list)
    for viewer in viewers:
        for row in rows:
            if viewer.is_member_of(row["group_id"]) and (
                (row["minutes_id"], viewer.user.id) not in commented
            ):
                found[viewer.user.id].append(_minutes_task(row))
    return found


def _minutes_task(row: dict[str, Any]) -> TaskView:
    return _task(
        TaskKind.MINUTES_TO_COMMENT,
        title=f"Minutes of {row['meeting_title']} ({date_in_zone(row['starts_at']):%-d %b %Y})",
        group_slug=row["slug"],
        group_name=row["group_name"],
        on=date_in_zone(row["circulated_at"]),
        on_means="since",
        link=path_for("meetings:show", meeting_id=row["meeting_id"]) + "#minutes",
    )


# --- meetings to reply to ---------------------------------------------------------------


def _noticed(meeting: Any, values: dict[str, Any]) -> Any:
    """Meetings ahead of these groups whose notice is out (`meeting` is the table, or the
    foreign key that leads to it)."""
    return (
        (meeting.status == "scheduled")
        & (meeting.starts_at > values["now"])
        & meeting.notice_sent_at.is_not_null()
        & meeting.group.is_in(values["group_ids"])
    )


_NOTICED_MEETINGS = PreparedSelect(
    lambda **values: Meeting.select(
        Meeting.id,
        Meeting.group,
        Meeting.title,
        Meeting.starts_at,
        Meeting.notice_sent_at,
        Meeting.group.name.as_alias("group_name"),
        Meeting.group.slug.as_alias("group_slug"),
    ).where(_noticed(Meeting, values))
)
# The readers' replies to those same meetings, chosen by the same conditions: read at once.
_REPLIES = PreparedSelect(
    lambda **values: MeetingReply.select(MeetingReply.meeting, MeetingReply.user).where(
        _noticed(MeetingReply.meeting, values) & MeetingReply.user.is_in(values["user_ids"])
    )
)


async def meetings_to_reply(viewers: Sequence[Viewer], today: dt.date) -> Tasks:
    """Scheduled meetings ahead of the reader's groups whose notice is out and which the
    reader has not answered (attending, remotely, apologies). A reply removes the row; so
    do the meeting starting or being cancelled. Two selects read at once."""
    groups = _groups_of(viewers) or [NO_ROW]
    now = utcnow()
    rows, replies = await read_at_once(
        _NOTICED_MEETINGS.run(group_ids=groups, now=now),
        _REPLIES.run(group_ids=groups, now=now, user_ids=_reader_ids(viewers)),
    )
    replied = {(row["meeting"], row["user"]) for row in replies}
    found: Tasks = defaultdict(list)
    for viewer in viewers:
        for row in rows:
            if viewer.is_member_of(row["group"]) and (row["id"], viewer.user.id) not in replied:
                found[viewer.user.id].append(_reply_task(row))
    return found


def _reply_task(row: dict[str, Any]) -> TaskView:
    return _task(
        TaskKind.MEETING_TO_REPLY,
        title=f"{row['title']} ({date_in_zone(row['starts_at']):%-d %b %Y})",
        group_slug=row["group_slug"],
        group_name=row["group_name"],
        on=date_in_zone(row["notice_sent_at"]),
        on_means="since",
        link=path_for("meetings:show", meeting_id=row["id"]) + "#notice-heading",
    )


# --- my actions -------------------------------------------------------------------------


def _actions_due_by(owner_ids: Any, horizon: Any) -> Any:
    action = ActionOwner.action
    return (
        ActionOwner.select(
            ActionOwner.user,
            action.id.as_alias("action_id"),
            action.title.as_alias("title"),
            action.due_on.as_alias("due_on"),
            action._.group._.name.as_alias("group_name"),
            action._.group._.slug.as_alias("group_slug"),
        )
        .where(
            ActionOwner.user.is_in(owner_ids)
            & action.status.is_in(list(ACTIVE_ACTION_STATUSES))
            & (action.due_on <= horizon)
        )
        .order_by(action.due_on)
    )


_ACTIONS_DUE_BY = PreparedSelect(_actions_due_by)


async def actions_due(viewers: Sequence[Viewer], today: dt.date) -> Tasks:
    """Each reader's own active actions that are past their due date or due within
    ACTION_DUE_SOON_DAYS: one query. An owner always reads what they own
    (`scopes.actions`), so no other condition applies."""
    rows = await _ACTIONS_DUE_BY.run(
        owner_ids=_reader_ids(viewers),
        horizon=today + dt.timedelta(days=ACTION_DUE_SOON_DAYS),
    )
    found: Tasks = defaultdict(list)
    for row in rows:
        overdue = row["due_on"] < today
        found[row["user"]].append(
            _task(
                TaskKind.ACTION_OVERDUE if overdue else TaskKind.ACTION_DUE_SOON,
                title=row["title"],
                group_slug=row["group_slug"],
                group_name=row["group_name"],
                on=row["due_on"],
                on_means="due",
                link=path_for("actions:show", action_id=row["action_id"]),
            )
        )
    return found


# --- deliveries awaiting my line --------------------------------------------------------


_UNANSWERED_DELIVERIES = PreparedSelect(
    lambda lines: (
        Delivery.select(*delivery_columns(), Delivery.report._.group._.slug.as_alias("slug"))
        .where((Delivery.state != "responded") & Delivery.recipient.is_in(lines))
        .order_by(Delivery.delivered_at)
    )
)
_PENDING_PROPOSALS = PreparedSelect(
    lambda: BoardResponseProposal.select(
        BoardResponseProposal.id, BoardResponseProposal.delivery, BoardResponseProposal.proposed_by
    ).where(BoardResponseProposal.status == ProposalStatus.PENDING)
)
# The stances on those same proposals, chosen by the same condition: read at once.
_STANCES_ON_PENDING = PreparedSelect(
    lambda: ProposalConcurrence.select(
        ProposalConcurrence.proposal, ProposalConcurrence.member
    ).where(ProposalConcurrence.proposal.status == ProposalStatus.PENDING)
)


async def deliveries_awaiting(viewers: Sequence[Viewer], today: dt.date) -> Tasks:
    """Deliveries to the reader's line (Executive Director, Board) not yet acknowledged or
    not yet answered, of reports the reader may read: three selects read at once, the
    deliveries, the pending Board proposals and who has spoken on them."""
    lines = sorted({line for viewer in viewers for line in Line if viewer.user.acts_for(line)})
    # Asked for at once, so that on a page they go with the other builders' selects.
    rows, proposals = await read_at_once(
        _UNANSWERED_DELIVERIES.run(lines=lines or [""]), _pending_board_proposals()
    )
    found: Tasks = defaultdict(list)
    for viewer in viewers:
        for row in rows:
            if viewer.user.acts_for(row["line"]) and scopes.may_read_report(
                viewer, row["group_id"], row["visibility"], row["report_status"]
            ):
                proposal = proposals.get(row["delivery_id"])
                if proposal is None:
                    found[viewer.user.id].append(_delivery_task(row))
                elif viewer.user.id not in proposal:
                    # Those who proposed it, concurred or objected wait for the others.
                    found[viewer.user.id].append(_proposal_task(row))
    return found


async def _pending_board_proposals() -> dict[int, set[int]]:
    """Each Board delivery with a pending proposed response, and who has had their say on
    it (its proposer, and each member who concurred or objected): two selects read at
    once. Only Board members act on the Board line, so only they are ever given these
    tasks."""
    proposals, stances = await read_at_once(_PENDING_PROPOSALS.run(), _STANCES_ON_PENDING.run())
    spoken: dict[int, set[int]] = {row["id"]: {row["proposed_by"]} for row in proposals}
    for stance in stances:
        # Outside a page's one statement, a proposal may have been settled in between.
        if stance["proposal"] in spoken:
            spoken[stance["proposal"]].add(stance["member"])
    return {row["delivery"]: spoken[row["id"]] for row in proposals}


def _proposal_task(row: dict[str, Any]) -> TaskView:
    due = row["response_due_on"]
    return _task(
        TaskKind.PROPOSAL_TO_CONCUR,
        title=row["report_title"],
        group_slug=row["slug"],
        group_name=row["group_name"],
        on=date_in_zone(row["delivered_at"]),
        on_means="since",
        link=path_for("reports:show", report_id=row["report_id"]) + "#line-board",
        detail=f"A proposed Board response awaits your concurrence; due on {due:%-d %b %Y}",
    )


def _delivery_task(row: dict[str, Any]) -> TaskView:
    to_acknowledge = row["state"] in AWAITING_ACKNOWLEDGEMENT
    due = row["response_due_on"]
    return _task(
        TaskKind.DELIVERY_TO_ACKNOWLEDGE if to_acknowledge else TaskKind.DELIVERY_TO_ANSWER,
        title=row["report_title"],
        group_slug=row["slug"],
        group_name=row["group_name"],
        on=date_in_zone(row["delivered_at"]),
        on_means="since",
        link=path_for("reports:show", report_id=row["report_id"]),
        detail=f"To the {Line(row['line']).label}",
        response_due_on=due,
    )


# --- periodic reports my group owes -----------------------------------------------------


async def reports_owed(viewers: Sequence[Viewer], today: dt.date) -> Tasks:
    """For chairs and secretaries: each line's periodic reports due within
    REPORT_DUE_SOON_DAYS, due, or past their due date, until submitted: two selects
    read at once."""
    led = _groups_of(viewers, leading=True)
    plans, recorded = await plans_and_periods_of_groups(led)
    horizon = today + dt.timedelta(days=REPORT_DUE_SOON_DAYS)
    by_group: Tasks = defaultdict(list)
    for plan in plans:
        try:
            entries = line_entries(plan, recorded, today)
        except KeyError:  # a cadence this version does not know: the sweep logs it
            continue
        for entry in entries:
            if entry.state in ("due", "overdue") or (
                entry.state == "upcoming" and entry.due_on <= horizon
            ):
                by_group[plan.group_id].append(
                    _task(
                        TaskKind.REPORT_OWED,
                        title=f"The {entry.period} report to the {plan.line_name}",
                        group_slug=plan.group_slug,
                        group_name=plan.group_name,
                        on=entry.due_on,
                        on_means="due",
                        link=path_for("reports:group", slug=plan.group_slug),
                        detail=entry.state_text,
                    )
                )
    return {
        viewer.user.id: [task for g in led if viewer.leads(g) for task in by_group[g]]
        for viewer in viewers
    }


# --- transparency reports to approve ----------------------------------------------------


def _transparency_to_approve(board: bool, chaired: Any) -> Any:
    """Reports to approve or publish of the chaired groups, and the organisation's too
    for a set of readers with a Board member in it."""
    in_scope: Any = TransparencyReport.group.is_in(chaired)
    if board:
        in_scope = in_scope | TransparencyReport.group.is_null()
    return (
        TransparencyReport.select(
            TransparencyReport.id,
            TransparencyReport.group,
            TransparencyReport.period,
            TransparencyReport.edition,
            TransparencyReport.status,
            TransparencyReport.created_at,
            TransparencyReport.approved_at,
            TransparencyReport.group.name.as_alias("group_name"),
            TransparencyReport.group.slug.as_alias("group_slug"),
        )
        .where(TransparencyReport.status.is_in(list(TO_APPROVE)) & in_scope)
        .order_by(TransparencyReport.created_at)
    )


_TRANSPARENCY_TO_APPROVE = PreparedSelect(_transparency_to_approve)


async def transparency_to_approve(viewers: Sequence[Viewer], today: dt.date) -> Tasks:
    """Transparency reports awaiting the reader's approval, then publication: a group's for
    its chair, the organisation's for the Board: one query."""
    chaired = sorted(
        {g for v in viewers for g, role in v.group_roles.items() if role == GroupRole.CHAIR}
    )
    board = any(viewer.user.is_board for viewer in viewers)
    rows = await _TRANSPARENCY_TO_APPROVE.run(board, chaired=chaired or [NO_ROW])
    found: Tasks = defaultdict(list)
    for viewer in viewers:
        for row in rows:
            if scopes.approves_transparency(viewer, row["group"]):
                found[viewer.user.id].append(_transparency_task(row))
    return found


def _transparency_task(row: dict[str, Any]) -> TaskView:
    approved = row["status"] == "approved"
    return _task(
        TaskKind.TRANSPARENCY_TO_PUBLISH if approved else TaskKind.TRANSPARENCY_TO_APPROVE,
        title=f"Transparency report {row['period']}, {row['edition']} edition",
        group_slug=row["group_slug"],
        group_name=row["group_name"] or ORGANISATION_NAME,
        on=date_in_zone(row["approved_at"] if approved else row["created_at"]),
        on_means="since",
        link=path_for("transparency:show", report_id=row["id"]),
    )


# --- written resolutions awaiting a vote ------------------------------------------------


async def resolutions_to_vote(viewers: Sequence[Viewer], today: dt.date) -> Tasks:
    """Open written resolutions of each reader's groups on which they have not voted: two
    selects read at once. Members read every visibility of their group's content; the
    check stays, so that the rule lives in `accounts/scopes.py`."""
    group_ids = _groups_of(viewers)
    rows, voted = await read_at_once(
        open_in_groups(group_ids), votes_on_open_in_groups(group_ids, _reader_ids(viewers))
    )
    found: Tasks = defaultdict(list)
    for viewer in viewers:
        for row in rows:
            if (
                viewer.is_member_of(row["group"])
                and scopes.may_read(viewer, row["group"], row["visibility"])
                and (row["id"], viewer.user.id) not in voted
            ):
                found[viewer.user.id].append(_resolution_task(row))
    return found


def _resolution_task(row: dict[str, Any]) -> TaskView:
    return _task(
        TaskKind.RESOLUTION_TO_VOTE,
        title=row["title"],
        group_slug=row["group_slug"],
        group_name=row["group_name"],
        on=date_in_zone(row["closes_at"]),
        on_means="due",
        link=path_for("resolutions:show", resolution_id=row["id"]),
    )


# --- the list ---------------------------------------------------------------------------

BUILDERS = (
    minutes_to_comment,
    meetings_to_reply,
    actions_due,
    deliveries_awaiting,
    reports_owed,
    transparency_to_approve,
    resolutions_to_vote,
)


def _oldest_first(tasks: list[TaskView]) -> list[TaskView]:
    return sorted(tasks, key=lambda task: (task.on, task.kind, task.title.lower(), task.link))


async def tasks_for_many(viewers: Sequence[Viewer], today: dt.date | None = None) -> Tasks:
    """What waits for each of these readers, oldest first, by user id: a fixed number of
    queries whatever their number and the amount of data."""
    today = today or organisation_today()
    gathered: Tasks = {viewer.user.id: [] for viewer in viewers}
    built = await read_at_once(*(builder(viewers, today) for builder in BUILDERS))
    for tasks_by_user in built:
        for user_id, tasks in tasks_by_user.items():
            gathered[user_id].extend(tasks)
    return {user_id: _oldest_first(tasks) for user_id, tasks in gathered.items()}


async def tasks_for(viewer: Viewer, today: dt.date | None = None) -> list[TaskView]:
    """What waits for this reader, oldest first."""
    return (await tasks_for_many([viewer], today))[viewer.user.id]


async def task_list(viewer: Viewer) -> TaskListView:
    tasks = await tasks_for(viewer)
    return TaskListView(count=len(tasks), tasks=tasks)


# --- the navigation's count, kept while nothing changes ----------------------------------

# How long a reader's list is kept in this process, however unchanged the data: a bound
# for anything that would change without an audit event.
RECENT_TASKS_SECONDS = 30.0
RECENT_TASKS_KEPT = 2000
_recent: dict[tuple[Any, ...], tuple[float, list[TaskView]]] = {}


def _recent_key(viewer: Viewer, data_version: int, today: dt.date) -> tuple[Any, ...]:
    # The whole reader (their organisation roles and each group role) is in the key: two
    # readers share an entry only if every builder would answer them alike.
    return (viewer.user, tuple(sorted(viewer.group_roles.items())), data_version, today)


async def recent_tasks_for(viewer: Viewer, data_version: int) -> list[TaskView]:
    """What waits for this reader, as `tasks_for`, read again only once the data has
    changed (`data_version`, the audit chain's length: every change to a governance record,
    the reader's own included, appends to it in its transaction), the day has turned, or
    RECENT_TASKS_SECONDS have passed. Each entry is one reader's own list."""
    today = organisation_today()
    key = _recent_key(viewer, data_version, today)
    now = time.monotonic()
    kept = _recent.get(key)
    if kept is not None and now - kept[0] < RECENT_TASKS_SECONDS:
        return list(kept[1])
    tasks = await tasks_for(viewer, today)
    if len(_recent) >= RECENT_TASKS_KEPT:
        _recent.clear()
    _recent[key] = (now, tasks)
    return list(tasks)


def forget_recent_tasks() -> None:
    """Drops every kept list (for tests that count what a page costs after a change)."""
    _recent.clear()
