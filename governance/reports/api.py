"""JSON routes for reports and deliveries (DESIGN.md §8), with the same rules as the pages.

Every route builds the caller's `Viewer` and calls the same services as the HTML pages, so
who may read, submit, acknowledge or answer what is decided in one place. Request bodies are
msgspec Structs: a body of the wrong shape or type is answered 400 by Litestar before a
handler runs; values of the right type that break a rule (an empty title, an unknown line,
a due date in the past) are answered 422 with the field errors, exactly as the forms would
show them. A report or delivery the caller may not read is 404, the same as one that does
not exist: the Director never learns of a Board-only report, not even as a count.

A submitted report never changes: there is no route that edits, withdraws or deletes one
(PATCH, PUT or DELETE on a report is answered 405), and submitting it again is 409.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter

from governance.accounts.auth import signed_in
from governance.accounts.policy import Line, Viewer
from governance.actions.schemas import (
    DESCRIPTION_MAX_LENGTH,
    MAX_OWNERS,
    TITLE_MAX_LENGTH,
    ActionSummaryView,
    NewAction,
)
from governance.core.clock import organisation_today
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.core.forms import FormReader
from governance.core.http import MAX_ROW_ID
from governance.core.markdown import render_markdown
from governance.groups.dependencies import current_viewer
from governance.groups.queries import get_group, members_on
from governance.reports import schedule, services
from governance.reports.forms import MAX_ACTIONS_PER_RESPONSE, read_report, read_response
from governance.reports.services import (
    DELIVERY_STATES,
    KINDS,
    RESPONSES,
    ROUTES,
    ReportFields,
    ResponseFields,
)
from governance.reports.tables import Delivery, Report

LINES = ("director", "board")
NO_SUCH_DELIVERY = "There is no such delivery, or you cannot see it."

RowId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ROW_ID)]
ReportId = Annotated[
    int, PathParameter(ge=1, le=MAX_ROW_ID, description="The report's id", title="Report id")
]
DeliveryId = Annotated[
    int,
    PathParameter(ge=1, le=MAX_ROW_ID, description="The delivery's id", title="Delivery id"),
]


def _choice(values: tuple[str, ...], description: str) -> msgspec.Meta:
    """A string the handler checks against `values` (a 422 with the field's error if not);
    the choices are listed in the OpenAPI schema."""
    return msgspec.Meta(
        extra_json_schema={"description": description, "extra": {"enum": list(values)}}
    )


Kind = Annotated[str, _choice(KINDS, "A periodic report or a recommendation")]
Route = Annotated[
    str,
    _choice(
        ROUTES,
        "The lines it goes to: both, the Board only (the Director never sees it) or the "
        "Director only (the Board still sees it and its answer). A periodic report always "
        "goes to both.",
    ),
]
ResponseChoice = Annotated[str, _choice(RESPONSES, "The line's answer")]
LineFilter = Annotated[
    str | None,
    QueryParameter(
        description="Only the deliveries of this line: director or board",
        schema_extra={"enum": list(LINES)},
    ),
]
StateFilter = Annotated[
    str | None,
    QueryParameter(
        # `state` is a name Litestar reserves for the application state.
        name="state",
        description="Only the deliveries in this state: " + ", ".join(DELIVERY_STATES),
        schema_extra={"enum": list(DELIVERY_STATES)},
    ),
]


# --- request bodies ---------------------------------------------------------------------


class ReportIn(msgspec.Struct, forbid_unknown_fields=True):
    """A draft report. `period` names the reporting period of a periodic report, in the
    group's cadence (2026-Q4, 2026-H2, 2026-11 or 2026); `body` is Markdown. `follows_up`
    is the id of a submitted report of the same group that this one follows up."""

    kind: Kind
    title: str
    body: str = ""
    period: str = ""
    route: Route = "both"
    follows_up: RowId | None = None


class ResponseActionIn(msgspec.Struct, forbid_unknown_fields=True):
    """An action that comes of the response. Owners are the responder or current members
    of the group; the due date is today or later."""

    title: str
    due_on: dt.date
    owner_ids: list[RowId]
    description: str = ""


class ResponseIn(msgspec.Struct, forbid_unknown_fields=True):
    """The line's response. `rationale` is required when declining or partly accepting."""

    response: ResponseChoice
    rationale: str = ""
    actions: list[ResponseActionIn] = msgspec.field(default_factory=list)


# --- responses --------------------------------------------------------------------------


@dataclass
class PersonOut:
    user_id: int
    display_name: str


@dataclass
class ActionOut:
    id: int
    title: str
    status: str
    due_on: dt.date
    # Past its due date and still open or in progress.
    is_overdue: bool
    owners: list[PersonOut]
    completed_at: dt.datetime | None


@dataclass
class DeliveryOut:
    id: int
    report_id: int
    # director or board
    recipient: str
    line_name: str
    # delivered, read, acknowledged, responded
    state: str
    delivered_at: dt.datetime
    response_due_on: dt.date
    # Days until the response is due; negative once past it.
    days_left: int
    # Past its due date without a response.
    is_overdue: bool
    read_at: dt.datetime | None
    read_by: PersonOut | None
    acknowledged_at: dt.datetime | None
    acknowledged_by: PersonOut | None
    responded_at: dt.datetime | None
    responded_by: PersonOut | None
    # accepted, partially_accepted, declined or noted; null until the line responds.
    response: str | None
    rationale: str
    # Whether the caller acts for this line (the Director, or any Board member).
    can_act: bool
    # The actions that came of the response, those the caller may read.
    actions: list[ActionOut]


@dataclass
class FollowUpOut:
    id: int
    title: str
    submitted_at: dt.datetime | None


@dataclass
class ReportOut:
    id: int
    group_slug: str
    group_name: str
    kind: str
    # The reporting period of a periodic report; null for a recommendation.
    period: str | None
    title: str
    # Markdown as written, and as sanitised HTML.
    body: str
    body_html: str
    # draft or submitted
    status: str
    visibility: str
    route: str
    route_label: str
    to_director: bool
    to_board: bool
    # The report this one follows up; null when none, or one the caller may not read.
    follows_up: int | None
    created_by_name: str
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    submitted_by_name: str | None
    # SHA-256 of the text frozen at submission; null for a draft.
    content_hash: str | None
    # A draft the caller may submit (the group's chair or secretary).
    can_submit: bool
    # Every line has responded and every action from the responses is done or dropped.
    closed: bool
    deliveries: list[DeliveryOut]
    follow_ups: list[FollowUpOut]


@dataclass
class DeliveryStateOut:
    id: int
    recipient: str
    line_name: str
    state: str
    response_due_on: dt.date
    days_left: int
    is_overdue: bool
    response: str | None


@dataclass
class ReportSummaryOut:
    id: int
    kind: str
    period: str | None
    title: str
    status: str
    visibility: str
    route: str
    submitted_at: dt.datetime | None
    deliveries: list[DeliveryStateOut]


@dataclass
class PeriodOut:
    period: str
    starts_on: dt.date
    ends_on: dt.date
    due_on: dt.date
    submitted_on: dt.date | None
    # upcoming, due, overdue, on_time, late or missed
    state: str
    state_text: str


@dataclass
class LineScheduleOut:
    recipient: str
    line_name: str
    cadence: str
    report_due_days: int
    response_days: int
    # The first period still owed a report; null when none is.
    next_due: PeriodOut | None
    next_due_text: str
    # Every period since the group began, newest first.
    periods: list[PeriodOut]


@dataclass
class ReportListOut:
    group_slug: str
    group_name: str
    # Whether the caller chairs or is secretary of the group, and so may draft reports.
    can_draft: bool
    reports: list[ReportSummaryOut]
    schedules: list[LineScheduleOut]


@dataclass
class DeliveryItemOut:
    id: int
    report_id: int
    report_title: str
    report_kind: str
    group_slug: str
    group_name: str
    recipient: str
    line_name: str
    state: str
    delivered_at: dt.datetime
    response_due_on: dt.date
    days_left: int
    is_overdue: bool
    response: str | None
    responded_at: dt.datetime | None
    responded_by_name: str | None
    can_act: bool


@dataclass
class DeliveryListOut:
    line: str | None
    state: str | None
    # Deliveries on the line asked for (all lines without `line`), by state, before the
    # `state` filter.
    counts: dict[str, int]
    # How many of them are past their due date without a response.
    overdue: int
    deliveries: list[DeliveryItemOut]


def _person(user_id: int | None, name: str | None) -> PersonOut | None:
    return None if user_id is None else PersonOut(user_id, name or "")


def _action(action: ActionSummaryView) -> ActionOut:
    return ActionOut(
        id=action.id,
        title=action.title,
        status=action.status,
        due_on=action.due_on,
        is_overdue=action.is_overdue,
        owners=[PersonOut(o.user_id, o.display_name) for o in action.owners],
        completed_at=action.completed_at,
    )


def _delivery(delivery: dict[str, Any]) -> DeliveryOut:
    return DeliveryOut(
        id=delivery["id"],
        report_id=delivery["report"],
        recipient=delivery["recipient"],
        line_name=delivery["line_name"],
        state=delivery["state"],
        delivered_at=delivery["delivered_at"],
        response_due_on=delivery["response_due_on"],
        days_left=delivery["days_left"],
        is_overdue=delivery["is_overdue"],
        read_at=delivery["read_at"],
        read_by=_person(delivery["read_by"], delivery["read_by_name"]),
        acknowledged_at=delivery["acknowledged_at"],
        acknowledged_by=_person(delivery["acknowledged_by"], delivery["acknowledged_by_name"]),
        responded_at=delivery["responded_at"],
        responded_by=_person(delivery["responded_by"], delivery["responded_by_name"]),
        response=delivery["response"] or None,
        rationale=delivery["rationale"],
        can_act=delivery["can_act"],
        actions=[_action(a) for a in delivery["actions"]],
    )


def _report_out(context: dict[str, Any], follows_up: int | None) -> ReportOut:
    """The trail as `services.report_page` lets this caller see it, and no more."""
    report = context["report"]
    return ReportOut(
        id=report["id"],
        group_slug=report["group_slug"],
        group_name=report["group_name"],
        kind=report["kind"],
        period=report["period"] or None,
        title=report["title"],
        body=report["body"],
        body_html=str(render_markdown(report["body"])),
        status=report["status"],
        visibility=report["visibility"],
        route=report["route"],
        route_label=context["route_label"],
        to_director=bool(report["to_director"]),
        to_board=bool(report["to_board"]),
        follows_up=follows_up,
        created_by_name=report["created_by_name"],
        created_at=report["created_at"],
        updated_at=report["updated_at"],
        submitted_at=report["submitted_at"],
        submitted_by_name=report["submitted_by_name"],
        content_hash=report["content_hash"] or None,
        can_submit=bool(context["can_edit"]),
        closed=bool(context["closed"]),
        deliveries=[_delivery(d) for d in context["deliveries"]],
        follow_ups=[
            FollowUpOut(f["id"], f["title"], f["submitted_at"]) for f in context["follow_ups"]
        ],
    )


def _period(status: schedule.PeriodStatus) -> PeriodOut:
    return PeriodOut(
        period=status.period.label,
        starts_on=status.period.starts_on,
        ends_on=status.period.ends_on,
        due_on=status.due_on,
        submitted_on=status.submitted_on,
        state=status.state,
        state_text=schedule.STATE_WORDS[status.state],
    )


def _line_schedule(entry: dict[str, Any]) -> LineScheduleOut:
    line = entry["line"]
    return LineScheduleOut(
        recipient=line["recipient"],
        line_name=entry["line_name"],
        cadence=line["cadence"],
        report_due_days=line["report_due_days"],
        response_days=line["response_days"],
        next_due=None if entry["next_due"] is None else _period(entry["next_due"]),
        next_due_text=services.describe_next_due(entry),
        periods=[_period(status) for status in entry["periods"]],
    )


def _report_summary(report: dict[str, Any]) -> ReportSummaryOut:
    return ReportSummaryOut(
        id=report["id"],
        kind=report["kind"],
        period=report["period"] or None,
        title=report["title"],
        status=report["status"],
        visibility=report["visibility"],
        route=report["route"],
        submitted_at=report["submitted_at"],
        deliveries=[
            DeliveryStateOut(
                id=d["id"],
                recipient=d["recipient"],
                line_name=d["line_name"],
                state=d["state"],
                response_due_on=d["response_due_on"],
                days_left=d["days_left"],
                is_overdue=d["is_overdue"],
                response=d["response"] or None,
            )
            for d in report["deliveries"]
        ],
    )


# --- checks shared by the routes --------------------------------------------------------


async def _report_view(report_id: int, viewer: Viewer, *, record_read: bool = True) -> ReportOut:
    """The report's trail; opening it as someone on a line records that line's read
    receipt, as the page does (not when it merely answers a submission)."""
    context = await services.report_page(report_id, viewer, record_read=record_read)
    follows_up = context["report"]["follows_up"]
    if follows_up is not None:
        try:
            await services.get_report(follows_up, viewer)
        except NotFoundError:
            # Naming a report the caller may not read would tell them it exists.
            follows_up = None
    return _report_out(context, follows_up)


@contextmanager
def _as_missing_delivery() -> Iterator[None]:
    """A delivery of a report the caller may not read is answered exactly as one that does
    not exist. The services name the report in that case ("There is no report at this
    address"), which would tell the Director that a Board-only delivery has this id."""
    try:
        yield
    except NotFoundError as error:
        raise NotFoundError(NO_SUCH_DELIVERY) from error


async def _delivery_view(delivery_id: int, viewer: Viewer) -> DeliveryOut:
    with _as_missing_delivery():
        report_id = await services.report_id_of_delivery(delivery_id, viewer)
    context = await services.report_page(report_id, viewer, record_read=False)
    for delivery in context["deliveries"]:
        if delivery["id"] == delivery_id:
            return _delivery(delivery)
    raise NotFoundError(NO_SUCH_DELIVERY)


async def _line_delivery(delivery_id: int, viewer: Viewer) -> dict[str, Any]:
    """The delivery, if the caller may read its report (else 404) and acts for its line
    (else 403), and has not yet responded on it (else 409).

    Checked before the body's values, so that someone who may not answer learns nothing
    from the validation of what they sent, and a second answer is refused as such.
    """
    with _as_missing_delivery():
        report_id = await services.report_id_of_delivery(delivery_id, viewer)
    delivery = (
        await Delivery.select(Delivery.id, Delivery.recipient, Delivery.state)
        .where((Delivery.id == delivery_id) & (Delivery.report == report_id))
        .first()
    )
    if delivery is None:
        raise NotFoundError(NO_SUCH_DELIVERY)
    if not services.acts_for(viewer, delivery["recipient"]):
        raise PermissionDenied(
            f"Only the {Line(delivery['recipient']).label} can act on this line's delivery."
        )
    if delivery["state"] == "responded":
        raise ConflictError("This line has already responded; a response cannot be changed.")
    return {**delivery, "report_id": report_id}


def _refuse_if(errors: dict[str, str], message: str) -> None:
    if errors:
        raise InvalidInput(message, errors)


def _check_storable(reader: FormReader, values: dict[str, str]) -> None:
    # PostgreSQL cannot store a NUL character in text; refuse it instead of failing there.
    for name, value in values.items():
        if "\x00" in value:
            reader.error(name, "Contains a character that cannot be stored (NUL).")


def _report_fields(data: ReportIn) -> ReportFields:
    """The report form's rules, for values that arrived as JSON."""
    text = {
        "kind": data.kind,
        "period": data.period,
        "title": data.title,
        "body": data.body,
        "route": data.route,
    }
    values: dict[str, Any] = {**text, "follows_up": data.follows_up or ""}
    fields, errors = read_report(values)
    reader = FormReader(values)
    _check_storable(reader, text)
    _refuse_if({**errors, **reader.errors}, "The report needs correcting. Nothing has been saved.")
    return fields


async def _response_fields(data: ResponseIn, report_id: int, viewer: Viewer) -> ResponseFields:
    """The response form's rules, with any number of owners per action (up to the form's
    number of actions): owners are the responder or the group's current members."""
    values = {"response": data.response, "rationale": data.rationale}
    fields, errors = read_response(values, set())
    reader = FormReader(values)
    _check_storable(reader, values)
    errors = {**errors, **reader.errors}
    if len(data.actions) > MAX_ACTIONS_PER_RESPONSE:
        errors["actions"] = f"A response creates at most {MAX_ACTIONS_PER_RESPONSE} actions."
    report = await services.get_report(report_id, viewer)
    today = organisation_today()
    owners = {viewer.user.id} | {m["user"] for m in await members_on(report["group"], today)}
    actions = []
    for index, action in enumerate(data.actions):
        prefix = f"actions[{index}]."
        action_values = {"title": action.title, "description": action.description}
        action_reader = FormReader(action_values)
        title = action_reader.text("title", "Action", max_length=TITLE_MAX_LENGTH)
        description = action_reader.text(
            "description", "Description", required=False, max_length=DESCRIPTION_MAX_LENGTH
        )
        _check_storable(action_reader, action_values)
        if action.due_on < today:
            action_reader.error("due_on", "The due date cannot be in the past.")
        owner_ids = list(dict.fromkeys(action.owner_ids))
        if not owner_ids:
            action_reader.error("owner_ids", "Choose at least one owner.")
        elif len(owner_ids) > MAX_OWNERS:
            action_reader.error("owner_ids", f"An action has at most {MAX_OWNERS} owners.")
        elif any(owner_id not in owners for owner_id in owner_ids):
            action_reader.error(
                "owner_ids", "Choose owners from yourself and the group's current members."
            )
        for name, message in action_reader.errors.items():
            errors.setdefault(f"{prefix}{name}", message)
        actions.append(
            NewAction(
                title=title,
                description=description,
                due_on=action.due_on,
                # The service gives each action the report's visibility.
                visibility=report["visibility"],
                owner_ids=owner_ids,
            )
        )
    _refuse_if(errors, "The response needs correcting. Nothing has been recorded.")
    return ResponseFields(response=fields.response, rationale=fields.rationale, actions=actions)


def _check_filters(line: str | None, state: str | None) -> None:
    errors = {}
    if line is not None and line not in LINES:
        errors["line"] = "Choose director or board."
    if state is not None and state not in DELIVERY_STATES:
        errors["state"] = f"Choose one of: {', '.join(DELIVERY_STATES)}."
    _refuse_if(errors, "Unknown filter.")


async def _readable_deliveries(viewer: Viewer, line: str | None) -> list[dict[str, Any]]:
    """The deliveries of submitted reports the caller may read (those `services.inbox`
    gathers), on one line or both, soonest due first: one query, the reading rule in it."""
    readable = Report.select(Report.id).where(
        services.readable_reports_clause(viewer) & (Report.status == "submitted")
    )
    condition: Any = Delivery.report.is_in(readable)
    if line is not None:
        condition = condition & (Delivery.recipient == line)
    return (  # type: ignore[no-any-return]
        await Delivery.select(
            *Delivery.all_columns(),
            Delivery.report.title.as_alias("report_title"),
            Delivery.report.kind.as_alias("report_kind"),
            Delivery.report.group.name.as_alias("group_name"),  # type: ignore[union-attr]
            Delivery.report.group.slug.as_alias("group_slug"),  # type: ignore[union-attr]
            Delivery.responded_by.display_name.as_alias("responded_by_name"),
        )
        .where(condition)
        .order_by(Delivery.response_due_on)
        .order_by(Delivery.id)
    )


def _delivery_item(row: dict[str, Any], today: dt.date, viewer: Viewer) -> DeliveryItemOut:
    return DeliveryItemOut(
        id=row["id"],
        report_id=row["report"],
        report_title=row["report_title"],
        report_kind=row["report_kind"],
        group_slug=row["group_slug"],
        group_name=row["group_name"],
        recipient=row["recipient"],
        line_name=Line(row["recipient"]).label,
        state=row["state"],
        delivered_at=row["delivered_at"],
        response_due_on=row["response_due_on"],
        days_left=(row["response_due_on"] - today).days,
        is_overdue=row["state"] != "responded" and row["response_due_on"] < today,
        response=row["response"] or None,
        responded_at=row["responded_at"],
        responded_by_name=row["responded_by_name"],
        can_act=services.acts_for(viewer, row["recipient"]),
    )


# --- routes -----------------------------------------------------------------------------


class ReportApiController(Controller):
    path = "/api/v1"
    guards = [signed_in]
    tags = ["reports"]
    security = [{"bearer": []}]

    @get(
        "/groups/{slug:str}/reports",
        summary="A group's reports the caller may read, each line's delivery state, and each "
        "line's reporting schedule",
    )
    async def list_reports(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> ReportListOut:
        context = await services.group_reports(slug, await current_viewer(request))
        group = context["group"]
        return ReportListOut(
            group_slug=group["slug"],
            group_name=group["name"],
            can_draft=bool(context["can_draft"]),
            reports=[_report_summary(r) for r in context["reports"]],
            schedules=[_line_schedule(entry) for entry in context["schedules"]],
        )

    @post(
        "/groups/{slug:str}/reports",
        summary="Draft a report or recommendation (chair or secretary)",
        description="A draft is read only by the group's members until it is submitted.",
        status_code=201,
    )
    async def draft_report(
        self, request: Request[Any, Any, Any], slug: FromPath[str], data: JSONBody[ReportIn]
    ) -> Response[ReportOut]:
        viewer = await current_viewer(request)
        group = await get_group(slug)
        if not viewer.leads(group["id"]):
            raise PermissionDenied("Only the group's chair or secretary can draft reports.")
        report_id = await services.create_report(slug, _report_fields(data), viewer)
        return Response(
            await _report_view(report_id, viewer, record_read=False),
            status_code=201,
            headers={"Location": f"/api/v1/reports/{report_id}"},
        )

    @get(
        "/reports/{report_id:int}",
        summary="A report with both lines side by side: each delivery's state, response and "
        "the actions that came of it",
        description="Opening a submitted report as the Director, or as a Board member, "
        "records that line's read receipt the first time, as the page does.",
    )
    async def get_report(self, request: Request[Any, Any, Any], report_id: ReportId) -> ReportOut:
        return await _report_view(report_id, await current_viewer(request))

    @post(
        "/reports/{report_id:int}/submit",
        summary="Submit a draft: freeze its text and deliver it along its lines",
        description="Refused for an empty report (422) and for one already submitted (409). "
        "A submitted report can never be edited, withdrawn or deleted.",
        status_code=200,
    )
    async def submit_report(
        self, request: Request[Any, Any, Any], report_id: ReportId
    ) -> ReportOut:
        viewer = await current_viewer(request)
        await services.submit_report(report_id, viewer)
        return await _report_view(report_id, viewer, record_read=False)

    @get(
        "/deliveries",
        summary="Deliveries of the submitted reports the caller may read, by line and state",
        description="For the Director and the Board, their lines' deliveries (the Board also "
        "sees the Director line's); for members, their groups' reports' deliveries.",
    )
    async def list_deliveries(
        self,
        request: Request[Any, Any, Any],
        line: LineFilter = None,
        delivery_state: StateFilter = None,
    ) -> DeliveryListOut:
        state = delivery_state
        _check_filters(line, state)
        viewer = await current_viewer(request)
        today = organisation_today()
        items = [
            _delivery_item(row, today, viewer) for row in await _readable_deliveries(viewer, line)
        ]
        counts = {name: 0 for name in DELIVERY_STATES}
        for item in items:
            counts[item.state] += 1
        return DeliveryListOut(
            line=line,
            state=state,
            counts=counts,
            overdue=sum(item.is_overdue for item in items),
            deliveries=[item for item in items if state is None or item.state == state],
        )

    @post(
        "/deliveries/{delivery_id:int}/acknowledge",
        summary="Acknowledge a delivery on the caller's line",
        status_code=200,
    )
    async def acknowledge(
        self, request: Request[Any, Any, Any], delivery_id: DeliveryId
    ) -> DeliveryOut:
        viewer = await current_viewer(request)
        with _as_missing_delivery():
            await services.acknowledge_delivery(delivery_id, viewer)
        return await _delivery_view(delivery_id, viewer)

    @post(
        "/deliveries/{delivery_id:int}/respond",
        summary="Respond on the caller's line, with any actions that come of it",
        description="Once per line: a response cannot be changed. Declining or partly "
        "accepting needs a rationale.",
        status_code=201,
    )
    async def respond(
        self, request: Request[Any, Any, Any], delivery_id: DeliveryId, data: JSONBody[ResponseIn]
    ) -> DeliveryOut:
        viewer = await current_viewer(request)
        delivery = await _line_delivery(delivery_id, viewer)
        fields = await _response_fields(data, delivery["report_id"], viewer)
        with _as_missing_delivery():
            await services.respond_to_delivery(delivery_id, fields, viewer)
        return await _delivery_view(delivery_id, viewer)
