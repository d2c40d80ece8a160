"""Transparency pages: the public list, a report in HTML with its charts and downloads,
generating and approving, and the Board's reports page.

Published public editions are read without signing in. Anything else asked for without a
session is sent to sign in, whether it exists or not, and a report its reader may not read
is "not found". Every format is made from the same rendition (`formats`), in which the
edition's suppression has already been applied.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from governance.accounts.auth import current_user, signed_in
from governance.accounts.policy import Viewer
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.core.exports import attachment
from governance.core.http import RowId, form_page, form_values, page, redirect
from governance.groups.queries import load_viewer
from governance.settings import get_settings
from governance.transparency import charts, formats, services
from governance.transparency.editions import ORGANISATION
from governance.transparency.forms import read_generate, read_narrative

STATUS_LABELS = {"draft": "Draft", "approved": "Approved", "published": "Published"}


async def _viewer(request: Request[Any, Any, Any]) -> Viewer:
    return await load_viewer(current_user(request))


async def _reader(request: Request[Any, Any, Any]) -> Viewer | None:
    """The signed-in reader, or None for anyone."""
    user = request.scope.get("user")
    return await load_viewer(user) if user is not None else None


async def _read(request: Request[Any, Any, Any], report_id: int) -> formats.Rendition:
    reader = await _reader(request)
    try:
        return await services.report_rendition(report_id, reader)
    except NotFoundError:
        if reader is None:
            # Without a session, only published public editions exist: sign in for more.
            raise NotAuthorizedException("Sign in to continue.") from None
        raise


def _report_context(context: dict[str, Any]) -> dict[str, Any]:
    item = context["item"]
    return {
        **context,
        "presented": item.presented,
        "facts": item.facts,
        "charts": charts.charts(item.presented),
        "status_labels": STATUS_LABELS,
    }


async def _report_page(
    request: Request[Any, Any, Any],
    report_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    message: str = "",
    status_code: int = 200,
) -> Template:
    reader = await _reader(request)
    try:
        context = await services.report_page(report_id, reader)
    except NotFoundError:
        if reader is None:
            raise NotAuthorizedException("Sign in to continue.") from None
        raise
    context = _report_context(context)
    context["errors"] = errors or {}
    context["values"] = values or {"narrative": context["report"]["narrative"]}
    if message:
        context["form_error"] = message
    return page(request, "transparency/show.html", context, status_code=status_code)


def _scope_path(scope: str) -> str:
    return (
        "/transparency/organisation" if scope == ORGANISATION else f"/groups/{scope}/transparency"
    )


class TransparencyController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema

    @get("/transparency")
    async def public_index(self, request: Request[Any, Any, Any]) -> Template:
        return page(
            request, "transparency/public_index.html", {"reports": await services.public_reports()}
        )

    @get("/transparency/reports/{report_id:int}", name="transparency:show")
    async def show(self, request: Request[Any, Any, Any], report_id: RowId) -> Template:
        return await _report_page(request, report_id)

    @get("/transparency/reports/{report_id:int}/print")
    async def printable(self, request: Request[Any, Any, Any], report_id: RowId) -> Response[str]:
        """The self-contained document the PDF is made from."""
        item = await _read(request, report_id)
        _, policy = formats.print_stylesheet()
        return Response(
            formats.document_html(item),
            media_type=MediaType.HTML,
            headers={"content-security-policy": policy},
        )

    @get("/transparency/reports/{report_id:int}/pdf")
    async def pdf(self, request: Request[Any, Any, Any], report_id: RowId) -> Response[bytes]:
        item = await _read(request, report_id)
        html = formats.document_html(item)
        body = await anyio.to_thread.run_sync(
            formats.pdf_bytes, html, get_settings().base_url + "/"
        )
        return attachment(body, "application/pdf", item.filename("pdf"))

    @get("/transparency/reports/{report_id:int}/csv")
    async def csv_file(self, request: Request[Any, Any, Any], report_id: RowId) -> Response[bytes]:
        item = await _read(request, report_id)
        return attachment(formats.csv_content(item), formats.CSV_MEDIA_TYPE, item.filename("csv"))

    @get("/transparency/reports/{report_id:int}/json")
    async def json_file(self, request: Request[Any, Any, Any], report_id: RowId) -> Response[bytes]:
        item = await _read(request, report_id)
        return attachment(
            formats.json_content(item), formats.JSON_MEDIA_TYPE, item.filename("json")
        )

    @get("/transparency/reports/{report_id:int}/charts/{name:str}")
    async def chart(
        self, request: Request[Any, Any, Any], report_id: RowId, name: FromPath[str]
    ) -> Response[str]:
        """One chart as SVG: /charts/actions.svg, responses.svg or attendance.svg."""
        stem, _, extension = name.partition(".")
        if extension != "svg" or stem not in charts.CHART_NAMES:
            raise NotFoundError("There is no such chart.")
        item = await _read(request, report_id)
        chart = charts.chart_named(item.presented, stem)
        assert chart is not None
        return Response(
            chart.svg(),
            media_type=charts.SVG_MEDIA_TYPE,
            headers={"content-security-policy": charts.SVG_CONTENT_SECURITY_POLICY},
        )

    @post("/transparency/reports/{report_id:int}/refresh", guards=[signed_in])
    async def refresh(
        self, request: Request[Any, Any, Any], report_id: RowId
    ) -> Template | Redirect:
        viewer = await _viewer(request)
        try:
            await services.refresh_report(report_id, viewer)
        except ConflictError as error:
            return await _report_page(request, report_id, message=error.message, status_code=409)
        return redirect(f"/transparency/reports/{report_id}", "Figures refreshed from the records.")

    @post("/transparency/reports/{report_id:int}/narrative", guards=[signed_in])
    async def narrative(
        self, request: Request[Any, Any, Any], report_id: RowId
    ) -> Template | Redirect:
        viewer = await _viewer(request)
        data = await request.form()
        narrative, errors = read_narrative(data)
        if not errors:
            try:
                await services.update_narrative(report_id, narrative, viewer)
            except ConflictError as error:
                return await _report_page(
                    request, report_id, message=error.message, status_code=409
                )
            except InvalidInput as error:
                errors = error.field_errors
        if errors:
            return await _report_page(
                request,
                report_id,
                errors=errors,
                values=form_values(data),
                message="The narrative needs correcting. Nothing has been saved.",
                status_code=422,
            )
        return redirect(f"/transparency/reports/{report_id}", "Narrative saved.")

    @post("/transparency/reports/{report_id:int}/approve", guards=[signed_in])
    async def approve(
        self, request: Request[Any, Any, Any], report_id: RowId
    ) -> Template | Redirect:
        viewer = await _viewer(request)
        try:
            await services.approve_report(report_id, viewer)
        except ConflictError as error:
            return await _report_page(request, report_id, message=error.message, status_code=409)
        return redirect(f"/transparency/reports/{report_id}", "Approved. It can now be published.")

    @post("/transparency/reports/{report_id:int}/publish", guards=[signed_in])
    async def publish(
        self, request: Request[Any, Any, Any], report_id: RowId
    ) -> Template | Redirect:
        viewer = await _viewer(request)
        try:
            await services.publish_report(report_id, viewer)
        except ConflictError as error:
            return await _report_page(request, report_id, message=error.message, status_code=409)
        return redirect(
            f"/transparency/reports/{report_id}",
            "Published. The report is now frozen, and the Board has been told.",
        )

    @get("/transparency/organisation", guards=[signed_in])
    async def organisation(self, request: Request[Any, Any, Any]) -> Template:
        viewer = await _viewer(request)
        if not (viewer.user.is_board or viewer.user.is_admin):
            raise PermissionDenied("This page is for Board members and administrators.")
        context = await services.scope_page(ORGANISATION, viewer)
        return page(request, "transparency/scope.html", {**context, "status_labels": STATUS_LABELS})

    @get("/groups/{slug:str}/transparency", guards=[signed_in])
    async def group(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        context = await services.scope_page(slug, await _viewer(request))
        return page(request, "transparency/scope.html", {**context, "status_labels": STATUS_LABELS})

    @post("/transparency/generate", guards=[signed_in])
    async def generate(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        viewer = await _viewer(request)
        data = await request.form()
        fields, errors = read_generate(data)
        scope = fields["scope"]
        generated = None
        if not errors:
            try:
                generated = await services.generate_report(
                    scope, fields["period"], fields["edition"], viewer
                )
            except InvalidInput as error:
                errors = error.field_errors or {"period": error.message}
        if errors or generated is None:
            if scope != ORGANISATION and "scope" in errors:
                raise NotFoundError("There is no working group at this address.")
            context = await services.scope_page(scope or ORGANISATION, viewer)
            return form_page(
                request,
                "transparency/scope.html",
                form_values(data),
                errors,
                {**context, "status_labels": STATUS_LABELS},
            )
        message = (
            "Draft generated from the records."
            if generated.created
            else "The period's unpublished report was refreshed from the records."
        )
        try:
            await services.get_report(generated.report_id, viewer)
        except NotFoundError:
            # An administrator may generate the organisation's board edition but not read it.
            return redirect(_scope_path(scope), message + " Only Board members can read it.")
        return redirect(f"/transparency/reports/{generated.report_id}", message)

    @get("/board/reports", guards=[signed_in])
    async def board(self, request: Request[Any, Any, Any]) -> Template:
        viewer = await _viewer(request)
        context = await services.board_overview(viewer)
        return page(
            request,
            "transparency/board.html",
            {**context, "status_labels": STATUS_LABELS, "viewer": viewer},
        )
