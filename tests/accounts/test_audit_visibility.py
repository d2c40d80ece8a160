"""Issue 11, item 6: the audit trail and the outbox apply their reader's visibility.

A Director who is also an administrator must learn nothing from /audit or /admin/outbox of
a Board-only record: the pages read the same, byte for byte, before and after a Board-only
report is drafted, submitted, delivered (emails queued to the Board) and acknowledged. The
Board, likewise, learns nothing of a group-only record. Readers still see the events of
what they may read.
"""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
import time_machine

from governance.core.email import STATUS_PARKED
from governance.core.tables import AuditEvent, OutboundEmail
from governance.meetings.schemas import AgendaItemDetails
from governance.meetings.services import add_agenda_item
from governance.reports.schemas import ReportDraft
from governance.reports.services import acknowledge_delivery, create_report, submit_report
from governance.reports.tables import Delivery
from tests.factories import make_meeting, make_user, viewer_for
from tests.helpers import QueryCounter, csrf_token, found, post_form, sign_in

MOMENT = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def still_clock():
    """Pages show times; the clock stands still so that two readings can be compared."""
    with time_machine.travel(MOMENT, tick=False):
        yield


async def _report(cast, title: str, route: str) -> int:
    chair = await viewer_for(cast.chair)
    draft = ReportDraft(kind="recommendation", period="", title=title, body="Text.", route=route)
    report_id = await create_report(cast.slug, draft, chair)
    await submit_report(report_id, chair)
    return report_id


async def _board_only_activity(cast) -> int:
    """A Board-only recommendation, submitted (its emails to the Board queued) and
    acknowledged by the Board; returns its id."""
    report_id = await _report(cast, "Independence channel", "board")
    delivery = found(await Delivery.select(Delivery.id).where(Delivery.report == report_id).first())
    await acknowledge_delivery(delivery["id"], await viewer_for(cast.board))
    return report_id


async def _pages(client: httpx.AsyncClient) -> tuple[str, str]:
    audit = await client.get("/audit")
    outbox = await client.get("/admin/outbox")
    assert audit.status_code == 200 and outbox.status_code == 200
    return audit.text, outbox.text


async def test_a_director_who_is_an_admin_learns_nothing_of_board_only_records(
    client, cast, still_clock
):
    director_admin = await make_user("da@example.org", "Director Admin", director=True, admin=True)
    both = await _report(cast, "Flexitime recommendation", "both")
    await sign_in(client, director_admin)
    await csrf_token(client, "/audit")
    before = await _pages(client)

    board_only = await _board_only_activity(cast)

    assert await AuditEvent.count().where(AuditEvent.entity_id == str(board_only)) >= 2
    assert await OutboundEmail.count().where(OutboundEmail.template == "report_delivered") >= 3
    after = await _pages(client)
    assert after == before
    audit, outbox = after
    # What the Director reads is there: the report to both lines, and its emails.
    assert f"Report {both} submitted to" in audit
    assert "report_delivered" in outbox or "Report delivered" in outbox
    # No sequence numbers: their gaps would count the events left out.
    assert not re.search(r"<th[^>]*>#</th>", audit)


async def test_the_board_learns_nothing_of_group_only_records(client, cast, still_clock):
    board_admin = await make_user("ba@example.org", "Board Admin", board=True, admin=True)
    meeting_id = await make_meeting(cast.slug, cast.chair)
    await sign_in(client, board_admin)
    await csrf_token(client, "/audit")
    before = await _pages(client)

    await add_agenda_item(
        meeting_id,
        AgendaItemDetails(title="Among ourselves", visibility="group"),
        await viewer_for(cast.chair),
    )

    assert await _pages(client) == before
    # The Board reads Board-only records' events.
    board_only = await _board_only_activity(cast)
    audit, _ = await _pages(client)
    assert f"Report {board_only} submitted to Board" in audit
    assert f"Report {board_only} acknowledged on the Board line" in audit


async def test_a_plain_administrator_sees_no_board_only_or_group_only_events(client, cast):
    admin = await make_user("admin@example.org", "Admin", admin=True)
    board_only = await _board_only_activity(cast)
    await sign_in(client, admin)
    audit, outbox = await _pages(client)
    assert f"Report {board_only} " not in audit
    assert "report_delivered" not in outbox and "Report delivered" not in outbox


async def test_a_hidden_parked_email_is_not_found_as_a_missing_one(client, cast, count_queries):
    director_admin = await make_user("da@example.org", "Director Admin", director=True, admin=True)
    await _board_only_activity(cast)
    hidden = found(
        await OutboundEmail.select(OutboundEmail.id)
        .where(OutboundEmail.template == "report_delivered")
        .first()
    )
    await OutboundEmail.update({OutboundEmail.status: STATUS_PARKED}).where(
        OutboundEmail.id == hidden["id"]
    )
    await sign_in(client, director_admin)
    await csrf_token(client, "/admin/outbox")
    events = await AuditEvent.count()

    answers, costs = [], []
    for email_id in (hidden["id"], 999999):
        counter = QueryCounter(count_queries.engine)
        with counter():
            answers.append(await post_form(client, f"/admin/outbox/{email_id}/retry"))
        costs.append(counter.count)

    assert [answer.status_code for answer in answers] == [404, 404]
    assert answers[0].text == answers[1].text.replace("999999", str(hidden["id"]))
    assert costs[0] == costs[1]
    assert await AuditEvent.count() == events
    row = found(
        await OutboundEmail.select(OutboundEmail.status)
        .where(OutboundEmail.id == hidden["id"])
        .first()
    )
    assert row["status"] == STATUS_PARKED
    # A Board member who administers retries it.
    board_admin = await make_user("ba@example.org", "Board Admin", board=True, admin=True)
    client.cookies.clear()
    await sign_in(client, board_admin)
    retried = await post_form(client, f"/admin/outbox/{hidden['id']}/retry")
    assert retried.status_code in (302, 303)
    event = found(
        await AuditEvent.select(AuditEvent.visibility)
        .order_by(AuditEvent.sequence, ascending=False)
        .first()
    )
    assert event["visibility"] == "board"
