"""The figures of a transparency report, computed from the records (DESIGN.md §5, issue 6).

`compute_figures(scope, period_label, edition)` gathers every figure of one group, or of
every group at once for the organisation, in a fixed number of queries (eighteen, three
of them the pulse summary's, `pulse_metrics`) whatever the amount of data: counts are
made by the database (COUNT ... GROUP BY); where a figure needs the organisation's time
zone or a median, one query fetches the few columns it needs for all groups at once.
Nothing is queried per group, meeting, action or report.

Time. A period is whole days in the organisation's time zone (GOVERNANCE_TIMEZONE): from
00:00 local on its first day (`start`) to 00:00 local on the day after its last (`end`),
both turned into UTC instants; "in the period" means start <= t < end. So an action
completed at 23:59 local on 30 September counts in Q3, one completed at 00:00 on 1 October
in Q4. States "at period end" are the states at `end`. Date rules (overdue, due) are read
on the period's last day, or today for a period not yet over (`as_of_day`), so a draft of the
current quarter does not count as overdue what is not overdue yet. A period that has not
begun is refused.

Editions. Only records whose visibility the edition counts are counted
(`accounts.scopes.counted_in_edition`, from `scopes.EDITION_COUNTS`): ActionItem.visibility
for actions, the agenda item's visibility for decisions,
Report.visibility for periodic reports and recommendations. Meetings and attendance have no
visibility and count in both editions; confidential matters count the non-public agenda items
of a counted visibility (a number only, never their content), so the public edition, which
the Director reads, counts no Board-only matter.

The figures, per group:

- meetings_held / meetings_cancelled: meetings of that status whose starts_at is in the period.
- attendance_rate: over the held meetings of the period, the members present or remote
  divided by the members current on the meeting date (the meeting's day in the organisation's
  time zone, a person counted once however many memberships they hold), both summed over
  the meetings; guests are not members. None when no member was expected. Rounded to four
  decimal places.
- attendance_people: the distinct members expected at one or more of those meetings (the
  people the rate is drawn from).
- meetings_with_quorum: held meetings of the period whose quorum, by
  governance.meetings.queries.compute_quorum on those members and that attendance, was met.
- decisions: decisions recorded at meetings of the period that were not cancelled, on agenda
  items of a counted visibility; decisions_with_quorum: those recorded with quorum_met.
- confidential_matters: agenda items of a counted visibility other than `public`, at held
  meetings of the period.
- actions_opened: actions created in the period.
- actions_completed: actions with status `done` whose completed_at is in the period;
  actions_completed_by_month counts them by local calendar month, every month of the period
  listed ("2026-07", n), zeros included.
- median_days_to_complete: the median of (completed_at - created_at) in days (fractional,
  86,400 seconds a day) over the actions completed in the period, rounded to one decimal;
  None when there are none.
- actions_dropped: actions with status `dropped` whose drop falls in the period. The drop's
  time is the created_at of the ActionUpdate that moved it to `dropped` (status_to), or the
  action's updated_at when no such update was recorded.
- actions_overdue_at_end: actions created before the end of the period, still open or in
  progress at the end (not done with completed_at before the end, not dropped before the
  end), and due before the as-of day (due_on < as_of_day: the rule of
  governance.actions.services.is_overdue, read on the period's last day).
- lines: one LineFigures per reporting line of the group (Director, then Board):
  - periodic_due: the periods of the line's cadence, from the one containing the group's
    creation day, whose due date (period end + report_due_days) falls between the first day
    of the period and the as-of day. Each is classified with schedule.period_status on the
    as-of day, with the local day of the first submission of the group's periodic report for
    that period submitted before the end of the period (of a counted visibility):
    periodic_on_time, periodic_late, periodic_missed. A period still "due" or "overdue" on
    that day is due but neither on time, late nor missed.
  - recommendations: deliveries on that line of submitted recommendations (of a counted
    visibility) delivered in the period. Of those, accepted / partially_accepted / declined /
    noted: responded before the end of the period with that response; pending: not responded
    before the end; overdue_responses: pending with response_due_on < as_of_day.
  - median_days_to_acknowledge / median_days_to_respond: the median of (acknowledged_at -
    delivered_at) / (responded_at - delivered_at) in days over those deliveries acknowledged /
    responded before the end of the period, rounded to one decimal; None when there are none.
- pulse_runs: the group's pulse runs that closed in the period, with their headlines where
  the pulse threshold allows them (see `pulse_metrics`).
- chair_names: the display names of the group's chairs whose membership is current on the
  as-of day, sorted, each once.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count

from governance.accounts import scopes
from governance.accounts.policy import membership_is_current
from governance.actions.schemas import ACTIVE_STATUSES, ActionStatus
from governance.actions.tables import ActionItem, ActionUpdate
from governance.core.clock import organisation_today, utcnow
from governance.core.errors import InvalidInput, NotFoundError
from governance.groups.queries import current_on
from governance.groups.tables import Membership, ReportingLine, WorkingGroup
from governance.meetings.queries import compute_quorum
from governance.meetings.schemas import COUNTS_TOWARDS_QUORUM
from governance.meetings.tables import AgendaItem, Attendance, Decision, Meeting
from governance.reports import schedule
from governance.reports.schemas import RESPONSES
from governance.reports.tables import Delivery, Report
from governance.settings import get_settings
from governance.transparency.figures import (
    EDITIONS,
    ORGANISATION,
    GroupFigures,
    LineFigures,
    Period,
    TransparencyFigures,
)
from governance.transparency.pulse_metrics import add_pulse_runs

REPORT_CADENCES = ("quarterly", "yearly")
LINE_ORDER = ("director", "board")
SECONDS_A_DAY = 86_400


def parse_report_period(label: str) -> Period:
    """The quarter (2026-Q3) or year (2026) a label names; InvalidInput for anything else."""
    parsed = schedule.parse_period(label or "")
    if parsed is None or parsed[0] not in REPORT_CADENCES:
        raise InvalidInput(
            "Name a quarter or a year, e.g. 2026-Q3 or 2026.",
            {"period": "Name a quarter or a year, e.g. 2026-Q3 or 2026."},
        )
    period = parsed[1]
    return Period(period.label, period.starts_on, period.ends_on)


def last_ended_quarter(today: dt.date) -> Period:
    first_of_quarter = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    day = first_of_quarter - dt.timedelta(days=1)
    return parse_report_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def last_ended_year(today: dt.date) -> Period:
    return parse_report_period(str(today.year - 1))


def previous_period(period: Period) -> Period:
    if "-Q" in period.label:
        year, quarter = period.label.split("-Q")
        number = int(quarter) - 1
        label = f"{year}-Q{number}" if number else f"{int(year) - 1}-Q4"
    else:
        label = str(int(period.label) - 1)
    return parse_report_period(label)


def period_has_ended(period: Period, today: dt.date | None = None) -> bool:
    return period.ends_on < (today or organisation_today())


@dataclass(frozen=True)
class Window:
    """A period as the queries see it: UTC instants, and the day date rules are read on."""

    period: Period
    zone: ZoneInfo
    start: dt.datetime  # 00:00 local on the first day, in UTC; inclusive
    end: dt.datetime  # 00:00 local on the day after the last, in UTC; exclusive
    as_of_day: dt.date  # the period's last day, or today while the period runs


def period_window(period: Period, timezone: str, today: dt.date) -> Window:
    zone = ZoneInfo(timezone)

    def local_midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)

    return Window(
        period=period,
        zone=zone,
        start=local_midnight(period.starts_on),
        end=local_midnight(period.ends_on + dt.timedelta(days=1)),
        as_of_day=min(period.ends_on, today),
    )


async def compute_figures(scope: str, period_label: str, edition: str) -> TransparencyFigures:
    """Every figure of one group (scope: its slug) or of every group (scope "organisation")
    for a quarter or a year, counting what the edition counts. See the module's docstring."""
    if edition not in EDITIONS:
        raise InvalidInput(
            "The edition is board or public.", {"edition": "Choose board or public."}
        )
    period = parse_report_period(period_label)
    today = organisation_today()
    if period.starts_on > today:
        raise InvalidInput(
            "That period has not begun.", {"period": "Choose a period that has begun."}
        )
    window = period_window(period, get_settings().timezone, today)
    groups = await _groups(scope)
    figures = {
        group["id"]: GroupFigures(group_slug=group["slug"], group_name=group["name"])
        for group in groups
    }
    context = _Context(
        window=window,
        group_ids=list(figures) or [scopes.NO_GROUP],
        edition=edition,
        groups={group["id"]: group for group in groups},
        figures=figures,
    )
    await _chairs(context)
    await _meeting_counts(context)
    await _attendance_and_quorum(context)
    await _decisions(context)
    await _confidential_matters(context)
    await _actions_opened(context)
    await _actions_completed(context)
    await _actions_dropped(context)
    await _actions_overdue(context)
    await _lines(context)
    await add_pulse_runs(figures, context.group_ids, period, edition)
    return TransparencyFigures(
        scope=scope,
        period=period,
        edition=edition,
        generated_at=utcnow(),
        groups=[figures[group["id"]] for group in groups],
    )


@dataclass
class _Context:
    window: Window
    group_ids: list[int]
    edition: str
    groups: dict[int, dict[str, Any]]
    figures: dict[int, GroupFigures]

    def in_period(self, column: Any) -> Any:
        return (column >= self.window.start) & (column < self.window.end)

    def counted(self, visibility_column: Any) -> Any:
        """The records of a visibility this edition counts."""
        return scopes.counted_in_edition(visibility_column, self.edition)

    def group(self, group_id: int) -> GroupFigures | None:
        return self.figures.get(group_id)


async def _groups(scope: str) -> list[dict[str, Any]]:
    columns = (
        WorkingGroup.id,
        WorkingGroup.name,
        WorkingGroup.slug,
        WorkingGroup.quorum_rule,
        WorkingGroup.quorum_count,
        WorkingGroup.created_at,
    )
    if scope == ORGANISATION:
        return await WorkingGroup.select(*columns).order_by(WorkingGroup.name)
    rows = await WorkingGroup.select(*columns).where(WorkingGroup.slug == scope)
    if not rows:
        raise NotFoundError("There is no working group at this address.")
    return rows


def _days(later: dt.datetime, earlier: dt.datetime) -> float:
    return (later - earlier).total_seconds() / SECONDS_A_DAY


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


# --- people and meetings ----------------------------------------------------------------


async def _chairs(context: _Context) -> None:
    rows = await Membership.select(
        Membership.group, Membership.user.display_name.as_alias("name")
    ).where(
        Membership.group.is_in(context.group_ids)
        & (Membership.role == "chair")
        & current_on(context.window.as_of_day)
    )
    names: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        names[row["group"]].add(row["name"])
    for group_id, figures in context.figures.items():
        figures.chair_names = sorted(names[group_id])


async def _meeting_counts(context: _Context) -> None:
    rows = (
        await Meeting.select(Meeting.group, Meeting.status, Count(alias="n"))
        .where(
            Meeting.group.is_in(context.group_ids)
            & Meeting.status.is_in(["held", "cancelled"])
            & context.in_period(Meeting.starts_at)
        )
        .group_by(Meeting.group, Meeting.status)
    )
    for row in rows:
        figures = context.group(row["group"])
        if figures is None:
            continue
        if row["status"] == "held":
            figures.meetings_held = int(row["n"])
        else:
            figures.meetings_cancelled = int(row["n"])


async def _attendance_and_quorum(context: _Context) -> None:
    """Three narrow queries: held meetings, memberships, and members attending."""
    held = await Meeting.select(Meeting.id, Meeting.group, Meeting.starts_at).where(
        Meeting.group.is_in(context.group_ids)
        & (Meeting.status == "held")
        & context.in_period(Meeting.starts_at)
    )
    memberships = await Membership.select(
        Membership.group, Membership.user, Membership.starts_on, Membership.ends_on
    ).where(Membership.group.is_in(context.group_ids))
    attending = await Attendance.select(Attendance.meeting, Attendance.user, Attendance.mode).where(
        Attendance.meeting.group.is_in(context.group_ids)
        & (Attendance.meeting.status == "held")
        & context.in_period(Attendance.meeting.starts_at)
        & Attendance.user.is_not_null()
        & Attendance.mode.is_in(sorted(COUNTS_TOWARDS_QUORUM))
    )
    memberships_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in memberships:
        memberships_of[row["group"]].append(row)
    attendance_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in attending:
        attendance_of[row["meeting"]].append(row)
    expected: dict[int, int] = defaultdict(int)
    present: dict[int, int] = defaultdict(int)
    people: dict[int, set[int]] = defaultdict(set)
    for meeting in held:
        group_id = meeting["group"]
        figures = context.group(group_id)
        if figures is None:
            continue
        day = meeting["starts_at"].astimezone(context.window.zone).date()
        members = {
            row["user"]
            for row in memberships_of[group_id]
            if membership_is_current(row["starts_on"], row["ends_on"], day)
        }
        attendance = attendance_of[meeting["id"]]
        expected[group_id] += len(members)
        present[group_id] += len({row["user"] for row in attendance if row["user"] in members})
        people[group_id] |= members
        quorum = compute_quorum(
            context.groups[group_id], [{"user": user} for user in members], attendance
        )
        if quorum.met:
            figures.meetings_with_quorum += 1
    for group_id, figures in context.figures.items():
        if expected[group_id]:
            figures.attendance_rate = round(present[group_id] / expected[group_id], 4)
        figures.attendance_people = len(people[group_id])


async def _decisions(context: _Context) -> None:
    rows = (
        await Decision.select(
            Decision.meeting.group.as_alias("group_id"), Decision.quorum_met, Count(alias="n")
        )
        .where(
            Decision.meeting.group.is_in(context.group_ids)
            & (Decision.meeting.status != "cancelled")
            & context.in_period(Decision.meeting.starts_at)
            & context.counted(Decision.agenda_item.visibility)
        )
        .group_by(Decision.meeting.group, Decision.quorum_met)
    )
    for row in rows:
        figures = context.group(row["group_id"])
        if figures is None:
            continue
        figures.decisions += int(row["n"])
        if row["quorum_met"]:
            figures.decisions_with_quorum += int(row["n"])


async def _confidential_matters(context: _Context) -> None:
    rows = (
        await AgendaItem.select(AgendaItem.meeting.group.as_alias("group_id"), Count(alias="n"))
        .where(
            AgendaItem.meeting.group.is_in(context.group_ids)
            & (AgendaItem.meeting.status == "held")
            & context.in_period(AgendaItem.meeting.starts_at)
            & scopes.confidential_counted(AgendaItem.visibility, context.edition)
        )
        .group_by(AgendaItem.meeting.group)
    )
    for row in rows:
        figures = context.group(row["group_id"])
        if figures is not None:
            figures.confidential_matters = int(row["n"])


# --- actions ----------------------------------------------------------------------------


def _counted_actions(context: _Context) -> Any:
    return ActionItem.group.is_in(context.group_ids) & context.counted(ActionItem.visibility)


def _drop_updates() -> Any:
    return ActionUpdate.select(ActionUpdate.action).where(
        ActionUpdate.status_to == ActionStatus.DROPPED
    )


async def _count_actions_by_group(where: Any) -> dict[int, int]:
    rows = (
        await ActionItem.select(ActionItem.group, Count(alias="n"))
        .where(where)
        .group_by(ActionItem.group)
    )
    return {row["group"]: int(row["n"]) for row in rows}


async def _actions_opened(context: _Context) -> None:
    counts = await _count_actions_by_group(
        _counted_actions(context) & context.in_period(ActionItem.created_at)
    )
    for group_id, figures in context.figures.items():
        figures.actions_opened = counts.get(group_id, 0)


def _months(period: Period) -> list[str]:
    months = []
    day = period.starts_on
    while day <= period.ends_on:
        months.append(f"{day.year}-{day.month:02d}")
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return months


async def _actions_completed(context: _Context) -> None:
    rows = await ActionItem.select(
        ActionItem.group, ActionItem.created_at, ActionItem.completed_at
    ).where(
        _counted_actions(context)
        & (ActionItem.status == ActionStatus.DONE)
        & context.in_period(ActionItem.completed_at)
    )
    months = _months(context.window.period)
    by_month: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(months, 0))
    durations: dict[int, list[float]] = defaultdict(list)
    for row in rows:
        month = row["completed_at"].astimezone(context.window.zone).strftime("%Y-%m")
        by_month[row["group"]][month] += 1
        durations[row["group"]].append(_days(row["completed_at"], row["created_at"]))
    for group_id, figures in context.figures.items():
        figures.actions_completed = len(durations[group_id])
        figures.median_days_to_complete = _median(durations[group_id])
        figures.actions_completed_by_month = list(by_month[group_id].items())


async def _actions_dropped(context: _Context) -> None:
    dropped_in_period = ActionItem.id.is_in(
        _drop_updates().where(context.in_period(ActionUpdate.created_at))
    ) | (ActionItem.id.not_in(_drop_updates()) & context.in_period(ActionItem.updated_at))
    counts = await _count_actions_by_group(
        _counted_actions(context) & (ActionItem.status == ActionStatus.DROPPED) & dropped_in_period
    )
    for group_id, figures in context.figures.items():
        figures.actions_dropped = counts.get(group_id, 0)


async def _actions_overdue(context: _Context) -> None:
    end = context.window.end
    dropped_after_end = ActionItem.id.is_in(
        _drop_updates().where(ActionUpdate.created_at >= end)
    ) | (ActionItem.id.not_in(_drop_updates()) & (ActionItem.updated_at >= end))
    active_at_end = (
        ActionItem.status.is_in(sorted(ACTIVE_STATUSES))
        | ((ActionItem.status == ActionStatus.DONE) & (ActionItem.completed_at >= end))
        | ((ActionItem.status == ActionStatus.DROPPED) & dropped_after_end)
    )
    counts = await _count_actions_by_group(
        _counted_actions(context)
        & (ActionItem.created_at < end)
        & (ActionItem.due_on < context.window.as_of_day)
        & active_at_end
    )
    for group_id, figures in context.figures.items():
        figures.actions_overdue_at_end = counts.get(group_id, 0)


# --- the reporting lines ----------------------------------------------------------------


def due_periods(
    cadence: str, due_days: int, first_day: dt.date, window: Window
) -> list[schedule.Period]:
    """The line's periods, from the one containing first_day (the group's creation), whose
    due date falls between the first day of the window's period and its as-of day."""
    shift = dt.timedelta(days=due_days)
    earliest = max(window.period.starts_on - shift, first_day)
    latest = window.as_of_day - shift
    if latest < earliest:
        return []
    return [
        period
        for period in schedule.periods_between(cadence, earliest, latest)
        if window.period.starts_on <= period.ends_on + shift <= window.as_of_day
        and period.ends_on >= first_day
    ]


async def _lines(context: _Context) -> None:
    """Each line's periodic reports due, on time, late and missed, then its
    recommendations: three queries for all the groups."""
    line_figures, due = await _due_reports(context)
    first_submitted = await _first_submissions(context, sorted({p.label for _, p in due}))
    for line, period in due:
        state = schedule.period_status(
            line["cadence"],
            line["report_due_days"],
            period,
            first_submitted.get((line["group"], period.label)),
            context.window.as_of_day,
        ).state
        _count_periodic(line_figures[(line["group"], line["recipient"])], state)
    await _recommendations(context, line_figures)
    for group_id, group_figures in context.figures.items():
        recipients = {recipient for gid, recipient in line_figures if gid == group_id}
        group_figures.lines = [
            line_figures[(group_id, recipient)] for recipient in sorted(recipients, key=_line_order)
        ]


def _line_order(recipient: str) -> tuple[int, str]:
    return (LINE_ORDER.index(recipient) if recipient in LINE_ORDER else len(LINE_ORDER), recipient)


def _count_periodic(figures: LineFigures, state: str) -> None:
    figures.periodic_due += 1
    if state == "on_time":
        figures.periodic_on_time += 1
    elif state == "late":
        figures.periodic_late += 1
    elif state == "missed":
        figures.periodic_missed += 1


async def _due_reports(
    context: _Context,
) -> tuple[dict[tuple[int, str], LineFigures], list[tuple[dict[str, Any], schedule.Period]]]:
    """Each group's lines (empty figures, by group and recipient) and the periodic reports
    due on them in the window."""
    window = context.window
    lines = (
        await ReportingLine.select(*ReportingLine.all_columns())
        .where(ReportingLine.group.is_in(context.group_ids))
        .order_by(ReportingLine.id)
    )
    line_figures: dict[tuple[int, str], LineFigures] = {}
    due: list[tuple[dict[str, Any], schedule.Period]] = []
    for line in lines:
        group_id = line["group"]
        if group_id not in context.figures:
            continue
        line_figures.setdefault((group_id, line["recipient"]), LineFigures(line["recipient"]))
        first_day = context.groups[group_id]["created_at"].astimezone(window.zone).date()
        due.extend(
            (line, period)
            for period in due_periods(line["cadence"], line["report_due_days"], first_day, window)
        )
    return line_figures, due


async def _first_submissions(
    context: _Context, labels: list[str]
) -> dict[tuple[int, str], dt.date]:
    """The local day each group's periodic report of each period was first submitted,
    before the end of the window, of a counted visibility."""
    window = context.window
    submitted = await Report.select(Report.group, Report.period, Report.submitted_at).where(
        Report.group.is_in(context.group_ids)
        & (Report.kind == "periodic")
        & (Report.status == "submitted")
        & context.counted(Report.visibility)
        & Report.period.is_in(labels or [""])
        & (Report.submitted_at < window.end)
    )
    first_submitted: dict[tuple[int, str], dt.date] = {}
    for row in submitted:
        report_key = (row["group"], row["period"])
        day = row["submitted_at"].astimezone(window.zone).date()
        if report_key not in first_submitted or day < first_submitted[report_key]:
            first_submitted[report_key] = day
    return first_submitted


async def _recommendations(
    context: _Context, line_figures: dict[tuple[int, str], LineFigures]
) -> None:
    window = context.window
    rows = await Delivery.select(
        Delivery.report.group.as_alias("group_id"),
        Delivery.recipient,
        Delivery.delivered_at,
        Delivery.acknowledged_at,
        Delivery.responded_at,
        Delivery.response,
        Delivery.response_due_on,
    ).where(
        Delivery.report.group.is_in(context.group_ids)
        & (Delivery.report.kind == "recommendation")
        & (Delivery.report.status == "submitted")
        & context.counted(Delivery.report.visibility)
        & context.in_period(Delivery.delivered_at)
    )
    to_acknowledge: dict[tuple[int, str], list[float]] = defaultdict(list)
    to_respond: dict[tuple[int, str], list[float]] = defaultdict(list)
    for row in rows:
        if row["group_id"] not in context.figures:
            continue
        key = (row["group_id"], row["recipient"])
        figures = line_figures.setdefault(key, LineFigures(recipient=row["recipient"]))
        figures.recommendations += 1
        acknowledged, responded = row["acknowledged_at"], row["responded_at"]
        if acknowledged is not None and acknowledged < window.end:
            to_acknowledge[key].append(_days(acknowledged, row["delivered_at"]))
        if responded is not None and responded < window.end:
            to_respond[key].append(_days(responded, row["delivered_at"]))
            if row["response"] in RESPONSES:
                setattr(figures, row["response"], getattr(figures, row["response"]) + 1)
        else:
            figures.pending += 1
            if row["response_due_on"] < window.as_of_day:
                figures.overdue_responses += 1
    for key, figures in line_figures.items():
        figures.median_days_to_acknowledge = _median(to_acknowledge[key])
        figures.median_days_to_respond = _median(to_respond[key])
