"""A published transparency report records the audit chain's head at publication and shows
it in every format; a report changed in the database afterwards is flagged on its page, in
its JSON and API view, and by `governance audit verify`."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from governance.core.audit import CONTENT_CHANGED
from governance.core.tables import AuditEvent
from governance.integrity import mismatched_records
from governance.transparency import services
from governance.transparency.schemas import GenerateReport
from governance.transparency.tables import TransparencyReport
from tests.factories import viewer_for
from tests.helpers import found, sign_in
from tests.transparency.transparency_data import build_record, clock

__all__ = ["clock"]

WARNING = "Integrity warning"


@pytest.fixture
async def published(clock: None) -> dict[str, Any]:
    record = await build_record()
    chair = await viewer_for(record.chair)
    ids = {}
    for edition in ("public", "board"):
        generated = await services.generate_report(
            GenerateReport(scope="wellbeing", period="2026-Q3", edition=edition), chair
        )
        await services.approve_report(generated.report_id, chair)
        await services.publish_report(generated.report_id, chair)
        ids[edition] = generated.report_id
    return {"record": record, "ids": ids}


async def _row(report_id: int) -> dict[str, Any]:
    return found(
        await TransparencyReport.select().where(TransparencyReport.id == report_id).first()
    )


def _pdf_text(content: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return "".join(text.split())


async def test_the_head_at_publication_is_in_every_format(
    published: dict[str, Any], client: httpx.AsyncClient
) -> None:
    board_id = published["ids"]["board"]
    row = await _row(board_id)
    event = found(
        await AuditEvent.select()
        .where(
            (AuditEvent.action == "transparency.published")
            & (AuditEvent.entity_id == str(board_id))
        )
        .first()
    )
    # The head is the event just before the one that records the publication.
    assert (row["audit_head_sequence"], row["audit_head_hash"]) == (
        event["sequence"] - 1,
        event["previous_hash"],
    )
    await sign_in(client, published["record"].board)
    base = f"/transparency/reports/{board_id}"
    head_text = f"event {row['audit_head_sequence']}"

    page = (await client.get(base)).text
    printable = (await client.get(f"{base}/print")).text
    as_json = (await client.get(f"{base}/json")).json()
    pdf = _pdf_text((await client.get(f"{base}/pdf")).content)

    for html in (page, printable):
        assert head_text in html and row["audit_head_hash"] in html
        assert WARNING not in html
    assert as_json["report"]["audit_chain_head"] == {
        "sequence": row["audit_head_sequence"],
        "hash": row["audit_head_hash"],
    }
    assert as_json["integrity"] == "ok"
    assert row["audit_head_hash"] in pdf
    assert await mismatched_records() == []


async def test_the_public_edition_carries_the_heads_hash_but_not_its_sequence(
    published: dict[str, Any], client: httpx.AsyncClient
) -> None:
    """The sequence counts every event, Board-only ones included: not for the public."""
    public_id = published["ids"]["public"]
    row = await _row(public_id)

    as_json = (await client.get(f"/transparency/reports/{public_id}/json")).json()
    page = (await client.get(f"/transparency/reports/{public_id}")).text

    assert as_json["report"]["audit_chain_head"] == {"hash": row["audit_head_hash"]}
    assert row["audit_head_hash"] in page
    assert f"event {row['audit_head_sequence']}" not in page


async def test_a_published_report_changed_in_the_database_is_flagged(
    published: dict[str, Any], client: httpx.AsyncClient
) -> None:
    public_id = published["ids"]["public"]
    base = f"/transparency/reports/{public_id}"
    assert WARNING not in (await client.get(base)).text  # seen once: its presentation cached

    await TransparencyReport.update({TransparencyReport.narrative: "A different story."}).where(
        TransparencyReport.id == public_id
    )

    page = (await client.get(base)).text
    as_json = (await client.get(f"{base}/json")).json()
    api = (await client.get(f"/api/v1/transparency-reports/{public_id}")).json()

    assert WARNING in page and "A different story." in page
    assert as_json["integrity"] == "mismatch" and api["integrity"] == "mismatch"
    assert WARNING in (await client.get(f"{base}/print")).text
    assert [(m.kind, m.id, m.problem) for m in await mismatched_records()] == [
        ("transparency_report", public_id, CONTENT_CHANGED)
    ]


async def test_changed_figures_are_flagged_even_when_the_page_was_seen_before(
    published: dict[str, Any], client: httpx.AsyncClient
) -> None:
    board_id = published["ids"]["board"]
    await sign_in(client, published["record"].board)
    base = f"/transparency/reports/{board_id}"
    assert WARNING not in (await client.get(base)).text

    row = found(
        await TransparencyReport.select()
        .where(TransparencyReport.id == board_id)
        .output(load_json=True)
        .first()
    )
    content = row["content"]
    content["groups"][0]["group_name"] = "A renamed group"
    await TransparencyReport.update({TransparencyReport.content: content}).where(
        TransparencyReport.id == board_id
    )

    assert WARNING in (await client.get(base)).text
    assert [m.id for m in await mismatched_records()] == [board_id]
