"""Transparency pages and the JSON API: the public list without signing in, who reads what
by every route, the Board's page, generating and publishing from the pages and the API,
every route refusing to change a published report, versions on the pages, and the command
`governance report build`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from governance.transparency import services
from governance.transparency.schemas import GenerateReport
from governance.transparency.tables import TransparencyReport
from tests.factories import viewer_for
from tests.helpers import csrf_token, found, post_form, shown_after_refusal, sign_in
from tests.transparency.transparency_data import Record, build_record, clock

__all__ = ["clock"]

REPO_ROOT = Path(__file__).resolve().parents[2]
FORMAT_PATHS = ("", "/pdf", "/csv", "/json", "/print", "/charts/actions.svg")


@pytest.fixture
async def world(clock: None) -> dict[str, Any]:
    """The record; the group's public edition published; its board edition published; a
    draft public edition of the organisation; a draft board edition of the organisation."""
    record = await build_record()
    chair = await viewer_for(record.chair)
    board = await viewer_for(record.board)
    ids = {}
    for name, edition in (("public", "public"), ("board", "board")):
        generated = await services.generate_report(
            GenerateReport(scope="wellbeing", period="2026-Q3", edition=edition), chair
        )
        await services.approve_report(generated.report_id, chair)
        await services.publish_report(generated.report_id, chair)
        ids[name] = generated.report_id
    ids["org_public_draft"] = (
        await services.generate_report(
            GenerateReport(scope="organisation", period="2026-Q3", edition="public"), board
        )
    ).report_id
    ids["org_board_draft"] = (
        await services.generate_report(
            GenerateReport(scope="organisation", period="2026-Q3", edition="board"), board
        )
    ).report_id
    return {"record": record, "ids": ids}


async def _api_post(client: httpx.AsyncClient, url: str, body: Any = None) -> httpx.Response:
    token = await csrf_token(client)
    return await client.post(url, json=body, headers={"x-csrftoken": token})


# --- without signing in -----------------------------------------------------------------


async def test_anyone_reads_published_public_editions_and_nothing_else(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    ids = world["ids"]
    listing = await client.get("/transparency")
    assert listing.status_code == 200
    assert f'href="/transparency/reports/{ids["public"]}"' in listing.text
    for other in ("board", "org_public_draft", "org_board_draft"):
        assert f'href="/transparency/reports/{ids[other]}"' not in listing.text
    for path in FORMAT_PATHS:
        response = await client.get(f"/transparency/reports/{ids['public']}{path}")
        assert response.status_code == 200, path
    # Anything else, existing or not, asks to sign in, and says no more.
    for report_id in (ids["board"], ids["org_public_draft"], 999_999):
        for path in FORMAT_PATHS:
            response = await client.get(f"/transparency/reports/{report_id}{path}")
            assert response.status_code == 302, (report_id, path)
            assert response.headers["location"].startswith("/login?next=")
    for page in ("/board/reports", "/transparency/organisation", "/groups/wellbeing/transparency"):
        response = await client.get(page)
        assert response.status_code == 302 and response.headers["location"].startswith("/login")
    # The API: the same, with 401 for the rest.
    api = (await client.get("/api/v1/transparency-reports")).json()
    assert [r["id"] for r in api["reports"]] == [ids["public"]]
    assert (await client.get(f"/api/v1/transparency-reports/{ids['public']}")).status_code == 200
    board = await client.get(f"/api/v1/transparency-reports/{ids['board']}")
    assert board.status_code == 401
    assert board.headers["content-type"].startswith("application/problem+json")
    created = await client.post(
        "/api/v1/transparency-reports",
        json={"scope": "wellbeing", "period": "2026-Q3", "edition": "public"},
    )
    assert created.status_code in (401, 403)  # no session: refused before anything is made
    for action in ("refresh", "narrative", "approve", "publish"):
        response = await post_form(client, f"/transparency/reports/{ids['public']}/{action}")
        assert response.status_code == 302 and "/login" in response.headers["location"]


# --- who reads what ---------------------------------------------------------------------


async def test_the_director_never_reads_a_board_edition(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    ids = world["ids"]
    await sign_in(client, world["record"].director)
    for path in FORMAT_PATHS:
        response = await client.get(f"/transparency/reports/{ids['board']}{path}")
        assert response.status_code == 404, path
        assert (await client.get(f"/transparency/reports/{ids['public']}{path}")).status_code == 200
    api = await client.get(f"/api/v1/transparency-reports/{ids['board']}")
    assert api.status_code == 404
    listed = (await client.get("/api/v1/transparency-reports")).json()["reports"]
    assert [r["id"] for r in listed] == [ids["public"]]
    assert (await client.get("/board/reports")).status_code == 403
    assert (await client.get("/transparency/organisation")).status_code == 403
    group_page = await client.get("/groups/wellbeing/transparency")
    assert f"/transparency/reports/{ids['board']}" not in group_page.text


@pytest.mark.parametrize(
    ("person", "readable"),
    [
        ("chair", {"public", "board"}),
        ("member", {"public", "board"}),
        ("board", {"public", "board", "org_public_draft", "org_board_draft"}),
        ("admin", {"public", "org_public_draft"}),
        ("stranger", {"public"}),
        ("other_chair", {"public"}),
    ],
)
async def test_readers_by_route(
    world: dict[str, Any], client: httpx.AsyncClient, person: str, readable: set[str]
) -> None:
    ids = world["ids"]
    await sign_in(client, getattr(world["record"], person))
    for name, report_id in ids.items():
        page = await client.get(f"/transparency/reports/{report_id}")
        api = await client.get(f"/api/v1/transparency-reports/{report_id}")
        expected = 200 if name in readable else 404
        assert (page.status_code, api.status_code) == (expected, expected), name
    listed = (await client.get("/api/v1/transparency-reports")).json()["reports"]
    assert {r["id"] for r in listed} == {ids[name] for name in readable}


# --- the Board's page -------------------------------------------------------------------


async def test_the_board_page_compares_with_the_previous_period_and_lists_what_waits(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    record: Record = world["record"]
    await sign_in(client, record.board)
    response = await client.get("/board/reports")
    assert response.status_code == 200
    text = response.text
    assert '<a href="/board/reports">Board reports</a>' in text  # in the navigation
    # The latest published board edition of the group, beside 2026-Q2, counted now from
    # the records as no report was stored for it. The organisation's board edition is only
    # a draft, whose figures may still change: it is not compared (issue 16).
    assert f'href="/transparency/reports/{world["ids"]["board"]}"' in text
    assert f'href="/transparency/reports/{world["ids"]["org_board_draft"]}"' not in text
    assert "No board-edition report published yet" in text
    assert "compared with 2026-Q2" in text
    assert "Meetings held</th><td>6</td><td>0</td><td>+6</td>" in text
    # The Director line's response to "A quiet room" is past due: awaiting management.
    assert "Awaiting management response" in text and "A quiet room" in text
    # Nobody else gets the page.
    for person in (record.chair, record.member, record.admin):
        await sign_in(client, person)
        assert (await client.get("/board/reports")).status_code == 403


# --- working from the pages and the API --------------------------------------------------


async def test_generate_write_approve_and_publish_from_the_pages(
    clock: None, client: httpx.AsyncClient
) -> None:
    record = await build_record()
    await sign_in(client, record.member)
    page = await client.get("/groups/wellbeing/transparency")
    assert page.status_code == 200 and 'action="/transparency/generate"' not in page.text
    refused = await post_form(
        client,
        "/transparency/generate",
        {"scope": "wellbeing", "period": "2026-Q3", "edition": "public"},
    )
    assert refused.status_code == 403

    await sign_in(client, record.chair)
    page = await client.get("/groups/wellbeing/transparency")
    assert 'action="/transparency/generate"' in page.text
    bad = await post_form(
        client,
        "/transparency/generate",
        {"scope": "wellbeing", "period": "2026-H1", "edition": "public"},
    )
    bad = await shown_after_refusal(client, bad)
    assert 'id="period-error"' in bad.text
    assert await TransparencyReport.count() == 0
    made = await post_form(
        client,
        "/transparency/generate",
        {"scope": "wellbeing", "period": "2026-q3", "edition": "public"},
    )
    assert made.status_code == 302
    report_url = made.headers["location"]
    report_id = int(report_url.rsplit("/", 1)[1])
    shown = await client.get(report_url)
    assert "Refresh the figures" in shown.text and 'name="narrative"' in shown.text
    saved = await post_form(
        client,
        f"{report_url}/narrative",
        {"narrative": "We met **six** times.<script>alert(1)</script>"},
    )
    assert saved.status_code == 302
    shown = await client.get(report_url)
    assert "<strong>six</strong>" in shown.text and "<script>alert" not in shown.text
    assert (await post_form(client, f"{report_url}/refresh")).status_code == 302
    assert (await post_form(client, f"{report_url}/approve")).status_code == 302
    published = await post_form(client, f"{report_url}/publish", {"understood": "on"})
    assert published.status_code == 302
    shown = await client.get(report_url)
    row = found(await TransparencyReport.select().where(TransparencyReport.id == report_id).first())
    assert row["status"] == "published"
    assert row["content_hash"] in shown.text
    assert 'name="narrative"' not in shown.text  # nothing left to change


async def test_every_route_refuses_to_change_a_published_report(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    record: Record = world["record"]
    report_id = world["ids"]["public"]
    before = await TransparencyReport.select().where(TransparencyReport.id == report_id).first()
    await sign_in(client, record.chair)
    for action, data in (
        ("refresh", {}),
        ("narrative", {"narrative": "Rewritten."}),
        ("approve", {}),
        ("publish", {}),
    ):
        response = await post_form(client, f"/transparency/reports/{report_id}/{action}", data)
        response = await shown_after_refusal(client, response)
        assert "never changes" in response.text or "already" in response.text
    base = f"/api/v1/transparency-reports/{report_id}"
    token = await csrf_token(client)
    patched = await client.patch(
        base, json={"narrative": "Rewritten."}, headers={"x-csrftoken": token}
    )
    assert patched.status_code == 409
    assert patched.headers["content-type"].startswith("application/problem+json")
    for action in ("refresh", "approve", "publish"):
        response = await _api_post(client, f"{base}/{action}")
        assert response.status_code == 409, action
        assert response.json()["status"] == 409
    for method in ("PUT", "DELETE"):
        response = await client.request(method, base, headers={"x-csrftoken": token})
        assert response.status_code == 405
    after = await TransparencyReport.select().where(TransparencyReport.id == report_id).first()
    assert after == before


async def test_the_api_generates_approves_and_publishes(
    clock: None, client: httpx.AsyncClient
) -> None:
    record = await build_record()
    await sign_in(client, record.chair)
    body = {"scope": "wellbeing", "period": "2026-Q3", "edition": "public"}
    bad = await _api_post(client, "/api/v1/transparency-reports", {**body, "period": "2026-H2"})
    assert bad.status_code == 422 and "period" in bad.json()["errors"]
    wrong_shape = await _api_post(client, "/api/v1/transparency-reports", {**body, "x": 1})
    assert wrong_shape.status_code == 400
    created = await _api_post(client, "/api/v1/transparency-reports", body)
    assert created.status_code == 201
    report = created.json()
    assert created.headers["location"] == f"/api/v1/transparency-reports/{report['id']}"
    assert report["status"] == "draft" and report["sha256"] is None
    # A small count of the group's own activity is published (issue 16).
    assert report["report"]["groups"][0]["figures"]["meetings_cancelled"] == 1
    again = await _api_post(client, "/api/v1/transparency-reports", body)
    assert again.status_code == 200 and again.json()["id"] == report["id"]
    base = f"/api/v1/transparency-reports/{report['id']}"
    token = await csrf_token(client)
    patched = await client.patch(
        base, json={"narrative": "Six meetings."}, headers={"x-csrftoken": token}
    )
    assert patched.status_code == 200 and patched.json()["report"]["narrative"] == "Six meetings."
    assert (await _api_post(client, f"{base}/publish")).status_code == 409  # not approved
    approved = await _api_post(client, f"{base}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    published = await _api_post(client, f"{base}/publish")
    assert published.status_code == 200
    out = published.json()
    assert out["status"] == "published" and len(out["sha256"]) == 64
    # A member may read but not approve; the Director does not even see a draft.
    await sign_in(client, record.member)
    draft = await _api_post(client, "/api/v1/transparency-reports", {**body, "edition": "board"})
    assert draft.status_code == 403
    # An administrator makes the organisation's board edition without reading its figures.
    await sign_in(client, record.admin)
    made = await _api_post(
        client,
        "/api/v1/transparency-reports",
        {"scope": "organisation", "period": "2026-Q3", "edition": "board"},
    )
    assert made.status_code == 201
    assert made.json()["readable"] is False and made.json()["report"] is None
    unknown = await _api_post(
        client, "/api/v1/transparency-reports", {**body, "scope": "no-such-group"}
    )
    assert unknown.status_code == 422 and "scope" in unknown.json()["errors"]


async def test_versions_show_on_the_pages(world: dict[str, Any], client: httpx.AsyncClient) -> None:
    record: Record = world["record"]
    first = world["ids"]["public"]
    chair = await viewer_for(record.chair)
    second = await services.generate_report(
        GenerateReport(scope="wellbeing", period="2026-Q3", edition="public"), chair
    )
    await sign_in(client, record.chair)
    draft_page = await client.get(f"/transparency/reports/{second.report_id}")
    assert "supersedes version 1" in draft_page.text
    old_page = await client.get(f"/transparency/reports/{first}")
    assert "being prepared" in old_page.text
    await services.approve_report(second.report_id, chair)
    await services.publish_report(second.report_id, chair)
    client.cookies.clear()
    old_page = await client.get(f"/transparency/reports/{first}")
    assert "Superseded by" in old_page.text and "version 2" in old_page.text
    new_page = await client.get(f"/transparency/reports/{second.report_id}")
    assert "supersedes version 1" in new_page.text
    listing = await client.get("/transparency")
    assert "superseded by version 2" in listing.text
    document = (await client.get(f"/transparency/reports/{second.report_id}/json")).json()
    assert document["report"]["version"] == 2
    assert document["report"]["supersedes_version"] == 1


# --- the command ------------------------------------------------------------------------


@pytest.mark.slow
async def test_governance_report_build_writes_every_format(
    world: dict[str, Any], tmp_path: Path
) -> None:
    outputs = {}
    for fmt in ("html", "pdf", "csv", "json"):
        target = tmp_path / f"report.{fmt}"
        result = subprocess.run(  # noqa: ASYNC221, S603 - the real command, once per format
            [
                sys.executable,
                "-m",
                "governance.cli",
                "report",
                "build",
                "--all",
                "--period",
                "2026-Q3",
                "--edition",
                "public",
                "--format",
                fmt,
                "-o",
                str(target),
            ],
            cwd=REPO_ROOT,
            env=dict(os.environ),
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr.decode()
        outputs[fmt] = target.read_bytes()
    assert outputs["pdf"].startswith(b"%PDF")
    assert b"Working Group on Wellbeing" in outputs["html"]
    assert outputs["csv"].decode("utf-8-sig").startswith("scope,period,metric,line,value")
    built = json.loads(outputs["json"])
    assert built["id"] is None and built["status"] == "built"
    cells = {
        (g["slug"], name): value
        for g in built["report"]["groups"]
        for name, value in g["figures"].items()
    }
    assert cells[("wellbeing", "meetings_cancelled")] == 1
    # Nothing was stored by building.
    assert await TransparencyReport.count() == 4
    refused = subprocess.run(  # noqa: ASYNC221
        [
            sys.executable,
            "-m",
            "governance.cli",
            "report",
            "build",
            "--group",
            "nope",
            "--period",
            "2026-Q3",
            "--edition",
            "public",
            "--format",
            "csv",
            "-o",
            "-",
        ],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 1 and b"no working group" in refused.stderr
