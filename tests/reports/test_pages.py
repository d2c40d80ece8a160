"""Report pages through HTTP: drafting with field errors, no route that changes a submitted
report, Board-only invisibility in every page, and fixed query counts for the line inboxes."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.core.clock import organisation_today
from governance.reports import services
from governance.reports.schemas import LineResponse, ReportDraft
from governance.reports.tables import Delivery, Report
from tests.factories import make_group, make_membership, make_user, viewer_for
from tests.helpers import field_error, found, post_form, shown_after_refusal, sign_in


async def _submitted(
    cast, route: str = "both", title: str = "Flexible hours", slug: str | None = None
) -> int:
    chair = await viewer_for(cast.chair)
    report_id = await services.create_report(
        slug or cast.slug,
        ReportDraft(kind="recommendation", period="", title=title, body="Body text.", route=route),
        chair,
    )
    await services.submit_report(report_id, chair)
    return report_id


async def test_draft_form_shows_field_errors_and_creates_nothing(client, cast):
    await sign_in(client, cast.chair)
    response = await post_form(
        client,
        f"/groups/{cast.slug}/reports/new",
        {"kind": "periodic", "period": "2026-Q9", "title": "", "route": "board"},
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "title") == "Title is required."
    assert "e.g. 2026-Q4" in found(field_error(response.text, "period"))
    assert await Report.count() == 0
    response = await post_form(
        client,
        f"/groups/{cast.slug}/reports/new",
        {
            "kind": "recommendation",
            "title": "Quiet rooms",
            "body": "We need quiet rooms.",
            "route": "both",
        },
    )
    assert response.status_code == 302
    assert await Report.count() == 1


async def test_submitting_an_empty_report_says_so_on_the_page(client, cast):
    chair = await viewer_for(cast.chair)
    report_id = await services.create_report(
        cast.slug,
        ReportDraft(kind="recommendation", period="", title="Empty", body="", route="both"),
        chair,
    )
    await sign_in(client, cast.chair)
    response = await post_form(client, f"/reports/{report_id}/submit")
    response = await shown_after_refusal(client, response)
    assert "An empty report cannot be submitted." in response.text
    assert await Delivery.count() == 0


@pytest.mark.parametrize("who", ["chair", "secretary", "director", "board"])
async def test_no_route_changes_a_submitted_report(client, cast, who):
    from governance.accounts.tables import User

    report_id = await _submitted(cast)
    await User.update({User.is_admin: True}).where(User.id == getattr(cast, who))  # admins included
    before = await Report.select().where(Report.id == report_id).first()
    await sign_in(client, getattr(cast, who))
    new_text = {
        "kind": "recommendation",
        "title": "Rewritten",
        "body": "Other text",
        "route": "board",
    }
    for url, data in (
        (f"/reports/{report_id}/edit", new_text),
        (f"/reports/{report_id}/discard", {}),
        (f"/reports/{report_id}/submit", {}),
    ):
        response = await post_form(client, url, data)
        if response.status_code == 303:
            # A refusal on the report's page is shown there (Post/Redirect/Get).
            response = await shown_after_refusal(client, response)
            assert 'class="flash flash-error"' in response.text or "error-summary" in response.text
            continue
        assert response.status_code in (403, 404, 409), (url, response.status_code)
    assert (await client.get(f"/reports/{report_id}/edit")).status_code in (403, 404, 409)
    after = await Report.select().where(Report.id == report_id).first()
    assert after == before


async def test_director_gets_404_for_a_board_only_report_exactly_as_for_a_missing_one(client, cast):
    hidden = await _submitted(cast, "board", "SECRET-TITLE")
    await _submitted(cast, "both", "Open report")
    await sign_in(client, cast.director)
    hidden_response = await client.get(f"/reports/{hidden}")
    missing_response = await client.get("/reports/99999")
    assert hidden_response.status_code == missing_response.status_code == 404
    assert hidden_response.text == missing_response.text
    board_delivery = found(
        await Delivery.select(Delivery.id).where(Delivery.report == hidden).first()
    )["id"]
    assert (await post_form(client, f"/deliveries/{board_delivery}/acknowledge")).status_code == 404
    for page in (f"/groups/{cast.slug}/reports", "/deliveries", "/", f"/groups/{cast.slug}"):
        response = await client.get(page)
        assert response.status_code == 200, page
        assert "SECRET-TITLE" not in response.text, page
    assert "Open report" in (await client.get("/deliveries")).text


async def test_response_form_refuses_decline_without_rationale(client, cast):
    report_id = await _submitted(cast)
    delivery_id = found(
        await Delivery.select(Delivery.id).where(Delivery.recipient == "director").first()
    )["id"]
    await sign_in(client, cast.director)
    response = await post_form(
        client, f"/deliveries/{delivery_id}/respond", {"response": "declined", "rationale": ""}
    )
    response = await shown_after_refusal(client, response)
    assert (
        field_error(response.text, "rationale")
        == "Give the reasons when declining or only partly accepting."
    )
    # A refused form changes nothing, not even the read receipt.
    assert (
        found(await Delivery.select(Delivery.state).where(Delivery.id == delivery_id).first())[
            "state"
        ]
        == "delivered"
    )
    due = (organisation_today() + dt.timedelta(days=10)).isoformat()
    response = await post_form(
        client,
        f"/deliveries/{delivery_id}/respond",
        {
            "response": "partially_accepted",
            "rationale": "Only in the London office.",
            "action_title_1": "Survey London staff",
            "action_owner_1": str(cast.director),
            "action_due_1": due,
            "understood": "on",
        },
    )
    assert response.status_code == 302
    page = (await client.get(f"/reports/{report_id}")).text
    assert "Partially accepted" in page and "Survey London staff" in page
    # Responding twice is refused with a clear message.
    response = await post_form(
        client, f"/deliveries/{delivery_id}/respond", {"response": "accepted", "rationale": ""}
    )
    response = await shown_after_refusal(client, response)
    assert "already responded" in response.text


async def _grow(cast, factor: int) -> None:
    for number in range(factor):
        slug = f"extra-{factor}-{number}"
        group_id = await make_group(slug=slug)
        chair = await make_user(f"chair-{factor}-{number}@example.org")
        await make_membership(chair, group_id, "chair", dt.date(2025, 1, 1))
        for route in ("both", "board", "director"):
            report_id = await services.create_report(
                slug,
                ReportDraft(
                    kind="recommendation", period="", title=f"R {route}", body="Text", route=route
                ),
                await viewer_for(chair),
            )
            await services.submit_report(report_id, await viewer_for(chair))
        delivery = found(
            await Delivery.select(Delivery.id)
            .where((Delivery.report == report_id) & (Delivery.recipient == "director"))
            .first()
        )
        await services.respond_to_delivery(
            delivery["id"],
            LineResponse(response="noted", rationale=""),
            await viewer_for(cast.director),
        )


@pytest.mark.parametrize("who", ["director", "board", "chair"])
async def test_line_pages_cost_a_fixed_number_of_queries(client, cast, count_queries, who):
    await _submitted(cast)
    await sign_in(client, getattr(cast, who))
    pages = (
        ["/deliveries", f"/groups/{cast.slug}/reports", "/"]
        if who != "chair"
        else [f"/groups/{cast.slug}/reports", "/"]
    )
    counts: dict[str, list[int]] = {page: [] for page in pages}
    for factor in (1, 10):
        await _grow(cast, factor)
        for page in pages:
            with count_queries() as counter:
                response = await client.get(page)
            assert response.status_code == 200, page
            counts[page].append(counter.count)
    for page, (small, large) in counts.items():
        assert small == large, (page, counts)
        # The page's own, and the navigation's "needs me" count read afresh (12).
        assert small <= 24, (page, counts)
