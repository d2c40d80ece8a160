"""The public edition in every format: the page, the printable document the PDF is made
from, the PDF, CSV, JSON, the API and the charts. No non-public text, no name but the
chairs', and no suppressed figure anywhere; and a small group's own activity (meetings
held, decisions, actions, reports on time, late or missed) published as it is (issue 16).

The checks do not trust the suppression function: each reads the format back and compares
it with the stored figures, so a count about people from 1 to 4 found as a number in any
format fails, and so does a count of activity not shown as its number, whatever the
presentation code decided.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import re
import xml.etree.ElementTree as ElementTree
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from governance.meetings.tables import Attendance, Meeting
from governance.transparency import charts, formats, queries, services
from governance.transparency.editions import FEWER, WITHHELD
from governance.transparency.schemas import GenerateReport, NarrativeChange
from tests.factories import viewer_for
from tests.helpers import sign_in
from tests.transparency.transparency_data import (
    CHAIR_NAME,
    NON_CHAIR_NAMES,
    SECRET_TEXTS,
    Record,
    build_record,
    clock,
    london,
)

__all__ = ["clock"]

SUPPRESSED = {FEWER, WITHHELD}
SVG = "{http://www.w3.org/2000/svg}"
# Counts in GroupFigures and LineFigures; the rest are rates, medians or names.
GROUP_COUNTS = (
    "meetings_held",
    "meetings_cancelled",
    "attendance_people",
    "meetings_with_quorum",
    "decisions",
    "decisions_with_quorum",
    "actions_opened",
    "actions_completed",
    "actions_dropped",
    "actions_overdue_at_end",
    "confidential_matters",
)
LINE_COUNTS = (
    "periodic_due",
    "periodic_on_time",
    "periodic_late",
    "periodic_missed",
    "recommendations",
    "accepted",
    "partially_accepted",
    "declined",
    "noted",
    "pending",
    "overdue_responses",
)
LINE_MEDIANS = ("median_days_to_acknowledge", "median_days_to_respond")
# The figures about people, written out here again: the only ones the public edition may
# hide. Every other count is the group's own activity, shown whatever its size.
PEOPLE_COUNTS = ("attendance_people",)
PUBLISHED_SCOPES = ("wellbeing", "ndi", "organisation")


async def _one_small_meeting(group_id: int, chair: int) -> None:
    """The NDI group held one meeting in the quarter, its chair alone present: a small
    group, whose attendance is about one person."""
    starts = london(2026, 8, 12, 10)
    rows = await Meeting.insert(
        Meeting(
            group=group_id,
            title="NDI meeting",
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=1),
            status="held",
            created_at=starts,
            updated_at=starts,
        )
    ).returning(Meeting.id)
    await Attendance.insert(Attendance(meeting=rows[0]["id"], user=chair, mode="present"))


@pytest.fixture
async def published(clock: None) -> dict[str, Any]:
    """The record, with the group's and the organisation's public editions published."""
    record = await build_record()
    await _one_small_meeting(record.other_group_id, record.other_chair)
    chair = await viewer_for(record.chair)
    board = await viewer_for(record.board)
    other_chair = await viewer_for(record.other_chair)
    ids = {}
    for scope, viewer in (("wellbeing", chair), ("ndi", other_chair), ("organisation", board)):
        generated = await services.generate_report(
            GenerateReport(scope=scope, period="2026-Q3", edition="public"), viewer
        )
        await services.update_narrative(
            generated.report_id, NarrativeChange(narrative="We met **six** times."), viewer
        )
        await services.approve_report(generated.report_id, viewer)
        await services.publish_report(generated.report_id, viewer)
        ids[scope] = generated.report_id
    ids["board"] = (
        await services.generate_report(
            GenerateReport(scope="wellbeing", period="2026-Q3", edition="board"), chair
        )
    ).report_id
    return {"record": record, "ids": ids}


# --- what the stored figures say, independently of the presentation --------------------


def stored_cells(content: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    """Every stored count, keyed (section, line, metric); the organisation's totals are
    summed here from the groups."""
    cells: dict[tuple[str, str, str], int] = {}
    for group in content["groups"]:
        slug = group["group_slug"]
        for metric in GROUP_COUNTS:
            cells[(slug, "", metric)] = group[metric]
        for line in group["lines"]:
            for metric in LINE_COUNTS:
                cells[(slug, line["recipient"], metric)] = line[metric]
        for month, count in group["actions_completed_by_month"]:
            cells[(slug, "month", month)] = count
    if content["scope"] == "organisation":
        for (_slug, line, metric), value in list(cells.items()):
            key = ("organisation", line, metric)
            cells[key] = cells.get(key, 0) + value
    return cells


def small(cells: dict[tuple[str, str, str], int]) -> dict[tuple[str, str, str], int]:
    return {key: value for key, value in cells.items() if 0 < value < 5}


def about_people(key: tuple[str, str, str]) -> bool:
    return key[1] != "month" and key[2] in PEOPLE_COUNTS


def rates_from_few(content: dict[str, Any]) -> set[tuple[str, str, str]]:
    """Rates about fewer than 5 people: none may be shown as a number."""
    return {
        (group["group_slug"], "", "attendance_rate")
        for group in content["groups"]
        if group["attendance_people"] < 5
    }


def is_number(value: Any) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return True
    return (
        isinstance(value, str) and re.fullmatch(r"-?[\d,]+(\.\d+)?( days?|%)?", value) is not None
    )


def as_number(value: Any) -> float:
    return float(str(value).replace(",", "").split()[0].rstrip("%"))


def assert_nothing_suppressed_shown(
    shown: dict[tuple[str, str, str], Any], content: dict[str, Any], where: str
) -> None:
    """Small counts about people are hidden; every count of activity is shown as stored,
    however small; every number shown is the stored one; and the counts add up."""
    cells = stored_cells(content)
    # The test data has small counts of activity, so the check below checks something.
    assert [key for key in small(cells) if not about_people(key)], where
    for key in small(cells):
        assert key in shown, (where, key)
        if about_people(key):
            assert shown[key] in SUPPRESSED, (where, key, shown[key])
    for key, value in cells.items():
        if not about_people(key) and key in shown:
            assert is_number(shown[key]) and as_number(shown[key]) == value, (
                where,
                key,
                shown[key],
            )
    for key in rates_from_few(content):
        if key in shown:
            assert not is_number(shown[key]), (where, key, shown[key])
    for key, value in shown.items():
        if key in cells and is_number(value):
            assert as_number(value) == cells[key], (where, key, value)
            if about_people(key):
                assert not 0 < as_number(value) < 5, (where, key, value)
    assert_figures_add_up(shown, where)


def assert_figures_add_up(shown: dict[tuple[str, str, str], Any], where: str) -> None:
    """As a reader sees them: a line's recommendations are its outcomes; its periodic
    reports due are at least those on time, late or missed (the rest still owed); the
    actions completed are the months'; the organisation's counts are its groups'."""

    def number(key: tuple[str, str, str]) -> float:
        assert is_number(shown[key]), (where, key, shown[key])
        return as_number(shown[key])

    sections = {slug for slug, _, _ in shown}
    lines = {(slug, line) for slug, line, _ in shown if line not in ("", "month")}
    for slug, line in lines:
        outcomes = ("accepted", "partially_accepted", "declined", "noted", "pending")
        total = number((slug, line, "recommendations"))
        assert total == sum(number((slug, line, o)) for o in outcomes), (where, slug, line)
        periodic = ("periodic_on_time", "periodic_late", "periodic_missed")
        due = number((slug, line, "periodic_due"))
        assert due >= sum(number((slug, line, p)) for p in periodic), (where, slug, line)
    for slug in sections:
        months = [key for key in shown if key[0] == slug and key[1] == "month"]
        completed = number((slug, "", "actions_completed"))
        assert completed == sum(number(key) for key in months), (where, slug)
        assert number((slug, "", "meetings_held")) >= number((slug, "", "meetings_with_quorum"))
    if "organisation" in sections:
        groups = sections - {"organisation"}
        for (slug, line, metric), value in shown.items():
            if slug != "organisation" or about_people((slug, line, metric)):
                continue
            if metric.endswith(("_rate", "_share")) or metric.startswith("median_"):
                continue
            parts = [(group, line, metric) for group in groups if (group, line, metric) in shown]
            assert number((slug, line, metric)) == sum(number(p) for p in parts), (
                where,
                line,
                metric,
                value,
            )


def assert_no_private_text(text: str, where: str) -> None:
    for secret in SECRET_TEXTS:
        assert secret not in text, (where, secret)
        assert secret.split()[0] not in text, (where, secret)
    for name in NON_CHAIR_NAMES:
        assert name not in text, (where, name)


# --- reading each format back -----------------------------------------------------------


def cells_from_html(html: str) -> dict[tuple[str, str, str], str]:
    cells = {}
    for slug, line, metric, text in re.findall(
        r'<td data-figure="([^"|]*)\|([^"|]*)\|([^"]*)"[^>]*>([^<]*)</td>', html
    ):
        # The page says what a suppressed value is ("not shown: fewer than 5 people", issue
        # 16); the data formats carry the value alone ("fewer than 5").
        cells[(slug, line, metric)] = (
            text.strip().removeprefix("not shown: ").removesuffix(" people")
        )
    return cells


def cells_from_csv(body: bytes) -> dict[tuple[str, str, str], str]:
    text = body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["scope", "period", "metric", "line", "value"]
    cells = {}
    for scope, period, metric, line, value in rows[1:]:
        assert period == "2026-Q3"
        if metric.startswith("actions_completed_by_month:"):
            cells[(scope, "month", metric.split(":", 1)[1])] = value
        else:
            cells[(scope, line, metric)] = value
    return cells


def cells_from_document(doc: dict[str, Any]) -> dict[tuple[str, str, str], Any]:
    cells: dict[tuple[str, str, str], Any] = {}
    sections = ([doc["totals"]] if doc["totals"] else []) + doc["groups"]
    for section in sections:
        slug = section["slug"]
        for metric, value in section["figures"].items():
            cells[(slug, "", metric)] = value
        for line in section["lines"]:
            for metric, value in line["figures"].items():
                cells[(slug, line["recipient"], metric)] = value
        for month in section["actions_completed_by_month"]:
            cells[(slug, "month", month["month"])] = month["value"]
    return cells


def svg_values(svg: str) -> list[str]:
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own output
    return [
        (element.text or "").strip()
        for element in root.iter(f"{SVG}desc")
        if element.get("class") == "value"
    ]


def assert_clean_svg(svg: str) -> ElementTree.Element:
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own output, well-formed XML
    assert root.tag == f"{SVG}svg"
    assert not [element for element in root.iter() if str(element.tag).endswith("script")]
    assert "<script" not in svg and "javascript:" not in svg
    assert "<!--" not in svg
    hrefs = [
        value
        for element in root.iter()
        for name, value in element.attrib.items()
        if name.endswith("href")
    ]
    assert all(not href.startswith(("http:", "https:", "//")) for href in hrefs)
    return root


def pdf_text_and_metadata(pdf: bytes) -> tuple[str, dict[str, str]]:
    """Every page's text without whitespace (lines break where the layout breaks them), and
    the document's metadata, read with pypdf. A parser, not a scan of the bytes: the scan
    this replaces read a compressed stream short whenever its data ended in a carriage
    return (1 run in about 256) and missed the metadata in it."""
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    metadata = {str(key): str(value) for key, value in (reader.metadata or {}).items()}
    return "".join(text.split()), metadata


async def _content(report_id: int) -> dict[str, Any]:
    return (await queries.get_report(report_id, None)).content


# --- the tests --------------------------------------------------------------------------


@pytest.mark.parametrize("scope", PUBLISHED_SCOPES)
async def test_the_public_page_hides_every_suppressed_figure_and_private_text(
    published: dict[str, Any], client: httpx.AsyncClient, scope: str
) -> None:
    report_id = published["ids"][scope]
    content = await _content(report_id)
    response = await client.get(f"/transparency/reports/{report_id}")
    assert response.status_code == 200
    assert_nothing_suppressed_shown(cells_from_html(response.text), content, "page")
    assert_no_private_text(response.text, "page")
    if scope != "ndi":
        assert CHAIR_NAME in response.text  # chairs are named
    assert "fewer than 5" in response.text
    # A suppressed value reads as what it is, never as a value beside a rate (issue 16).
    if scope != "wellbeing":  # six members attended: nothing about people is small
        assert re.search(
            r'class="suppressed">not shown: (fewer than 5 people|withheld)</td>', response.text
        )
    assert not re.search(r'class="suppressed">(not shown: )?fewer than 5</td>', response.text)
    # The charts are images served by the site, each with its text alternative.
    for name in charts.CHART_NAMES:
        assert f'src="/transparency/reports/{report_id}/charts/{name}.svg"' in response.text
    assert response.text.count('alt="Bar chart') == 3
    # Nothing inline that the site's Content-Security-Policy would block.
    assert "style-src 'self'" in response.headers["content-security-policy"]
    assert "<style" not in response.text and " style=" not in response.text
    # The only script is the site's own file (the navigation's Menu button), none inline.
    scripts = re.findall(r"<script[^>]*>", response.text)
    assert scripts == ['<script src="/static/nav.js" defer>'], scripts
    assert "data:image" not in response.text


@pytest.mark.parametrize("scope", PUBLISHED_SCOPES)
async def test_the_pdf_and_the_document_it_is_made_from(
    published: dict[str, Any], client: httpx.AsyncClient, scope: str
) -> None:
    report_id = published["ids"][scope]
    content = await _content(report_id)
    item = await queries.report_rendition(report_id, None)
    # The HTML handed to WeasyPrint is the printable page.
    source = formats.document_html(item)
    printable = await client.get(f"/transparency/reports/{report_id}/print")
    assert printable.status_code == 200 and printable.text == source
    # Its one inline stylesheet is allowed by its hash, and nothing else inline is.
    (style,) = re.findall(r"<style>(.*?)</style>", source, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in printable.headers["content-security-policy"]
    assert "<script" not in source and " style=" not in source
    assert_nothing_suppressed_shown(cells_from_html(source), content, "pdf source")
    assert_no_private_text(source, "pdf source")
    assert f"SHA-256 {item.sha256}" in source
    assert 'class="hash-footer"' in source  # carried into every page's footer
    assert "counter(page)" in formats.stylesheet()[0]
    # Its charts are the same SVGs, as data: URIs.
    images = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', source)
    assert len(images) == 3
    for encoded in images:
        svg = base64.b64decode(encoded).decode("utf-8")
        assert_clean_svg(svg)
        assert_no_private_text(svg, "pdf chart")

    response = await client.get(f"/transparency/reports/{report_id}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "attachment" in response.headers["content-disposition"]
    text, metadata = pdf_text_and_metadata(response.content)
    assert item.sha256 in text  # the footer of every page
    assert metadata["/Subject"] == f"SHA-256 {item.sha256}"
    assert metadata["/Keywords"] == f"sha256:{item.sha256}"
    for secret in SECRET_TEXTS:
        assert "".join(secret.split()) not in text
        assert all(secret not in value for value in metadata.values())


@pytest.mark.parametrize("scope", PUBLISHED_SCOPES)
async def test_csv_json_and_the_api(
    published: dict[str, Any], client: httpx.AsyncClient, scope: str
) -> None:
    report_id = published["ids"][scope]
    content = await _content(report_id)

    csv_response = await client.get(f"/transparency/reports/{report_id}/csv")
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert_nothing_suppressed_shown(cells_from_csv(csv_response.content), content, "csv")
    assert_no_private_text(csv_response.content.decode("utf-8-sig"), "csv")

    json_response = await client.get(f"/transparency/reports/{report_id}/json")
    assert json_response.status_code == 200
    body = json_response.json()
    assert_nothing_suppressed_shown(cells_from_document(body["report"]), content, "json")
    assert_no_private_text(json_response.text, "json")
    assert formats.verify(body["report"], body["sha256"])

    api = await client.get(f"/api/v1/transparency-reports/{report_id}")
    assert api.status_code == 200
    api_body = api.json()
    assert api_body["report"] == body["report"]
    assert api_body["sha256"] == body["sha256"]
    assert_nothing_suppressed_shown(cells_from_document(api_body["report"]), content, "api")
    assert_no_private_text(api.text, "api")
    listed = await client.get("/api/v1/transparency-reports")
    assert_no_private_text(listed.text, "api list")


async def test_charts_are_clean_svg_with_nothing_suppressed(
    published: dict[str, Any], client: httpx.AsyncClient
) -> None:
    report_id = published["ids"]["wellbeing"]
    content = await _content(report_id)
    raw_months = dict(map(tuple, content["groups"][0]["actions_completed_by_month"]))
    assert {raw_months["2026-07"], raw_months["2026-08"]} == {3, 4}
    for name in charts.CHART_NAMES:
        response = await client.get(f"/transparency/reports/{report_id}/charts/{name}.svg")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        policy = response.headers["content-security-policy"]
        assert "script-src 'none'" in policy and "default-src 'none'" in policy
        assert_clean_svg(response.text)
        assert_no_private_text(response.text, name)
    actions = await client.get(f"/transparency/reports/{report_id}/charts/actions.svg")
    # July (3) and August (4) are the group's activity: drawn as they are, however few.
    assert {"3", "4"} <= set(svg_values(actions.text))
    attendance = await client.get(f"/transparency/reports/{report_id}/charts/attendance.svg")
    assert svg_values(attendance.text) == ["100%", "100%"]  # each value with its unit (issue 16)
    assert (
        await client.get(f"/transparency/reports/{report_id}/charts/other.svg")
    ).status_code == 404
    assert (
        await client.get(f"/transparency/reports/{report_id}/charts/actions.png")
    ).status_code == 404


async def test_the_board_edition_shows_every_figure(
    published: dict[str, Any], client: httpx.AsyncClient
) -> None:
    record: Record = published["record"]
    report_id = published["ids"]["board"]
    await sign_in(client, record.board)
    content = (await queries.get_report(report_id, await viewer_for(record.board))).content
    cells = cells_from_csv((await client.get(f"/transparency/reports/{report_id}/csv")).content)
    for key, value in stored_cells(content).items():
        assert cells[key] == str(value), key
    page = await client.get(f"/transparency/reports/{report_id}")
    assert page.status_code == 200
    assert cells_from_html(page.text)[("wellbeing", "month", "2026-07")] == "3"


async def test_the_email_to_the_board_carries_only_the_editions_figures(
    published: dict[str, Any],
) -> None:
    from governance.core.email import render_email
    from governance.core.tables import OutboundEmail

    rows = (
        await OutboundEmail.select()
        .where(OutboundEmail.template == "transparency_published")
        .output(load_json=True)
    )
    assert rows
    for row in rows:
        rendered = render_email(row["template"], row["context"])
        for part in (rendered.subject, rendered.text, rendered.html):
            assert_no_private_text(part.replace("Bea Board", ""), "email")
        values = {entry["label"]: entry["value"] for entry in row["context"]["headline"]}
        assert row["context"]["sha256"] in rendered.text
        if row["context"]["scope_name"] == "Working Group on NDI":
            # One meeting is said; the attendance of its one member is not.
            assert values["Meetings held"] == "1"
            reading = "not shown: fewer than 5 people"
            assert values["Attendance rate at meetings held"] == reading
            assert reading in rendered.text
