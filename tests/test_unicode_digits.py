"""Unicode digits ("²", "①", Arabic-Indic, full-width) pass `str.isdigit()`, and some of
them `int()`: ids are read in one place (`core.contracts.row_id`) that accepts ASCII digits
only, so every route answers them with a 4xx or a form error, never a 500, and never reads
an Arabic-Indic one as id 1 (issue 11, item 4)."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.actions.tables import ActionOwner
from governance.core.clock import organisation_today, utcnow
from governance.core.contracts import MAX_ROW_ID, ascii_int, row_id
from governance.meetings.schemas import AgendaItemDetails
from governance.meetings.services import add_agenda_item
from governance.meetings.tables import Attendance, ConflictOfInterest, Minutes
from tests.factories import make_meeting, viewer_for
from tests.helpers import found, post_form, shown_after_refusal, sign_in

# Superscript two, circled one, Arabic-Indic one, full-width one, Arabic-Indic 34, a mix,
# N'Ko one, superscript 12.
ODD_DIGITS = ["²", "①", "\u0661", "\uff11", "\u0663\u0664", "1²", "\u07c1", "¹²"]
ARABIC_INDIC = "".join(chr(0x0660 + n) for n in range(10))
FULL_WIDTH = "".join(chr(0xFF10 + n) for n in range(10))


def _odd_ids(real_id: int) -> list[str]:
    """Each odd digit alone, and the real id written with look-alike digits."""
    arabic_indic = str(real_id).translate(str.maketrans("0123456789", ARABIC_INDIC))
    full_width = str(real_id).translate(str.maketrans("0123456789", FULL_WIDTH))
    return [*ODD_DIGITS, arabic_indic, full_width, str(MAX_ROW_ID + 1), "99999999999999999999"]


@pytest.mark.parametrize("raw", [*ODD_DIGITS, "", "-1", "+1", " 1", "0x1", "1_0"])
def test_only_ascii_digits_make_an_id(raw):
    assert row_id(raw) is None


def test_ascii_digits_make_an_id_within_range():
    assert row_id("42") == 42
    assert row_id(str(MAX_ROW_ID)) == MAX_ROW_ID
    assert row_id("0") is None and row_id(str(MAX_ROW_ID + 1)) is None
    assert ascii_int("-3") == -3 and ascii_int("\uff13") is None


async def _started_meeting(cast) -> tuple[int, int]:
    starts = (utcnow() - dt.timedelta(days=1)).replace(microsecond=0)
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=starts)
    item_id = await add_agenda_item(
        meeting_id,
        AgendaItemDetails(title="Budget", visibility="internal", notes=""),
        await viewer_for(cast.chair),
    )
    return meeting_id, item_id


async def test_calendar_file_names(client, cast):
    meeting_id, _ = await _started_meeting(cast)
    await sign_in(client, cast.member)
    for raw in _odd_ids(meeting_id):
        response = await client.get(f"/calendar/meetings/{raw}.ics")
        assert response.status_code == 404, raw
    assert (await client.get(f"/calendar/meetings/{meeting_id}.ics")).status_code == 200


@pytest.mark.parametrize("path", ["/meetings/{}", "/actions/{}", "/agenda-items/{}/edit"])
async def test_ids_in_paths(client, cast, path):
    meeting_id, _ = await _started_meeting(cast)
    await sign_in(client, cast.chair)
    for raw in _odd_ids(meeting_id):
        response = await client.get(path.format(raw))
        assert 400 <= response.status_code < 500, (raw, response.status_code)


async def test_conflict_declarations(client, cast):
    _, item_id = await _started_meeting(cast)
    await sign_in(client, cast.chair)
    for raw in _odd_ids(cast.member):
        response = await post_form(
            client, f"/agenda-items/{item_id}/conflicts", {"user_id": raw, "description": "x"}
        )
        response = await shown_after_refusal(client, response)
        assert "Who must be a whole number." in response.text or "Who" in response.text, raw
    assert await ConflictOfInterest.count() == 0


async def test_attendance_field_names(client, cast):
    meeting_id, _ = await _started_meeting(cast)
    await sign_in(client, cast.chair)
    for raw in _odd_ids(cast.member):
        response = await post_form(
            client, f"/meetings/{meeting_id}/attendance", {f"mode_{raw}": "present"}
        )
        response = await shown_after_refusal(client, response)
        assert "Choose each attendee from the list on the page." in response.text, raw
    assert await Attendance.count() == 0


async def test_minutes_field_names(client, cast):
    meeting_id, item_id = await _started_meeting(cast)
    await sign_in(client, cast.chair)
    for raw in _odd_ids(item_id):
        response = await post_form(
            client,
            f"/meetings/{meeting_id}/minutes",
            {"summary": "Summary", f"item_{raw}": "Minutes of the item"},
        )
        response = await shown_after_refusal(client, response)
        assert "An agenda item in the form is not part of this meeting." in response.text, raw
    minutes = await Minutes.select(Minutes.summary).where(Minutes.meeting == meeting_id).first()
    assert not found(minutes)["summary"]


async def test_action_owners(client, cast):
    await sign_in(client, cast.chair)
    created = await post_form(
        client,
        f"/groups/{cast.slug}/actions/new",
        {
            "title": "Write it",
            "owner_ids": str(cast.member),
            "due_on": (organisation_today() + dt.timedelta(days=9)).isoformat(),
        },
    )
    assert created.status_code in {302, 303}, created.text
    action_id = int(created.headers["location"].rsplit("/", 1)[1])
    for raw in _odd_ids(cast.member2):
        response = await post_form(
            client,
            f"/actions/{action_id}/owners",
            {"owner_ids": raw, "due_on": organisation_today().isoformat()},
        )
        response = await shown_after_refusal(client, response)
        assert "choose from the list" in response.text.lower(), raw
    owners = await ActionOwner.select(ActionOwner.user).where(ActionOwner.action == action_id)
    assert [row["user"] for row in owners] == [cast.member]


async def test_ids_in_query_strings(client, cast):
    await sign_in(client, cast.member)
    url = f"/api/v1/groups/{cast.slug}/actions"
    assert (await client.get(url, params={"owner_id": str(cast.member)})).status_code == 200
    for raw in _odd_ids(cast.member):
        response = await client.get(url, params={"owner_id": raw})
        assert response.status_code == 400, (raw, response.status_code)
