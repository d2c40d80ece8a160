"""The report form and the response form report every field's error in one round, through
the page and through the API, in the same words; and a refused form changes nothing."""

from __future__ import annotations

import datetime as dt
from html import unescape
from typing import Any

import httpx

from governance.accounts.services import issue_api_token
from governance.actions.tables import ActionItem
from governance.core.clock import organisation_today
from governance.core.tables import AuditEvent
from governance.reports import services
from governance.reports.schemas import ReportDraft
from governance.reports.tables import Delivery, Report
from tests.factories import viewer_for
from tests.helpers import field_error, found, post_form, shown_after_refusal, sign_in


def errors_of(html: str, *names: str) -> dict[str, str | None]:
    """Each field's error as the person reads it (the page escapes quotes)."""
    errors = {name: field_error(html, name) for name in names}
    return {name: error and unescape(error) for name, error in errors.items()}


async def bearer(persona: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await issue_api_token(f'{persona}@example.org')}"}


def day(days: int) -> str:
    return (organisation_today() + dt.timedelta(days=days)).isoformat()


async def counts() -> tuple[int, ...]:
    """What a refused form must leave as it was."""
    return (
        await Report.count(),
        await Delivery.count().where(Delivery.state == "responded"),
        await ActionItem.count(),
        await AuditEvent.count(),
    )


# Five fields wrong at once: a missing title, a period of no cadence, a periodic report to
# one line only, a text too long, and a follow-up of a report that does not exist.
BAD_REPORT: dict[str, Any] = {
    "kind": "periodic",
    "period": "2026-Q9",
    "title": "",
    "body": "x" * 100_001,
    "route": "board",
    "follows_up": 99999,
}
REPORT_ERRORS = {
    "title": "Title is required.",
    "period": "Name the period, e.g. 2026-Q4, 2026-H2, 2026-11 or 2026.",
    "route": "A periodic report always goes to both lines.",
    "body": "Report must be at most 100000 characters.",
    "follows_up": "A follow-up refers to a submitted report of the same group.",
}


async def test_the_report_form_reports_every_field_in_one_round(
    client: httpx.AsyncClient, cast: Any
) -> None:
    await sign_in(client, cast.chair)
    token = await bearer("chair")
    before = await counts()
    form = {**BAD_REPORT, "follows_up": str(BAD_REPORT["follows_up"])}
    response = await post_form(client, f"/groups/{cast.slug}/reports/new", form)
    response = await shown_after_refusal(client, response)
    assert errors_of(response.text, *REPORT_ERRORS) == REPORT_ERRORS

    # The same through the API, in the same words.
    response = await client.post(
        f"/api/v1/groups/{cast.slug}/reports", json=BAD_REPORT, headers=token
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == REPORT_ERRORS
    assert await counts() == before


async def test_editing_a_draft_reports_every_field_in_one_round(
    client: httpx.AsyncClient, cast: Any
) -> None:
    report_id = await services.create_report(
        cast.slug,
        ReportDraft(kind="recommendation", title="Quiet rooms", body="We need them."),
        await viewer_for(cast.chair),
    )
    await sign_in(client, cast.secretary)
    before = await Report.select().where(Report.id == report_id).first()
    form = {
        "kind": "memo",
        "title": "Line\x01break",
        "route": "everyone",
        "follows_up": "one",
    }
    response = await post_form(client, f"/reports/{report_id}/edit", form)
    response = await shown_after_refusal(client, response)
    assert errors_of(response.text, "kind", "title", "route", "follows_up") == {
        "kind": "Choose one of: periodic, recommendation.",
        "title": "Title must be on one line, without control characters.",
        "route": "Choose one of: both, board, director.",
        "follows_up": "Follows up report must be a whole number.",
    }
    assert await Report.select().where(Report.id == report_id).first() == before


async def _director_delivery(cast: Any) -> int:
    chair = await viewer_for(cast.chair)
    report_id = await services.create_report(
        cast.slug,
        ReportDraft(kind="recommendation", title="Flexible hours", body="We recommend it."),
        chair,
    )
    await services.submit_report(report_id, chair)
    # The Director has opened it: the read receipt is not what the tests look at.
    await services.open_report(report_id, await viewer_for(cast.director))
    delivery = found(
        await Delivery.select(Delivery.id)
        .where((Delivery.report == report_id) & (Delivery.recipient == "director"))
        .first()
    )
    return int(delivery["id"])


async def test_the_response_form_reports_every_field_in_one_round(
    client: httpx.AsyncClient, cast: Any
) -> None:
    delivery_id = await _director_delivery(cast)
    await sign_in(client, cast.director)
    token = await bearer("director")
    before = await counts()
    # No rationale for a refusal; the first action for a stranger, due yesterday; the
    # second with a title too long. The third row is empty and left out.
    form = {
        "response": "declined",
        "rationale": "",
        "action_title_1": "Survey the teams",
        "action_owner_1": str(cast.stranger),
        "action_due_1": day(-1),
        "action_title_2": "x" * 301,
        "action_owner_2": str(cast.director),
        "action_due_2": day(7),
        "action_owner_3": str(cast.director),
    }
    owners = "Choose owners from yourself and the group's current members."
    expected = {
        "rationale": "Give the reasons when declining or only partly accepting.",
        "action_owner_1": owners,
        "action_due_1": "The due date cannot be in the past.",
        "action_title_2": "Action must be at most 300 characters.",
    }
    response = await post_form(client, f"/deliveries/{delivery_id}/respond", form)
    response = await shown_after_refusal(client, response)
    assert errors_of(response.text, *expected, "action_owner_2", "action_due_2") == {
        **expected,
        "action_owner_2": None,
        "action_due_2": None,
    }

    # The same through the API, in the same words, named as the API names them.
    body = {
        "response": "declined",
        "actions": [
            {"title": "Survey the teams", "owner_ids": [cast.stranger], "due_on": day(-1)},
            {"title": "x" * 301, "owner_ids": [cast.director], "due_on": day(7)},
        ],
    }
    response = await client.post(
        f"/api/v1/deliveries/{delivery_id}/respond", json=body, headers=token
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == {
        "rationale": expected["rationale"],
        "actions[0].owner_ids": owners,
        "actions[0].due_on": expected["action_due_1"],
        "actions[1].title": expected["action_title_2"],
    }
    assert await counts() == before


async def test_a_response_form_that_cannot_be_read_says_why_beside_each_field(
    client: httpx.AsyncClient, cast: Any
) -> None:
    delivery_id = await _director_delivery(cast)
    await sign_in(client, cast.director)
    before = await counts()
    form = {
        "response": "maybe",
        "action_title_2": "Survey the teams",
        "action_owner_2": "someone",
        "action_due_2": "soon",
    }
    response = await post_form(client, f"/deliveries/{delivery_id}/respond", form)
    response = await shown_after_refusal(client, response)
    assert errors_of(response.text, "response", "action_owner_2", "action_due_2") == {
        "response": "Choose accepted, partially accepted, declined or noted.",
        "action_owner_2": "Owners: choose from the list.",
        "action_due_2": "Due date must be a date (YYYY-MM-DD).",
    }
    assert await counts() == before
