"""Every route and every persona: who gets in, who is sent to sign in, who is refused.

The matrix is checked against the routes the application actually registers, so a new
route without an entry here fails `test_matrix_covers_every_route`.

Each entry is one or more cases: the record the route is asked about (a path parameter
names a value of the world, tests/access_world.py), the body sent (a form for pages, JSON
for /api/), and what each persona gets. A refused request must change nothing in the
database; a record its persona may not read must be "not found" exactly as a missing one.
The world is built once for the module, and put back as it was before every persona.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from litestar import Litestar

from governance.core import exports as core_exports
from governance.core.clock import organisation_today
from governance.core.db import get_engine
from tests.access_world import (
    PERSONAS,
    SECRETS,
    Dump,
    World,
    build_world,
    counts,
    differences,
    dump,
    empty_all_tables,
    fingerprint,
    restore,
)
from tests.helpers import CSRF_COOKIE, QueryCounter, sign_in

SIGNED_IN_PERSONAS = PERSONAS[1:]

# Outcomes.
OK = "ok"  # 200, 201, 302 (not to /login) or 422: the request reached its handler
LOGIN = "login"  # anonymous on a page: 302 to /login?next=...
UNAUTHORIZED = "401"  # anonymous on the API: 401 JSON problem
FORBIDDEN = "403"  # signed in, but not allowed: a 403 page, nothing changes
NOT_FOUND = "404"  # a 404 page, the same as for a record that does not exist; nothing changes
INVALID = "422"  # refused as a value the rules do not allow (a 422 page); nothing changes
API_FORBIDDEN = "api 403"  # a 403 JSON problem, nothing changes
API_NOT_FOUND = "api 404"  # a 404 JSON problem, the same as for a missing record
CONFLICT = "409"  # the page again, saying the record's state does not allow it; nothing changes
API_CONFLICT = "api 409"  # a 409 JSON problem, nothing changes

REFUSALS = {
    FORBIDDEN,
    NOT_FOUND,
    INVALID,
    API_FORBIDDEN,
    API_NOT_FOUND,
    LOGIN,
    UNAUTHORIZED,
    CONFLICT,
    API_CONFLICT,
}


def grid(
    ok: tuple[str, ...] = (),
    forbidden: tuple[str, ...] = (),
    *,
    api: bool = False,
    anonymous: str | None = None,
    **special: str,
) -> dict[str, str]:
    """Personas in `ok` get in, those in `forbidden` are refused (403), and every other
    signed-in persona is told there is nothing there (404); anonymous is sent to sign in."""
    refused = API_FORBIDDEN if api else FORBIDDEN
    missing = API_NOT_FOUND if api else NOT_FOUND
    expected = {"anonymous": anonymous or (UNAUTHORIZED if api else LOGIN)}
    for persona in SIGNED_IN_PERSONAS:
        expected[persona] = OK if persona in ok else refused if persona in forbidden else missing
    expected.update(special)
    return expected


PUBLIC = dict.fromkeys(PERSONAS, OK)
SIGNED_IN = {"anonymous": LOGIN, **dict.fromkeys(SIGNED_IN_PERSONAS, OK)}
API_SIGNED_IN = {**SIGNED_IN, "anonymous": UNAUTHORIZED}
ADMIN = {"anonymous": LOGIN, **dict.fromkeys(SIGNED_IN_PERSONAS, FORBIDDEN), "admin": OK}
BOARD_OR_ADMIN = {**ADMIN, "board": OK}
NOWHERE = dict.fromkeys(PERSONAS, NOT_FOUND)

# Who reads a group's internal content: its current members, the Director and the Board.
READERS = ("member", "chair", "director", "board")
# Everyone signed in but the chair (the group's leader among the personas).
NOT_CHAIR = tuple(p for p in SIGNED_IN_PERSONAS if p != "chair")


def lead(readers: tuple[str, ...] = READERS, *, api: bool = False) -> dict[str, str]:
    """Only the chair (or secretary) changes it; other readers get 403, non-readers 404."""
    return grid(("chair",), tuple(r for r in readers if r != "chair"), api=api)


# A route about the group itself (its existence is no secret): the chair in, the rest 403.
GROUP_LEAD = grid(("chair",), NOT_CHAIR)
API_GROUP_LEAD = grid(("chair",), NOT_CHAIR, api=True)
MEETING_READ = grid(READERS)
API_MEETING_READ = grid(READERS, api=True)
MEETING_LEAD = lead()
API_MEETING_LEAD = lead(api=True)
# The Director never learns of `board` content; `group` content never leaves the group.
BOARD_ITEM_LEAD = lead(("member", "chair", "board"))
GROUP_ITEM_LEAD = lead(("member", "chair"))
# Actions: owners (the member) and the chair or secretary update; other readers get 403.
ACTION_UPDATE = grid(("member", "chair"), ("director", "board"))
API_ACTION_UPDATE = grid(("member", "chair"), ("director", "board"), api=True)
# A Board-only action: the Director is told there is nothing there.
BOARD_ACTION_UPDATE = grid(("member", "chair"), ("board",))
API_BOARD_ACTION_UPDATE = grid(("member", "chair"), ("board",), api=True)
# Reports: drafts are the group's; a Board-only report never reaches the Director.
DRAFT_LEAD = lead(("member", "chair"))
API_DRAFT_LEAD = lead(("member", "chair"), api=True)
# Transparency: the board edition of a group's report is read by its members and the Board.
TR_BOARD_READ = grid(("member", "chair", "board"))
API_TR_BOARD_READ = grid(("member", "chair", "board"), api=True)
TR_LEAD = lead(("member", "chair", "board"))
API_TR_LEAD = lead(("member", "chair", "board"), api=True)


# Documents: a paper is read as its item is (and its own visibility allows).
PAPER_READER_TUPLES = {
    "internal": READERS,
    "board": ("member", "chair", "board"),
    "group": ("member", "chair"),
}
PAPER_READERS = {v: grid(readers) for v, readers in PAPER_READER_TUPLES.items()}
API_PAPER_READERS = {v: grid(readers, api=True) for v, readers in PAPER_READER_TUPLES.items()}
DRAFT_READ = grid(("member", "chair"))
API_DRAFT_READ = grid(("member", "chair"), api=True)


def line(recipient: str, *, api: bool = False, board_only: bool = False) -> dict[str, str]:
    """A delivery: only its line acts on it; the report's other readers get 403."""
    readers = ("member", "chair", "board") if board_only else READERS
    return grid((recipient,), tuple(r for r in readers if r != recipient), api=api)


Body = Callable[[Mapping[str, str]], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    expected: Mapping[str, str]
    # Path parameter -> key of World.params, where it is not the parameter's own name.
    params: Mapping[str, str] = field(default_factory=dict)
    # The form (pages) or JSON (/api/) sent; None sends an empty one.
    body: Body | None = None
    label: str = ""
    # Persona -> the bug that keeps them from getting the expected outcome (a known failure).
    bugs: Mapping[str, str] = field(default_factory=dict)
    # False where the answer is not the persona's to see but the link's (a secret address).
    keeps_secrets: bool = True


def case(
    expected: Mapping[str, str],
    label: str = "",
    body: Body | None = None,
    bugs: Mapping[str, str] | None = None,
    **params: str,
) -> Case:
    return Case(expected, params, body, label, bugs or {})


# Known bugs, each shown by the cells it breaks (see `params_for`); none at the moment.


def days_ahead(days: int) -> str:
    return (organisation_today() + dt.timedelta(days=days)).isoformat()


# --- bodies -------------------------------------------------------------------------------


def form(**values: str) -> Body:
    """Fixed values, each a template filled from the world's params ("{member_id}")."""
    return lambda p: {key.format(**p): value.format(**p) for key, value in values.items()}


def fixed(**values: Any) -> Body:
    return lambda p: dict(values)


RESPONSE = form(response="noted")
API_RESPONSE = fixed(response="noted")
MEETING_FORM = form(meeting="Board meeting", meeting_on="{today}")


def API_MEETING(p: Mapping[str, str]) -> dict[str, Any]:
    return {"meeting": "Board meeting", "meeting_on": p["today"]}


def action_form(p: Mapping[str, str]) -> dict[str, Any]:
    return {
        "title": "Draft the survey",
        "due_on": days_ahead(7),
        "visibility": "internal",
        "owner_ids": p["member_id"],
        "source_type": "group",
    }


def action_json(p: Mapping[str, str]) -> dict[str, Any]:
    return {
        "title": "Draft the survey",
        "due_on": days_ahead(7),
        "owner_ids": [int(p["member_id"])],
    }


def owners_form(p: Mapping[str, str]) -> dict[str, Any]:
    return {"owner_ids": [p["member_id"]], "due_on": days_ahead(20)}


def attendance_json(p: Mapping[str, str]) -> dict[str, Any]:
    return {"entries": [{"user_id": int(p["member_id"]), "mode": "remote"}]}


def decision_json(p: Mapping[str, str]) -> dict[str, Any]:
    return {"agenda_item_id": int(p["held_internal_item_id"]), "text": "Agreed"}


def preferences_form(p: Mapping[str, str]) -> dict[str, Any]:
    return {"digest_frequency": "daily", "digest_weekday": "monday", "categories": ["actions"]}


def resolution_form(p: Mapping[str, str]) -> dict[str, Any]:
    return {
        "title": "Adopt the policy",
        "text": "That the group adopts the policy.",
        "closes_at": days_ahead(3) + "T10:00",
        "visibility": "internal",
    }


def resolution_json(p: Mapping[str, str]) -> dict[str, Any]:
    closes_at = dt.datetime.combine(organisation_today() + dt.timedelta(days=3), dt.time(10))
    return {
        "title": "Adopt the policy",
        "text": "That the group adopts the policy.",
        "closes_at": closes_at.replace(tzinfo=dt.UTC).isoformat(),
    }


# A written resolution of each visibility, and who reads it.
RESOLUTION_READERS = {
    "internal": ("resolution_id", READERS),
    "board": ("board_resolution_id", ("member", "chair", "board")),
    "group": ("group_resolution_id", ("member", "chair")),
}

# An upload: sent as multipart/form-data (see `request_as`).
UPLOAD = fixed(file=("notes.txt", b"Notes of the access matrix.\n"))
MEETING_FORM = form(
    title="Planning", starts_at="2030-01-15T10:00", ends_at="2030-01-15T12:00", location="Room 2"
)
MEETING_JSON = fixed(
    title="Planning", starts_at="2030-01-15T10:00:00+00:00", ends_at="2030-01-15T12:00:00+00:00"
)
# Strings only: the same for the form and for JSON.
REPORT = form(kind="recommendation", title="Flexible hours", body="We recommend.", route="both")
GENERATE = form(scope="alpha", period="{quarter}", edition="board")


def item_cases(
    expected_by_visibility: Mapping[str, Mapping[str, str]],
    body: Body | None = None,
    body_for: Callable[[str], Body] | None = None,
) -> list[Case]:
    """The route about the scheduled meeting's agenda item of each visibility."""
    return [
        case(
            expected,
            visibility,
            body_for(visibility) if body_for else body,
            item_id=f"{visibility}_item_id",
        )
        for visibility, expected in expected_by_visibility.items()
    ]


PULSE_READERS = {
    "internal": READERS,
    "board": ("member", "chair", "board"),
    "group": ("member", "chair"),
}


def pulse_cases(path: str, api: bool) -> list[Case]:
    """A pulse's or run's route at each visibility: read by those who read that visibility."""
    name = "run_id" if "{run_id}" in path else "pulse_id"
    return [
        Case(grid(readers, api=api), {name: f"{visibility}_{name}"}, label=visibility)
        for visibility, readers in PULSE_READERS.items()
    ]


ITEM_VISIBILITIES = {"board": BOARD_ITEM_LEAD, "group": GROUP_ITEM_LEAD}

# --- the matrix -------------------------------------------------------------------------

# Routes anyone may use without signing in. Keep this list short and deliberate.
PUBLIC_ROUTES = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/account/forgot-password"),
    ("POST", "/account/forgot-password"),
    ("GET", "/account/set-password/{token}"),
    ("POST", "/account/set-password/{token}"),
    ("POST", "/login/code"),
    ("GET", "/account/confirm-email/{token}"),
    ("GET", "/transparency"),
    ("GET", "/transparency/feed.atom"),
    ("GET", "/api/v1/transparency-reports"),
}

MATRIX: dict[tuple[str, str], Mapping[str, str] | list[Case]] = {
    **{route: PUBLIC for route in PUBLIC_ROUTES},
    ("GET", "/"): SIGNED_IN,
    ("GET", "/me/tasks"): SIGNED_IN,
    ("POST", "/preview"): SIGNED_IN,
    ("POST", "/logout"): SIGNED_IN,
    ("GET", "/profile"): SIGNED_IN,
    ("POST", "/profile"): SIGNED_IN,
    ("GET", "/profile/security"): SIGNED_IN,
    ("GET", "/profile/password"): SIGNED_IN,
    ("POST", "/profile/password"): SIGNED_IN,
    ("GET", "/profile/email"): SIGNED_IN,
    ("POST", "/profile/email"): SIGNED_IN,
    ("GET", "/profile/two-factor"): SIGNED_IN,
    ("POST", "/profile/two-factor"): SIGNED_IN,
    ("POST", "/profile/two-factor/off"): SIGNED_IN,
    ("POST", "/profile/sessions/end-others"): SIGNED_IN,
    # Someone else's session or token is no more found than a missing one: back to the
    # page with "already ended" / "no such token", never a sign of whose it is.
    ("POST", "/profile/sessions/{handle}/end"): [case(SIGNED_IN, handle="bad_token")],
    ("POST", "/profile/tokens"): SIGNED_IN,
    ("POST", "/profile/tokens/{token_id}/revoke"): [case(SIGNED_IN, token_id="user_id")],
    # The link is the key, whoever opens it; a link that is not valid is "not found".
    ("POST", "/account/confirm-email/{token}"): [
        case(dict.fromkeys(PERSONAS, NOT_FOUND), "a link that is not valid")
    ],
    ("POST", "/admin/users/{user_id}/reset-two-factor"): ADMIN,
    ("GET", "/groups"): SIGNED_IN,
    ("GET", "/groups/{slug}"): SIGNED_IN,
    ("GET", "/api/v1/me"): API_SIGNED_IN,
    ("GET", "/api/v1/me/tasks"): API_SIGNED_IN,
    ("GET", "/api/v1/groups"): API_SIGNED_IN,
    ("GET", "/api/v1/groups/{slug}"): API_SIGNED_IN,
    ("GET", "/audit"): BOARD_OR_ADMIN,
    ("GET", "/admin/users"): ADMIN,
    ("GET", "/admin/users/invite"): ADMIN,
    ("POST", "/admin/users/invite"): ADMIN,
    ("GET", "/admin/users/{user_id}"): ADMIN,
    ("POST", "/admin/users/{user_id}"): ADMIN,
    ("POST", "/admin/users/{user_id}/deactivate"): ADMIN,
    ("POST", "/admin/users/{user_id}/reactivate"): ADMIN,
    ("POST", "/admin/users/{user_id}/resend-invitation"): ADMIN,
    ("GET", "/admin/groups/new"): ADMIN,
    ("POST", "/admin/groups/new"): ADMIN,
    ("GET", "/admin/groups/{slug}/edit"): ADMIN,
    ("POST", "/admin/groups/{slug}/edit"): ADMIN,
    ("GET", "/admin/groups/{slug}/memberships/new"): ADMIN,
    ("POST", "/admin/groups/{slug}/memberships/new"): ADMIN,
    ("GET", "/admin/groups/memberships/{membership_id}"): ADMIN,
    ("POST", "/admin/groups/memberships/{membership_id}"): ADMIN,
    ("GET", "/admin/groups/lines/{line_id}"): ADMIN,
    ("POST", "/admin/groups/lines/{line_id}"): ADMIN,
    # --- meetings: read by members, the Director and the Board; run by the chair ---
    ("GET", "/groups/{slug}/meetings"): SIGNED_IN,
    ("GET", "/groups/{slug}/meetings/new"): GROUP_LEAD,
    ("POST", "/groups/{slug}/meetings/new"): [case(GROUP_LEAD, body=MEETING_FORM)],
    ("GET", "/meetings/{meeting_id}"): MEETING_READ,
    ("GET", "/meetings/{meeting_id}/edit"): [case(MEETING_LEAD, meeting_id="scheduled_meeting_id")],
    ("POST", "/meetings/{meeting_id}/edit"): [
        case(MEETING_LEAD, body=MEETING_FORM, meeting_id="scheduled_meeting_id")
    ],
    ("POST", "/meetings/{meeting_id}/held"): [case(MEETING_LEAD, meeting_id="started_meeting_id")],
    ("POST", "/meetings/{meeting_id}/cancel"): [
        case(MEETING_LEAD, body=form(reason="Clash"), meeting_id="scheduled_meeting_id")
    ],
    ("POST", "/meetings/{meeting_id}/agenda"): [
        case(
            MEETING_LEAD,
            body=form(title="Budget", visibility="internal", notes=""),
            meeting_id="scheduled_meeting_id",
        )
    ],
    ("POST", "/meetings/{meeting_id}/attendance"): [
        case(MEETING_LEAD, body=form(**{"mode_{member_id}": "present"}))
    ],
    ("GET", "/meetings/{meeting_id}/minutes"): MEETING_LEAD,
    ("POST", "/meetings/{meeting_id}/minutes"): [
        case(MEETING_LEAD, body=form(summary="What was said"))
    ],
    ("POST", "/meetings/{meeting_id}/minutes/circulate"): MEETING_LEAD,
    ("POST", "/meetings/{meeting_id}/notice"): [
        case(MEETING_LEAD, meeting_id="scheduled_meeting_id")
    ],
    # Members reply; the Director and the Board read the meeting but are not invited.
    ("POST", "/meetings/{meeting_id}/reply"): [
        case(
            grid(("member", "chair"), ("director", "board")),
            body=form(mode="apologies"),
            meeting_id="scheduled_meeting_id",
        )
    ],
    ("POST", "/meetings/{meeting_id}/minutes/draft"): [
        case(MEETING_LEAD, meeting_id="circulated_meeting_id")
    ],
    ("POST", "/meetings/{meeting_id}/minutes/approve"): [
        case(MEETING_LEAD, body=form(method="circulation"), meeting_id="circulated_meeting_id")
    ],
    ("POST", "/meetings/{meeting_id}/minutes/comments"): [
        case(
            grid(("member", "chair"), ("director", "board")),
            body=form(body="A correction"),
            meeting_id="circulated_meeting_id",
        )
    ],
    ("POST", "/meetings/{meeting_id}/minutes/errata"): [
        case(
            MEETING_LEAD,
            body=form(body="A correction", visibility="internal"),
            meeting_id="approved_meeting_id",
        )
    ],
    ("POST", "/meetings/{meeting_id}/decisions"): [
        case(
            MEETING_LEAD,
            body=form(agenda_item_id="{held_internal_item_id}", text="Agreed", votes_for="3"),
        )
    ],
    ("GET", "/agenda-items/{item_id}/edit"): item_cases(
        {"internal": MEETING_LEAD, **ITEM_VISIBILITIES}
    ),
    ("POST", "/agenda-items/{item_id}/edit"): item_cases(
        ITEM_VISIBILITIES, body_for=lambda v: form(title="Renamed", visibility=v, notes="")
    ),
    ("POST", "/agenda-items/{item_id}/move"): item_cases(ITEM_VISIBILITIES, form(position="1")),
    ("POST", "/agenda-items/{item_id}/remove"): item_cases(ITEM_VISIBILITIES),
    ("POST", "/agenda-items/{item_id}/open"): item_cases(ITEM_VISIBILITIES),
    ("POST", "/agenda-items/{item_id}/carry"): [
        case(BOARD_ITEM_LEAD, "board", item_id="open_board_item_id")
    ],
    # Members declare their own conflicts; the Director and the Board are no members.
    ("POST", "/agenda-items/{item_id}/conflicts"): [
        case(
            grid(("member", "chair"), director=INVALID, board=INVALID),
            "internal",
            form(description="I chair the supplier"),
            item_id="internal_item_id",
        ),
        case(
            grid(("member", "chair"), board=INVALID),
            "board",
            form(description="I chair the supplier"),
            item_id="board_item_id",
        ),
    ],
    ("GET", "/public/meetings/{meeting_id}"): [
        case(PUBLIC, "approved minutes", meeting_id="approved_meeting_id"),
        case(NOWHERE, "draft minutes"),
    ],
    ("GET", "/meetings/{meeting_id}/export/minutes"): MEETING_READ,
    ("GET", "/meetings/{meeting_id}/export/minutes.pdf"): MEETING_READ,
    ("GET", "/meetings/{meeting_id}/export/attendance.csv"): MEETING_READ,
    ("GET", "/meetings/{meeting_id}/export/decisions.csv"): MEETING_READ,
    ("GET", "/calendar"): SIGNED_IN,
    ("POST", "/calendar/reset"): SIGNED_IN,
    ("POST", "/calendar/feed"): SIGNED_IN,
    ("GET", "/calendar/meetings/{filename}"): [case(MEETING_READ, filename="meeting_ics")],
    ("GET", "/calendar/groups/{filename}"): [case(MEETING_READ, filename="group_ics")],
    # No session: the secret token in the address is the key, whoever asks.
    ("GET", "/calendar/me/{filename}"): [
        Case(PUBLIC, {"filename": "feed_ics"}, label="the member's feed", keeps_secrets=False),
        case(NOWHERE, "an unknown token", filename="unknown_feed_ics"),
    ],
    ("GET", "/api/v1/groups/{slug}/meetings"): API_SIGNED_IN,
    ("POST", "/api/v1/groups/{slug}/meetings"): [case(API_GROUP_LEAD, body=MEETING_JSON)],
    ("GET", "/api/v1/meetings/{meeting_id}"): API_MEETING_READ,
    ("PATCH", "/api/v1/meetings/{meeting_id}"): [
        case(API_MEETING_LEAD, body=fixed(title="Renamed"), meeting_id="scheduled_meeting_id")
    ],
    ("POST", "/api/v1/meetings/{meeting_id}/notice"): [
        case(API_MEETING_LEAD, meeting_id="scheduled_meeting_id")
    ],
    ("GET", "/api/v1/meetings/{meeting_id}/replies"): [
        case(API_MEETING_READ, meeting_id="scheduled_meeting_id")
    ],
    # Members reply; the Director and the Board read the meeting but are not invited.
    ("PUT", "/api/v1/meetings/{meeting_id}/reply"): [
        case(
            grid(("member", "chair"), ("director", "board"), api=True),
            body=fixed(mode="apologies"),
            meeting_id="scheduled_meeting_id",
        )
    ],
    ("PUT", "/api/v1/meetings/{meeting_id}/agenda"): [
        case(
            API_MEETING_LEAD,
            body=fixed(items=[{"title": "The only item"}]),
            meeting_id="scheduled_meeting_id",
        )
    ],
    ("PUT", "/api/v1/meetings/{meeting_id}/attendance"): [
        case(API_MEETING_LEAD, body=attendance_json)
    ],
    ("PUT", "/api/v1/meetings/{meeting_id}/minutes"): [
        case(API_MEETING_LEAD, body=fixed(summary="What was said"))
    ],
    ("POST", "/api/v1/meetings/{meeting_id}/minutes/circulate"): API_MEETING_LEAD,
    ("POST", "/api/v1/meetings/{meeting_id}/minutes/approve"): [
        case(API_MEETING_LEAD, body=fixed(method="circulation"), meeting_id="circulated_meeting_id")
    ],
    ("POST", "/api/v1/meetings/{meeting_id}/decisions"): [
        case(API_MEETING_LEAD, body=decision_json)
    ],
    # --- the meeting pack: its readers each get their own PDF; the chair sends it ---
    ("GET", "/meetings/{meeting_id}/pack"): MEETING_READ,
    ("POST", "/meetings/{meeting_id}/papers/send"): MEETING_LEAD,
    ("GET", "/api/v1/meetings/{meeting_id}/pack"): API_MEETING_READ,
    # --- actions: read as their visibility allows and by their owners ---
    ("GET", "/actions"): SIGNED_IN,
    # Search answers everyone signed in, with what each may read (tests/search).
    ("GET", "/search"): SIGNED_IN,
    ("GET", "/api/v1/search"): API_SIGNED_IN,
    ("GET", "/groups/{slug}/actions"): SIGNED_IN,
    ("GET", "/groups/{slug}/actions.csv"): SIGNED_IN,
    ("GET", "/decisions"): SIGNED_IN,
    ("GET", "/decisions.csv"): SIGNED_IN,
    ("GET", "/groups/{slug}/decisions"): SIGNED_IN,
    ("GET", "/groups/{slug}/decisions.csv"): SIGNED_IN,
    ("GET", "/groups/{slug}/actions/new"): GROUP_LEAD,
    ("POST", "/groups/{slug}/actions/new"): [case(GROUP_LEAD, body=action_form)],
    ("GET", "/actions/{action_id}"): [
        case(MEETING_READ, "internal"),
        case(grid(("member", "chair", "board")), "board", action_id="board_action_id"),
    ],
    ("POST", "/actions/{action_id}/status"): [
        case(ACTION_UPDATE, "internal", form(status="in_progress", note="")),
        case(
            grid(("member", "chair"), ("board",)),
            "board",
            form(status="in_progress", note=""),
            action_id="board_action_id",
        ),
    ],
    ("POST", "/actions/{action_id}/progress"): [
        case(ACTION_UPDATE, "internal", form(body="Half done")),
        case(BOARD_ACTION_UPDATE, "board", form(body="Half done"), action_id="board_action_id"),
    ],
    ("POST", "/actions/{action_id}/owners"): [
        case(grid(("chair",), ("member", "director", "board")), "internal", owners_form),
        case(
            grid(("chair",), ("member", "board")), "board", owners_form, action_id="board_action_id"
        ),
    ],
    ("GET", "/api/v1/groups/{slug}/actions"): API_SIGNED_IN,
    ("GET", "/api/v1/decisions"): API_SIGNED_IN,
    ("GET", "/api/v1/groups/{slug}/decisions"): API_SIGNED_IN,
    ("POST", "/api/v1/groups/{slug}/actions"): [case(API_GROUP_LEAD, body=action_json)],
    ("GET", "/api/v1/actions/{action_id}"): [
        case(API_MEETING_READ, "internal"),
        case(grid(("member", "chair", "board"), api=True), "board", action_id="board_action_id"),
    ],
    ("PATCH", "/api/v1/actions/{action_id}"): [
        case(API_ACTION_UPDATE, "internal", fixed(status="in_progress")),
        case(
            API_BOARD_ACTION_UPDATE,
            "board",
            fixed(status="in_progress"),
            action_id="board_action_id",
        ),
    ],
    ("POST", "/api/v1/actions/{action_id}/updates"): [
        case(API_ACTION_UPDATE, "internal", fixed(body="Half done")),
        case(
            API_BOARD_ACTION_UPDATE, "board", fixed(body="Half done"), action_id="board_action_id"
        ),
    ],
    # --- reports and the two reporting lines ---
    ("GET", "/groups/{slug}/reports"): SIGNED_IN,
    ("GET", "/groups/{slug}/reports/new"): GROUP_LEAD,
    ("POST", "/groups/{slug}/reports/new"): [case(GROUP_LEAD, body=REPORT)],
    ("GET", "/reports/{report_id}"): [
        case(MEETING_READ, "both lines"),
        case(grid(("member", "chair", "board")), "board only", report_id="board_report_id"),
        case(grid(("member", "chair")), "draft", report_id="draft_report_id"),
    ],
    ("GET", "/reports/{report_id}/edit"): [case(DRAFT_LEAD, report_id="draft_report_id")],
    ("POST", "/reports/{report_id}/edit"): [
        case(DRAFT_LEAD, body=REPORT, report_id="draft_report_id")
    ],
    ("POST", "/reports/{report_id}/submit"): [case(DRAFT_LEAD, report_id="draft_report_id")],
    ("POST", "/reports/{report_id}/discard"): [case(DRAFT_LEAD, report_id="draft_report_id")],
    ("GET", "/deliveries"): grid(("director", "board"), SIGNED_IN_PERSONAS),
    ("POST", "/deliveries/{delivery_id}/acknowledge"): [
        case(line("director"), "Director line", delivery_id="director_delivery_id"),
        case(line("board"), "Board line", delivery_id="board_delivery_id"),
        case(line("board", board_only=True), "Board only", delivery_id="board_only_delivery_id"),
    ],
    # The Board line answers by resolution: the Board's direct response is a 409.
    ("POST", "/deliveries/{delivery_id}/respond"): [
        case(line("director"), "Director line", RESPONSE, delivery_id="director_delivery_id"),
        case(
            {**line("board"), "board": CONFLICT},
            "Board line",
            RESPONSE,
            delivery_id="board_delivery_id",
        ),
        case(
            {**line("board", board_only=True), "board": CONFLICT},
            "Board only",
            RESPONSE,
            delivery_id="board_only_delivery_id",
        ),
    ],
    # Proposing on the Director line is a 409 for the Director (it is answered directly);
    # on the Board line with a pending proposal, for the Board. The Director is refused on
    # the Board line before anything of a proposal is looked at.
    ("POST", "/deliveries/{delivery_id}/propose"): [
        case(
            {**line("director"), "director": CONFLICT},
            "Director line",
            RESPONSE,
            delivery_id="director_delivery_id",
        ),
        case(
            {**line("board"), "board": CONFLICT},
            "Board line, proposal pending",
            RESPONSE,
            delivery_id="board_delivery_id",
        ),
        case(
            line("board", board_only=True),
            "Board only",
            RESPONSE,
            delivery_id="board_only_delivery_id",
        ),
    ],
    # A proposed Board response exists for the Board alone: anyone else is told there is
    # nothing there, the Director above all.
    ("POST", "/board-proposals/{proposal_id}/concur"): [case(grid(("board",)))],
    ("POST", "/board-proposals/{proposal_id}/object"): [
        case(grid(("board",)), body=form(reason="Not yet"))
    ],
    ("POST", "/board-proposals/{proposal_id}/withdraw"): [case(grid((), ("board",)))],
    ("POST", "/board-proposals/{proposal_id}/decided-at-meeting"): [
        case(grid(("board",)), body=MEETING_FORM)
    ],
    ("GET", "/api/v1/groups/{slug}/reports"): API_SIGNED_IN,
    ("POST", "/api/v1/groups/{slug}/reports"): [case(API_GROUP_LEAD, body=REPORT)],
    ("GET", "/api/v1/reports/{report_id}"): [
        case(API_MEETING_READ, "both lines"),
        case(
            grid(("member", "chair", "board"), api=True), "board only", report_id="board_report_id"
        ),
        case(grid(("member", "chair"), api=True), "draft", report_id="draft_report_id"),
    ],
    ("POST", "/api/v1/reports/{report_id}/submit"): [
        case(API_DRAFT_LEAD, report_id="draft_report_id")
    ],
    ("GET", "/api/v1/deliveries"): API_SIGNED_IN,
    ("POST", "/api/v1/deliveries/{delivery_id}/acknowledge"): [
        case(line("director", api=True), "Director line", delivery_id="director_delivery_id"),
        case(line("board", api=True), "Board line", delivery_id="board_delivery_id"),
        case(
            line("board", api=True, board_only=True),
            "Board only",
            delivery_id="board_only_delivery_id",
        ),
    ],
    ("POST", "/api/v1/deliveries/{delivery_id}/respond"): [
        case(
            line("director", api=True),
            "Director line",
            API_RESPONSE,
            delivery_id="director_delivery_id",
        ),
        case(
            {**line("board", api=True), "board": API_CONFLICT},
            "Board line",
            API_RESPONSE,
            delivery_id="board_delivery_id",
        ),
        case(
            {**line("board", api=True, board_only=True), "board": API_CONFLICT},
            "Board only",
            API_RESPONSE,
            delivery_id="board_only_delivery_id",
        ),
    ],
    ("POST", "/api/v1/deliveries/{delivery_id}/proposal"): [
        case(
            {**line("director", api=True), "director": API_CONFLICT},
            "Director line",
            API_RESPONSE,
            delivery_id="director_delivery_id",
        ),
        case(
            {**line("board", api=True), "board": API_CONFLICT},
            "Board line, proposal pending",
            API_RESPONSE,
            delivery_id="board_delivery_id",
        ),
        case(
            line("board", api=True, board_only=True),
            "Board only",
            API_RESPONSE,
            delivery_id="board_only_delivery_id",
        ),
    ],
    ("POST", "/api/v1/board-proposals/{proposal_id}/concur"): [case(grid(("board",), api=True))],
    ("POST", "/api/v1/board-proposals/{proposal_id}/object"): [
        case(grid(("board",), api=True), body=fixed(reason="Not yet"))
    ],
    ("POST", "/api/v1/board-proposals/{proposal_id}/withdraw"): [
        case(grid((), ("board",), api=True))
    ],
    ("POST", "/api/v1/board-proposals/{proposal_id}/decided-at-meeting"): [
        case(grid(("board",), api=True), body=API_MEETING)
    ],
    # --- transparency reports ---
    ("GET", "/transparency/reports/{report_id}"): [
        case(TR_BOARD_READ, "board edition draft", report_id="tr_board_draft_id"),
        case(PUBLIC, "public edition published", report_id="tr_public_id"),
    ],
    **{
        ("GET", f"/transparency/reports/{{report_id}}/{fmt}"): [
            case(TR_BOARD_READ, report_id="tr_board_draft_id")
        ]
        for fmt in ("print", "pdf", "csv", "json")
    },
    ("GET", "/transparency/reports/{report_id}/charts/{name}"): [
        case(TR_BOARD_READ, report_id="tr_board_draft_id", name="chart")
    ],
    ("POST", "/transparency/reports/{report_id}/refresh"): [
        case(TR_LEAD, report_id="tr_board_draft_id")
    ],
    ("POST", "/transparency/reports/{report_id}/narrative"): [
        case(TR_LEAD, body=form(narrative="A good quarter."), report_id="tr_board_draft_id")
    ],
    ("POST", "/transparency/reports/{report_id}/approve"): [
        case(TR_LEAD, report_id="tr_board_draft_id")
    ],
    ("POST", "/transparency/reports/{report_id}/publish"): [
        case(TR_LEAD, report_id="tr_board_approved_id")
    ],
    ("POST", "/transparency/generate"): [case(GROUP_LEAD, body=GENERATE)],
    ("GET", "/transparency/organisation"): BOARD_OR_ADMIN,
    ("GET", "/groups/{slug}/transparency"): SIGNED_IN,
    ("GET", "/board/reports"): grid(("board",), SIGNED_IN_PERSONAS),
    ("POST", "/api/v1/transparency-reports"): [case(API_GROUP_LEAD, body=GENERATE)],
    ("GET", "/api/v1/transparency-reports/{report_id}"): [
        case(API_TR_BOARD_READ, "board edition draft", report_id="tr_board_draft_id"),
        case(PUBLIC, "public edition published", report_id="tr_public_id"),
    ],
    ("PATCH", "/api/v1/transparency-reports/{report_id}"): [
        case(API_TR_LEAD, body=fixed(narrative="A good quarter."), report_id="tr_board_draft_id")
    ],
    **{
        ("POST", f"/api/v1/transparency-reports/{{report_id}}/{verb}"): [
            case(API_TR_LEAD, report_id=report)
        ]
        for verb, report in (
            ("refresh", "tr_board_draft_id"),
            ("approve", "tr_board_draft_id"),
            ("publish", "tr_board_approved_id"),
        )
    },
    # --- email: signed links work without signing in; the outbox is the admin's ---
    ("GET", "/email/preferences"): SIGNED_IN,
    ("POST", "/email/preferences"): [case(SIGNED_IN, body=preferences_form)],
    ("GET", "/email/preferences/{preferences_token}"): [
        case(PUBLIC, "signed link"),
        case(NOWHERE, "altered link", preferences_token="bad_token"),
    ],
    ("POST", "/email/preferences/{preferences_token}"): [
        case(PUBLIC, "signed link", preferences_form),
        case(NOWHERE, "altered link", preferences_form, preferences_token="bad_token"),
    ],
    **{
        (method, "/email/unsubscribe/{unsubscribe_token}"): [
            case(PUBLIC, "signed link"),
            case(NOWHERE, "altered link", unsubscribe_token="bad_token"),
        ]
        for method in ("GET", "POST")
    },
    # A member's reply link is the key, whoever opens it (no sign-in); altered: not found.
    ("GET", "/notice-replies/{reply_token}"): [
        case(PUBLIC, "signed link"),
        case(NOWHERE, "altered link", reply_token="bad_token"),
    ],
    ("POST", "/notice-replies/{reply_token}"): [
        case(PUBLIC, "signed link", form(mode="apologies")),
        case(NOWHERE, "altered link", form(mode="apologies"), reply_token="bad_token"),
    ],
    # A member's voting link is the key, whoever opens it; it shows the motion to its holder.
    **{
        (method, "/resolution-votes/{vote_token}"): [
            Case(PUBLIC, body=form(choice="for"), label="signed link", keeps_secrets=False),
            case(NOWHERE, "altered link", form(choice="for"), vote_token="bad_token"),
        ]
        for method in ("GET", "POST")
    },
    ("GET", "/admin/outbox"): ADMIN,
    ("POST", "/admin/outbox/{email_id}/retry"): ADMIN,
    ("POST", "/admin/outbox/{email_id}/resend"): [case(ADMIN, email_id="uncertain_email_id")],
    ("POST", "/admin/outbox/{email_id}/settle"): [case(ADMIN, email_id="uncertain_email_id")],
    # --- written resolutions: read like any item; voted on by current members; run by the chair
    ("GET", "/groups/{slug}/resolutions"): SIGNED_IN,
    ("GET", "/api/v1/groups/{slug}/resolutions"): API_SIGNED_IN,
    ("GET", "/groups/{slug}/resolutions/new"): GROUP_LEAD,
    ("POST", "/groups/{slug}/resolutions/new"): [case(GROUP_LEAD, body=resolution_form)],
    ("POST", "/api/v1/groups/{slug}/resolutions"): [case(API_GROUP_LEAD, body=resolution_json)],
    **{
        ("GET", path): [
            case(grid(readers, api=api), visibility, resolution_id=key)
            for visibility, (key, readers) in RESOLUTION_READERS.items()
        ]
        for path, api in (
            ("/resolutions/{resolution_id}", False),
            ("/api/v1/resolutions/{resolution_id}", True),
        )
    },
    **{
        ("POST", path): [
            case(
                grid(
                    ("member", "chair"),
                    tuple(r for r in readers if r not in ("member", "chair")),
                    api=api,
                ),
                visibility,
                body,
                resolution_id=key,
            )
            for visibility, (key, readers) in RESOLUTION_READERS.items()
        ]
        for path, api, body in (
            ("/resolutions/{resolution_id}/vote", False, form(choice="for")),
            ("/api/v1/resolutions/{resolution_id}/votes", True, fixed(choice="for")),
        )
    },
    **{
        ("POST", path): [
            case(lead(readers, api=api), visibility, resolution_id=key)
            for visibility, (key, readers) in RESOLUTION_READERS.items()
        ]
        for path, api in (
            ("/resolutions/{resolution_id}/withdraw", False),
            ("/api/v1/resolutions/{resolution_id}/withdraw", True),
        )
    },
    # A resolution's papers: added by the chair while it is open, as any paper.
    **{
        ("POST", path): [
            case(lead(readers, api=api), visibility, body, resolution_id=key)
            for visibility, (key, readers) in RESOLUTION_READERS.items()
        ]
        for path, api, body in (
            ("/resolutions/{resolution_id}/papers", False, None),
            ("/api/v1/resolutions/{resolution_id}/documents", True, UPLOAD),
        )
    },
    # --- documents: read as what holds them; added, replaced and withdrawn by the chair ---
    **{
        ("GET", path): [
            case(read, visibility, document_id=f"{visibility}_paper_id")
            for visibility, read in PAPER_READERS.items()
        ]
        + [case(DRAFT_READ, "draft annex", document_id="draft_annex_id")]
        for path in (
            "/documents/{document_id}",
            "/documents/{document_id}/content",
            "/documents/{document_id}/view",
        )
    },
    **{
        ("GET", path): [
            case(api_read, visibility, document_id=f"{visibility}_paper_id")
            for visibility, api_read in API_PAPER_READERS.items()
        ]
        + [case(API_DRAFT_READ, "draft annex", document_id="draft_annex_id")]
        for path in ("/api/v1/documents/{document_id}", "/api/v1/documents/{document_id}/content")
    },
    **{
        ("POST", path): [
            case(lead(readers), visibility, document_id=f"{visibility}_paper_id")
            for visibility, readers in PAPER_READER_TUPLES.items()
        ]
        for path in ("/documents/{document_id}/versions", "/documents/{document_id}/withdraw")
    },
    ("POST", "/api/v1/documents/{document_id}/versions"): [
        case(lead(readers, api=True), visibility, UPLOAD, document_id=f"{visibility}_paper_id")
        for visibility, readers in PAPER_READER_TUPLES.items()
    ],
    ("DELETE", "/api/v1/documents/{document_id}"): [
        case(lead(readers, api=True), visibility, document_id=f"{visibility}_paper_id")
        for visibility, readers in PAPER_READER_TUPLES.items()
    ],
    ("POST", "/meetings/{meeting_id}/papers"): MEETING_LEAD,
    ("POST", "/meetings/{meeting_id}/minutes/annexes"): MEETING_LEAD,
    ("POST", "/reports/{report_id}/annexes"): [case(DRAFT_LEAD, report_id="draft_report_id")],
    ("POST", "/api/v1/meetings/{meeting_id}/documents"): [case(API_MEETING_LEAD, body=UPLOAD)],
    ("POST", "/api/v1/meetings/{meeting_id}/minutes/documents"): [
        case(API_MEETING_LEAD, body=UPLOAD)
    ],
    ("POST", "/api/v1/reports/{report_id}/documents"): [
        case(API_DRAFT_LEAD, body=UPLOAD, report_id="draft_report_id")
    ],
    # --- pulses: results read at the run's visibility; the chair runs them; answers by link ---
    ("GET", "/pulses"): SIGNED_IN,
    ("GET", "/api/v1/pulses"): API_SIGNED_IN,
    ("GET", "/pulses/roster"): ADMIN,
    ("POST", "/pulses/roster"): ADMIN,
    ("GET", "/groups/{slug}/pulses/new"): GROUP_LEAD,
    ("POST", "/groups/{slug}/pulses/new"): [case(GROUP_LEAD, body=form(title="Matrix pulse"))],
    ("POST", "/api/v1/groups/{slug}/pulses"): [
        case(API_GROUP_LEAD, body=fixed(title="Matrix pulse"))
    ],
    **{
        (method, path): pulse_cases(path, api)
        for method, path, api in (
            ("GET", "/pulses/{pulse_id}", False),
            ("GET", "/api/v1/pulses/{pulse_id}", True),
            ("GET", "/api/v1/pulses/{pulse_id}/trend", True),
            ("GET", "/pulses/runs/{run_id}", False),
            ("GET", "/pulses/runs/{run_id}/results.csv", False),
            ("GET", "/api/v1/pulses/runs/{run_id}/results", True),
        )
    },
    # The chair puts a run's results on a coming meeting as a paper; readers of the run who
    # do not lead get 403, and nobody else learns the run exists.
    ("POST", "/pulses/runs/{run_id}/paper"): [
        case(
            lead(readers),
            visibility,
            body=form(place="{scheduled_meeting_id}"),
            run_id=f"{visibility}_run_id",
        )
        for visibility, readers in PULSE_READERS.items()
    ],
    # ... or quotes them in one of the group's draft reports, as an annex.
    ("POST", "/pulses/runs/{run_id}/annex"): [
        case(
            lead(readers),
            visibility,
            body=form(report_id="{draft_report_id}"),
            run_id=f"{visibility}_run_id",
        )
        for visibility, readers in PULSE_READERS.items()
    ],
    ("POST", "/pulses/{pulse_id}/questions"): [case(lead(), pulse_id="editable_pulse_id")],
    ("POST", "/pulses/{pulse_id}/runs"): [case(lead(), pulse_id="editable_pulse_id")],
    ("POST", "/api/v1/pulses/{pulse_id}/runs"): [
        case(lead(api=True), body=fixed(closes_on=days_ahead(10)), pulse_id="editable_pulse_id")
    ],
    ("POST", "/pulses/questions/{question_id}"): [case(lead())],
    ("POST", "/pulses/questions/{question_id}/remove"): [case(lead())],
    # The link is the key, whoever opens it (staff need no account).
    **{
        (method, "/pulse/answer/{token}"): [
            Case(PUBLIC, {"token": "pulse_token"}, label="an unused link", keeps_secrets=False)
        ]
        for method in ("GET", "POST")
    },
    # --- operations: everyone's own data; the status is the admin's ---
    ("GET", "/profile/my-data"): SIGNED_IN,
    ("GET", "/admin/status"): ADMIN,
    ("GET", "/api/v1/admin/status"): {
        "anonymous": UNAUTHORIZED,
        **dict.fromkeys(SIGNED_IN_PERSONAS, API_FORBIDDEN),
        "admin": OK,
    },
}

EXCLUDED_PREFIXES = ("/static", "/schema")


def cases_of(route: tuple[str, str]) -> list[Case]:
    entry = MATRIX[route]
    return entry if isinstance(entry, list) else [Case(entry)]


def registered_routes(app: Litestar) -> set[tuple[str, str]]:
    """(method, path) for every handler the app serves, with parameter types dropped."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if route.path.startswith(EXCLUDED_PREFIXES):
            continue
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path)
        for method in route.methods - {"OPTIONS", "HEAD"}:
            found.add((method, path))
    return found


def test_matrix_covers_every_route(app: Litestar) -> None:
    routes = registered_routes(app)
    missing = "\n".join(f"    {route!r}: ...," for route in sorted(routes - MATRIX.keys()))
    assert not missing, f"Routes with no entry in MATRIX; add who may use each:\n{missing}"
    assert MATRIX.keys() - routes == set(), "matrix entries for routes that do not exist"


def test_every_persona_has_an_expectation() -> None:
    for route in MATRIX:
        for each in cases_of(route):
            assert set(each.expected) == set(PERSONAS), route
            assert set(each.expected.values()) <= REFUSALS | {OK}, route
            assert set(each.bugs) <= set(PERSONAS), route
            assert set(each.params) <= set(re.findall(r"\{(\w+)\}", route[1])), route


# --- the world, once for the module -------------------------------------------------------


class Keeper:
    """The module's world, its rows as built, and whether the database may have left them."""

    def __init__(self) -> None:
        self.world: World | None = None
        self.pristine: Dump = {}
        self.pristine_fingerprint: dict[str, Any] = {}
        self.pristine_counts: list[Any] = []
        # True when every row is known to be as built.
        self.verified = False
        self.csrf = ""
        # What a missing record answers, and the queries it cost, by persona and request.
        self.missing: dict[tuple[str, ...], tuple[httpx.Response, int]] = {}

    async def start(self) -> World:
        """The world as built: built the first time, put back as it was after that."""
        if self.world is None:
            await empty_all_tables()
            self.world = await build_world()
            self.pristine = await dump()
            self.pristine_fingerprint = await fingerprint()
            self.pristine_counts = await counts()
            self.verified = True
        else:
            await self.put_back()
        return self.world

    async def changed_rows(self) -> list[str]:
        """What a cheap look finds changed (rows added or removed, audit events recorded),
        now undone; a thorough look is `put_back`."""
        if self.verified or await counts() == self.pristine_counts:
            return []
        return await self.put_back()

    async def put_back(self) -> list[str]:
        """What differs from the world as built, now undone."""
        if self.verified:
            return []
        self.verified = True
        now = await fingerprint()
        tables = [name for name, rows in now.items() if rows != self.pristine_fingerprint[name]]
        if not tables:
            return []
        current = await dump(tables)
        changed = differences(self.pristine, current)
        if changed:
            await restore(self.pristine, current)
            assert not differences(self.pristine, await dump(tables)), "could not put it back"
        return changed


@pytest.fixture(autouse=True)
async def empty_database(database: None) -> AsyncIterator[None]:
    """Replaces the suite's emptying after every test: this module keeps its world."""
    yield


@pytest.fixture(scope="module", autouse=True)
def no_pdf_rendering() -> Iterator[None]:
    """Who may download a PDF is decided before it is made; making one takes half a second,
    and tests/meetings/test_exports.py and tests/transparency check what is in it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(core_exports, "render_pdf", lambda html, base_url: b"%PDF-1.7 access matrix")
        yield


@pytest.fixture(scope="module")
async def keeper(database: None) -> AsyncIterator[Keeper]:
    kept = Keeper()
    try:
        yield kept
    finally:
        # The rest of the suite starts from an empty database.
        await empty_all_tables()


# --- requests and their checks ------------------------------------------------------------


def url_for(path: str, each: Case, params: Mapping[str, str]) -> str:
    names = re.findall(r"\{(\w+)\}", path)
    return path.format(**{name: params[each.params.get(name, name)] for name in names})


def missing_url(url: str) -> str:
    """The same address about a record that does not exist: every number in it, or the
    slug of a calendar, replaced."""
    url = re.sub(r"/\d+(?=/|\.ics$|$)", "/999999", url)
    return re.sub(r"/groups/[\w-]+\.ics$", "/groups/no-such-group.ics", url)


async def request_as(
    client: httpx.AsyncClient,
    keeper: Keeper,
    persona: str,
    method: str,
    url: str,
    body: dict[str, Any] | None,
    counter: QueryCounter | None = None,
) -> httpx.Response:
    """The request as that persona; `counter` counts the queries of the request alone."""
    assert keeper.world is not None
    keeper.verified = False  # any request may change the world; `Keeper.put_back` looks
    client.cookies.clear()
    client.cookies.set(CSRF_COOKIE, keeper.csrf)
    if persona != "anonymous":
        await sign_in(client, keeper.world.users[persona])
    with counter() if counter else contextlib.nullcontext():
        if method == "GET":
            return await client.get(url)
        if url.startswith("/api/") and body and "file" in body:
            fields = {key: str(value) for key, value in body.items() if key != "file"}
            return await client.request(
                method,
                url,
                files={"file": body["file"]},
                data=fields,
                headers={"x-csrftoken": keeper.csrf},
            )
        if url.startswith("/api/"):
            return await client.request(
                method, url, json=body or {}, headers={"x-csrftoken": keeper.csrf}
            )
        response = await client.request(
            method, url, data={**(body or {}), "_csrf_token": keeper.csrf}
        )
        if response.status_code != 303:
            return response
    # A form refused on a page of several answers 303 to the page, whose view shows why.
    shown = await client.get(response.headers["location"])
    shown.history = [response]
    return shown


def _problem(response: httpx.Response, status: int) -> str | None:
    content_type = response.headers.get("content-type", "")
    if response.status_code != status or not content_type.startswith("application/problem+json"):
        return f"expected {status} JSON, got {response.status_code} {content_type}"
    if response.json().get("status") != status:
        return f"expected a problem body with status {status}, got {response.text[:200]}"
    return None


def _page(response: httpx.Response, status: int) -> str | None:
    """The refusal as a page: answered with `status`, or (a form refused on a page of
    several) a 303 to the page, shown again saying why."""
    content_type = response.headers.get("content-type", "")
    if response.history and status in {409, 422}:
        redirected = response.history[-1].status_code == 303 and response.status_code == 200
        if redirected and 'role="alert"' in response.text:
            return None
        return f"expected a {status} page or the page again saying why, got {response.text[:200]}"
    if response.status_code != status or not content_type.startswith("text/html"):
        return f"expected a {status} page, got {response.status_code} {content_type}"
    return None


def _detail(response: httpx.Response) -> str:
    """What an error response says, in a few words."""
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        return str(response.json().get("detail"))
    found = re.search(
        r'<section class="error-page">\s*<h1>.*?</h1>\s*<p>(.*?)</p>', response.text, re.S
    )
    return " ".join((found.group(1) if found else response.text[:200]).split())


def leaked(response: httpx.Response, persona: str) -> str | None:
    """A title this persona must never see, if the response shows one."""
    for secret in SECRETS.get(persona, ()):
        if secret in response.text:
            return f"shows {secret!r}, which the {persona} persona must never see"
    return None


def check(response: httpx.Response, expected: str) -> str | None:
    """What is wrong with the response, or None."""
    status = response.status_code
    location = response.headers.get("location", "")
    if expected == OK:
        if status not in {200, 201, 302, 422} or location.startswith("/login?next="):
            return f"expected to be let in, got {status} {location}"
        return None
    if expected == LOGIN:
        if status != 302 or not location.startswith("/login?next=/"):
            return f"expected a redirect to sign in, got {status} {location}"
        return None
    if expected == UNAUTHORIZED:
        return _problem(response, 401)
    if expected == FORBIDDEN:
        problem = _page(response, 403)
        if not problem and "Not allowed" not in response.text:
            problem = "the 403 page does not say the request is not allowed"
        return problem
    if expected == NOT_FOUND:
        return _page(response, 404)
    if expected == INVALID:
        return _page(response, 422)
    if expected == API_FORBIDDEN:
        return _problem(response, 403)
    if expected == CONFLICT:
        return _page(response, 409)
    if expected == API_CONFLICT:
        return _problem(response, 409)
    assert expected == API_NOT_FOUND
    return _problem(response, 404)


async def try_refused(
    client: httpx.AsyncClient,
    keeper: Keeper,
    persona: str,
    method: str,
    url: str,
    each: Case,
    body: dict[str, Any] | None,
) -> str | None:
    """What is wrong with the refusal, or None; the world is as built after."""
    expected = each.expected[persona]
    hidden_queries = QueryCounter(get_engine())
    response = await request_as(client, keeper, persona, method, url, body, hidden_queries)
    problem = check(response, expected) or leaked(response, persona)
    changed = await keeper.changed_rows()
    if changed:
        also = f"{problem}; and it " if problem else "the refused request "
        problem = f"{also}changed {'; '.join(changed)}"
    if problem or expected not in {NOT_FOUND, API_NOT_FOUND} or missing_url(url) == url:
        return problem
    key = (persona, method, missing_url(url), repr(body))
    if key not in keeper.missing:
        missing_queries = QueryCounter(get_engine())
        keeper.missing[key] = (
            await request_as(client, keeper, persona, *key[1:3], body, missing_queries),
            missing_queries.count,
        )
        changed = await keeper.changed_rows()
        if changed:
            return f"a request about a missing record changed {'; '.join(changed)}"
    missing, missing_count = keeper.missing[key]
    same = (
        missing.json() == response.json()
        if expected == API_NOT_FOUND
        else missing.text == response.text
    )
    if missing.status_code != response.status_code or not same:
        return (
            f"answered differently from a missing record: {_detail(response)!r}, "
            f"but {missing.status_code} {_detail(missing)!r} for a missing one"
        )
    if hidden_queries.count != missing_count:
        # Issue 11, item 7: the time an answer takes must not tell hidden from missing.
        return f"cost {hidden_queries.count} queries, but {missing_count} for a missing record"
    return None


def params_for(route: tuple[str, str], each: Case) -> list[Any]:
    """The case as one test, but for personas it is known to fail: each of those is a test
    of its own, expected to fail until the bug is fixed."""
    label = " ".join(route) + (f" [{each.label}]" if each.label else "")
    working = tuple(persona for persona in PERSONAS if persona not in each.bugs)
    found = [pytest.param(route, each, working, id=label)]
    for persona, reason in each.bugs.items():
        mark = pytest.mark.xfail(strict=True, reason=reason)
        found.append(pytest.param(route, each, (persona,), id=f"{label} as {persona}", marks=mark))
    return found


ALL_CASES = [
    param
    for route in sorted(MATRIX)
    for each in cases_of(route)
    for param in params_for(route, each)
]


@pytest.mark.parametrize(("route", "each", "personas"), ALL_CASES)
async def test_access(
    client: httpx.AsyncClient,
    keeper: Keeper,
    route: tuple[str, str],
    each: Case,
    personas: tuple[str, ...],
) -> None:
    method, path = route
    world = await keeper.start()
    if not keeper.csrf:
        await client.get("/login")
        keeper.csrf = client.cookies[CSRF_COOKIE]
    url = url_for(path, each, world.params)
    body = each.body(world.params) if each.body else None
    problems = {}
    # Refused personas first; each meets the world as built, and leaves it so.
    refused = [persona for persona in personas if each.expected[persona] != OK]
    for persona in refused:
        problem = await try_refused(client, keeper, persona, method, url, each, body)
        if problem:
            problems[persona] = problem
    # Row by row, for any change that left no audit event.
    changed = await keeper.put_back()
    if changed:
        problems[" or ".join(refused)] = f"a refused request changed {'; '.join(changed)}"
    for persona in [persona for persona in personas if each.expected[persona] == OK]:
        await keeper.changed_rows()
        response = await request_as(client, keeper, persona, method, url, body)
        problem = check(response, OK) or (leaked(response, persona) if each.keeps_secrets else None)
        if problem:
            problems[persona] = problem
    if problems:
        pytest.fail(
            "\n".join(f"{persona}: {problem}" for persona, problem in problems.items()),
            pytrace=False,
        )
