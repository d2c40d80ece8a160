"""Exports: printable minutes (HTML and PDF), attendance and decisions as CSV, each with
exactly what the meeting page shows its reader, and CSV cells that cannot run as formulas."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass

import httpx
import pytest

from governance.accounts.policy import CurrentUser, Viewer
from governance.accounts.tables import User
from governance.core.clock import organisation_today, utcnow
from governance.core.exports import safe_cell
from governance.groups.queries import load_viewer
from governance.meetings import services
from governance.meetings.schemas import (
    AgendaItemDetails,
    Approval,
    AttendanceEntry,
    AttendanceRecord,
    MeetingDetails,
    MinutesDraft,
    NewDecision,
    NewErratum,
)
from tests.factories import make_group, make_membership, make_user
from tests.helpers import found, sign_in

ITEMS = {
    "public": ("Annual budget overview", "Budget **approved** as presented.", "Adopt the budget"),
    "internal": ("Staff survey results", "Survey shows rising workload.", "Commission a review"),
    "board": (
        "Concern about management conduct",
        "Members described repeated delays by management.",
        "Raise the concern with the Board chair",
    ),
    "group": ("Members-only rota", "Rota agreed among members.", "Rotate note-taking"),
}


@dataclass
class Record:
    slug: str
    meeting_id: int
    chair: int
    member: int
    director: int
    board: int
    stranger: int
    other_member: int


async def viewer_of(user_id: int) -> Viewer:
    row = await User.select().where(User.id == user_id).first()
    return await load_viewer(CurrentUser.from_row(found(row)))


@pytest.fixture
async def record() -> Record:
    """A held meeting with an item of each visibility, attendance, minutes approved by
    circulation, a decision on every item and an erratum."""
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    other_group = await make_group(slug="ndi", name="Working Group on NDI")
    start = organisation_today() - dt.timedelta(days=200)
    chair = await make_user("exp-chair@example.org", "Chloé Chair")
    member = await make_user("exp-member@example.org", "Max Member")
    member2 = await make_user("exp-member2@example.org", "Mira Member")
    director = await make_user("exp-director@example.org", "The Director", director=True)
    board = await make_user("exp-board@example.org", "Board Member", board=True)
    stranger = await make_user("exp-stranger@example.org", "Stranger")
    other = await make_user("exp-other@example.org", "Other Group Member")
    await make_membership(chair, group_id, "chair", start)
    await make_membership(member, group_id, "member", start)
    await make_membership(member2, group_id, "member", start)
    await make_membership(other, other_group, "member", start)

    viewer = await viewer_of(chair)
    starts = (utcnow() - dt.timedelta(days=3)).replace(microsecond=0)
    meeting_id = await services.schedule_meeting(
        "wellbeing",
        MeetingDetails(
            title="March meeting",
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            location="Room 4",
        ),
        viewer,
    )
    item_ids = {}
    for visibility, (title, _, _) in ITEMS.items():
        item_ids[visibility] = await services.add_agenda_item(
            meeting_id, AgendaItemDetails(title=title, visibility=visibility, notes=""), viewer
        )
    await services.record_attendance(
        meeting_id,
        AttendanceRecord(
            entries=[
                AttendanceEntry(user_id=chair, mode="present"),
                AttendanceEntry(user_id=member, mode="remote"),
                AttendanceEntry(user_id=member2, mode="apologies"),
            ],
            guests=["Guest Speaker"],
        ),
        viewer,
    )
    await services.mark_meeting_held(meeting_id, viewer)
    await services.save_minutes(
        meeting_id,
        MinutesDraft(
            summary="A productive meeting.",
            items={item_ids[v]: text for v, (_, text, _) in ITEMS.items()},
        ),
        viewer,
    )
    for visibility, (_, _, decision) in ITEMS.items():
        await services.record_decision(
            meeting_id,
            NewDecision(
                agenda_item_id=item_ids[visibility],
                text=decision,
                votes_for=1,
                votes_against=1,
                votes_abstain=0,
            ),
            viewer,
        )
    await services.circulate_minutes(meeting_id, viewer)
    await services.approve_minutes(meeting_id, Approval(method="circulation"), viewer)
    await services.add_erratum(
        meeting_id, NewErratum(body="The survey was run in February."), viewer
    )
    return Record("wellbeing", meeting_id, chair, member, director, board, stranger, other)


READABLE = {
    "member": {"public", "internal", "board", "group"},
    "board": {"public", "internal", "board"},
    "director": {"public", "internal"},
}


def read_csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("persona", ["member", "board", "director"])
async def test_printable_minutes_hold_only_what_the_reader_may_read(client, record, persona):
    await sign_in(client, getattr(record, persona))
    response = await client.get(f"/meetings/{record.meeting_id}/export/minutes")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for visibility, strings in ITEMS.items():
        for text in strings:
            shown = text.replace("**approved**", "<strong>approved</strong>")
            assert (shown in html) is (visibility in READABLE[persona]), (visibility, text)
    assert "Working Group on Wellbeing" in html
    assert "March meeting" in html
    assert "Budget <strong>approved</strong> as presented." in html
    assert "2 of 3 members present or remote; 2 needed. Quorum met." in html
    assert "Approved" in html
    assert "The survey was run in February." in html
    assert "Guest Speaker" in html
    # A printable page: no navigation chrome from the site layout.
    assert "site-header" not in html
    assert "Sign out" not in html
    assert "@page" in html and 'counter(page) " / " counter(pages)' in html


async def test_printable_minutes_carry_a_policy_that_allows_their_own_stylesheet(client, record):
    await sign_in(client, record.member)
    response = await client.get(f"/meetings/{record.meeting_id}/export/minutes")
    style = re.search(r"<style>(.*?)</style>", response.text, re.S)
    assert style
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    policy = response.headers["content-security-policy"]
    assert f"'sha256-{digest}'" in policy
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


@pytest.mark.parametrize("persona", ["member", "board", "director"])
async def test_decisions_csv_omits_items_the_reader_may_not_read(client, record, persona):
    await sign_in(client, getattr(record, persona))
    rows = read_csv(await client.get(f"/meetings/{record.meeting_id}/export/decisions.csv"))
    expected = [ITEMS[v] for v in ITEMS if v in READABLE[persona]]
    assert [(row["agenda item"], row["decision"]) for row in rows] == [
        (title, decision) for title, _, decision in expected
    ]
    for row in rows:
        assert (row["votes for"], row["votes against"], row["votes abstaining"]) == ("1", "1", "0")
        # A tie is not a majority of the votes cast.
        assert row["outcome"] == "not carried"
        assert row["quorum met"] == "yes"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["recorded at (UTC)"])
    raw = (await client.get(f"/meetings/{record.meeting_id}/export/decisions.csv")).text
    for visibility, strings in ITEMS.items():
        if visibility not in READABLE[persona]:
            assert all(text not in raw for text in strings)


async def test_attendance_csv_lists_members_with_roles_and_guests(client, record):
    await sign_in(client, record.director)
    response = await client.get(f"/meetings/{record.meeting_id}/export/attendance.csv")
    rows = read_csv(response)
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert "attendance-wellbeing-" in response.headers["content-disposition"]
    assert [(r["name"], r["member or guest"], r["role"], r["mode"]) for r in rows] == [
        ("Chloé Chair", "member", "chair", "present"),
        ("Max Member", "member", "member", "remote"),
        ("Mira Member", "member", "member", "apologies"),
        ("Guest Speaker", "guest", "", "present"),
    ]


@pytest.mark.parametrize("persona", ["stranger", "other_member"])
async def test_exports_are_not_found_for_those_who_cannot_read_the_meeting(client, record, persona):
    await sign_in(client, getattr(record, persona))
    for kind in ("minutes", "minutes.pdf", "attendance.csv", "decisions.csv"):
        response = await client.get(f"/meetings/{record.meeting_id}/export/{kind}")
        assert response.status_code == 404, kind
        assert "March meeting" not in response.text
    missing = await client.get("/meetings/999999/export/minutes")
    assert missing.status_code == 404


async def test_exports_need_sign_in(client, record):
    for kind in ("minutes", "minutes.pdf", "attendance.csv", "decisions.csv"):
        response = await client.get(f"/meetings/{record.meeting_id}/export/{kind}")
        assert response.status_code == 302
        assert response.headers["location"].startswith("/login")


async def test_pdf_is_a_pdf_of_the_same_minutes(client, record):
    await sign_in(client, record.director)
    response = await client.get(f"/meetings/{record.meeting_id}/export/minutes.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(
        r'attachment; filename="minutes-wellbeing-\d{4}-\d\d-\d\d-meeting-\d+\.pdf"', disposition
    )
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 1000
    html = (await client.get(f"/meetings/{record.meeting_id}/export/minutes")).text
    readable = [ITEMS["public"][0], ITEMS["internal"][0]]
    assert all(title in html for title in readable)
    try:
        import pypdf
    except ImportError:
        return
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.split())
    for title in readable:
        assert title in text
    assert ITEMS["board"][0] not in text
    assert "1 / " in text


async def test_csv_cells_cannot_run_as_formulas(client, record):
    viewer = await viewer_of(record.chair)
    starts = (utcnow() - dt.timedelta(days=1)).replace(microsecond=0)
    meeting_id = await services.schedule_meeting(
        record.slug,
        MeetingDetails(
            title="Follow-up", starts_at=starts, ends_at=starts + dt.timedelta(hours=1), location=""
        ),
        viewer,
    )
    item_id = await services.add_agenda_item(
        meeting_id,
        AgendaItemDetails(
            title='=HYPERLINK("http://evil.example","x")', visibility="internal", notes=""
        ),
        viewer,
    )
    await services.record_attendance(
        meeting_id,
        AttendanceRecord(
            entries=[AttendanceEntry(user_id=record.chair, mode="present")], guests=["@SUM(A1:A9)"]
        ),
        viewer,
    )
    await services.record_decision(
        meeting_id,
        NewDecision(
            agenda_item_id=item_id,
            text="+cmd|' /C calc'!A0",
            votes_for=1,
            votes_against=0,
            votes_abstain=0,
        ),
        viewer,
    )
    await sign_in(client, record.member)
    decisions = read_csv(await client.get(f"/meetings/{meeting_id}/export/decisions.csv"))
    assert decisions[0]["agenda item"] == '\'=HYPERLINK("http://evil.example","x")'
    assert decisions[0]["decision"] == "'+cmd|' /C calc'!A0"
    attendance = read_csv(await client.get(f"/meetings/{meeting_id}/export/attendance.csv"))
    assert attendance[-1]["name"] == "'@SUM(A1:A9)"


def test_safe_cell_prefixes_only_formula_starts():
    assert safe_cell("-1") == "'-1"
    assert safe_cell("\t=1") == "'\t=1"
    assert safe_cell("Budget = good") == "Budget = good"
    assert safe_cell(3) == 3


async def test_markup_in_titles_is_escaped_in_the_printable_page(client, record):
    viewer = await viewer_of(record.chair)
    starts = (utcnow() + dt.timedelta(days=5)).replace(microsecond=0)
    meeting_id = await services.schedule_meeting(
        record.slug,
        MeetingDetails(
            title="<b>Bold</b> meeting",
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=1),
            location="",
        ),
        viewer,
    )
    await services.add_agenda_item(
        meeting_id,
        AgendaItemDetails(title="<script>alert(1)</script>", visibility="internal", notes=""),
        viewer,
    )
    await sign_in(client, record.member)
    html = (await client.get(f"/meetings/{meeting_id}/export/minutes")).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "<b>Bold</b>" not in html
