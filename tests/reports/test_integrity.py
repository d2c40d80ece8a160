"""A submitted report changed in the database behind the service's back: the page, the API
and `governance audit verify` all say so; an untouched report shows no warning."""

from __future__ import annotations

from governance.core.audit import CONTENT_CHANGED, HASH_CHANGED
from governance.integrity import mismatched_records
from governance.reports import services
from governance.reports.integrity import content_hash
from governance.reports.schemas import ReportDraft
from governance.reports.tables import Report
from tests.factories import viewer_for
from tests.helpers import found, sign_in

WARNING = "Integrity warning"


async def _submitted(cast) -> int:
    chair = await viewer_for(cast.chair)
    report_id = await services.create_report(
        cast.slug,
        ReportDraft(
            kind="recommendation", period="", title="Flexible hours", body="Original.", route="both"
        ),
        chair,
    )
    await services.submit_report(report_id, chair)
    return report_id


async def _findings() -> list[tuple[str, int, str]]:
    return [(m.kind, m.id, m.problem) for m in await mismatched_records()]


async def test_an_untouched_report_shows_no_warning(client, cast):
    report_id = await _submitted(cast)
    await sign_in(client, cast.board)

    page = await client.get(f"/reports/{report_id}")
    api = await client.get(f"/api/v1/reports/{report_id}")

    assert page.status_code == 200 and WARNING not in page.text
    assert api.json()["integrity"] == "ok"
    assert await _findings() == []


async def test_a_body_changed_in_the_database_is_flagged_everywhere(client, cast):
    report_id = await _submitted(cast)
    await Report.update({Report.body: "Rewritten in the database."}).where(Report.id == report_id)
    await sign_in(client, cast.board)

    page = await client.get(f"/reports/{report_id}")
    api = await client.get(f"/api/v1/reports/{report_id}")

    assert page.status_code == 200
    assert WARNING in page.text and "Rewritten in the database." in page.text
    assert api.json()["integrity"] == "mismatch"
    assert await _findings() == [("report", report_id, CONTENT_CHANGED)]


async def test_a_draft_has_no_integrity_flag(client, cast):
    chair = await viewer_for(cast.chair)
    report_id = await services.create_report(
        cast.slug,
        ReportDraft(kind="recommendation", period="", title="Draft", body="Text.", route="both"),
        chair,
    )
    await sign_in(client, cast.chair)
    assert (await client.get(f"/api/v1/reports/{report_id}")).json()["integrity"] is None
    assert WARNING not in (await client.get(f"/reports/{report_id}")).text


async def test_body_and_hash_rewritten_together_are_caught_by_the_keyed_trail(cast):
    """Whoever can write to the database can recompute a plain SHA-256; not the copy in the
    keyed audit chain, recorded at submission."""
    report_id = await _submitted(cast)
    row = found(await Report.select().where(Report.id == report_id).first())
    forged = {**row, "body": "Forged."}
    await Report.update({Report.body: "Forged.", Report.content_hash: content_hash(forged)}).where(
        Report.id == report_id
    )

    assert await _findings() == [("report", report_id, HASH_CHANGED)]
