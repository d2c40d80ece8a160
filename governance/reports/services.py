"""The rules of the dual reporting lines (DESIGN.md §3).

A chair or secretary drafts a report; submitting it freezes the text under a SHA-256 and,
in the same transaction, creates one Delivery per addressed line, the audit event and the
notification emails. Each line then works on its own delivery: read, acknowledged,
responded, with any actions that come of the response. The Director acts only on the
Director line; any Board member acts for the Board line. Nobody edits, withdraws or deletes
a submitted report.

A periodic report is for a period of its lines' schedules that has ended, and goes to the
lines whose period it is (their cadences may differ); there is one per line and period, and
a correction is a follow-up of the period's report. The schedule is recorded as it happens
(`ReportingPeriod`): each period with the due date of the settings it began with, and its
outcome once, by the submission of its report or by the sweep that records it missed; a
recorded period is never rewritten.

Each use case authorises (so that someone who may not act learns nothing from the
validation of what they sent), then finds every field's error at once, then writes, audits
and queues email in one write transaction. Audit summaries never carry a report's title or
text.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from governance.accounts import scopes
from governance.accounts.policy import Line, Viewer, Visibility
from governance.accounts.tables import User
from governance.actions.schemas import NewAction, SourceType
from governance.actions.services import insert_action
from governance.core.audit import SYSTEM, EventScope, record_event
from governance.core.clock import date_in_zone, organisation_today, utcnow
from governance.core.contracts import (
    NO_ERRORS,
    UNDERSTOOD,
    Confirmation,
    field_errors,
    refuse,
    trimmed,
    unconfirmed,
)
from governance.core.db import one_row, write_transaction
from governance.core.errors import ConflictError, InvalidInput, PermissionDenied
from governance.core.isolation import SkippedItems
from governance.groups.queries import get_group
from governance.groups.tables import ReportingLine
from governance.notifications import emails
from governance.notifications.audiences import member_readers
from governance.notifications.emails import Recipient
from governance.reports import queries, schedule
from governance.reports.integrity import annexes_of, content_hash
from governance.reports.queries import LinePlan, draft_of
from governance.reports.schemas import (
    CONFIRM_FIRST,
    RESPONSE_IS_FINAL,
    RESPONSES_NEEDING_RATIONALE,
    SUBMISSION_IS_FINAL,
    UNACKNOWLEDGED,
    DeliveryState,
    DraftView,
    LineResponse,
    ReportDraft,
    ReportKind,
    ReportStatus,
    ReportView,
    ResponseAction,
    Route,
)
from governance.reports.tables import Delivery, Report, ReportingPeriod

logger = logging.getLogger(__name__)

NEEDS_CORRECTING = "The report needs correcting. Nothing has been saved."
RESPONSE_NEEDS_CORRECTING = "The response needs correcting. Nothing has been recorded."
EMPTY_REPORT = "An empty report cannot be submitted."
PERIOD_MESSAGE = "Name the period, e.g. 2026-Q4, 2026-H2, 2026-11 or 2026."
NEVER_CHANGED = "A submitted report can never be changed. Write a follow-up report instead."
ALREADY_RESPONDED = "This line has already responded; a response cannot be changed."
BOARD_DECIDES = (
    "The Board answers by resolution: propose the Board's response, and it is recorded once "
    "enough Board members concur (or record it as decided at a Board meeting)."
)
NOT_A_DRAFTER = "Only the group's chair or secretary can draft reports."
NOT_AN_EDITOR = "Only the group's chair or secretary can change a draft."


def _line_flags(command: ReportDraft, check: PeriodCheck | None = None) -> tuple[bool, bool, str]:
    """(to_director, to_board, visibility) for the chosen route; a periodic report goes to
    the lines whose schedule has its period (both, until the period is known)."""
    if command.kind == ReportKind.PERIODIC:
        recipients = {plan.recipient for plan, _ in check.lines} if check else set()
        if not recipients:
            return True, True, Visibility.INTERNAL
        return Line.DIRECTOR in recipients, Line.BOARD in recipients, Visibility.INTERNAL
    if command.route == Route.BOTH:
        return True, True, Visibility.INTERNAL
    if command.route == Route.BOARD:
        # The independence channel: the Director learns nothing of it.
        return False, True, Visibility.BOARD
    return True, False, Visibility.INTERNAL


def _columns(command: ReportDraft, check: PeriodCheck) -> dict[str, Any]:
    """The report's columns, by name, as the command writes them."""
    to_director, to_board, visibility = _line_flags(command, check)
    periodic = command.kind == ReportKind.PERIODIC
    return {
        "kind": command.kind,
        "period": command.period.strip().upper() if periodic else "",
        "title": command.title,
        "body": command.body,
        "visibility": visibility,
        "to_director": to_director,
        "to_board": to_board,
        "follows_up": command.follows_up,
    }


async def _audit(
    viewer: Viewer, action: str, entity_id: int, summary: str, scope: EventScope
) -> None:
    """One audit event of a report or a delivery (`action` is "report.…" or "delivery.…"),
    seen in the trail by whoever may read the report (`scope`)."""
    await record_event(viewer.user, action, action.partition(".")[0], entity_id, summary, scope)


def _draft_scope(group_id: int) -> EventScope:
    """A draft is read by its group's members only, and so are the events of drafting it."""
    return EventScope(group_id, Visibility.GROUP)


def _delivery_scope(delivery: Mapping[str, Any]) -> EventScope:
    return EventScope(delivery["group_id"], delivery["report_visibility"])


# --- drafting ---------------------------------------------------------------------------


def authorise_drafting(viewer: Viewer, group_id: int) -> None:
    """Only the group's chair or secretary drafts its reports."""
    if not viewer.leads(group_id):
        raise PermissionDenied(NOT_A_DRAFTER)


def _check_changeable(report: Mapping[str, Any], viewer: Viewer) -> None:
    """Only a draft changes, and only by its group's chair or secretary."""
    if report["status"] != ReportStatus.DRAFT:
        raise ConflictError(NEVER_CHANGED)
    if not viewer.leads(report["group"]):
        raise PermissionDenied(NOT_AN_EDITOR)


async def _changeable_draft(report_id: int, viewer: Viewer) -> dict[str, Any]:
    report = await queries.report_row(report_id, viewer)
    _check_changeable(report, viewer)
    return report


async def editable_draft(report_id: int, viewer: Viewer) -> DraftView:
    """The draft as its edit form shows it, if this viewer may change it."""
    return queries.draft_view(await _changeable_draft(report_id, viewer))


# --- a periodic report's period ----------------------------------------------------------

CADENCE_WORDS = {
    "monthly": "monthly",
    "quarterly": "quarterly",
    "half_yearly": "half-yearly",
    "yearly": "yearly",
}


@dataclass(frozen=True)
class PeriodCheck:
    """What the group's schedule says of a periodic report's period."""

    error: str | None = None
    # Each line whose schedule has the period, with that period's dates on it.
    lines: tuple[tuple[LinePlan, schedule.Slot], ...] = ()
    # The report for the period this one corrects (the one it follows up), if it is one.
    correction_of: int | None = None


def already_reported(label: str, report_id: int) -> str:
    return (
        f"The {label} report has already been submitted (report {report_id}). A correction "
        f"is a follow-up report: give report {report_id} as the report it follows up."
    )


def _cadences(plans: list[LinePlan]) -> str:
    """'quarterly', or 'quarterly to the Executive Director and half-yearly to the Board'."""
    words = {plan.recipient: CADENCE_WORDS.get(plan.cadence, plan.cadence) for plan in plans}
    if len(set(words.values())) == 1:
        return next(iter(words.values()))
    return " and ".join(f"{word} to the {Line(line).label}" for line, word in words.items())


def _not_on_the_schedule(plans: list[LinePlan], cadence: str, period: schedule.Period) -> str:
    """Why a well-formed period is none of the group's: a cadence no line has, or a time
    before the group's schedule began."""
    if not plans:
        return "This group has no reporting lines."
    if cadence not in {version.cadence for plan in plans for version in plan.versions}:
        return f"This group reports {_cadences(plans)}; name a period of that kind."
    first = min((plan.slots(plan.first_day)[0].period for plan in plans), key=lambda p: p.starts_on)
    if period.ends_on < first.starts_on:
        return f"The group's reporting began with {first.label}; name that period or a later one."
    return f"{period.label} is not one of this group's reporting periods ({_cadences(plans)})."


async def _corrects(report_id: int, group_id: int, label: str) -> bool:
    """Whether that report is a submitted periodic report of the group for this period."""
    return bool(
        await Report.exists().where(
            (Report.id == report_id)
            & (Report.group == group_id)
            & (Report.kind == ReportKind.PERIODIC)
            & (Report.status == ReportStatus.SUBMITTED)
            & (Report.period == label)
        )
    )


async def check_period(command: ReportDraft, group_id: int, today: dt.date) -> PeriodCheck:
    """A periodic report is for an ended period of its lines' schedules, and there is at
    most one per line and period: another report for a period already reported is refused
    unless it follows up the period's report (a correction)."""
    label = command.period.strip().upper()
    if not label:
        return PeriodCheck("Period is required.")
    parsed = schedule.parse_period(label)
    if parsed is None:
        return PeriodCheck(PERIOD_MESSAGE)
    cadence, period = parsed
    plans = await queries.line_plans([group_id])
    until = max(today, period.ends_on)
    lines = tuple(
        (plan, slot) for plan in plans for slot in plan.slots(until) if slot.period.label == label
    )
    if not lines:
        return PeriodCheck(_not_on_the_schedule(plans, cadence, period))
    if period.ends_on >= today:
        return PeriodCheck(
            f"{label} has not ended yet: a periodic report is for a period that has ended "
            f"(this one ends on {period.ends_on:%-d %b %Y}).",
            lines,
        )
    recorded = await queries.recorded_periods(plan.line_id for plan, _ in lines)
    reports = [
        row["report"]
        for plan, _ in lines
        if (row := recorded.get((plan.line_id, label))) and row["report"] is not None
    ]
    if not reports:
        return PeriodCheck(lines=lines)
    follows_up = command.follows_up
    if follows_up is not None and await _corrects(follows_up, group_id, label):
        return PeriodCheck(lines=lines, correction_of=follows_up)
    return PeriodCheck(already_reported(label, reports[0]), lines)


async def _follow_up_error(
    command: ReportDraft, group_id: int, report_id: int | None
) -> str | None:
    """Why the draft cannot follow up the report it names, if it cannot."""
    if command.follows_up == report_id:
        return "A report cannot follow up itself."
    earlier = (
        await Report.select(Report.group, Report.status, Report.visibility)
        .where(Report.id == command.follows_up)
        .first()
    )
    if (
        earlier is None
        or earlier["group"] != group_id
        or earlier["status"] != ReportStatus.SUBMITTED
    ):
        return "A follow-up refers to a submitted report of the same group."
    if not scopes.narrows(earlier["visibility"], _line_flags(command)[2]):
        # Otherwise the follow-up would point the Director at the Board-only channel.
        return "A follow-up of a Board-only report goes to the Board only."
    return None


def _route_error(check: PeriodCheck) -> str:
    if len(check.lines) == 1:
        # The lines' cadences differ: the period is on one line's schedule only.
        return "A periodic report goes to the lines whose period it covers: leave Lines as both."
    return "A periodic report always goes to both lines."


async def _draft_errors(
    command: ReportDraft,
    group_id: int,
    unreadable: Mapping[str, str],
    report_id: int | None = None,
) -> tuple[dict[str, str], PeriodCheck]:
    """Every field's error of a draft (its limits, the period of a periodic report, its
    lines and the report it follows up), and what the schedule says of its period."""
    errors = {**field_errors(command), **unreadable}
    check = PeriodCheck()
    if command.kind == ReportKind.PERIODIC:
        if "period" not in errors:
            check = await check_period(command, group_id, organisation_today())
            if check.error:
                errors["period"] = check.error
        if "route" not in errors and command.route != Route.BOTH:
            errors["route"] = _route_error(check)
    if command.follows_up is not None and "follows_up" not in errors:
        follow_up_error = await _follow_up_error(command, group_id, report_id)
        if follow_up_error:
            errors["follows_up"] = follow_up_error
    return errors, check


async def create_report(
    slug: str, command: ReportDraft, viewer: Viewer, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> int:
    """A chair or secretary drafts a report of their group; a draft is read only by the
    group's members. `unreadable` are the fields a form could not read: reported with the
    others, after the permission check."""
    command = trimmed(command)
    async with write_transaction():
        group = await get_group(slug)
        authorise_drafting(viewer, group["id"])
        errors, check = await _draft_errors(command, group["id"], unreadable)
        refuse(errors, NEEDS_CORRECTING)
        now = utcnow()
        rows = await Report.insert(
            Report(
                group=group["id"],
                status=ReportStatus.DRAFT,
                created_by=viewer.user.id,
                created_at=now,
                updated_at=now,
                **_columns(command, check),
            )
        ).returning(Report.id)
        report_id = int(rows[0]["id"])
        await _audit(
            viewer,
            "report.drafted",
            report_id,
            f"{command.kind.capitalize()} report {report_id} drafted",
            scope=_draft_scope(group["id"]),
        )
    return report_id


async def update_report(
    report_id: int,
    command: ReportDraft,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """The chair or secretary rewrites a draft; a submitted report never changes."""
    command = trimmed(command)
    async with write_transaction():
        report = await _changeable_draft(report_id, viewer)
        errors, check = await _draft_errors(command, report["group"], unreadable, report_id)
        refuse(errors, NEEDS_CORRECTING)
        # The status condition makes a change that races a submission change nothing.
        changes: dict[Any, Any] = {**_columns(command, check), "updated_at": utcnow()}
        await Report.update(changes).where(
            (Report.id == report_id) & (Report.status == ReportStatus.DRAFT)
        )
        await _audit(
            viewer,
            "report.draft_updated",
            report_id,
            f"Draft report {report_id} updated",
            _draft_scope(report["group"]),
        )


async def discard_draft(report_id: int, viewer: Viewer) -> str:
    """The chair or secretary discards a draft; returns the group's slug."""
    async with write_transaction():
        report = await _changeable_draft(report_id, viewer)
        await Report.delete().where(
            (Report.id == report_id) & (Report.status == ReportStatus.DRAFT)
        )
        await _audit(
            viewer,
            "report.draft_discarded",
            report_id,
            f"Draft report {report_id} discarded",
            _draft_scope(report["group"]),
        )
    return str(report["group_slug"])


# --- submitting -------------------------------------------------------------------------


async def _line_recipients(recipient: str) -> list[Recipient]:
    column = User.is_director if recipient == Line.DIRECTOR else User.is_board
    people = await User.select(User.id, User.email, User.display_name).where(
        (column == True) & (User.is_active == True)  # noqa: E712 - SQL comparisons
    )
    return [Recipient.of(person, "id") for person in people]


async def _deliver(report: Mapping[str, Any], line: Mapping[str, Any], now: dt.datetime) -> int:
    """One line's delivery of the report, and the email to everyone on that line."""
    due_on = organisation_today() + dt.timedelta(days=line["response_days"])
    rows = await Delivery.insert(
        Delivery(
            report=report["id"],
            line=line["id"],
            recipient=line["recipient"],
            state=DeliveryState.DELIVERED,
            delivered_at=now,
            response_due_on=due_on,
        )
    ).returning(Delivery.id)
    delivery_id = int(rows[0]["id"])
    for person in await _line_recipients(line["recipient"]):
        await emails.report_delivered(
            person,
            delivery_id=delivery_id,
            report_id=report["id"],
            group_id=report["group"],
            group_name=report["group_name"],
            report_title=report["title"],
            visibility=report["visibility"],
            kind=report["kind"],
            line=line["recipient"],
            due_on=due_on,
        )
    return delivery_id


async def _freeze(report: Mapping[str, Any], viewer: Viewer, now: dt.datetime) -> str:
    """Marks the draft submitted, to the lines it goes to, under the SHA-256 of its text;
    refused if it no longer is a draft (a submission that raced this one)."""
    annexes = await annexes_of([report["id"]])
    digest = content_hash(report, annexes.get(report["id"], []))
    updated = (
        await Report.update(
            {
                Report.status: ReportStatus.SUBMITTED,
                Report.submitted_at: now,
                Report.submitted_by: viewer.user.id,
                Report.content_hash: digest,
                Report.to_director: report["to_director"],
                Report.to_board: report["to_board"],
            }
        )
        .where((Report.id == report["id"]) & (Report.status == ReportStatus.DRAFT))
        .returning(Report.id)
    )
    if not updated:
        raise ConflictError("This report has already been submitted.")
    return digest


async def submit_report(
    report_id: int, viewer: Viewer, *, confirmation: Confirmation | None = None
) -> list[int]:
    """Freezes the report and delivers it along each addressed line, all in one
    transaction; returns the deliveries' ids. A page's caller must have confirmed
    (`SUBMISSION_IS_FINAL`), checked with the report's own errors."""
    async with write_transaction():
        report = await _changeable_draft(report_id, viewer)
        draft = draft_of(report)
        errors, check = await _draft_errors(draft, report["group"], NO_ERRORS, report_id)
        if not report["body"].strip():
            errors["body"] = "Write the report before submitting it."
        message = EMPTY_REPORT if "body" in errors else NEEDS_CORRECTING
        errors.update(unconfirmed(confirmation, SUBMISSION_IS_FINAL))
        refuse(errors, CONFIRM_FIRST if set(errors) == {UNDERSTOOD} else message)
        now = utcnow()
        to_director, to_board, _ = _line_flags(draft, check)
        report = {**report, "to_director": to_director, "to_board": to_board}
        digest = await _freeze(report, viewer, now)
        recorded = await _record_submission(report, check, now)
        wanted = {Line.DIRECTOR: to_director, Line.BOARD: to_board}
        lines = await ReportingLine.select().where(ReportingLine.group == report["group"])
        delivery_ids = [
            await _deliver(report, line, now) for line in lines if wanted.get(line["recipient"])
        ]
        await _audit(
            viewer,
            "report.submitted",
            report_id,
            f"Report {report_id} submitted to "
            f"{' and '.join(line.label for line, on in wanted.items() if on)}; sha256 {digest}"
            f"{recorded}",
            scope=EventScope(report["group"], report["visibility"]),
        )
    return delivery_ids


# --- the schedule's record --------------------------------------------------------------

OUTCOME_WORDS = {"on_time": "on time", "late": "late", "missed": "after it was missed"}


async def _open_period(
    line_id: int, slot: schedule.Slot, now: dt.datetime, outcome: str = ""
) -> int | None:
    """Records a period of a line with the dates of the settings it began with; None if it
    was recorded already (the record is never rewritten)."""
    rows = (
        await ReportingPeriod.insert(
            ReportingPeriod(
                line=line_id,
                period=slot.period.label,
                cadence=slot.cadence,
                starts_on=slot.period.starts_on,
                ends_on=slot.period.ends_on,
                due_on=slot.due_on,
                closes_on=slot.closes_on,
                outcome=outcome,
                recorded_at=now,
                outcome_at=now if outcome else None,
            )
        )
        .on_conflict(target=(ReportingPeriod.line, ReportingPeriod.period), action="DO NOTHING")
        .returning(ReportingPeriod.id)
    )
    return int(rows[0]["id"]) if rows else None


async def _record_report_of(
    plan: LinePlan, slot: schedule.Slot, report_id: int, submitted_on: dt.date, now: dt.datetime
) -> str:
    """Links the period of this line to its report and records its outcome, once; refused
    if the period has its report already (a submission that raced this one)."""
    await _open_period(plan.line_id, slot, now)
    query = ReportingPeriod.select().where(
        (ReportingPeriod.line == plan.line_id) & (ReportingPeriod.period == slot.period.label)
    )
    row = await one_row(query, "This period is not recorded.")
    # A period already recorded as missed stays missed; its late report is linked to it.
    outcome = row["outcome"] or schedule.outcome_of(row["due_on"], row["closes_on"], submitted_on)
    changes: dict[Any, Any] = {
        ReportingPeriod.report: report_id,
        ReportingPeriod.submitted_on: submitted_on,
        ReportingPeriod.outcome: outcome,
        ReportingPeriod.outcome_at: row["outcome_at"] or now,
    }
    updated = (
        await ReportingPeriod.update(changes)
        .where((ReportingPeriod.id == row["id"]) & ReportingPeriod.report.is_null())
        .returning(ReportingPeriod.id)
    )
    if not updated:
        label = slot.period.label
        raise InvalidInput(NEEDS_CORRECTING, {"period": already_reported(label, row["report"])})
    return outcome


async def _record_submission(
    report: Mapping[str, Any], check: PeriodCheck, now: dt.datetime
) -> str:
    """A periodic report's period on each of its lines gets its report and outcome; a
    correction leaves the period as recorded. Returns what to say of it in the audit."""
    if report["kind"] != ReportKind.PERIODIC:
        return ""
    label = report["period"]
    if check.correction_of is not None:
        return f"; a correction of report {check.correction_of} for {label}"
    submitted_on = date_in_zone(now)
    outcomes = {
        plan.line_name: await _record_report_of(plan, slot, report["id"], submitted_on, now)
        for plan, slot in check.lines
    }
    if len(set(outcomes.values())) == 1:
        return f"; {label} recorded {OUTCOME_WORDS[next(iter(outcomes.values()))]}"
    each = ", ".join(f"{OUTCOME_WORDS[o]} on the {line} line" for line, o in outcomes.items())
    return f"; {label} recorded {each}"


# --- each line's delivery ---------------------------------------------------------------


async def _record_read_receipt(report_id: int, viewer: Viewer) -> None:
    """The first time someone on a line opens the report, that line's delivery is read."""
    lines = [str(line) for line in Line if viewer.user.acts_for(line)]
    if not lines:
        return
    async with write_transaction():
        unread = await Delivery.select(
            Delivery.id,
            Delivery.recipient,
            Delivery.report.group.as_alias("group_id"),
            Delivery.report.visibility.as_alias("report_visibility"),
        ).where(
            (Delivery.report == report_id)
            & Delivery.recipient.is_in(lines)
            & (Delivery.state == DeliveryState.DELIVERED)
        )
        for delivery in unread:
            await Delivery.update(
                {
                    Delivery.state: DeliveryState.READ,
                    Delivery.read_at: utcnow(),
                    Delivery.read_by: viewer.user.id,
                }
            ).where((Delivery.id == delivery["id"]) & (Delivery.state == DeliveryState.DELIVERED))
            await _audit(
                viewer,
                "delivery.read",
                delivery["id"],
                f"Report {report_id} opened on the {Line(delivery['recipient']).label} line",
                scope=_delivery_scope(delivery),
            )


async def open_report(report_id: int, viewer: Viewer) -> ReportView:
    """The report's trail; opening a submitted report as someone on a line counts as
    reading it for that line (the first time)."""
    report = await queries.report_row(report_id, viewer)
    if report["status"] == ReportStatus.SUBMITTED:
        await _record_read_receipt(report_id, viewer)
    return await queries.report_view(report, viewer)


async def line_delivery(delivery_id: int, viewer: Viewer) -> dict[str, Any]:
    """The delivery, if the viewer may read its report (else not found) and acts for its
    line (else refused)."""
    delivery = await queries.delivery_row(delivery_id, viewer)
    if not viewer.user.acts_for(delivery["recipient"]):
        raise PermissionDenied(
            f"Only the {Line(delivery['recipient']).label} can act on this line's delivery."
        )
    return delivery


async def acknowledge_delivery(delivery_id: int, viewer: Viewer) -> int:
    """Someone on the line acknowledges its delivery; returns the report's id."""
    async with write_transaction():
        delivery = await line_delivery(delivery_id, viewer)
        if delivery["state"] not in UNACKNOWLEDGED:
            raise ConflictError(f"This delivery is already {delivery['state']}.")
        now = utcnow()
        changes: dict[Any, Any] = {
            Delivery.state: DeliveryState.ACKNOWLEDGED,
            Delivery.acknowledged_at: now,
            Delivery.acknowledged_by: viewer.user.id,
        }
        if delivery["read_at"] is None:
            changes.update({Delivery.read_at: now, Delivery.read_by: viewer.user.id})
        await Delivery.update(changes).where(
            (Delivery.id == delivery_id) & Delivery.state.is_in(list(UNACKNOWLEDGED))
        )
        await _audit(
            viewer,
            "delivery.acknowledged",
            delivery_id,
            f"Report {delivery['report']} acknowledged on the "
            f"{Line(delivery['recipient']).label} line",
            scope=_delivery_scope(delivery),
        )
    return int(delivery["report"])


async def audit_delivery(
    viewer: Viewer, action: str, delivery: Mapping[str, Any], summary: str
) -> None:
    """One audit event of a delivery, read by whoever may read its report."""
    await _audit(viewer, action, delivery["id"], summary, scope=_delivery_scope(delivery))


def _bracketed(errors: Mapping[str, str]) -> dict[str, str]:
    """Errors of the actions named as the API names them: `actions[0].title`."""
    return {re.sub(r"^actions\.(\d+)\.", r"actions[\1].", name): m for name, m in errors.items()}


def trimmed_response(command: LineResponse) -> LineResponse:
    actions = [trimmed(action) for action in command.actions]
    return msgspec.structs.replace(trimmed(command), actions=actions)


async def response_errors(
    command: LineResponse, group_id: int, viewer: Viewer, unreadable: Mapping[str, str]
) -> dict[str, str]:
    """Every field's error of a response: its limits, the rationale a refusal needs, and
    each action's due date and owners (the responder or the group's current members)."""
    errors = {**_bracketed(field_errors(command)), **unreadable}
    needs_rationale = command.response in RESPONSES_NEEDING_RATIONALE
    if needs_rationale and "rationale" not in errors and not command.rationale.strip():
        errors["rationale"] = "Give the reasons when declining or only partly accepting."
    if not command.actions:
        return errors
    today = organisation_today()
    owners = {p.user_id for p in await queries.response_owner_choices(group_id, viewer)}
    for index, action in enumerate(command.actions):
        prefix = f"actions[{index}]."
        if f"{prefix}due_on" not in errors and action.due_on < today:
            errors[f"{prefix}due_on"] = "The due date cannot be in the past."
        if f"{prefix}owner_ids" not in errors and not set(action.owner_ids) <= owners:
            errors[f"{prefix}owner_ids"] = (
                "Choose owners from yourself and the group's current members."
            )
    return errors


async def insert_response_actions(
    actions: list[ResponseAction], delivery: Mapping[str, Any], viewer: Viewer
) -> list[int]:
    """The actions that come of the response, each with the report's visibility."""
    action_ids = []
    for index, action in enumerate(actions):
        new = NewAction(
            title=action.title,
            description=action.description,
            due_on=action.due_on,
            owner_ids=list(dict.fromkeys(action.owner_ids)),
            visibility=delivery["report_visibility"],
            source_type=SourceType.RESPONSE,
            source_id=delivery["id"],
        )
        try:
            action_ids.append(await insert_action(delivery["group_id"], new, viewer.user))
        except InvalidInput as error:
            named = {f"actions[{index}].{name}": m for name, m in error.field_errors.items()}
            raise InvalidInput(RESPONSE_NEEDS_CORRECTING, named) from None
    return action_ids


async def record_response(
    delivery: Mapping[str, Any], command: LineResponse, responder_id: int
) -> None:
    """Writes the line's response on its delivery, once (`responder_id`: who answered, or
    for the Board, who proposed the answer the Board adopted)."""
    now = utcnow()
    changes: dict[Any, Any] = {
        Delivery.state: DeliveryState.RESPONDED,
        Delivery.responded_at: now,
        Delivery.responded_by: responder_id,
        Delivery.response: command.response,
        Delivery.rationale: command.rationale.strip(),
    }
    if delivery["acknowledged_at"] is None:
        # Answering is acknowledging; the record shows both at the same moment.
        changes.update({Delivery.acknowledged_at: now, Delivery.acknowledged_by: responder_id})
    if delivery["read_at"] is None:
        changes.update({Delivery.read_at: now, Delivery.read_by: responder_id})
    updated = (
        await Delivery.update(changes)
        .where((Delivery.id == delivery["id"]) & (Delivery.state != DeliveryState.RESPONDED))
        .returning(Delivery.id)
    )
    if not updated:
        raise ConflictError(ALREADY_RESPONDED)


async def respond_to_delivery(
    delivery_id: int,
    command: LineResponse,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
    confirmation: Confirmation | None = None,
) -> list[int]:
    """Records the Director line's response, and any actions that come of it; returns
    their ids. Once per line: a response cannot be changed, so a page's caller must have
    confirmed (`RESPONSE_IS_FINAL`), checked with every field. The Board line answers by
    resolution instead (`reports.board_line`)."""
    command = trimmed_response(command)
    async with write_transaction():
        delivery = await line_delivery(delivery_id, viewer)
        if delivery["state"] == DeliveryState.RESPONDED:
            raise ConflictError(ALREADY_RESPONDED)
        if delivery["recipient"] == Line.BOARD:
            raise ConflictError(BOARD_DECIDES)
        errors = await response_errors(command, delivery["group_id"], viewer, unreadable)
        errors.update(unconfirmed(confirmation, RESPONSE_IS_FINAL))
        refuse(errors, RESPONSE_NEEDS_CORRECTING)
        await record_response(delivery, command, viewer.user.id)
        action_ids = await insert_response_actions(command.actions, delivery, viewer)
        await _audit(
            viewer,
            "delivery.responded",
            delivery_id,
            f"Report {delivery['report']}: {Line(delivery['recipient']).label} line responded "
            f"'{command.response}' with {len(action_ids)} action(s)",
            scope=_delivery_scope(delivery),
        )
        await tell_group_members(delivery, command.response)
    return action_ids


async def tell_group_members(delivery: Mapping[str, Any], response: str) -> None:
    """Every current member of the group learns of the line's response, not only its chair
    (each as a reader of the report: members read all of their group's)."""
    group_id, visibility = delivery["group_id"], delivery["report_visibility"]
    for member in await member_readers(group_id, visibility):
        await emails.delivery_responded(
            member.recipient,
            delivery_id=delivery["id"],
            report_id=delivery["report"],
            report_title=delivery["report_title"],
            group_id=group_id,
            group_name=delivery["group_name"],
            visibility=visibility,
            line=delivery["recipient"],
            response=response,
        )


# --- the schedule's sweep ---------------------------------------------------------------


@dataclass
class PeriodsRecorded(SkippedItems):
    """What one run of the schedule's sweep recorded; `failed` counts what it skipped."""

    opened: list[str] = field(default_factory=list)  # "wellbeing board 2026-Q4"
    reported: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"reporting periods recorded: {len(self.opened)} opened, "
            f"{len(self.reported)} reported, {len(self.missed)} missed; " + self.failures_summary()
        )


async def _delivered_reports() -> dict[tuple[int, str], tuple[int, dt.date]]:
    """The first submitted periodic report delivered to each line for each period: what the
    sweep records for a period whose report came without being recorded (a database from
    before the schedule was recorded)."""
    rows = (
        await Delivery.select(
            Delivery.line,
            Delivery.report,
            Delivery.report.period.as_alias("period"),
            Delivery.report.submitted_at.as_alias("submitted_at"),
        )
        .where(
            (Delivery.report.kind == ReportKind.PERIODIC)
            & (Delivery.report.status == ReportStatus.SUBMITTED)
        )
        .order_by(Delivery.report.submitted_at)
        .order_by(Delivery.report)
    )
    first: dict[tuple[int, str], tuple[int, dt.date]] = {}
    for row in rows:
        first.setdefault(
            (row["line"], row["period"]), (row["report"], date_in_zone(row["submitted_at"]))
        )
    return first


def _where(plan: LinePlan, label: str) -> str:
    return f"{plan.group_name}, {plan.line_name} line: {label}"


async def _sweep_period(
    plan: LinePlan,
    slot: schedule.Slot,
    row: Mapping[str, Any] | None,
    delivered: tuple[int, dt.date] | None,
    today: dt.date,
) -> str | None:
    """Records what has happened to one started period of a line and is not recorded yet:
    that it began, that its report came, or that it was missed. One change, one audit
    event; nothing if there is nothing new. Returns which of the three it recorded."""
    label = slot.period.label
    async with write_transaction():
        now = utcnow()
        if row is None:
            if await _open_period(plan.line_id, slot, now) is None:
                return None  # recorded meanwhile, by a submission
            row = {"due_on": slot.due_on, "closes_on": slot.closes_on}
            opened = True
        elif row["outcome"] or row["report"] is not None:
            return None
        else:
            opened = False
        if delivered is not None:
            outcome = await _record_report_of(plan, slot, delivered[0], delivered[1], now)
            what, summary = "reported", f"report {delivered[0]} recorded {OUTCOME_WORDS[outcome]}"
        elif today >= row["closes_on"]:
            updated = (
                await ReportingPeriod.update(
                    {ReportingPeriod.outcome: "missed", ReportingPeriod.outcome_at: now}
                )
                .where(
                    (ReportingPeriod.line == plan.line_id)
                    & (ReportingPeriod.period == label)
                    & (ReportingPeriod.outcome == "")
                    & ReportingPeriod.report.is_null()
                )
                .returning(ReportingPeriod.id)
            )
            if not updated:
                return None
            what, summary = "missed", f"recorded as missed (due {row['due_on']:%-d %b %Y})"
        elif opened:
            what, summary = "opened", f"recorded, report due {slot.due_on:%-d %b %Y}"
        else:
            return None
        await record_event(
            SYSTEM,
            f"reporting_period.{what}",
            "reporting_line",
            plan.line_id,
            _where(plan, label) + f" {summary}",
        )
    return what


async def record_periods(today: dt.date | None = None) -> PeriodsRecorded:
    """The schedule's sweep: for every line, records each period that has started (with
    the due date of the settings it began with), the report of a period that came without
    being recorded, and each period missed, once each. Idempotent; one period that cannot
    be recorded is logged and counted, and the sweep goes on."""
    today = today or organisation_today()
    result = PeriodsRecorded()
    plans = await queries.line_plans()
    recorded = await queries.recorded_periods(plan.line_id for plan in plans)
    delivered = await _delivered_reports()
    for plan in plans:
        try:
            slots = plan.slots(today)
        except Exception:
            logger.exception("Reporting line %s: its schedule cannot be read", plan.line_id)
            result.count_failure(f"reporting line {plan.line_id}")
            continue
        for slot in slots:
            key = (plan.line_id, slot.period.label)
            try:
                what = await _sweep_period(plan, slot, recorded.get(key), delivered.get(key), today)
            except Exception:
                logger.exception("Reporting line %s: %s not recorded", *key)
                result.count_failure(f"reporting line {key[0]} period {key[1]}")
                continue
            if what is not None:
                getattr(result, what).append(f"{plan.group_name} {plan.recipient} {key[1]}")
    return result
