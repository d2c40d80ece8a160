"""Exports of the record: printable minutes (HTML and PDF), attendance and decisions as CSV.

Every export is built from `services.meeting_page`, the same filtered read as the meeting
page: whoever cannot read the meeting gets "not found", and an agenda item (with its minutes
and decisions) its reader may not read is never fetched, so it cannot leak into a file.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import functools
import hashlib
import io
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import anyio.to_thread
from litestar import Controller, MediaType, Request, Response, get
from litestar.params import FromPath

from governance.accounts.auth import current_user, signed_in
from governance.core.clock import utcnow
from governance.core.security import CONTENT_SECURITY_POLICY
from governance.core.templating import TEMPLATE_DIRECTORY
from governance.groups.queries import load_viewer
from governance.meetings import services
from governance.settings import get_settings

MINUTES_TEMPLATE = "meetings/exports/minutes.html"
STYLESHEET_PATH = TEMPLATE_DIRECTORY / "meetings" / "exports" / "minutes.css"
# Litestar adds "; charset=utf-8" to text types.
CSV_MEDIA_TYPE = "text/csv"
# A cell that a spreadsheet would read as a formula is stored as text instead.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Pango and fontconfig are not safe to drive from several threads at once.
_PDF_LOCK = threading.Lock()


@functools.cache
def print_stylesheet() -> tuple[str, str]:
    """The print stylesheet and the Content-Security-Policy that lets it run inline."""
    css = STYLESHEET_PATH.read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()
    policy = CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", f"style-src 'self' 'sha256-{digest}'"
    )
    return css, policy


def safe_cell(value: Any) -> Any:
    """Guards against spreadsheet formula injection (a title such as `=HYPERLINK(...)`)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    # The byte-order mark lets spreadsheet programs read accented names as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _utc_text(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_filename(context: dict[str, Any], kind: str, extension: str) -> str:
    meeting = context["meeting"]
    day = services.meeting_date(meeting["starts_at"]).isoformat()
    return f"{kind}-{meeting['group_slug']}-{day}-meeting-{meeting['id']}.{extension}"


def attachment(body: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(
        body,
        media_type=media_type,
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "private, no-store",
        },
    )


def attendance_rows(context: dict[str, Any]) -> list[list[Any]]:
    """Name, member or guest, role on the meeting date, mode; members first, then guests."""
    rows: list[list[Any]] = []
    members = {member["user"]: member for member in context["members"]}
    by_user = context["attendance_by_user"]
    for member in context["members"]:
        rows.append(
            [
                member["display_name"],
                "member",
                member["role"],
                by_user.get(member["user"], "not recorded"),
            ]
        )
    for entry in context["attendance"]:
        # Recorded for someone whose membership has since been changed: still part of the record.
        if entry["user"] is not None and entry["user"] not in members:
            rows.append([entry["display_name"], "member", "", entry["mode"]])
    for guest in context["guests"]:
        rows.append([guest["guest_name"], "guest", "", guest["mode"]])
    return rows


def decision_rows(context: dict[str, Any]) -> list[list[Any]]:
    """One row per decision on an item the reader may read, in agenda order."""
    return [
        [
            item["title"],
            decision["text"],
            decision["votes_for"],
            decision["votes_against"],
            decision["votes_abstain"],
            "yes" if decision["quorum_met"] else "no",
            _utc_text(decision["created_at"]),
        ]
        for item in context["items"]
        for decision in item["decisions"]
    ]


def render_pdf(html: str, base_url: str) -> bytes:
    """HTML to PDF with WeasyPrint; blocking, so it runs in a worker thread."""
    import weasyprint  # Loaded on first use: it pulls in Pango, which only PDFs need.

    # Nothing is fetched: the page is self-contained, and a link in the minutes must not
    # make the server request anything (only data: URLs are allowed).
    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",))
    with _PDF_LOCK:
        document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher)
        pdf = document.write_pdf()
    return bytes(pdf)


class ExportController(Controller):
    path = "/meetings"
    guards = [signed_in]

    async def _context(self, request: Request[Any, Any, Any], meeting_id: int) -> dict[str, Any]:
        user = current_user(request)
        viewer = await load_viewer(user)
        return await services.meeting_page(meeting_id, viewer)

    def _render_minutes(self, request: Request[Any, Any, Any], context: dict[str, Any]) -> str:
        user = current_user(request)
        stylesheet, _ = print_stylesheet()
        template = request.app.template_engine.get_template(MINUTES_TEMPLATE)  # type: ignore[union-attr]
        return str(
            template.render(
                **context,
                tz=user.timezone,
                reader_name=user.display_name,
                generated_at=utcnow(),
                stylesheet=stylesheet,
            )
        )

    @get("/{meeting_id:int}/export/minutes")
    async def minutes_html(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Response[str]:
        context = await self._context(request, meeting_id)
        html = self._render_minutes(request, context)
        _, policy = print_stylesheet()
        return Response(
            html,
            media_type=MediaType.HTML,
            headers={"content-security-policy": policy, "cache-control": "private, no-store"},
        )

    @get("/{meeting_id:int}/export/minutes.pdf")
    async def minutes_pdf(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Response[bytes]:
        context = await self._context(request, meeting_id)
        html = self._render_minutes(request, context)
        pdf = await anyio.to_thread.run_sync(render_pdf, html, get_settings().base_url + "/")
        return attachment(pdf, "application/pdf", export_filename(context, "minutes", "pdf"))

    @get("/{meeting_id:int}/export/attendance.csv")
    async def attendance_csv(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Response[bytes]:
        context = await self._context(request, meeting_id)
        body = csv_bytes(["name", "member or guest", "role", "mode"], attendance_rows(context))
        return attachment(body, CSV_MEDIA_TYPE, export_filename(context, "attendance", "csv"))

    @get("/{meeting_id:int}/export/decisions.csv")
    async def decisions_csv(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[int]
    ) -> Response[bytes]:
        context = await self._context(request, meeting_id)
        body = csv_bytes(
            [
                "agenda item",
                "decision",
                "votes for",
                "votes against",
                "votes abstaining",
                "quorum met",
                "recorded at (UTC)",
            ],
            decision_rows(context),
        )
        return attachment(body, CSV_MEDIA_TYPE, export_filename(context, "decisions", "csv"))
