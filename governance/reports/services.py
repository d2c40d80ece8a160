"""The dual reporting lines (DESIGN.md §3).

A chair or secretary drafts a report; submitting it freezes the text under a SHA-256 and,
in the same transaction, creates one Delivery per addressed line, the audit event and the
notification emails. Each line then works on its own delivery: read, acknowledged,
responded. The Director acts only on the Director line; any Board member acts for the
Board line. Nobody edits, withdraws or deletes a submitted report.

Reading: a draft is seen only by the group's current members. A submitted report is seen
by whoever may read its visibility (`Viewer.readable_visibilities`): a `board` report never
reaches the Director, not even as a count. Filters are applied in the queries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from piccolo.columns.combination import Or, Where

from governance.accounts.policy import Line, Viewer
from governance.accounts.tables import User
from governance.actions.queries import actions_for_sources
from governance.actions.schemas import NewAction
from governance.actions.services import insert_action
from governance.core.audit import record_event
from governance.core.clock import organisation_today, utcnow
from governance.core.db import write_transaction
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.groups.tables import Membership, ReportingLine, WorkingGroup
from governance.notifications import emails
from governance.notifications.emails import Recipient
from governance.reports import schedule
from governance.reports.tables import Delivery, Report
from governance.settings import get_settings

KINDS = ("periodic", "recommendation")
ROUTES = ("both", "board", "director")
ROUTE_LABELS = {
    "both": "Both lines: the Executive Director and the Board",
    "board": "The Board only (the Director will not see it)",
    "director": "The Executive Director only (the Board still sees it and its answer)",
}
RESPONSES = ("accepted", "partially_accepted", "declined", "noted")
RESPONSES_NEEDING_RATIONALE = frozenset({"declined", "partially_accepted"})
DELIVERY_STATES = ("delivered", "read", "acknowledged", "responded")
NOT_FOUND = "There is no report at this address, or you cannot see it."


@dataclass(frozen=True)
class ReportFields:
    kind: str
    period: str
    title: str
    body: str
    route: str
    follows_up: int | None = None


def _route_of(report: dict[str, Any]) -> str:
    if report["to_director"] and report["to_board"]:
        return "both"
    return "board" if report["to_board"] else "director"


def _line_flags(fields: ReportFields) -> tuple[bool, bool, str]:
    """(to_director, to_board, visibility) for the chosen route."""
    if fields.kind == "periodic" or fields.route == "both":
        return True, True, "internal"
    if fields.route == "board":
        # The independence channel: the Director learns nothing of it.
        return False, True, "board"
    return True, False, "internal"


# --- reading ----------------------------------------------------------------------------


def _organisation_visibilities(viewer: Viewer) -> list[str]:
    if viewer.user.is_board:
        return ["public", "internal", "board"]
    if viewer.user.is_director:
        return ["public", "internal"]
    return []


def readable_reports_clause(viewer: Viewer) -> Where | Or:
    """Rows of Report this viewer may read: drafts and all of their own groups' reports,
    and submitted reports of other groups whose visibility their role allows."""
    member_groups = list(viewer.group_roles) or [-1]
    clause: Any = Report.group.is_in(member_groups)
    visibilities = _organisation_visibilities(viewer)
    if visibilities:
        clause = clause | ((Report.status == "submitted") & Report.visibility.is_in(visibilities))
    return clause  # type: ignore[no-any-return]


def can_read(viewer: Viewer, report: dict[str, Any]) -> bool:
    if viewer.is_member_of(report["group"]):
        return True
    return report["status"] == "submitted" and report["visibility"] in _organisation_visibilities(
        viewer
    )


def acts_for(viewer: Viewer, recipient: str) -> bool:
    return (recipient == "director" and viewer.user.is_director) or (
        recipient == "board" and viewer.user.is_board
    )


async def _report(report_id: int, viewer: Viewer) -> dict[str, Any]:
    row = (
        await Report.select(
            *Report.all_columns(),
            Report.group.name.as_alias("group_name"),
            Report.group.slug.as_alias("group_slug"),
            Report.created_by.display_name.as_alias("created_by_name"),
            Report.submitted_by.display_name.as_alias("submitted_by_name"),
        )
        .where((Report.id == report_id) & readable_reports_clause(viewer))
        .first()
    )
    if row is None:
        # A report the viewer may not read is "not found", exactly like a missing one.
        raise NotFoundError(NOT_FOUND)
    row["route"] = _route_of(row)
    return row  # type: ignore[no-any-return]


async def get_report(report_id: int, viewer: Viewer) -> dict[str, Any]:
    return await _report(report_id, viewer)


async def _deliveries_of(report_ids: list[int]) -> list[dict[str, Any]]:
    return (
        await Delivery.select(
            *Delivery.all_columns(),
            Delivery.read_by.display_name.as_alias("read_by_name"),
            Delivery.acknowledged_by.display_name.as_alias("acknowledged_by_name"),
            Delivery.responded_by.display_name.as_alias("responded_by_name"),
        )
        .where(Delivery.report.is_in(report_ids or [-1]))
        .order_by(Delivery.recipient, ascending=False)
    )


def _annotate_delivery(delivery: dict[str, Any], today: dt.date) -> dict[str, Any]:
    delivery["line_name"] = Line(delivery["recipient"]).label
    delivery["days_left"] = (delivery["response_due_on"] - today).days
    delivery["is_overdue"] = (
        delivery["state"] != "responded" and delivery["response_due_on"] < today
    )
    return delivery


async def report_page(
    report_id: int, viewer: Viewer, *, record_read: bool = True
) -> dict[str, Any]:
    """The trail: the report, both lines side by side, the actions that came of each response.

    Opening it counts as reading it for the viewer's line, unless record_read is False (as
    when an answer to a submission or a response shows the report again)."""
    report = await _report(report_id, viewer)
    if record_read and report["status"] == "submitted":
        await _record_read_receipt(report, viewer)
    today = organisation_today()
    deliveries = [_annotate_delivery(d, today) for d in await _deliveries_of([report_id])]
    actions = await actions_for_sources("response", [d["id"] for d in deliveries], viewer)
    for delivery in deliveries:
        delivery["actions"] = actions.get(delivery["id"], [])
        delivery["can_act"] = acts_for(viewer, delivery["recipient"])
    follow_ups = await Report.select(Report.id, Report.title, Report.submitted_at).where(
        (Report.follows_up == report_id) & readable_reports_clause(viewer)
    )
    all_actions = [a for d in deliveries for a in d["actions"]]
    closed = (
        bool(deliveries)
        and all(d["state"] == "responded" for d in deliveries)
        and all(a.status in ("done", "dropped") for a in all_actions)
    )
    return {
        "report": report,
        "deliveries": deliveries,
        "follow_ups": follow_ups,
        "closed": closed,
        "can_edit": report["status"] == "draft" and viewer.leads(report["group"]),
        "route_label": ROUTE_LABELS[report["route"]],
    }


async def _record_read_receipt(report: dict[str, Any], viewer: Viewer) -> None:
    """The first time someone on a line opens the report, that line's delivery is read."""
    recipients = [r for r in ("director", "board") if acts_for(viewer, r)]
    if not recipients:
        return
    async with write_transaction():
        unread = await Delivery.select(Delivery.id, Delivery.recipient).where(
            (Delivery.report == report["id"])
            & Delivery.recipient.is_in(recipients)
            & (Delivery.state == "delivered")
        )
        for delivery in unread:
            await Delivery.update(
                {
                    Delivery.state: "read",
                    Delivery.read_at: utcnow(),
                    Delivery.read_by: viewer.user.id,
                }
            ).where((Delivery.id == delivery["id"]) & (Delivery.state == "delivered"))
            await record_event(
                viewer.user,
                "delivery.read",
                "delivery",
                delivery["id"],
                f"Report {report['id']} opened on the {Line(delivery['recipient']).label} line",
            )


async def group_reports(slug: str, viewer: Viewer) -> dict[str, Any]:
    """A group's reports the viewer may read, and each line's schedule."""
    group = await WorkingGroup.select().where(WorkingGroup.slug == slug).first()
    if group is None:
        raise NotFoundError("There is no working group at this address.")
    reports = (
        await Report.select(
            Report.id,
            Report.kind,
            Report.period,
            Report.title,
            Report.status,
            Report.visibility,
            Report.to_director,
            Report.to_board,
            Report.submitted_at,
        )
        .where((Report.group == group["id"]) & readable_reports_clause(viewer))
        .order_by(Report.created_at, ascending=False)
    )
    today = organisation_today()
    deliveries = [
        _annotate_delivery(d, today) for d in await _deliveries_of([r["id"] for r in reports])
    ]
    for report in reports:
        report["deliveries"] = [d for d in deliveries if d["report"] == report["id"]]
        report["route"] = _route_of(report)
    return {
        "group": group,
        "reports": reports,
        "schedules": await line_schedules(group, today),
        "can_draft": viewer.leads(group["id"]),
    }


async def line_schedules(group: dict[str, Any], today: dt.date) -> list[dict[str, Any]]:
    """Per line: every period since the group began, with its state, and the next due."""
    return (await schedules_for_groups([group], today))[group["id"]]


async def schedules_for_groups(
    groups: list[dict[str, Any]], today: dt.date
) -> dict[int, list[dict[str, Any]]]:
    """The line schedules of several groups in two queries, whatever their number."""
    group_ids = [group["id"] for group in groups] or [-1]
    lines = (
        await ReportingLine.select()
        .where(ReportingLine.group.is_in(group_ids))
        .order_by(ReportingLine.recipient, ascending=False)
    )
    submitted = await Report.select(Report.group, Report.period, Report.submitted_at).where(
        Report.group.is_in(group_ids) & (Report.kind == "periodic") & (Report.status == "submitted")
    )
    zone = _zone(get_settings().timezone)
    first_submitted: dict[tuple[int, str], dt.date] = {}
    for row in submitted:
        key = (row["group"], row["period"])
        day = row["submitted_at"].astimezone(zone).date()
        if key not in first_submitted or day < first_submitted[key]:
            first_submitted[key] = day
    result: dict[int, list[dict[str, Any]]] = {group["id"]: [] for group in groups}
    for group in groups:
        start = group["created_at"].astimezone(zone).date()
        for line in (line for line in lines if line["group"] == group["id"]):
            statuses = [
                schedule.period_status(
                    line["cadence"],
                    line["report_due_days"],
                    period,
                    first_submitted.get((group["id"], period.label)),
                    today,
                )
                for period in schedule.periods_between(line["cadence"], start, today)
            ]
            pending = [s for s in statuses if s.state in ("upcoming", "due", "overdue")]
            result[group["id"]].append(
                {
                    "line": line,
                    "line_name": Line(line["recipient"]).label,
                    "periods": list(reversed(statuses)),
                    "next_due": pending[0] if pending else None,
                    "today": today,
                }
            )
    return result


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def describe_next_due(entry: dict[str, Any]) -> str:
    """'The 2026-Q4 report to the Board is due on 30 Jan 2027, in 67 days.'"""
    status = entry["next_due"]
    if status is None:
        return f"No periodic report is owed to the {entry['line_name']} at the moment."
    days = (status.due_on - entry["today"]).days
    when = f"{status.due_on:%-d %b %Y}"
    if days > 1:
        tail = f"in {days} days"
    elif days == 1:
        tail = "tomorrow"
    elif days == 0:
        tail = "today"
    else:
        tail = f"{-days} days ago"
    return f"The {status.period.label} report to the {entry['line_name']} is due on {when}, {tail}."


# --- drafting ---------------------------------------------------------------------------


async def _group_by_slug(slug: str) -> dict[str, Any]:
    group = await WorkingGroup.select().where(WorkingGroup.slug == slug).first()
    if group is None:
        raise NotFoundError("There is no working group at this address.")
    return group  # type: ignore[no-any-return]


async def _validate(
    fields: ReportFields, group_id: int, viewer: Viewer, report_id: int | None
) -> None:
    errors: dict[str, str] = {}
    if fields.kind not in KINDS:
        errors["kind"] = "Choose a periodic report or a recommendation."
    if not fields.title.strip():
        errors["title"] = "Title is required."
    if fields.route not in ROUTES:
        errors["route"] = "Choose the lines it goes to."
    if fields.kind == "periodic":
        parsed = schedule.parse_period(fields.period)
        if parsed is None:
            errors["period"] = "Name the period, e.g. 2026-Q4, 2026-H2, 2026-11 or 2026."
        else:
            cadences = {
                row["cadence"]
                for row in await ReportingLine.select(ReportingLine.cadence).where(
                    ReportingLine.group == group_id
                )
            }
            if parsed[0] not in cadences:
                errors["period"] = (
                    f"This group reports {' and '.join(sorted(cadences))};"
                    " name a period of that kind."
                )
        if fields.route != "both":
            errors["route"] = "A periodic report always goes to both lines."
    if fields.follows_up is not None:
        earlier = (
            await Report.select(Report.group, Report.status, Report.visibility)
            .where(Report.id == fields.follows_up)
            .first()
        )
        if (
            earlier is None
            or earlier["group"] != group_id
            or earlier["status"] != "submitted"
            or earlier["group"] not in viewer.group_roles
        ):
            errors["follows_up"] = "A follow-up refers to a submitted report of the same group."
        elif earlier["visibility"] == "board" and _line_flags(fields)[2] != "board":
            # Otherwise the follow-up would point the Director at the Board-only channel.
            errors["follows_up"] = "A follow-up of a Board-only report goes to the Board only."
        if report_id is not None and fields.follows_up == report_id:
            errors["follows_up"] = "A report cannot follow up itself."
    if errors:
        raise InvalidInput("Some values need correcting.", errors)


def _columns(fields: ReportFields) -> dict[Any, Any]:
    to_director, to_board, visibility = _line_flags(fields)
    return {
        Report.kind: fields.kind,
        Report.period: fields.period.strip().upper() if fields.kind == "periodic" else "",
        Report.title: fields.title.strip(),
        Report.body: fields.body,
        Report.visibility: visibility,
        Report.to_director: to_director,
        Report.to_board: to_board,
        Report.follows_up: fields.follows_up,
    }


async def create_report(slug: str, fields: ReportFields, viewer: Viewer) -> int:
    group = await _group_by_slug(slug)
    if not viewer.leads(group["id"]):
        raise PermissionDenied("Only the group's chair or secretary can draft reports.")
    await _validate(fields, group["id"], viewer, None)
    now = utcnow()
    async with write_transaction():
        rows = await Report.insert(
            Report(
                group=group["id"],
                status="draft",
                created_by=viewer.user.id,
                created_at=now,
                updated_at=now,
            )
        ).returning(Report.id)
        report_id = int(rows[0]["id"])
        await Report.update({**_columns(fields), Report.updated_at: now}).where(
            Report.id == report_id
        )
        await record_event(
            viewer.user,
            "report.drafted",
            "report",
            report_id,
            f"{fields.kind.capitalize()} report {report_id} drafted",
        )
    return report_id


async def _draft_for_change(report_id: int, viewer: Viewer) -> dict[str, Any]:
    report = await _report(report_id, viewer)
    if report["status"] != "draft":
        raise ConflictError(
            "A submitted report can never be changed. Write a follow-up report instead."
        )
    if not viewer.leads(report["group"]):
        raise PermissionDenied("Only the group's chair or secretary can change a draft.")
    return report


async def update_report(report_id: int, fields: ReportFields, viewer: Viewer) -> None:
    async with write_transaction():
        report = await _draft_for_change(report_id, viewer)
        await _validate(fields, report["group"], viewer, report_id)
        # The status condition makes a change that races a submission change nothing.
        await Report.update({**_columns(fields), Report.updated_at: utcnow()}).where(
            (Report.id == report_id) & (Report.status == "draft")
        )
        await record_event(
            viewer.user,
            "report.draft_updated",
            "report",
            report_id,
            f"Draft report {report_id} updated",
        )


async def discard_draft(report_id: int, viewer: Viewer) -> None:
    async with write_transaction():
        await _draft_for_change(report_id, viewer)
        await Report.delete().where((Report.id == report_id) & (Report.status == "draft"))
        await record_event(
            viewer.user,
            "report.draft_discarded",
            "report",
            report_id,
            f"Draft report {report_id} discarded",
        )


def content_hash(report: dict[str, Any]) -> str:
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


async def _line_recipients(recipient: str) -> list[dict[str, Any]]:
    column = User.is_director if recipient == "director" else User.is_board
    return await User.select(User.id, User.email, User.display_name).where(
        (column == True) & (User.is_active == True)  # noqa: E712 - SQL comparisons
    )


async def submit_report(report_id: int, viewer: Viewer) -> list[int]:
    """Freezes the report and delivers it along each addressed line, all in one transaction."""
    async with write_transaction():
        report = await _draft_for_change(report_id, viewer)
        if not report["body"].strip():
            raise InvalidInput(
                "An empty report cannot be submitted.",
                {"body": "Write the report before submitting it."},
            )
        await _validate(
            ReportFields(
                report["kind"],
                report["period"],
                report["title"],
                report["body"],
                report["route"],
                report["follows_up"],
            ),
            report["group"],
            viewer,
            report_id,
        )
        now = utcnow()
        digest = content_hash(report)
        updated = (
            await Report.update(
                {
                    Report.status: "submitted",
                    Report.submitted_at: now,
                    Report.submitted_by: viewer.user.id,
                    Report.content_hash: digest,
                }
            )
            .where((Report.id == report_id) & (Report.status == "draft"))
            .returning(Report.id)
        )
        if not updated:
            raise ConflictError("This report has already been submitted.")
        lines = await ReportingLine.select().where(ReportingLine.group == report["group"])
        wanted = {"director": report["to_director"], "board": report["to_board"]}
        today = organisation_today()
        delivery_ids = []
        for line in lines:
            if not wanted.get(line["recipient"]):
                continue
            rows = await Delivery.insert(
                Delivery(
                    report=report_id,
                    line=line["id"],
                    recipient=line["recipient"],
                    state="delivered",
                    delivered_at=now,
                    response_due_on=today + dt.timedelta(days=line["response_days"]),
                )
            ).returning(Delivery.id)
            delivery_id = int(rows[0]["id"])
            delivery_ids.append(delivery_id)
            for person in await _line_recipients(line["recipient"]):
                await emails.report_delivered(
                    Recipient.of(person, "id"),
                    delivery_id=delivery_id,
                    report_id=report_id,
                    group_name=report["group_name"],
                    report_title=report["title"],
                    kind=report["kind"],
                    line=line["recipient"],
                    due_on=today + dt.timedelta(days=line["response_days"]),
                )
        await record_event(
            viewer.user,
            "report.submitted",
            "report",
            report_id,
            f"Report {report_id} submitted to "
            f"{' and '.join(Line(r).label for r, on in wanted.items() if on)}; "
            f"sha256 {digest}",
        )
    return delivery_ids


# --- each line's delivery ---------------------------------------------------------------


DELIVERY_NOT_FOUND = "There is no such delivery, or you cannot see it."


async def _readable_delivery(
    delivery_id: int, viewer: Viewer
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A delivery and its report; "not found", worded the same, whether the delivery does not
    exist or its report may not be read, so that nothing tells the two apart."""
    delivery = await Delivery.select().where(Delivery.id == delivery_id).first()
    if delivery is None:
        raise NotFoundError(DELIVERY_NOT_FOUND)
    try:
        report = await _report(delivery["report"], viewer)
    except NotFoundError:
        raise NotFoundError(DELIVERY_NOT_FOUND) from None
    return delivery, report


async def _delivery_for_action(
    delivery_id: int, viewer: Viewer
) -> tuple[dict[str, Any], dict[str, Any]]:
    delivery, report = await _readable_delivery(delivery_id, viewer)
    if not acts_for(viewer, delivery["recipient"]):
        raise PermissionDenied(
            f"Only the {Line(delivery['recipient']).label} can act on this line's delivery."
        )
    return delivery, report


async def acknowledge_delivery(delivery_id: int, viewer: Viewer) -> None:
    async with write_transaction():
        delivery, report = await _delivery_for_action(delivery_id, viewer)
        if delivery["state"] not in ("delivered", "read"):
            raise ConflictError(f"This delivery is already {delivery['state']}.")
        now = utcnow()
        changes: dict[Any, Any] = {
            Delivery.state: "acknowledged",
            Delivery.acknowledged_at: now,
            Delivery.acknowledged_by: viewer.user.id,
        }
        if delivery["read_at"] is None:
            changes.update({Delivery.read_at: now, Delivery.read_by: viewer.user.id})
        await Delivery.update(changes).where(
            (Delivery.id == delivery_id) & Delivery.state.is_in(["delivered", "read"])
        )
        await record_event(
            viewer.user,
            "delivery.acknowledged",
            "delivery",
            delivery_id,
            f"Report {report['id']} acknowledged on the {Line(delivery['recipient']).label} line",
        )


@dataclass(frozen=True)
class ResponseFields:
    response: str
    rationale: str
    actions: list[NewAction] = field(default_factory=list)


async def respond_to_delivery(
    delivery_id: int, fields: ResponseFields, viewer: Viewer
) -> list[int]:
    """Records the line's response, and any actions that come of it; returns their ids."""
    errors: dict[str, str] = {}
    if fields.response not in RESPONSES:
        errors["response"] = "Choose accepted, partially accepted, declined or noted."
    elif fields.response in RESPONSES_NEEDING_RATIONALE and not fields.rationale.strip():
        errors["rationale"] = "Give the reasons when declining or only partly accepting."
    if errors:
        raise InvalidInput("The response needs correcting. Nothing has been recorded.", errors)
    async with write_transaction():
        delivery, report = await _delivery_for_action(delivery_id, viewer)
        if delivery["state"] == "responded":
            raise ConflictError("This line has already responded; a response cannot be changed.")
        now = utcnow()
        changes: dict[Any, Any] = {
            Delivery.state: "responded",
            Delivery.responded_at: now,
            Delivery.responded_by: viewer.user.id,
            Delivery.response: fields.response,
            Delivery.rationale: fields.rationale.strip(),
        }
        if delivery["acknowledged_at"] is None:
            # Answering is acknowledging; the record shows both at the same moment.
            changes.update(
                {Delivery.acknowledged_at: now, Delivery.acknowledged_by: viewer.user.id}
            )
        if delivery["read_at"] is None:
            changes.update({Delivery.read_at: now, Delivery.read_by: viewer.user.id})
        updated = (
            await Delivery.update(changes)
            .where((Delivery.id == delivery_id) & (Delivery.state != "responded"))
            .returning(Delivery.id)
        )
        if not updated:
            raise ConflictError("This line has already responded; a response cannot be changed.")
        action_ids = []
        for action in fields.actions:
            action_ids.append(
                await insert_action(
                    report["group"],
                    NewAction(
                        title=action.title,
                        description=action.description,
                        due_on=action.due_on,
                        visibility=report["visibility"],
                        owner_ids=action.owner_ids,
                        source_type="response",
                        source_id=delivery_id,
                    ),
                    viewer.user,
                )
            )
        line_name = Line(delivery["recipient"]).label
        await record_event(
            viewer.user,
            "delivery.responded",
            "delivery",
            delivery_id,
            f"Report {report['id']}: {line_name} line responded '{fields.response}' "
            f"with {len(action_ids)} action(s)",
        )
        await _tell_group_leads(report, delivery_id, delivery["recipient"], fields.response)
    return action_ids


async def _tell_group_leads(
    report: dict[str, Any], delivery_id: int, line: str, response: str
) -> None:
    today = organisation_today()
    leads = await Membership.select(
        Membership.user.id.as_alias("user_id"),
        Membership.user.email.as_alias("email"),
        Membership.user.display_name.as_alias("display_name"),
    ).where(
        (Membership.group == report["group"])
        & Membership.role.is_in(["chair", "secretary"])
        & (Membership.starts_on <= today)
        & (Membership.ends_on.is_null() | (Membership.ends_on >= today))
    )
    for lead in leads:
        await emails.delivery_responded(
            Recipient.of(lead),
            delivery_id=delivery_id,
            report_id=report["id"],
            report_title=report["title"],
            line=line,
            response=response,
        )


# --- views by role ----------------------------------------------------------------------


async def inbox(viewer: Viewer) -> dict[str, Any]:
    """What awaits this person on their line, and, for the Board, the Director line's state."""
    today = organisation_today()
    lines = [r for r in ("director", "board") if acts_for(viewer, r)]
    report_ids = [
        row["id"]
        for row in await Report.select(Report.id).where(
            readable_reports_clause(viewer) & (Report.status == "submitted")
        )
    ]
    rows = (
        await Delivery.select(
            *Delivery.all_columns(),
            Delivery.report.title.as_alias("report_title"),
            Delivery.report.kind.as_alias("report_kind"),
            Delivery.report.group.name.as_alias("group_name"),  # type: ignore[union-attr]
            Delivery.report.group.slug.as_alias("group_slug"),  # type: ignore[union-attr]
            Delivery.responded_by.display_name.as_alias("responded_by_name"),
        )
        .where(Delivery.report.is_in(report_ids or [-1]))
        .order_by(Delivery.response_due_on)
    )
    deliveries = [_annotate_delivery(row, today) for row in rows]
    mine = [d for d in deliveries if d["recipient"] in lines]
    return {
        "awaiting": [d for d in mine if d["state"] != "responded"],
        "answered": [d for d in mine if d["state"] == "responded"][-20:],
        "awaiting_management": [
            d for d in deliveries if d["recipient"] == "director" and d["is_overdue"]
        ]
        if viewer.user.is_board
        else [],
        "director_line": [d for d in deliveries if d["recipient"] == "director"]
        if viewer.user.is_board
        else [],
        "lines": lines,
    }


async def reporting_overview_for_leads(viewer: Viewer) -> list[dict[str, Any]]:
    """For chairs and secretaries: what is due from each group they lead."""
    # No early return for someone who leads nothing: the page costs the same queries for all.
    led = [gid for gid, role in viewer.group_roles.items() if role in ("chair", "secretary")]
    groups = (
        await WorkingGroup.select()
        .where(WorkingGroup.id.is_in(led or [-1]))
        .order_by(WorkingGroup.name)
    )
    schedules = await schedules_for_groups(groups, organisation_today())
    return [
        {"group": group, "next_due": [describe_next_due(entry) for entry in schedules[group["id"]]]}
        for group in groups
    ]


async def report_id_of_delivery(delivery_id: int, viewer: Viewer) -> int:
    """The report a delivery belongs to, if the viewer may read that report."""
    _, report = await _readable_delivery(delivery_id, viewer)
    return int(report["id"])
