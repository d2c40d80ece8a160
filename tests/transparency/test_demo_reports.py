"""Issue 6's demo promise: `governance init --demo` produces a quarterly and an annual report
for each group and for the organisation, readable in every format, and the published PDF
opens with its figures and its hash."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from governance.demo import seed_demo
from governance.groups.services import seed_default_groups
from governance.transparency.tables import TransparencyReport
from tests.helpers import sign_in

pytestmark = pytest.mark.slow
SCOPES = ("wellbeing", "ndi", None)  # None: the whole organisation


async def test_demo_reports_exist_for_every_scope_and_open_in_every_format(client):
    await seed_default_groups()
    await seed_demo()
    reports = await TransparencyReport.select(
        TransparencyReport.id,
        TransparencyReport.group.slug.as_alias("slug"),
        TransparencyReport.period,
        TransparencyReport.edition,
        TransparencyReport.status,
        TransparencyReport.content_hash,
    )
    quarterly = [r for r in reports if "-Q" in r["period"]]
    annual = [r for r in reports if "-Q" not in r["period"]]
    for slug in SCOPES:
        for edition in ("board", "public"):
            assert [
                r["status"] for r in quarterly if (r["slug"], r["edition"]) == (slug, edition)
            ] == ["published"]
            assert len([r for r in annual if (r["slug"], r["edition"]) == (slug, edition)]) == 1

    board = await _board_member()
    await sign_in(client, board)
    for report in quarterly:
        base = f"/transparency/reports/{report['id']}"
        page = await client.get(base)
        assert page.status_code == 200
        assert "Meetings held" in page.text
        as_json = (await client.get(f"{base}/json")).json()
        assert as_json["sha256"] == report["content_hash"]
        csv_text = (await client.get(f"{base}/csv")).text
        assert csv_text.splitlines()[0].lstrip("\ufeff") == "scope,period,metric,line,value"
        pdf = await client.get(f"{base}/pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        flat = "".join(text.split())
        assert report["content_hash"] in flat, "the PDF carries the published hash"
        assert "Meetingsheld" in flat
    for report in annual:
        assert (await client.get(f"/transparency/reports/{report['id']}/pdf")).status_code == 200
    # The public list shows the published public editions, and only those.
    public_list = await client.get("/transparency")
    listed = {r["id"] for r in quarterly if r["edition"] == "public"}
    for report_id in listed:
        assert f"/transparency/reports/{report_id}" in public_list.text
    assert len(listed) == 3  # three scopes, one public edition each


async def _board_member() -> int:
    from governance.accounts.tables import User

    row = await User.select(User.id).where(User.email == "board@example.org").first()
    assert row is not None
    return int(row["id"])
