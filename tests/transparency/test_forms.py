"""The transparency forms and the API refuse bad input the same way: every field's error in
one round, the same words through the page and through the API, nothing changed; someone
who may not act is refused before any field is judged. And the pages cost no more queries
than they did."""

from __future__ import annotations

import html
from typing import Any

import httpx
import pytest

from governance.transparency import queries, services
from governance.transparency.schemas import MAX_NARRATIVE, GenerateReport
from governance.transparency.tables import TransparencyReport
from tests.factories import viewer_for
from tests.helpers import (
    QueryCounter,
    csrf_token,
    field_error,
    post_form,
    shown_after_refusal,
    sign_in,
)
from tests.transparency.transparency_data import Record, build_record, clock

__all__ = ["clock"]

GENERATE = {"scope": "wellbeing", "period": "2026-Q3", "edition": "public"}


@pytest.fixture
async def record(clock: None) -> Record:
    return await build_record()


async def _draft(record: Record) -> int:
    chair = await viewer_for(record.chair)
    command = GenerateReport(scope="wellbeing", period="2026-Q3", edition="public")
    return (await services.generate_report(command, chair)).report_id


async def _api(client: httpx.AsyncClient, method: str, url: str, body: Any) -> httpx.Response:
    token = await csrf_token(client)
    return await client.request(method, url, json=body, headers={"x-csrftoken": token})


def _shown(page: str, name: str) -> str | None:
    message = field_error(page, name)
    return html.unescape(message) if message is not None else None


async def test_the_generate_form_reports_every_field_in_one_round(
    record: Record, client: httpx.AsyncClient
) -> None:
    await sign_in(client, record.chair)
    bad = {**GENERATE, "period": "2026-H1", "edition": "secret"}
    page = await post_form(client, "/transparency/generate", bad)
    page = await shown_after_refusal(client, page)
    assert _shown(page.text, "period") == "Name a quarter or a year, e.g. 2026-Q3 or 2026."
    assert _shown(page.text, "edition") == "Choose one of: board, public."
    assert "Some values need correcting. Nothing has been saved." in page.text
    # The API: the same fields, and the scope too when it names nothing.
    api = await _api(
        client,
        "POST",
        "/api/v1/transparency-reports",
        {"scope": "x" * 81, "period": "2026-H1", "edition": "secret"},
    )
    assert api.status_code == 422
    assert set(api.json()["errors"]) == {"scope", "period", "edition"}
    assert await TransparencyReport.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("period", "2026-H1"),
        ("period", "2027-Q1"),  # not begun
        ("period", "2026-Q3\x00"),
        ("edition", "secret"),
    ],
)
async def test_the_generate_form_and_the_api_say_the_same(
    record: Record, client: httpx.AsyncClient, field: str, value: str
) -> None:
    await sign_in(client, record.chair)
    page = await post_form(client, "/transparency/generate", {**GENERATE, field: value})
    page = await shown_after_refusal(client, page)
    api = await _api(client, "POST", "/api/v1/transparency-reports", {**GENERATE, field: value})
    assert api.status_code == 422
    assert _shown(page.text, field) == api.json()["errors"][field]
    assert await TransparencyReport.count() == 0


async def test_an_unknown_group_is_a_field_error_in_the_api_and_not_found_on_the_page(
    record: Record, client: httpx.AsyncClient
) -> None:
    await sign_in(client, record.chair)
    api = await _api(
        client, "POST", "/api/v1/transparency-reports", {**GENERATE, "scope": "no-such-group"}
    )
    assert api.status_code == 422
    assert api.json()["errors"]["scope"] == "Choose a working group's short name, or organisation."
    page = await post_form(client, "/transparency/generate", {**GENERATE, "scope": "nope"})
    assert page.status_code == 404  # the form is on a group's page; there is no such page


@pytest.mark.parametrize(
    ("narrative", "message"),
    [
        ("x" * (MAX_NARRATIVE + 1), f"Narrative must be at most {MAX_NARRATIVE} characters."),
        ("A line\x00", "Narrative contains a character that cannot be stored."),
        ("A bell\x07", "Narrative contains a control character that cannot be stored."),
    ],
)
async def test_the_narrative_form_and_the_api_say_the_same(
    record: Record, client: httpx.AsyncClient, narrative: str, message: str
) -> None:
    report_id = await _draft(record)
    await sign_in(client, record.chair)
    page = await post_form(
        client, f"/transparency/reports/{report_id}/narrative", {"narrative": narrative}
    )
    page = await shown_after_refusal(client, page)
    assert _shown(page.text, "narrative") == message
    assert "The narrative needs correcting. Nothing has been saved." in page.text
    api = await _api(
        client, "PATCH", f"/api/v1/transparency-reports/{report_id}", {"narrative": narrative}
    )
    assert api.status_code == 422
    assert api.json()["errors"] == {"narrative": message}
    assert (await queries.get_report(report_id, await viewer_for(record.chair))).narrative == ""


async def test_the_narrative_keeps_its_line_breaks_through_the_page_and_the_api(
    record: Record, client: httpx.AsyncClient
) -> None:
    report_id = await _draft(record)
    chair = await viewer_for(record.chair)
    await sign_in(client, record.chair)
    typed = "  First paragraph.\r\n\r\nSecond, with **bold**.  \r\n"
    saved = await post_form(
        client, f"/transparency/reports/{report_id}/narrative", {"narrative": typed}
    )
    assert saved.status_code == 302
    from_page = (await queries.get_report(report_id, chair)).narrative
    api = await _api(
        client, "PATCH", f"/api/v1/transparency-reports/{report_id}", {"narrative": typed}
    )
    assert api.status_code == 200
    assert from_page == api.json()["report"]["narrative"]
    assert from_page == "First paragraph.\n\nSecond, with **bold**."


async def test_who_may_not_act_learns_nothing_from_the_fields(
    record: Record, client: httpx.AsyncClient
) -> None:
    report_id = await _draft(record)
    await sign_in(client, record.member)
    bad = {**GENERATE, "period": "2026-H1", "edition": "secret"}
    assert (await post_form(client, "/transparency/generate", bad)).status_code == 403
    api = await _api(client, "POST", "/api/v1/transparency-reports", bad)
    assert api.status_code == 403 and "errors" not in api.json()
    too_long = {"narrative": "x" * (MAX_NARRATIVE + 1)}
    page = await post_form(client, f"/transparency/reports/{report_id}/narrative", too_long)
    assert page.status_code == 403
    api = await _api(client, "PATCH", f"/api/v1/transparency-reports/{report_id}", too_long)
    assert api.status_code == 403 and "errors" not in api.json()


# What each page cost when the domain moved to this shape; a page may cost less, not more.
MOST_QUERIES = {
    "/transparency": 2,  # the published reports, and the approved minutes' public versions
    "/transparency/reports/{public}": 2,
    "/transparency/reports/{public}/json": 2,
    "/api/v1/transparency-reports": 1,
    "/api/v1/transparency-reports/{public}": 2,
}
# Signed-in pages also count what waits for the reader, for the navigation ("needs me").
# Twelve, read afresh: among them pending Board proposals and who has had their say, written
# resolutions awaiting a vote, and meetings awaiting a reply.
NAVIGATION = 12
MOST_QUERIES_SIGNED_IN = {
    # With the previous quarter's figures counted (three of them its pulse summary's).
    "/board/reports": 25 + NAVIGATION,
    # One more than before documents and search landed (the viewer's reading of the page);
    # still fixed as data grows (tests/test_query_counts.py).
    "/transparency/reports/{board}": 5 + NAVIGATION,
    "/transparency/organisation": 3 + NAVIGATION,
    "/groups/wellbeing/transparency": 4 + NAVIGATION,
    "/api/v1/transparency-reports": 3,
    "/api/v1/transparency-reports/{board}": 4,
}


async def test_the_pages_cost_a_small_fixed_number_of_queries(
    record: Record, client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    chair = await viewer_for(record.chair)
    ids = {}
    for edition in ("public", "board"):
        command = GenerateReport(scope="wellbeing", period="2026-Q3", edition=edition)
        ids[edition] = (await services.generate_report(command, chair)).report_id
        await services.approve_report(ids[edition], chair)
        await services.publish_report(ids[edition], chair)
    for signed_in, pages in ((None, MOST_QUERIES), (record.board, MOST_QUERIES_SIGNED_IN)):
        if signed_in is not None:
            await sign_in(client, signed_in)
        for path, most in pages.items():
            url = path.format(**ids)
            with count_queries() as counter:
                response = await client.get(url)
            assert response.status_code == 200, url
            assert counter.count <= most, (url, counter.count)
