"""Exports of the record: printable minutes (HTML and PDF), attendance and decisions as CSV.

Every export is built from `queries.meeting_view`, the same filtered read as the meeting
page: whoever cannot read the meeting gets "not found", and an agenda item (with its minutes
and decisions) its reader may not read is never fetched, so it cannot leak into a file.
The files themselves are made by `core.exports`.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, Response, get

from governance.accounts.auth import signed_in
from governance.accounts.policy import Viewer
from governance.core.clock import utc_text, utcnow
from governance.core.exports import (
    CSV_MEDIA_TYPE,
    PDF_MEDIA_TYPE,
    attachment,
    csv_bytes,
    pdf_from_html,
    print_stylesheet,
)
from governance.core.http import RowId
from governance.core.templating import TEMPLATE_DIRECTORY
from governance.groups.dependencies import RequestViewer
from governance.meetings import queries
from governance.meetings.schemas import MeetingStatus, MeetingView
from governance.resolutions.queries import taken_since_last_meeting
from governance.settings import get_settings

MINUTES_TEMPLATE = "meetings/exports/minutes.html"
STYLESHEET_PATH = TEMPLATE_DIRECTORY / "meetings" / "exports" / "minutes.css"
ATTENDANCE_HEADER = ["name", "member or guest", "role", "mode"]
DECISIONS_HEADER = [
    "agenda item",
    "decision",
    "votes for",
    "votes against",
    "votes abstaining",
    "outcome",
    "quorum met",
    "recorded at (UTC)",
]


def export_filename(meeting: MeetingView, kind: str, extension: str) -> str:
    day = queries.meeting_date(meeting.starts_at).isoformat()
    return f"{kind}-{meeting.group_slug}-{day}-meeting-{meeting.id}.{extension}"


def attendance_rows(meeting: MeetingView) -> list[list[Any]]:
    """Name, member or guest, role on the meeting date, mode; members first, then guests."""
    rows: list[list[Any]] = []
    members = {member.user_id for member in meeting.members}
    by_user = meeting.attendance_by_user
    for member in meeting.members:
        rows.append(
            [
                member.display_name,
                "member",
                member.role,
                by_user.get(member.user_id, "not recorded"),
            ]
        )
    for entry in meeting.attendance:
        # Recorded for someone whose membership has since been changed: still part of the record.
        if entry.user_id is not None and entry.user_id not in members:
            rows.append([entry.display_name, "member", "", entry.mode])
    for guest in meeting.guests:
        rows.append([guest.guest_name, "guest", "", guest.mode])
    return rows


def decision_rows(meeting: MeetingView) -> list[list[Any]]:
    """One row per decision on an item the reader may read, in agenda order."""
    titles = {item.id: item.title for item in meeting.agenda}
    return [
        [
            titles[decision.agenda_item_id],
            decision.text,
            decision.votes_for,
            decision.votes_against,
            decision.votes_abstain,
            decision.outcome or "no vote counted",
            "yes" if decision.quorum_met else "no",
            utc_text(decision.created_at),
        ]
        for decision in meeting.decisions
    ]


async def _render_minutes(
    request: Request[Any, Any, Any], meeting: MeetingView, viewer: Viewer
) -> str:
    stylesheet, _ = print_stylesheet(STYLESHEET_PATH)
    resolutions_since = (
        []
        if meeting.status == MeetingStatus.CANCELLED
        else await taken_since_last_meeting(meeting.group_slug, meeting.starts_at, viewer)
    )
    template = request.app.template_engine.get_template(MINUTES_TEMPLATE)  # type: ignore[union-attr]
    return str(
        template.render(
            # url_for in the template reads the request, as on every page.
            request=request,
            meeting=meeting,
            tz=viewer.user.timezone,
            reader_name=viewer.user.display_name,
            resolutions_since=resolutions_since,
            generated_at=utcnow(),
            stylesheet=stylesheet,
        )
    )


class ExportController(Controller):
    include_in_schema = False  # files for people; the API is described at /schema
    path = "/meetings"
    guards = [signed_in]

    @get("/{meeting_id:int}/export/minutes", name="meetings:export-minutes")
    async def minutes_html(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Response[str]:
        meeting = await queries.meeting_view(meeting_id, viewer)
        _, policy = print_stylesheet(STYLESHEET_PATH)
        return Response(
            await _render_minutes(request, meeting, viewer),
            media_type=MediaType.HTML,
            headers={"content-security-policy": policy, "cache-control": "private, no-store"},
        )

    @get("/{meeting_id:int}/export/minutes.pdf", name="meetings:export-minutes-pdf")
    async def minutes_pdf(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, meeting_id: RowId
    ) -> Response[bytes]:
        meeting = await queries.meeting_view(meeting_id, viewer)
        html = await _render_minutes(request, meeting, viewer)
        pdf = await pdf_from_html(html, get_settings().base_url + "/")
        return attachment(pdf, PDF_MEDIA_TYPE, export_filename(meeting, "minutes", "pdf"))

    @get("/{meeting_id:int}/export/attendance.csv", name="meetings:export-attendance")
    async def attendance_csv(self, viewer: RequestViewer, meeting_id: RowId) -> Response[bytes]:
        meeting = await queries.meeting_view(meeting_id, viewer)
        body = csv_bytes(ATTENDANCE_HEADER, attendance_rows(meeting))
        return attachment(body, CSV_MEDIA_TYPE, export_filename(meeting, "attendance", "csv"))

    @get("/{meeting_id:int}/export/decisions.csv", name="meetings:export-decisions")
    async def decisions_csv(self, viewer: RequestViewer, meeting_id: RowId) -> Response[bytes]:
        meeting = await queries.meeting_view(meeting_id, viewer)
        body = csv_bytes(DECISIONS_HEADER, decision_rows(meeting))
        return attachment(body, CSV_MEDIA_TYPE, export_filename(meeting, "decisions", "csv"))
