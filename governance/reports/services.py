"""The rules of the dual reporting lines (DESIGN.md §3).

A chair or secretary drafts a report; submitting it freezes the text under a SHA-256 and,
in the same transaction, creates one Delivery per addressed line, the audit event and the
notification emails. Each line then works on its own delivery: read, acknowledged,
responded, with any actions that come of the response. The Director acts only on the
Director line; any Board member acts for the Board line. Nobody edits, withdraws or deletes
a submitted report.

Each use case authorises (so that someone who may not act learns nothing from the
validation of what they sent), then finds every field's error at once, then writes, audits
and queues email in one write transaction. Audit summaries never carry a report's title or
text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from governance.accounts import scopes
from governance.accounts.policy import LEADING_ROLES, Line, Viewer, Visibility
from governance.accounts.tables import User
from governance.actions.schemas import NewAction, SourceType
from governance.actions.services import insert_action
from governance.core.audit import record_event
from governance.core.clock import organisation_today, utcnow
from governance.core.contracts import NO_ERRORS, field_errors, refuse, trimmed
from governance.core.db import write_transaction
from governance.core.errors import ConflictError, InvalidInput, PermissionDenied
from governance.groups.queries import current_on, get_group
from governance.groups.tables import Membership, ReportingLine
from governance.notifications import emails
from governance.notifications.emails import Recipient
from governance.reports import queries, schedule
from governance.reports.queries import draft_of
from governance.reports.schemas import (
    RESPONSES_NEEDING_RATIONALE,
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
from governance.reports.tables import Delivery, Report

NEEDS_CORRECTING = "The report needs correcting. Nothing has been saved."
RESPONSE_NEEDS_CORRECTING = "The response needs correcting. Nothing has been recorded."
EMPTY_REPORT = "An empty report cannot be submitted."
PERIOD_MESSAGE = "Name the period, e.g. 2026-Q4, 2026-H2, 2026-11 or 2026."
NEVER_CHANGED = "A submitted report can never be changed. Write a follow-up report instead."
ALREADY_RESPONDED = "This line has already responded; a response cannot be changed."
NOT_A_DRAFTER = "Only the group's chair or secretary can draft reports."
NOT_AN_EDITOR = "Only the group's chair or secretary can change a draft."


def _line_flags(command: ReportDraft) -> tuple[bool, bool, str]:
    """(to_director, to_board, visibility) for the chosen route."""
    if command.kind == ReportKind.PERIODIC or command.route == Route.BOTH:
        return True, True, Visibility.INTERNAL
    if command.route == Route.BOARD:
        # The independence channel: the Director learns nothing of it.
        return False, True, Visibility.BOARD
    return True, False, Visibility.INTERNAL


def _columns(command: ReportDraft) -> dict[str, Any]:
    """The report's columns, by name, as the command writes them."""
    to_director, to_board, visibility = _line_flags(command)
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


async def _audit(viewer: Viewer, action: str, entity_id: int, summary: str) -> None:
    """One audit event of a report or a delivery (`action` is "report.…" or "delivery.…")."""
    await record_event(viewer.user, action, action.partition(".")[0], entity_id, summary)


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


async def _period_error(period: str, group_id: int) -> str | None:
    """Why this does not name a period of the group's cadence, if it does not."""
    if not period.strip():
        return "Period is required."
    parsed = schedule.parse_period(period)
    if parsed is None:
        return PERIOD_MESSAGE
    lines = await ReportingLine.select(ReportingLine.cadence).where(ReportingLine.group == group_id)
    cadences = {line["cadence"] for line in lines}
    if parsed[0] not in cadences:
        return f"This group reports {' and '.join(sorted(cadences))}; name a period of that kind."
    return None


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


async def _draft_errors(
    command: ReportDraft,
    group_id: int,
    unreadable: Mapping[str, str],
    report_id: int | None = None,
) -> dict[str, str]:
    """Every field's error of a draft: its limits, the period of a periodic report, its
    lines and the report it follows up."""
    errors = {**field_errors(command), **unreadable}
    if command.kind == ReportKind.PERIODIC:
        if "period" not in errors:
            period_error = await _period_error(command.period, group_id)
            if period_error:
                errors["period"] = period_error
        if "route" not in errors and command.route != Route.BOTH:
            errors["route"] = "A periodic report always goes to both lines."
    if command.follows_up is not None and "follows_up" not in errors:
        follow_up_error = await _follow_up_error(command, group_id, report_id)
        if follow_up_error:
            errors["follows_up"] = follow_up_error
    return errors


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
        refuse(await _draft_errors(command, group["id"], unreadable), NEEDS_CORRECTING)
        now = utcnow()
        rows = await Report.insert(
            Report(
                group=group["id"],
                status=ReportStatus.DRAFT,
                created_by=viewer.user.id,
                created_at=now,
                updated_at=now,
                **_columns(command),
            )
        ).returning(Report.id)
        report_id = int(rows[0]["id"])
        await _audit(
            viewer,
            "report.drafted",
            report_id,
            f"{command.kind.capitalize()} report {report_id} drafted",
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
        refuse(
            await _draft_errors(command, report["group"], unreadable, report_id), NEEDS_CORRECTING
        )
        # The status condition makes a change that races a submission change nothing.
        changes: dict[Any, Any] = {**_columns(command), "updated_at": utcnow()}
        await Report.update(changes).where(
            (Report.id == report_id) & (Report.status == ReportStatus.DRAFT)
        )
        await _audit(viewer, "report.draft_updated", report_id, f"Draft report {report_id} updated")


async def discard_draft(report_id: int, viewer: Viewer) -> str:
    """The chair or secretary discards a draft; returns the group's slug."""
    async with write_transaction():
        report = await _changeable_draft(report_id, viewer)
        await Report.delete().where(
            (Report.id == report_id) & (Report.status == ReportStatus.DRAFT)
        )
        await _audit(
            viewer, "report.draft_discarded", report_id, f"Draft report {report_id} discarded"
        )
    return str(report["group_slug"])


# --- submitting -------------------------------------------------------------------------


def content_hash(report: Mapping[str, Any]) -> str:
    canonical = {
        "group": report["group"],
        "kind": report["kind"],
        "period": report["period"],
        "title": report["title"],
        "body": report["body"],
        "visibility": report["visibility"],
        "to_director": report["to_director"],
        "to_board": report["to_board"],
        "follows_up": report["follows_up"],
    }
    return hashlib.sha256(
        json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


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
            group_name=report["group_name"],
            report_title=report["title"],
            kind=report["kind"],
            line=line["recipient"],
            due_on=due_on,
        )
    return delivery_id


async def _freeze(report: Mapping[str, Any], viewer: Viewer, now: dt.datetime) -> str:
    """Marks the draft submitted under the SHA-256 of its text; refused if it no longer is
    a draft (a submission that raced this one)."""
    digest = content_hash(report)
    updated = (
        await Report.update(
            {
                Report.status: ReportStatus.SUBMITTED,
                Report.submitted_at: now,
                Report.submitted_by: viewer.user.id,
                Report.content_hash: digest,
            }
        )
        .where((Report.id == report["id"]) & (Report.status == ReportStatus.DRAFT))
        .returning(Report.id)
    )
    if not updated:
        raise ConflictError("This report has already been submitted.")
    return digest


async def submit_report(report_id: int, viewer: Viewer) -> list[int]:
    """Freezes the report and delivers it along each addressed line, all in one
    transaction; returns the deliveries' ids."""
    async with write_transaction():
        report = await _changeable_draft(report_id, viewer)
        errors = await _draft_errors(draft_of(report), report["group"], NO_ERRORS, report_id)
        if not report["body"].strip():
            errors["body"] = "Write the report before submitting it."
        refuse(errors, EMPTY_REPORT if "body" in errors else NEEDS_CORRECTING)
        now = utcnow()
        digest = await _freeze(report, viewer, now)
        wanted = {Line.DIRECTOR: report["to_director"], Line.BOARD: report["to_board"]}
        lines = await ReportingLine.select().where(ReportingLine.group == report["group"])
        delivery_ids = [
            await _deliver(report, line, now) for line in lines if wanted.get(line["recipient"])
        ]
        await _audit(
            viewer,
            "report.submitted",
            report_id,
            f"Report {report_id} submitted to "
            f"{' and '.join(line.label for line, on in wanted.items() if on)}; sha256 {digest}",
        )
    return delivery_ids


# --- each line's delivery ---------------------------------------------------------------


async def _record_read_receipt(report_id: int, viewer: Viewer) -> None:
    """The first time someone on a line opens the report, that line's delivery is read."""
    lines = [str(line) for line in Line if viewer.user.acts_for(line)]
    if not lines:
        return
    async with write_transaction():
        unread = await Delivery.select(Delivery.id, Delivery.recipient).where(
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
            )


async def open_report(report_id: int, viewer: Viewer) -> ReportView:
    """The report's trail; opening a submitted report as someone on a line counts as
    reading it for that line (the first time)."""
    report = await queries.report_row(report_id, viewer)
    if report["status"] == ReportStatus.SUBMITTED:
        await _record_read_receipt(report_id, viewer)
    return await queries.report_view(report, viewer)


async def _line_delivery(delivery_id: int, viewer: Viewer) -> dict[str, Any]:
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
        delivery = await _line_delivery(delivery_id, viewer)
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
        )
    return int(delivery["report"])


def _bracketed(errors: Mapping[str, str]) -> dict[str, str]:
    """Errors of the actions named as the API names them: `actions[0].title`."""
    return {re.sub(r"^actions\.(\d+)\.", r"actions[\1].", name): m for name, m in errors.items()}


def _trimmed_response(command: LineResponse) -> LineResponse:
    actions = [trimmed(action) for action in command.actions]
    return msgspec.structs.replace(trimmed(command), actions=actions)


async def _response_errors(
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


async def _insert_actions(
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


async def _record_response(
    delivery: Mapping[str, Any], command: LineResponse, viewer: Viewer
) -> None:
    now = utcnow()
    changes: dict[Any, Any] = {
        Delivery.state: DeliveryState.RESPONDED,
        Delivery.responded_at: now,
        Delivery.responded_by: viewer.user.id,
        Delivery.response: command.response,
        Delivery.rationale: command.rationale.strip(),
    }
    if delivery["acknowledged_at"] is None:
        # Answering is acknowledging; the record shows both at the same moment.
        changes.update({Delivery.acknowledged_at: now, Delivery.acknowledged_by: viewer.user.id})
    if delivery["read_at"] is None:
        changes.update({Delivery.read_at: now, Delivery.read_by: viewer.user.id})
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
) -> list[int]:
    """Records the line's response, and any actions that come of it; returns their ids.
    Once per line: a response cannot be changed."""
    command = _trimmed_response(command)
    async with write_transaction():
        delivery = await _line_delivery(delivery_id, viewer)
        if delivery["state"] == DeliveryState.RESPONDED:
            raise ConflictError(ALREADY_RESPONDED)
        errors = await _response_errors(command, delivery["group_id"], viewer, unreadable)
        refuse(errors, RESPONSE_NEEDS_CORRECTING)
        await _record_response(delivery, command, viewer)
        action_ids = await _insert_actions(command.actions, delivery, viewer)
        await _audit(
            viewer,
            "delivery.responded",
            delivery_id,
            f"Report {delivery['report']}: {Line(delivery['recipient']).label} line responded "
            f"'{command.response}' with {len(action_ids)} action(s)",
        )
        await _tell_group_leads(delivery, command.response)
    return action_ids


async def _tell_group_leads(delivery: Mapping[str, Any], response: str) -> None:
    leads = await Membership.select(
        Membership.user.id.as_alias("user_id"),
        Membership.user.email.as_alias("email"),
        Membership.user.display_name.as_alias("display_name"),
    ).where(
        (Membership.group == delivery["group_id"])
        & Membership.role.is_in(sorted(LEADING_ROLES))
        & current_on(organisation_today())
    )
    for lead in leads:
        await emails.delivery_responded(
            Recipient.of(lead),
            delivery_id=delivery["id"],
            report_id=delivery["report"],
            report_title=delivery["report_title"],
            group_name=delivery["group_name"],
            line=delivery["recipient"],
            response=response,
        )
