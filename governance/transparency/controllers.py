"""Transparency pages: the public list, a report in HTML with its charts and downloads,
generating and approving, and the Board's reports page.

Published public editions are read without signing in. Anything else asked for without a
session is sent to sign in, whether it exists or not, and a report its reader may not read
is "not found". Every format is made from the same rendition (`formats`), in which the
edition's suppression has already been applied.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect, Template

from governance.accounts.auth import signed_in
from governance.accounts.policy import Viewer
from governance.core.contracts import Confirmation, read_form
from governance.core.errors import ConflictError, InvalidInput, NotFoundError
from governance.core.exports import CSV_MEDIA_TYPE, PDF_MEDIA_TYPE, attachment, pdf_from_html
from governance.core.http import (
    FormFailure,
    RowId,
    form_values,
    kept_refusal,
    page,
    page_with_forms,
    redirect,
    refuse_form,
    refused_to_page,
)
from governance.core.urls import path_for
from governance.groups.dependencies import RequestViewer
from governance.settings import get_settings
from governance.transparency import charts, feed, formats, queries, services
from governance.transparency.dependencies import READER, RequestReader, sign_in_for_more
from governance.transparency.figures import ORGANISATION
from governance.transparency.schemas import (
    PUBLICATION_IS_FINAL,
    STATUS_LABELS,
    GenerateReport,
    NarrativeChange,
)

ONLY_THE_BOARD_READS = " Only Board members can read it."


async def _read(report_id: int, reader: Viewer | None) -> formats.Rendition:
    with sign_in_for_more(reader):
        return await queries.report_rendition(report_id, reader)


async def _report_page(
    request: Request[Any, Any, Any],
    report_id: int,
    reader: Viewer | None,
    failure: FormFailure | None = None,
) -> Template:
    """The report's page; after a refused change, with the reason (and the narrative as
    typed, beside its form)."""
    with sign_in_for_more(reader):
        shown = await queries.report_page(report_id, reader)
    failure = failure or kept_refusal(request) or FormFailure(status_code=200)
    if "narrative" not in failure.values:
        failure = replace(failure, values={**failure.values, "narrative": shown.report.narrative})
    context = {
        **msgspec.structs.asdict(shown),
        "presented": shown.item.presented,
        "facts": shown.item.facts,
        "charts": charts.charts(shown.item.presented),
        "status_labels": STATUS_LABELS,
        "publication_is_final": PUBLICATION_IS_FINAL,
    }
    return page_with_forms(request, "transparency/show.html", context, failure)


async def _act(
    request: Request[Any, Any, Any],
    viewer: Viewer,
    report_id: int,
    change: Awaitable[Any],
    success: str,
    form: str = "",
) -> Template | Redirect:
    """Makes one change to the report; on a refusal (of the values or of the state) the
    report's page is shown again, at its own address (the session keeps the refusal for the
    redirect's page view), with the reason."""
    try:
        await change
    except (InvalidInput, ConflictError) as error:
        typed = form_values(await request.form())
        failure = FormFailure.of(error, form, typed)
        shown_at = path_for("transparency:show", report_id=report_id)
        if redirected := await refused_to_page(request, shown_at, failure):
            return redirected
        return await _report_page(request, report_id, viewer, failure)
    return redirect(path_for("transparency:show", report_id=report_id), success)


def _workflow_step(
    step: str, take: Callable[[int, Viewer], Awaitable[Any]], success: str
) -> HTTPRouteHandler:
    """The route of one step of a report's workflow that takes no values (refresh, approve,
    publish): POST /transparency/reports/{report_id}/{step}."""

    async def handler(
        self: Controller, request: Request[Any, Any, Any], viewer: RequestViewer, report_id: RowId
    ) -> Template | Redirect:
        return await _act(request, viewer, report_id, take(report_id, viewer), success)

    handler.__name__ = handler.__qualname__ = step
    path = f"/transparency/reports/{{report_id:int}}/{step}"
    return post(path, guards=[signed_in], name=f"transparency:{step}")(handler)


def _scope_path(scope: str) -> str:
    if scope == ORGANISATION:
        return path_for("transparency:organisation")
    return path_for("transparency:group", slug=scope)


async def _scope_page(scope: str, viewer: Viewer) -> dict[str, Any]:
    shown = await queries.scope_page(scope, viewer)
    return {**msgspec.structs.asdict(shown), "status_labels": STATUS_LABELS}


class TransparencyController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    dependencies = READER

    @get("/transparency", name="transparency:index")
    async def public_index(self, request: Request[Any, Any, Any]) -> Template:
        reports, minutes = await queries.public_index()
        return page(
            request,
            "transparency/public_index.html",
            {"reports": reports, "minutes_by_group": feed.by_group(minutes)},
        )

    @get("/transparency/feed.atom", name="transparency:feed")
    async def atom(self) -> Response[bytes]:
        """The public index as an Atom feed: published reports and public minutes."""
        body = feed.atom_feed(*await queries.public_index())
        return Response(body, media_type=feed.ATOM_MEDIA_TYPE)

    @get("/transparency/reports/{report_id:int}", name="transparency:show")
    async def show(
        self, request: Request[Any, Any, Any], reader: RequestReader, report_id: RowId
    ) -> Template:
        return await _report_page(request, report_id, reader)

    @get("/transparency/reports/{report_id:int}/print", name="transparency:print")
    async def printable(self, reader: RequestReader, report_id: RowId) -> Response[str]:
        """The self-contained document the PDF is made from."""
        item = await _read(report_id, reader)
        _, policy = formats.stylesheet()
        return Response(
            formats.document_html(item),
            media_type=MediaType.HTML,
            headers={"content-security-policy": policy},
        )

    @get("/transparency/reports/{report_id:int}/pdf", name="transparency:pdf")
    async def pdf(self, reader: RequestReader, report_id: RowId) -> Response[bytes]:
        item = await _read(report_id, reader)
        body = await pdf_from_html(formats.document_html(item), get_settings().base_url + "/")
        return attachment(body, PDF_MEDIA_TYPE, item.filename("pdf"))

    @get("/transparency/reports/{report_id:int}/csv", name="transparency:csv")
    async def csv_file(self, reader: RequestReader, report_id: RowId) -> Response[bytes]:
        item = await _read(report_id, reader)
        return attachment(formats.csv_content(item), CSV_MEDIA_TYPE, item.filename("csv"))

    @get("/transparency/reports/{report_id:int}/json", name="transparency:json")
    async def json_file(self, reader: RequestReader, report_id: RowId) -> Response[bytes]:
        item = await _read(report_id, reader)
        return attachment(
            formats.json_content(item), formats.JSON_MEDIA_TYPE, item.filename("json")
        )

    @get("/transparency/reports/{report_id:int}/charts/{name:str}", name="transparency:chart")
    async def chart(
        self, reader: RequestReader, report_id: RowId, name: FromPath[str]
    ) -> Response[str]:
        """One chart as SVG: /charts/actions.svg, responses.svg or attendance.svg."""
        stem, _, extension = name.partition(".")
        if extension != "svg" or stem not in charts.CHART_NAMES:
            raise NotFoundError("There is no such chart.")
        item = await _read(report_id, reader)
        chart = charts.chart_named(item.presented, stem)
        assert chart is not None
        return Response(
            chart.svg(),
            media_type=charts.SVG_MEDIA_TYPE,
            headers={"content-security-policy": charts.SVG_CONTENT_SECURITY_POLICY},
        )

    refresh = _workflow_step(
        "refresh", services.refresh_report, "Figures refreshed from the records."
    )
    approve = _workflow_step(
        "approve", services.approve_report, "Approved. It can now be published."
    )

    @post(
        "/transparency/reports/{report_id:int}/publish",
        guards=[signed_in],
        name="transparency:publish",
    )
    async def publish(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, report_id: RowId
    ) -> Template | Redirect:
        confirmation, _ = read_form(Confirmation, await request.form())
        change = services.publish_report(report_id, viewer, confirmation=confirmation)
        success = "Published. The report is now frozen, and the Board has been told."
        return await _act(request, viewer, report_id, change, success, "publish")

    @post(
        "/transparency/reports/{report_id:int}/narrative",
        guards=[signed_in],
        name="transparency:narrative",
    )
    async def narrative(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, report_id: RowId
    ) -> Template | Redirect:
        command, unreadable = read_form(NarrativeChange, await request.form())
        change = services.update_narrative(report_id, command, viewer, unreadable=unreadable)
        return await _act(request, viewer, report_id, change, "Narrative saved.")

    @get("/transparency/organisation", guards=[signed_in], name="transparency:organisation")
    async def organisation(
        self, request: Request[Any, Any, Any], viewer: RequestViewer
    ) -> Template:
        context = await _scope_page(ORGANISATION, viewer)
        return page(request, "transparency/scope.html", context)

    @get("/groups/{slug:str}/transparency", guards=[signed_in], name="transparency:group")
    async def group(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template:
        context = await _scope_page(slug, viewer)
        return page(request, "transparency/scope.html", context)

    @post("/transparency/generate", guards=[signed_in], name="transparency:generate")
    async def generate(
        self, request: Request[Any, Any, Any], viewer: RequestViewer
    ) -> Template | Redirect:
        data = await request.form()
        command, unreadable = read_form(GenerateReport, data)
        try:
            generated = await services.generate_report(command, viewer, unreadable=unreadable)
        except InvalidInput as error:
            # The page of the scope the form was on; a group there is none of is not found.
            context = await _scope_page(command.scope, viewer)
            return await refuse_form(
                request,
                _scope_path(command.scope),
                "transparency/scope.html",
                form_values(data),
                error,
                context,
            )
        message = (
            "Draft generated from the records."
            if generated.created
            else "The period's unpublished report was refreshed from the records."
        )
        if not await queries.is_readable(generated.report_id, viewer):
            # An administrator may generate the organisation's board edition but not read it.
            return redirect(_scope_path(command.scope), message + ONLY_THE_BOARD_READS)
        return redirect(path_for("transparency:show", report_id=generated.report_id), message)

    @get("/board/reports", guards=[signed_in], name="transparency:board")
    async def board(self, request: Request[Any, Any, Any], viewer: RequestViewer) -> Template:
        overview = await queries.board_overview(viewer)
        context = {
            **msgspec.structs.asdict(overview),
            "status_labels": STATUS_LABELS,
            "viewer": viewer,
        }
        return page(request, "transparency/board.html", context)
