"""Issue 11, item 6: audit events and outbox rows written before they recorded their
subject's scope get it from the migration, the same as the services now record it, and the
chain stays intact."""

from __future__ import annotations

import importlib

from governance.core.audit import verify_chain
from governance.core.db import write_transaction
from governance.core.tables import AuditEvent, OutboundEmail
from governance.meetings.schemas import AgendaItemDetails, NewErratum
from governance.meetings.services import (
    add_agenda_item,
    add_erratum,
    approve_minutes,
    circulate_minutes,
    mark_meeting_held,
)
from governance.reports.schemas import ReportDraft
from governance.reports.services import acknowledge_delivery, create_report, submit_report
from governance.reports.tables import Delivery
from tests.factories import make_meeting, viewer_for
from tests.helpers import found

backfill = importlib.import_module(
    "governance.core.piccolo_migrations.core_2026_12_03t06_20_01_000000"
)


async def _scopes(table) -> dict[int, tuple]:
    rows = await table.select(table.id, table.group_id, table.visibility)
    return {row["id"]: (row["group_id"], row["visibility"]) for row in rows}


async def _history(cast) -> None:
    import datetime as dt

    from governance.core.clock import utcnow
    from governance.meetings.schemas import Approval

    chair = await viewer_for(cast.chair)
    for title, route in (("To both", "both"), ("To the Board", "board")):
        report_id = await create_report(
            cast.slug,
            ReportDraft(kind="recommendation", period="", title=title, body="Text.", route=route),
            chair,
        )
        await submit_report(report_id, chair)
    delivery = found(
        await Delivery.select(Delivery.id).where(Delivery.recipient == "board").first()
    )
    await acknowledge_delivery(delivery["id"], await viewer_for(cast.board))
    await create_report(
        cast.slug,
        ReportDraft(kind="recommendation", period="", title="Draft", body="", route="both"),
        chair,
    )
    meeting_id = await make_meeting(
        cast.slug, cast.chair, starts_at=utcnow().replace(microsecond=0) - dt.timedelta(days=2)
    )
    for visibility in ("public", "internal", "board", "group"):
        await add_agenda_item(
            meeting_id, AgendaItemDetails(title=f"{visibility} item", visibility=visibility), chair
        )
    await mark_meeting_held(meeting_id, chair)
    await circulate_minutes(meeting_id, chair)
    await approve_minutes(meeting_id, Approval(method="circulation"), chair)
    await add_erratum(meeting_id, NewErratum(body="Board erratum", visibility="board"), chair)


async def test_the_migration_gives_earlier_rows_the_scope_the_services_record(cast):
    await _history(cast)
    recorded_events, recorded_emails = await _scopes(AuditEvent), await _scopes(OutboundEmail)
    assert ("board" in {v for _, v in recorded_events.values()}) and recorded_emails
    async with write_transaction():
        for table in (AuditEvent, OutboundEmail):
            await table.update({table.group_id: None, table.visibility: None}, force=True)

    await backfill._scope_earlier_rows()

    assert await _scopes(AuditEvent) == recorded_events
    assert await _scopes(OutboundEmail) == recorded_emails
    assert (await verify_chain()).intact
