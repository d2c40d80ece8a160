"""One contract per use case: the meeting, agenda item and attendance forms report every
invalid field in one round, through the page and through the API, and the same invalid
input is refused with the same words by both."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import httpx
import pytest

from governance.accounts.services import issue_api_token
from governance.core.clock import utcnow
from governance.meetings.tables import AgendaItem, Attendance, Meeting
from tests.factories import make_meeting
from tests.helpers import field_error, post_form, shown_after_refusal, sign_in

TOO_LONG_TITLE = "x" * 201
TOO_LONG_PLACE = "p" * 501
TOO_LONG_GUEST = "g" * 201


def shown(page: str, name: str) -> str | None:
    """The error the page shows under a field, as the reader reads it."""
    message = field_error(page, name)
    return html.unescape(message) if message is not None else None


async def api_errors(
    client: httpx.AsyncClient, method: str, url: str, body: Any, token: str
) -> dict[str, str]:
    response = await client.request(
        method, url, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors: dict[str, str] = response.json()["errors"]
    return errors


@pytest.fixture
async def chair_token(cast) -> str:
    return await issue_api_token("chair@example.org")


def _local(moment: dt.datetime) -> str:
    """A time as a `datetime-local` field holds it (the chair's zone is Europe/London)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")


# --- the meeting form -------------------------------------------------------------------


async def test_the_meeting_form_reports_every_invalid_field_at_once(client, cast, chair_token):
    await sign_in(client, cast.chair)
    response = await post_form(
        client,
        f"/groups/{cast.slug}/meetings/new",
        {"title": "", "starts_at": "next Tuesday", "ends_at": "", "location": TOO_LONG_PLACE},
    )
    response = await shown_after_refusal(client, response)
    assert shown(response.text, "title") == "Title is required."
    assert shown(response.text, "starts_at") == "Start must be a date and time."
    assert shown(response.text, "ends_at") == "End is required."
    assert shown(response.text, "location") == "Place or link must be at most 500 characters."

    starts = (utcnow() + dt.timedelta(days=3)).replace(microsecond=0)
    body = {
        "title": " ",
        "starts_at": starts.isoformat(),
        "ends_at": (starts - dt.timedelta(hours=1)).isoformat(),
        "location": TOO_LONG_PLACE,
    }
    url = f"/api/v1/groups/{cast.slug}/meetings"
    errors = await api_errors(client, "POST", url, body, chair_token)
    assert set(errors) == {"title", "ends_at", "location"}
    assert await Meeting.count() == 0


async def test_a_meeting_change_reports_every_invalid_field_at_once(client, cast, chair_token):
    meeting_id = await make_meeting(cast.slug, cast.chair)
    body = {"title": "", "location": TOO_LONG_PLACE, "status": "postponed"}
    url = f"/api/v1/meetings/{meeting_id}"
    errors = await api_errors(client, "PATCH", url, body, chair_token)
    assert set(errors) == {"title", "location", "status"}

    await sign_in(client, cast.chair)
    response = await post_form(
        client,
        f"/meetings/{meeting_id}/edit",
        {"title": TOO_LONG_TITLE, "starts_at": "", "ends_at": "2031-13-01T10:00"},
    )
    response = await shown_after_refusal(client, response)
    for name in ("title", "starts_at", "ends_at"):
        assert shown(response.text, name), name


async def test_the_meeting_form_and_the_api_say_the_same(client, cast, chair_token):
    starts = (utcnow() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    ends = starts - dt.timedelta(hours=1)
    await sign_in(client, cast.chair)
    page = await post_form(
        client,
        f"/groups/{cast.slug}/meetings/new",
        {
            "title": TOO_LONG_TITLE,
            "starts_at": _local(starts),
            "ends_at": _local(ends),
            "location": TOO_LONG_PLACE,
        },
    )
    page = await shown_after_refusal(client, page)
    errors = await api_errors(
        client,
        "POST",
        f"/api/v1/groups/{cast.slug}/meetings",
        {
            "title": TOO_LONG_TITLE,
            "starts_at": starts.isoformat(),
            "ends_at": ends.isoformat(),
            "location": TOO_LONG_PLACE,
        },
        chair_token,
    )
    assert set(errors) == {"title", "ends_at", "location"}
    for name, message in errors.items():
        assert shown(page.text, name) == message, name
    assert errors["ends_at"] == "The end must be after the start."
    assert await Meeting.count() == 0


@pytest.mark.parametrize(
    "bad", ["Budget\nmeeting", "Budget\rmeeting", "Tab\there", "Bell\x07", "LS\u2028here"]
)
async def test_one_line_fields_refuse_control_characters_alike_on_page_and_api(
    client, cast, chair_token, bad
):
    starts = (utcnow() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    ends = starts + dt.timedelta(hours=1)
    await sign_in(client, cast.chair)
    page = await post_form(
        client,
        f"/groups/{cast.slug}/meetings/new",
        {"title": bad, "starts_at": _local(starts), "ends_at": _local(ends), "location": bad},
    )
    page = await shown_after_refusal(client, page)
    body = {
        "title": bad,
        "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat(),
        "location": bad,
    }
    errors = await api_errors(
        client, "POST", f"/api/v1/groups/{cast.slug}/meetings", body, chair_token
    )
    assert errors["title"] == "Title must be on one line, without control characters."
    for name in ("title", "location"):
        assert shown(page.text, name) == errors[name], name
    assert await Meeting.count() == 0


async def test_free_text_keeps_line_breaks_as_newlines_and_refuses_other_controls(
    client, cast, chair_token
):
    meeting_id = await make_meeting(cast.slug, cast.chair)
    await sign_in(client, cast.chair)
    url = f"/meetings/{meeting_id}/agenda"
    page = await post_form(client, url, {"title": "Item", "notes": "One\vtwo"})
    page = await shown_after_refusal(client, page)
    assert shown(page.text, "notes") == "Notes contains a control character that cannot be stored."
    page = await post_form(client, url, {"title": "Item", "notes": "One\r\ntwo\rthree"})
    assert page.status_code in {302, 303}
    [item] = await AgendaItem.select(AgendaItem.notes)
    assert item["notes"] == "One\ntwo\nthree"


# --- the agenda item form ---------------------------------------------------------------


async def test_the_agenda_item_form_reports_every_invalid_field_at_once(client, cast, chair_token):
    meeting_id = await make_meeting(cast.slug, cast.chair)
    bad = {"title": "", "visibility": "secret", "notes": "n" * 20001}
    await sign_in(client, cast.chair)
    response = await post_form(client, f"/meetings/{meeting_id}/agenda", bad)
    response = await shown_after_refusal(client, response)
    assert shown(response.text, "title") == "Item title is required."
    assert (shown(response.text, "visibility") or "").startswith("Choose one of")
    assert shown(response.text, "notes") == "Notes must be at most 20000 characters."

    url = f"/api/v1/meetings/{meeting_id}/agenda"
    errors = await api_errors(client, "PUT", url, {"items": [bad, bad]}, chair_token)
    assert set(errors) == {
        f"items[{index}].{name}" for index in (0, 1) for name in ("title", "visibility", "notes")
    }
    assert await AgendaItem.count() == 0


async def test_the_agenda_item_form_and_the_api_say_the_same(client, cast, chair_token):
    meeting_id = await make_meeting(cast.slug, cast.chair)
    bad = {"title": "t" * 301, "visibility": "everyone", "notes": "bad\x00notes"}
    await sign_in(client, cast.chair)
    page = await post_form(client, f"/meetings/{meeting_id}/agenda", bad)
    page = await shown_after_refusal(client, page)
    url = f"/api/v1/meetings/{meeting_id}/agenda"
    errors = await api_errors(client, "PUT", url, {"items": [bad]}, chair_token)
    for name in ("title", "visibility", "notes"):
        assert shown(page.text, name) == errors[f"items[0].{name}"], name
    assert await AgendaItem.count() == 0


# --- attendance -------------------------------------------------------------------------


async def _started_meeting(cast) -> int:
    starts = (utcnow() - dt.timedelta(days=1)).replace(microsecond=0)
    return await make_meeting(cast.slug, cast.chair, starts_at=starts)


async def test_attendance_reports_every_invalid_field_at_once(client, cast, chair_token):
    meeting_id = await _started_meeting(cast)
    await sign_in(client, cast.chair)
    response = await post_form(
        client,
        f"/meetings/{meeting_id}/attendance",
        {
            f"mode_{cast.member}": "asleep",
            f"mode_{cast.member2}": "elsewhere",
            f"mode_{cast.chair}": "present",
            "guests": f"Dr Guest\n{TOO_LONG_GUEST}",
        },
    )
    response = await shown_after_refusal(client, response)
    for member in (cast.member, cast.member2):
        assert shown(response.text, f"mode_{member}") == (
            "Choose present, remote, apologies or absent."
        )
    assert shown(response.text, "guests") == "A guest's name must be at most 200 characters."

    body = {
        "entries": [
            {"user_id": cast.member, "mode": "asleep"},
            {"user_id": cast.stranger, "mode": "present"},
        ],
        "guests": [TOO_LONG_GUEST, "bad\x00guest"],
    }
    url = f"/api/v1/meetings/{meeting_id}/attendance"
    errors = await api_errors(client, "PUT", url, body, chair_token)
    assert set(errors) == {f"mode_{cast.member}", f"mode_{cast.stranger}", "guests"}
    assert await Attendance.count() == 0


@pytest.mark.parametrize(
    ("mode", "guest"),
    [("asleep", "Dr Guest"), ("present", TOO_LONG_GUEST), ("", "Tab\tin the name")],
)
async def test_attendance_page_and_api_say_the_same(client, cast, chair_token, mode, guest):
    meeting_id = await _started_meeting(cast)
    await sign_in(client, cast.chair)
    page = await post_form(
        client,
        f"/meetings/{meeting_id}/attendance",
        {f"mode_{cast.member}": mode, f"mode_{cast.chair}": "present", "guests": guest},
    )
    page = await shown_after_refusal(client, page)
    entries = [{"user_id": cast.chair, "mode": "present"}]
    if mode:
        entries.append({"user_id": cast.member, "mode": mode})
    url = f"/api/v1/meetings/{meeting_id}/attendance"
    errors = await api_errors(
        client, "PUT", url, {"entries": entries, "guests": [guest]}, chair_token
    )
    assert errors
    for name, message in errors.items():
        assert shown(page.text, name) == message, name
    assert await Attendance.count() == 0


async def test_a_guest_name_over_the_limit_is_refused_not_cut(client, cast, chair_token):
    """The service used to cut a long guest name silently where the API refused it."""
    meeting_id = await _started_meeting(cast)
    url = f"/api/v1/meetings/{meeting_id}/attendance"
    errors = await api_errors(client, "PUT", url, {"guests": ["g" * 201]}, chair_token)
    assert errors == {"guests": "A guest's name must be at most 200 characters."}
    response = await client.put(
        url, json={"guests": ["g" * 200]}, headers={"Authorization": f"Bearer {chair_token}"}
    )
    assert response.status_code == 200, response.text
    assert [a["guest_name"] for a in response.json()["attendance"]] == ["g" * 200]
