"""JSON routes for meetings (DESIGN.md §8), with the same rules as the pages.

The request bodies are the commands of `meetings/schemas.py` and the answers its views: a
body of the wrong shape or type is answered 400 before a handler runs; values of the right
type that break a rule (an empty title, an end before the start) are answered 422 with a
JSON problem naming every field, with the same words as the forms, and nothing is changed.
A meeting the caller may not read is 404, the same as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, Response, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from governance.accounts.auth import signed_in
from governance.core.contracts import MAX_ROW_ID
from governance.core.errors import problem_responses
from governance.core.paging import DEFAULT_PAGE_SIZE, MAX_CURSOR_LENGTH, MAX_PAGE_SIZE
from governance.core.urls import path_for
from governance.groups.dependencies import RequestViewer
from governance.meetings import queries, services
from governance.meetings.schemas import (
    AgendaReplacement,
    Approval,
    AttendanceRecord,
    CirculatedView,
    DecisionView,
    MeetingDetails,
    MeetingListView,
    MeetingPatch,
    MeetingStatus,
    MeetingView,
    MinutesDraft,
    NewDecision,
    NoticeRepliesView,
    NoticeReply,
    NoticeSentView,
    PastMeetingFilters,
)

MeetingId = Annotated[
    int, PathParameter(ge=1, le=MAX_ROW_ID, description="The meeting's id", title="Meeting id")
]

# The error answers of these routes, as the OpenAPI description declares them.
READ_ERRORS = problem_responses(400, 401, 404)
# A list that pages: a cursor it did not make is a 422 naming the field.
LIST_ERRORS = problem_responses(400, 401, 404, 422)
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 422)


class MeetingApiController(Controller):
    path = "/api/v1"
    guards = [signed_in]
    tags = ["meetings"]
    security = [{"bearer": []}]

    @get(
        "/groups/{slug:str}/meetings",
        name="api:meetings:list",
        responses=LIST_ERRORS,
        summary="A group's meetings, upcoming and past",
        description="Every meeting ahead, soonest first, and a page of `limit` past and "
        "cancelled ones, latest first, filtered by `status` and the dates `since`/`until` "
        "(YYYY-MM-DD, the organisation's days). `older` and `newer` in the answer are opaque "
        "cursors: pass one as `cursor` for the next or previous page (null: none). Empty "
        "lists with `can_read` false when the caller may not read the group's proceedings.",
    )
    async def list_meetings(
        self,
        viewer: RequestViewer,
        slug: FromPath[str],
        status: FromQuery[MeetingStatus | None] = None,
        since: FromQuery[dt.date | None] = None,
        until: FromQuery[dt.date | None] = None,
        cursor: Annotated[str, QueryParameter(max_length=MAX_CURSOR_LENGTH)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    ) -> MeetingListView:
        filters = PastMeetingFilters(status=status or "", since=since, until=until, cursor=cursor)
        return await queries.paged_listing(slug, viewer, filters, limit)

    @post(
        "/groups/{slug:str}/meetings",
        name="api:meetings:schedule",
        responses=WRITE_ERRORS,
        summary="Schedule a meeting (chair or secretary)",
        status_code=201,
    )
    async def schedule_meeting(
        self, viewer: RequestViewer, slug: FromPath[str], data: JSONBody[MeetingDetails]
    ) -> Response[MeetingView]:
        meeting_id = await services.schedule_meeting(slug, data, viewer)
        return Response(
            await queries.meeting_view(meeting_id, viewer),
            status_code=201,
            headers={"Location": path_for("api:meetings:show", meeting_id=meeting_id)},
        )

    @get(
        "/meetings/{meeting_id:int}",
        name="api:meetings:show",
        responses=READ_ERRORS,
        summary="A meeting with the agenda, attendance, quorum, minutes and decisions the "
        "caller may read",
    )
    async def get_meeting(self, viewer: RequestViewer, meeting_id: MeetingId) -> MeetingView:
        return await queries.meeting_view(meeting_id, viewer)

    @patch(
        "/meetings/{meeting_id:int}",
        name="api:meetings:update",
        responses=WRITE_ERRORS,
        summary="Change a meeting's title, times or place, or mark it held or cancelled",
    )
    async def update_meeting(
        self, viewer: RequestViewer, meeting_id: MeetingId, data: JSONBody[MeetingPatch]
    ) -> MeetingView:
        await services.patch_meeting(meeting_id, data, viewer)
        return await queries.meeting_view(meeting_id, viewer)

    @put(
        "/meetings/{meeting_id:int}/agenda",
        name="api:meetings:agenda",
        responses=WRITE_ERRORS,
        summary="Replace the agenda of a scheduled meeting",
        description="Items with an `id` are updated and put in the order given (or at their "
        "`position`); items of the agenda left out are removed (refused for an item with a "
        "decision); items without an `id` are added. All or nothing.",
    )
    async def replace_agenda(
        self, viewer: RequestViewer, meeting_id: MeetingId, data: JSONBody[AgendaReplacement]
    ) -> MeetingView:
        await services.replace_agenda(meeting_id, data, viewer)
        return await queries.meeting_view(meeting_id, viewer)

    @put(
        "/meetings/{meeting_id:int}/attendance",
        name="api:meetings:attendance",
        responses=WRITE_ERRORS,
        summary="Record who attended: members by user id and mode, guests by name",
    )
    async def record_attendance(
        self, viewer: RequestViewer, meeting_id: MeetingId, data: JSONBody[AttendanceRecord]
    ) -> MeetingView:
        await services.record_attendance(meeting_id, data, viewer)
        return await queries.meeting_view(meeting_id, viewer)

    @put(
        "/meetings/{meeting_id:int}/minutes",
        name="api:meetings:minutes",
        responses=WRITE_ERRORS,
        summary="Write the draft minutes: a summary and the record of each agenda item",
    )
    async def save_minutes(
        self, viewer: RequestViewer, meeting_id: MeetingId, data: JSONBody[MinutesDraft]
    ) -> MeetingView:
        await services.save_minutes(meeting_id, data, viewer)
        return await queries.meeting_view(meeting_id, viewer)

    @post(
        "/meetings/{meeting_id:int}/minutes/circulate",
        name="api:meetings:circulate",
        responses=WRITE_ERRORS,
        summary="Circulate the draft minutes to the attendees for comment",
        status_code=200,
    )
    async def circulate_minutes(
        self, viewer: RequestViewer, meeting_id: MeetingId
    ) -> CirculatedView:
        notified = await services.circulate_minutes(meeting_id, viewer)
        return CirculatedView(
            meeting=await queries.meeting_view(meeting_id, viewer), notified=notified
        )

    @post(
        "/meetings/{meeting_id:int}/minutes/approve",
        name="api:meetings:approve",
        responses=WRITE_ERRORS,
        summary="Approve circulated minutes, at a later held meeting or by circulation",
        status_code=200,
    )
    async def approve_minutes(
        self, viewer: RequestViewer, meeting_id: MeetingId, data: JSONBody[Approval]
    ) -> MeetingView:
        await services.approve_minutes(meeting_id, data, viewer)
        return await queries.meeting_view(meeting_id, viewer)

    @post(
        "/meetings/{meeting_id:int}/decisions",
        name="api:meetings:decide",
        responses=WRITE_ERRORS,
        summary="Record a decision on an agenda item",
        status_code=201,
    )
    async def record_decision(
        self, viewer: RequestViewer, meeting_id: MeetingId, data: JSONBody[NewDecision]
    ) -> DecisionView:
        decision_id = await services.record_decision(meeting_id, data, viewer)
        return await queries.decision_view(meeting_id, decision_id, viewer)

    # --- the notice and its replies ---

    @post(
        "/meetings/{meeting_id:int}/notice",
        name="api:meetings:send-notice",
        responses=WRITE_ERRORS,
        summary="Send the meeting's notice to the group's members (chair or secretary)",
        description="Each current member is sent the agenda they may read, the place, the "
        "papers' pack link, signed reply links and a calendar invitation. 409 once the notice "
        "is sent, or for a meeting that has started or is no longer scheduled.",
        status_code=200,
    )
    async def send_notice(self, viewer: RequestViewer, meeting_id: MeetingId) -> NoticeSentView:
        told = await services.send_meeting_notice(meeting_id, viewer)
        return NoticeSentView(told=told, replies=await queries.notice_replies(meeting_id, viewer))

    @get(
        "/meetings/{meeting_id:int}/replies",
        name="api:meetings:replies",
        responses=READ_ERRORS,
        summary="The notice's replies by member, the caller's own and the expected quorum",
    )
    async def replies(self, viewer: RequestViewer, meeting_id: MeetingId) -> NoticeRepliesView:
        return await queries.notice_replies(meeting_id, viewer)

    @put(
        "/meetings/{meeting_id:int}/reply",
        name="api:meetings:reply",
        responses=WRITE_ERRORS,
        summary="Reply to the notice: attending, remote (attending remotely) or apologies",
        description="Replaces the caller's earlier reply. 403 for someone who is not a member "
        "on the meeting date; 409 once the meeting has started or is no longer scheduled.",
    )
    async def reply(
        self, viewer: RequestViewer, meeting_id: MeetingId, data: JSONBody[NoticeReply]
    ) -> NoticeRepliesView:
        await services.reply_to_notice(meeting_id, data, viewer)
        return await queries.notice_replies(meeting_id, viewer)
