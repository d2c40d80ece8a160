"""Report pages: drafting, submitting, the trail across both lines, and each line's inbox.
Each handler reads the form into the use case's command, calls one service, and redirects;
a refused form is shown again with every field's error."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from governance.accounts.auth import signed_in
from governance.accounts.policy import Viewer
from governance.core.contracts import Confirmation, read_form
from governance.core.errors import ConflictError, InvalidInput
from governance.core.http import (
    FormFailure,
    RowId,
    form_page,
    form_values,
    kept_refusal,
    page,
    page_with_forms,
    redirect,
    refused_to_page,
    submit_form,
)
from governance.core.paging import MAX_CURSOR_LENGTH
from governance.core.urls import path_for
from governance.documents.controllers import annexes_context
from governance.groups.dependencies import RequestViewer
from governance.groups.queries import get_group
from governance.reports import board_line, forms, queries, services
from governance.reports.schemas import (
    INBOX_STATUSES,
    KINDS,
    MAX_ACTIONS_PER_RESPONSE,
    RESPONSE_IS_FINAL,
    RESPONSE_LABELS,
    RESPONSES,
    ROUTE_LABELS,
    ROUTES,
    SUBMISSION_IS_FINAL,
    DecidedAtMeeting,
    InboxFilters,
    InboxStatus,
    Objection,
    ReportDraft,
    ReportView,
)

INBOX_FILTERS = ("status", "line", "since", "until", "cursor")
FORM_CHOICES = {"kinds": KINDS, "routes": ROUTES, "route_labels": ROUTE_LABELS}


async def _trail(
    request: Request[Any, Any, Any],
    report: ReportView,
    viewer: Viewer,
    failure: FormFailure | None = None,
) -> Template:
    """The report page, with the response form of each delivery the viewer may answer."""
    choices = []
    if report.answerable:
        choices = await queries.response_owner_choices(report.group_id, viewer)
    context = {
        "report": report,
        "responses": RESPONSES,
        "response_labels": RESPONSE_LABELS,
        "owner_choices": choices,
        "action_slots": range(1, MAX_ACTIONS_PER_RESPONSE + 1),
        "user_id": viewer.user.id,
        "submission_is_final": SUBMISSION_IS_FINAL,
        "response_is_final": RESPONSE_IS_FINAL,
        **await annexes_context(report.id, report.visibility, viewer),
    }
    return page_with_forms(request, "reports/show.html", context, failure)


async def _refused_on_trail(
    request: Request[Any, Any, Any], report_id: int, viewer: Viewer, failure: FormFailure
) -> Template | Redirect:
    """A form of the report page refused: the page is shown again at its own address (the
    session keeps the refusal for the redirect's page view), or here for a token's client.
    A refusal changes nothing, not even the read receipt."""
    shown_at = path_for("reports:show", report_id=report_id)
    if redirected := await refused_to_page(request, shown_at, failure):
        return redirected
    return await _trail(request, await queries.get_report(report_id, viewer), viewer, failure)


PROPOSAL_DONE = {
    "concur": "Concurred.",
    "object": "Objection recorded.",
    "withdraw": "Proposal withdrawn.",
    "meeting": "Recorded as decided at the Board meeting. The group has been told.",
}


async def _on_proposal(
    request: Request[Any, Any, Any],
    viewer: Viewer,
    proposal_id: int,
    form: str,
    act: Callable[[dict[str, Any]], Awaitable[int]],
) -> Template | Redirect:
    """One step on a proposed Board response from the report page: the page again with
    the refusal, or back to it with what happened."""
    report_id = await queries.proposal_report_id(proposal_id, viewer)
    data = dict(await request.form())
    try:
        delivery_id = await act(data)
    except (InvalidInput, ConflictError) as error:
        failure = FormFailure.of(error, f"proposal-{form}", form_values(data))
        return await _refused_on_trail(request, report_id, viewer, failure)
    delivery = await queries.get_delivery(delivery_id, viewer)
    message = PROPOSAL_DONE[form]
    if delivery.state == "responded" and form in {"concur", "object"}:
        message = "Concurred: the rule is met and the Board's response is recorded."
    elif delivery.proposal is None and form == "object":
        message = "Objection recorded: the proposal has lapsed."
    return _show(report_id, message)


def _show(report_id: int, message: str) -> Redirect:
    return redirect(path_for("reports:show", report_id=report_id), message)


def _form_context(group: dict[str, Any], report: Any = None) -> dict[str, Any]:
    return {**FORM_CHOICES, "group": group, "report": report}


def _cursor(request: Request[Any, Any, Any]) -> str | None:
    """The page asked for; one too long to be ours is refused by the paging helper."""
    return str(request.query_params.get("cursor") or "")[: MAX_CURSOR_LENGTH + 1] or None


class ReportController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    guards = [signed_in]

    @get("/groups/{slug:str}/reports", name="reports:group")
    async def index(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template:
        listing = await queries.group_reports(slug, viewer, None, _cursor(request))
        return page(request, "reports/index.html", msgspec.structs.asdict(listing))

    @get("/groups/{slug:str}/reports/new", name="reports:new")
    async def new_form(
        self,
        request: Request[Any, Any, Any],
        viewer: RequestViewer,
        slug: FromPath[str],
        follows_up: FromQuery[int | None] = None,
    ) -> Template:
        group = await get_group(slug)
        services.authorise_drafting(viewer, group["id"])
        values = await queries.follow_up_values(follows_up, viewer)
        return page(request, "reports/form.html", {**_form_context(group), "values": values})

    @post("/groups/{slug:str}/reports/new", name="reports:create")
    async def create(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template | Redirect:
        group = await get_group(slug)

        async def act(command: ReportDraft, unreadable: dict[str, str]) -> int:
            return await services.create_report(slug, command, viewer, unreadable=unreadable)

        def done(report_id: int) -> Redirect:
            return _show(report_id, "Draft saved. Read it through, then submit it when ready.")

        context = _form_context(group)
        # The report it follows up, if any, is among the values typed back in.
        shown_at = path_for("reports:new", slug=slug)
        return await submit_form(
            request, ReportDraft, act, done, "reports/form.html", context, shown_at
        )

    @get("/reports/{report_id:int}", name="reports:show")
    async def show(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, report_id: RowId
    ) -> Template:
        # The view that shows a refused form again is the one its POST redirected to: the
        # refusal changed nothing, so that view does not count as opening the report.
        opened = queries.get_report if kept_refusal(request) else services.open_report
        return await _trail(request, await opened(report_id, viewer), viewer)

    @get("/reports/{report_id:int}/edit", name="reports:edit")
    async def edit_form(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, report_id: RowId
    ) -> Template:
        draft = await services.editable_draft(report_id, viewer)
        group = {"name": draft.group_name, "slug": draft.group_slug}
        values = {**msgspec.structs.asdict(draft.draft), "follows_up": draft.draft.follows_up or ""}
        return page(request, "reports/form.html", {**_form_context(group, draft), "values": values})

    @post("/reports/{report_id:int}/edit", name="reports:update")
    async def edit(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, report_id: RowId
    ) -> Template | Redirect:
        draft = queries.draft_view(await queries.report_row(report_id, viewer))
        group = {"name": draft.group_name, "slug": draft.group_slug}

        async def act(command: ReportDraft, unreadable: dict[str, str]) -> None:
            await services.update_report(report_id, command, viewer, unreadable=unreadable)

        def done(_: None) -> Redirect:
            return _show(report_id, "Draft saved.")

        context = _form_context(group, draft)
        shown_at = path_for("reports:edit", report_id=report_id)
        return await submit_form(
            request, ReportDraft, act, done, "reports/form.html", context, shown_at
        )

    @post("/reports/{report_id:int}/submit", name="reports:submit")
    async def submit(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, report_id: RowId
    ) -> Template | Redirect:
        confirmation, _ = read_form(Confirmation, await request.form())
        try:
            delivery_ids = await services.submit_report(
                report_id, viewer, confirmation=confirmation
            )
        except (InvalidInput, ConflictError) as error:
            failure = FormFailure.of(error, "submit")
            return await _refused_on_trail(request, report_id, viewer, failure)
        lines = "both lines" if len(delivery_ids) == 2 else "its line"
        return _show(report_id, f"Submitted and delivered to {lines}. The text is now frozen.")

    @post("/reports/{report_id:int}/discard", name="reports:discard")
    async def discard(self, viewer: RequestViewer, report_id: RowId) -> Redirect:
        slug = await services.discard_draft(report_id, viewer)
        return redirect(path_for("reports:group", slug=slug), "Draft discarded.")

    @post("/deliveries/{delivery_id:int}/acknowledge", name="reports:acknowledge")
    async def acknowledge(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, delivery_id: RowId
    ) -> Template | Redirect:
        try:
            report_id = await services.acknowledge_delivery(delivery_id, viewer)
        except ConflictError as error:
            delivery = await queries.delivery_row(delivery_id, viewer)
            failure = FormFailure.of(error)
            return await _refused_on_trail(request, delivery["report"], viewer, failure)
        return _show(report_id, "Acknowledged. The group can see that you have it.")

    @post("/deliveries/{delivery_id:int}/respond", name="reports:respond")
    async def respond(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, delivery_id: RowId
    ) -> Template | Redirect:
        delivery = await queries.delivery_row(delivery_id, viewer)
        data = await request.form()
        command, unreadable, rows = forms.read_response(data, timezone=viewer.user.timezone)
        confirmation, _ = read_form(Confirmation, data)
        try:
            await services.respond_to_delivery(
                delivery_id, command, viewer, unreadable=unreadable, confirmation=confirmation
            )
        except (InvalidInput, ConflictError) as error:
            failure = FormFailure.of(error, f"delivery-{delivery_id}", form_values(data))
            failure = dataclasses.replace(failure, errors=forms.form_errors(failure.errors, rows))
            return await _refused_on_trail(request, delivery["report"], viewer, failure)
        return _show(delivery["report"], "Response recorded. The group has been told.")

    @post("/deliveries/{delivery_id:int}/propose", name="reports:propose")
    async def propose(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, delivery_id: RowId
    ) -> Template | Redirect:
        delivery = await queries.delivery_row(delivery_id, viewer)
        data = await request.form()
        command, unreadable, rows = forms.read_response(data, timezone=viewer.user.timezone)
        try:
            await board_line.propose_board_response(
                delivery_id, command, viewer, unreadable=unreadable
            )
        except (InvalidInput, ConflictError) as error:
            failure = FormFailure.of(error, f"delivery-{delivery_id}", form_values(data))
            failure = dataclasses.replace(failure, errors=forms.form_errors(failure.errors, rows))
            return await _refused_on_trail(request, delivery["report"], viewer, failure)
        return _show(
            delivery["report"],
            "Proposed. It becomes the Board's response once enough Board members concur; "
            "they have been asked.",
        )

    @post("/board-proposals/{proposal_id:int}/concur", name="reports:concur")
    async def concur(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, proposal_id: RowId
    ) -> Template | Redirect:
        async def act(_: dict[str, Any]) -> int:
            return await board_line.concur_with_proposal(proposal_id, viewer)

        return await _on_proposal(request, viewer, proposal_id, "concur", act)

    @post("/board-proposals/{proposal_id:int}/object", name="reports:object")
    async def object(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, proposal_id: RowId
    ) -> Template | Redirect:
        async def act(data: dict[str, Any]) -> int:
            command, _ = read_form(Objection, data)
            return await board_line.object_to_proposal(proposal_id, command, viewer)

        return await _on_proposal(request, viewer, proposal_id, "object", act)

    @post("/board-proposals/{proposal_id:int}/withdraw", name="reports:withdraw")
    async def withdraw(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, proposal_id: RowId
    ) -> Template | Redirect:
        async def act(_: dict[str, Any]) -> int:
            return await board_line.withdraw_proposal(proposal_id, viewer)

        return await _on_proposal(request, viewer, proposal_id, "withdraw", act)

    @post("/board-proposals/{proposal_id:int}/decided-at-meeting", name="reports:decided")
    async def decided_at_meeting(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, proposal_id: RowId
    ) -> Template | Redirect:
        async def act(data: dict[str, Any]) -> int:
            command, unreadable = read_form(DecidedAtMeeting, data, timezone=viewer.user.timezone)
            return await board_line.record_decided_at_meeting(
                proposal_id, command, viewer, unreadable=unreadable
            )

        return await _on_proposal(request, viewer, proposal_id, "meeting", act)

    @get("/deliveries", name="reports:inbox")
    async def inbox(self, request: Request[Any, Any, Any], viewer: RequestViewer) -> Template:
        filters, unreadable = read_form(InboxFilters, request.query_params)
        errors = {**unreadable, **queries.inbox_filter_errors(viewer, filters)}
        # A filter not understood is left out (and said so); the others still apply.
        dropped = set(errors) | ({"since", "until"} if "until" in errors else set())
        kept = {name: getattr(filters, name) for name in INBOX_FILTERS if name not in dropped}
        listing = await queries.inbox_page(viewer, InboxFilters(**kept))
        context = msgspec.structs.asdict(listing)
        context.update(
            {
                "viewer": viewer,
                "response_labels": RESPONSE_LABELS,
                "statuses": INBOX_STATUSES,
                "paging": {"older": listing.older, "newer": listing.newer},
            }
        )
        values = {name: request.query_params.get(name, "") for name in INBOX_FILTERS}
        values["status"] = values["status"] or InboxStatus.AWAITING
        if errors:
            return form_page(
                request,
                "reports/inbox.html",
                values,
                errors,
                context,
                message="A filter was not understood and has been left out.",
            )
        return page(request, "reports/inbox.html", {**context, "values": values})
