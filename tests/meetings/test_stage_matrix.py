"""Every mutating meetings route, through the pages and the API, against a meeting at each
stage of its life (scheduled, held, minutes in draft, circulated, approved): what the stage
does not allow is refused with a message that says why, and changes nothing. "Nothing" is
checked as the meeting's whole API answer and the audit chain (its rows and its head), byte
for byte, before and after, with the rest of the record."""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from governance.accounts.services import issue_api_token
from governance.core.clock import utcnow
from governance.core.tables import AuditChainHead, AuditEvent, OutboundEmail
from governance.meetings import services
from governance.meetings.notices import reply_token
from governance.meetings.schemas import (
    AgendaItemDetails,
    Approval,
    AttendanceEntry,
    AttendanceRecord,
    MinutesDraft,
    NewDecision,
)
from governance.meetings.tables import (
    AgendaItem,
    Attendance,
    ConflictOfInterest,
    Decision,
    Erratum,
    Meeting,
    MeetingReply,
    Minutes,
    MinutesComment,
)
from tests.factories import make_meeting, viewer_for
from tests.helpers import CSRF_COOKIE, csrf_token, post_form, shown_after_refusal, sign_in

STAGES = ("scheduled", "held", "minutes_draft", "circulated", "approved")
HELD_STAGES = ("held", "minutes_draft", "circulated")

LOCKED = "approved and locked"
DETAILS_FROZEN = "can only change while it is scheduled"
AGENDA_FROZEN = "The agenda can only change while the meeting is scheduled."
NOT_HELD_YET = "before it has started"
ONLY_SCHEDULED_HELD = "Only a scheduled meeting can be marked held"
ONLY_SCHEDULED_CANCELLED = "Only a scheduled meeting can be cancelled"
NOT_STARTED = "this one has not started yet"


@dataclass
class Stage:
    name: str
    meeting_id: int
    item_id: int
    chair: int
    chair_token: str


async def _build(cast: Any, stage: str) -> Stage:
    """A meeting at this stage, with one agenda item (and, once held, attendance and a
    decision), made through the services as a chair would."""
    chair = await viewer_for(cast.chair)
    if stage == "scheduled":
        starts_at = (utcnow() + dt.timedelta(days=7)).replace(microsecond=0)
    else:
        starts_at = (utcnow() - dt.timedelta(days=3)).replace(microsecond=0)
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=starts_at)
    item_id = await services.add_agenda_item(
        meeting_id, AgendaItemDetails(title="Budget", visibility="internal", notes=""), chair
    )
    # A later meeting for an item carried forward.
    await make_meeting(cast.slug, cast.chair, starts_at=starts_at + dt.timedelta(days=30))
    if stage != "scheduled":
        await services.mark_meeting_held(meeting_id, chair)
        entries = [
            AttendanceEntry(user_id=user, mode="present")
            for user in (cast.chair, cast.secretary, cast.member)
        ]
        await services.record_attendance(meeting_id, AttendanceRecord(entries=entries), chair)
        await services.record_decision(
            meeting_id, NewDecision(agenda_item_id=item_id, text="Agreed.", votes_for=3), chair
        )
        await services.set_item_open(item_id, True, chair)
    if stage in ("minutes_draft", "circulated", "approved"):
        draft = MinutesDraft(summary="We met.", items={item_id: "Discussed."})
        await services.save_minutes(meeting_id, draft, chair)
    if stage in ("circulated", "approved"):
        await services.circulate_minutes(meeting_id, chair)
    if stage == "approved":
        await services.approve_minutes(meeting_id, Approval(method="circulation"), chair)
    token = await issue_api_token("chair@example.org")
    return Stage(stage, meeting_id, item_id, cast.chair, token)


@dataclass(frozen=True)
class Route:
    """A mutating route with a body that is valid in itself, and the message it must answer
    with at each stage that does not allow it."""

    name: str
    api: bool
    method: str
    path: Callable[[Stage], str]
    body: Callable[[Stage], dict[str, Any]]
    refused: dict[str, str]


def _at(stages: tuple[str, ...], message: str) -> dict[str, str]:
    return dict.fromkeys(stages, message)


def _local(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def _new_details(stage: Stage) -> dict[str, Any]:
    starts = utcnow() + dt.timedelta(days=40)
    return {
        "title": "Moved meeting",
        "starts_at": _local(starts),
        "ends_at": _local(starts + dt.timedelta(hours=1)),
        "location": "Elsewhere",
    }


def _meeting(suffix: str = "") -> Callable[[Stage], str]:
    return lambda stage: f"/meetings/{stage.meeting_id}{suffix}"


def _item(suffix: str) -> Callable[[Stage], str]:
    return lambda stage: f"/agenda-items/{stage.item_id}{suffix}"


def _api(suffix: str = "") -> Callable[[Stage], str]:
    return lambda stage: f"/api/v1/meetings/{stage.meeting_id}{suffix}"


def _no_body(stage: Stage) -> dict[str, Any]:
    return {}


AGENDA_REFUSED = {**_at(HELD_STAGES, AGENDA_FROZEN), "approved": LOCKED}
DETAILS_REFUSED = {**_at(HELD_STAGES, DETAILS_FROZEN), "approved": LOCKED}
HELD_REFUSED = {
    "scheduled": NOT_HELD_YET,
    **_at(HELD_STAGES, ONLY_SCHEDULED_HELD),
    "approved": LOCKED,
}
CANCEL_REFUSED = {**_at(HELD_STAGES, ONLY_SCHEDULED_CANCELLED), "approved": LOCKED}
SAVE_MINUTES_REFUSED = {"circulated": "Return them to draft before editing", "approved": LOCKED}
CIRCULATE_REFUSED = {
    "scheduled": "once the meeting is marked held",
    "circulated": "Only draft minutes can be circulated",
    "approved": LOCKED,
}
APPROVE_REFUSED = {
    **_at(("scheduled", "held", "minutes_draft"), "must be circulated before"),
    "approved": "already approved",
}
DECIDE_REFUSED = {"scheduled": NOT_STARTED, "approved": LOCKED}


NOTICE_REFUSED = {
    **_at(HELD_STAGES, "for a scheduled meeting that has not started"),
    "approved": LOCKED,
}
REPLY_REFUSED = _at((*HELD_STAGES, "approved"), "no longer takes replies")


def _apologies(stage: Stage) -> dict[str, Any]:
    return {"mode": "apologies"}


def _reply_link(stage: Stage) -> str:
    return f"/notice-replies/{reply_token(stage.meeting_id, stage.chair)}"


def _decision(stage: Stage) -> dict[str, Any]:
    return {"agenda_item_id": stage.item_id, "text": "Another decision.", "votes_for": 1}


ROUTES: tuple[Route, ...] = (
    # --- the pages ---
    Route("edit", False, "POST", _meeting("/edit"), _new_details, DETAILS_REFUSED),
    Route("held", False, "POST", _meeting("/held"), _no_body, HELD_REFUSED),
    Route("cancel", False, "POST", _meeting("/cancel"), lambda s: {"reason": "No"}, CANCEL_REFUSED),
    Route(
        "add item",
        False,
        "POST",
        _meeting("/agenda"),
        lambda s: {"title": "New item", "visibility": "internal"},
        AGENDA_REFUSED,
    ),
    Route(
        "edit item",
        False,
        "POST",
        _item("/edit"),
        lambda s: {"title": "Renamed", "visibility": "internal", "notes": ""},
        AGENDA_REFUSED,
    ),
    Route("move item", False, "POST", _item("/move"), lambda s: {"position": "1"}, AGENDA_REFUSED),
    Route("remove item", False, "POST", _item("/remove"), _no_body, AGENDA_REFUSED),
    Route("leave open", False, "POST", _item("/open"), _no_body, {"approved": LOCKED}),
    Route(
        "carry",
        False,
        "POST",
        _item("/carry"),
        _no_body,
        {"scheduled": "Only an item of a held meeting", "approved": LOCKED},
    ),
    Route(
        "declare conflict",
        False,
        "POST",
        _item("/conflicts"),
        lambda s: {"description": "My employer bids"},
        {"approved": LOCKED},
    ),
    Route(
        "attendance",
        False,
        "POST",
        _meeting("/attendance"),
        lambda s: {f"mode_{s.chair}": "absent"},
        {"approved": LOCKED},
    ),
    Route(
        "save minutes",
        False,
        "POST",
        _meeting("/minutes"),
        lambda s: {"summary": "Rewritten."},
        SAVE_MINUTES_REFUSED,
    ),
    Route("circulate", False, "POST", _meeting("/minutes/circulate"), _no_body, CIRCULATE_REFUSED),
    Route(
        "return to draft",
        False,
        "POST",
        _meeting("/minutes/draft"),
        _no_body,
        {
            **_at(("scheduled", "held", "minutes_draft"), "Only circulated minutes"),
            "approved": LOCKED,
        },
    ),
    Route(
        "approve",
        False,
        "POST",
        _meeting("/minutes/approve"),
        lambda s: {"method": "circulation"},
        APPROVE_REFUSED,
    ),
    Route(
        "comment",
        False,
        "POST",
        _meeting("/minutes/comments"),
        lambda s: {"body": "A comment."},
        {
            **_at(("scheduled", "held", "minutes_draft"), "while the minutes are circulated"),
            "approved": LOCKED,
        },
    ),
    Route(
        "erratum",
        False,
        "POST",
        _meeting("/minutes/errata"),
        lambda s: {"body": "A correction.", "visibility": "internal"},
        _at(("scheduled", *HELD_STAGES), "Errata are for approved minutes"),
    ),
    Route("decide", False, "POST", _meeting("/decisions"), _decision, DECIDE_REFUSED),
    Route("send notice", False, "POST", _meeting("/notice"), _no_body, NOTICE_REFUSED),
    Route("reply", False, "POST", _meeting("/reply"), _apologies, REPLY_REFUSED),
    Route("reply by link", False, "POST", _reply_link, _apologies, REPLY_REFUSED),
    # --- the API ---
    Route("PATCH details", True, "PATCH", _api(), lambda s: {"title": "New"}, DETAILS_REFUSED),
    Route("POST notice", True, "POST", _api("/notice"), _no_body, NOTICE_REFUSED),
    Route("PUT reply", True, "PUT", _api("/reply"), _apologies, REPLY_REFUSED),
    Route(
        "PATCH place", True, "PATCH", _api(), lambda s: {"location": "Elsewhere"}, DETAILS_REFUSED
    ),
    Route(
        "PATCH times",
        True,
        "PATCH",
        _api(),
        lambda s: {
            "starts_at": (utcnow() + dt.timedelta(days=40)).isoformat(),
            "ends_at": (utcnow() + dt.timedelta(days=40, hours=1)).isoformat(),
        },
        DETAILS_REFUSED,
    ),
    Route("PATCH held", True, "PATCH", _api(), lambda s: {"status": "held"}, HELD_REFUSED),
    Route(
        "PATCH cancelled",
        True,
        "PATCH",
        _api(),
        lambda s: {"status": "cancelled", "cancel_reason": "No"},
        CANCEL_REFUSED,
    ),
    Route(
        "PUT agenda",
        True,
        "PUT",
        _api("/agenda"),
        lambda s: {"items": [{"id": s.item_id, "title": "Renamed"}]},
        AGENDA_REFUSED,
    ),
    Route(
        "PUT attendance",
        True,
        "PUT",
        _api("/attendance"),
        lambda s: {"entries": [{"user_id": s.chair, "mode": "absent"}]},
        {"approved": LOCKED},
    ),
    Route(
        "PUT minutes",
        True,
        "PUT",
        _api("/minutes"),
        lambda s: {"summary": "Rewritten."},
        SAVE_MINUTES_REFUSED,
    ),
    Route("POST circulate", True, "POST", _api("/minutes/circulate"), _no_body, CIRCULATE_REFUSED),
    Route(
        "POST approve",
        True,
        "POST",
        _api("/minutes/approve"),
        lambda s: {"method": "circulation"},
        APPROVE_REFUSED,
    ),
    Route("POST decisions", True, "POST", _api("/decisions"), _decision, DECIDE_REFUSED),
)


async def _state(client: httpx.AsyncClient, stage: Stage) -> dict[str, Any]:
    """The meeting's whole API answer (bytes) and the audit chain, with the rest of the
    record, as they stand."""
    shown = await client.get(
        f"/api/v1/meetings/{stage.meeting_id}",
        headers={"Authorization": f"Bearer {stage.chair_token}"},
    )
    assert shown.status_code == 200, shown.text
    return {
        "meeting_json": shown.content,
        "audit": repr(await AuditEvent.select().order_by(AuditEvent.sequence)),
        "audit_head": repr(await AuditChainHead.select()),
        "rows": repr(
            [
                await table.select().order_by(table.id)
                for table in (
                    Meeting,
                    AgendaItem,
                    Attendance,
                    ConflictOfInterest,
                    Minutes,
                    MinutesComment,
                    Erratum,
                    Decision,
                    MeetingReply,
                    OutboundEmail,
                )
            ]
        ),
    }


async def _send(client: httpx.AsyncClient, stage: Stage, route: Route) -> httpx.Response:
    if route.api:
        return await client.request(
            route.method,
            route.path(stage),
            json=route.body(stage),
            headers={"Authorization": f"Bearer {stage.chair_token}"},
        )
    response = await post_form(client, route.path(stage), route.body(stage))
    # A form of the meeting page is refused with a 303 to the page, which says why.
    return await shown_after_refusal(client, response) if response.status_code == 303 else response


def _message(response: httpx.Response, route: Route) -> str:
    if route.api:
        assert response.headers["content-type"].startswith("application/problem+json")
        return str(json.loads(response.content)["detail"])
    return html.unescape(response.text)


@pytest.mark.parametrize("stage_name", STAGES)
async def test_what_a_stage_does_not_allow_is_refused_and_changes_nothing(client, cast, stage_name):
    stage = await _build(cast, stage_name)
    await sign_in(client, cast.chair)
    await csrf_token(client)
    assert CSRF_COOKIE in client.cookies
    refused = [route for route in ROUTES if stage_name in route.refused]
    assert refused, stage_name
    for route in refused:
        before = await _state(client, stage)
        response = await _send(client, stage, route)
        expected = route.refused[stage_name]
        refused_status = 200 if response.history else 409
        assert response.status_code == refused_status, (route.name, response.text[:300])
        assert expected in _message(response, route), (route.name, response.text[:2000])
        assert await _state(client, stage) == before, route.name


ENDPOINTS = {
    "edit": "meetings:edit",
    "held": "meetings:held",
    "cancel": "meetings:cancel",
    "add item": "meetings:add-item",
    "edit item": "meetings:edit-item",
    "move item": "meetings:move-item",
    "remove item": "meetings:remove-item",
    "leave open": "meetings:toggle-open",
    "carry": "meetings:carry",
    "declare conflict": "meetings:declare-conflict",
    "attendance": "meetings:attendance",
    "save minutes": "meetings:save-minutes",
    "circulate": "meetings:circulate",
    "return to draft": "meetings:return-to-draft",
    "approve": "meetings:approve",
    "comment": "meetings:comment",
    "erratum": "meetings:erratum",
    "decide": "meetings:decide",
    "send notice": "meetings:send-notice",
    "reply": "meetings:reply",
    "reply by link": "meetings:reply-by-link-save",
    "PATCH details": "api:meetings:update",
    "PATCH place": "api:meetings:update",
    "PATCH times": "api:meetings:update",
    "PATCH held": "api:meetings:update",
    "PATCH cancelled": "api:meetings:update",
    "PUT agenda": "api:meetings:agenda",
    "PUT attendance": "api:meetings:attendance",
    "PUT minutes": "api:meetings:minutes",
    "POST circulate": "api:meetings:circulate",
    "POST approve": "api:meetings:approve",
    "POST decisions": "api:meetings:decide",
    "POST notice": "api:meetings:send-notice",
    "PUT reply": "api:meetings:reply",
}


def test_every_mutating_meetings_route_is_in_the_matrix(app):
    """A new mutating route of a meeting must join the matrix (scheduling a new meeting, the
    calendar feed and the exports aside)."""
    mutating: set[str] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            name = handler.name or ""
            if name.startswith(("meetings:", "api:meetings:")) and set(handler.http_methods) - {
                "GET",
                "HEAD",
            }:
                mutating.add(name)
    mutating -= {"meetings:create", "api:meetings:schedule"}
    assert {route.name for route in ROUTES} == set(ENDPOINTS)
    assert set(ENDPOINTS.values()) == mutating


@pytest.mark.parametrize("stage_name", STAGES)
async def test_the_page_offers_nothing_its_stage_refuses(client, cast, stage_name):
    """The meeting page's forms and links are decided by the services' own rules
    (`services.meeting_steps`): at each stage, no form posts to a route the stage refuses,
    and no link opens a form whose saving it would refuse."""
    stage = await _build(cast, stage_name)
    await sign_in(client, cast.chair)
    page = await client.get(f"/meetings/{stage.meeting_id}")
    assert page.status_code == 200
    refused = [
        route
        for route in ROUTES
        if not route.api and route.name != "reply by link" and stage_name in route.refused
    ]
    assert refused, stage_name
    for route in refused:
        path = route.path(stage)
        assert f'action="{path}"' not in page.text, (route.name, path)
        assert f'href="{path}"' not in page.text, (route.name, path)
