"""Irreversible steps ask first (issue 16), in a real browser: submitting a report, recording a
response, publishing a transparency report, approving and locking minutes, marking a meeting
held and removing an agenda item.

With JavaScript, the step's button opens a dialog that says what cannot be undone; going back
changes nothing, going ahead takes the step. Without JavaScript, the form carries a box to
tick ("I understand this cannot be undone"): sent unticked, the server refuses with the
reason beside the box and in the error summary, and changes nothing; ticked, the step is
taken."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from piccolo.table import Table
from playwright.async_api import Page, expect

from governance.core.clock import organisation_today, utcnow
from governance.meetings import services as meetings
from governance.meetings.schemas import AgendaItemDetails, MinutesDraft
from governance.meetings.tables import AgendaItem, Meeting, Minutes
from governance.reports import services as reports
from governance.reports.schemas import ReportDraft
from governance.reports.tables import Delivery, Report
from governance.transparency import services as transparency
from governance.transparency.schemas import GenerateReport
from governance.transparency.tables import TransparencyReport
from tests.browser.conftest import sign_in_through_form
from tests.factories import (
    PASSWORD,
    make_group,
    make_meeting,
    make_membership,
    make_user,
    viewer_for,
)
from tests.helpers import found

SLUG = "wellbeing"
CHAIR = "chair@example.org"
DIRECTOR = "director@example.org"


@dataclass(frozen=True)
class Step:
    """One irreversible step: who takes it, on which page, with which button; what the
    confirmation says cannot be undone; and how to tell it was taken."""

    name: str
    who: str
    button: str
    cannot_undo: str
    page: Callable[[World], str]
    taken: Callable[[World], Awaitable[bool]]
    # Fills the rest of the step's form (a response needs its answer).
    fill: Callable[[Page], Awaitable[None]] | None = None


@dataclass(frozen=True)
class World:
    started_meeting: int
    item: int
    circulated_meeting: int
    draft_report: int
    delivered_report: int
    delivery: int
    transparency_report: int


async def _world() -> World:
    group_id = await make_group(slug=SLUG, name="Working Group on Wellbeing")
    start = organisation_today() - dt.timedelta(days=400)
    chair_id = await make_user(CHAIR, "Wren Okafor")
    await make_membership(chair_id, group_id, "chair", start)
    director_id = await make_user(DIRECTOR, "Dana Mensah", director=True)
    chair = await viewer_for(chair_id)

    # A meeting that began an hour ago, still scheduled, with one agenda item.
    started = await make_meeting(SLUG, chair_id, starts_at=utcnow() - dt.timedelta(hours=1))
    item = await meetings.add_agenda_item(
        started, AgendaItemDetails(title="Budget", visibility="internal", notes=""), chair
    )
    # A meeting held last month whose minutes are circulated.
    circulated = await make_meeting(SLUG, chair_id, starts_at=utcnow() - dt.timedelta(days=30))
    await meetings.mark_meeting_held(circulated, chair)
    await meetings.save_minutes(circulated, MinutesDraft(summary="We met."), chair)
    await meetings.circulate_minutes(circulated, chair)

    draft = await reports.create_report(
        SLUG,
        ReportDraft(kind="recommendation", title="Flexible hours", body="We recommend it."),
        chair,
    )
    delivered = await reports.create_report(
        SLUG,
        ReportDraft(kind="recommendation", title="Quiet rooms", body="Every floor needs one."),
        chair,
    )
    await reports.submit_report(delivered, chair)
    await reports.open_report(delivered, await viewer_for(director_id))
    delivery = found(
        await Delivery.select(Delivery.id)
        .where((Delivery.report == delivered) & (Delivery.recipient == "director"))
        .first()
    )

    quarter = (organisation_today().month - 1) // 3
    year = organisation_today().year if quarter else organisation_today().year - 1
    period = f"{year}-Q{quarter or 4}"
    generated = await transparency.generate_report(
        GenerateReport(scope=SLUG, period=period, edition="board"), chair
    )
    await transparency.approve_report(generated.report_id, chair)
    return World(
        started, item, circulated, draft, delivered, int(delivery["id"]), generated.report_id
    )


async def _status(table: type[Table], row_id: int, column: str) -> object:
    row = (
        await table.select(getattr(table, column)).where(table._meta.primary_key == row_id).first()
    )
    return None if row is None else row[column]


async def _by_circulation(page: Page) -> None:
    await page.get_by_label("Approved", exact=True).select_option("circulation")


async def _respond(page: Page) -> None:
    form = page.locator("#line-director form").last
    # Nothing is chosen for the person.
    await expect(form.get_by_label("Response", exact=True)).to_have_value("")
    await form.get_by_label("Response", exact=True).select_option("noted")


STEPS = (
    Step(
        "mark held",
        CHAIR,
        "Mark as held",
        "its title, times, place and agenda can no longer change",
        lambda w: f"/meetings/{w.started_meeting}",
        lambda w: _is(Meeting, w.started_meeting, "status", "held"),
    ),
    Step(
        "remove agenda item",
        CHAIR,
        "Remove the item",
        "a removed agenda item is deleted",
        lambda w: f"/meetings/{w.started_meeting}",
        lambda w: _gone(AgendaItem, w.item),
    ),
    Step(
        "approve minutes",
        CHAIR,
        "Approve and lock",
        "approved minutes are locked for good",
        lambda w: f"/meetings/{w.circulated_meeting}",
        lambda w: _minutes_approved(w.circulated_meeting),
        fill=_by_circulation,
    ),
    Step(
        "submit report",
        CHAIR,
        "Submit and deliver",
        "a submitted report is frozen and delivered",
        lambda w: f"/reports/{w.draft_report}",
        lambda w: _is_submitted(w.draft_report),
    ),
    Step(
        "record response",
        DIRECTOR,
        "Record response",
        "they cannot be changed afterwards",
        lambda w: f"/reports/{w.delivered_report}",
        lambda w: _is(Delivery, w.delivery, "state", "responded"),
        fill=_respond,
    ),
    Step(
        "publish transparency report",
        CHAIR,
        "Publish: freeze it and tell the Board",
        "a published report is frozen under its SHA-256",
        lambda w: f"/transparency/reports/{w.transparency_report}",
        lambda w: _is(TransparencyReport, w.transparency_report, "status", "published"),
    ),
)


async def _is(table: type[Table], row_id: int, column: str, value: str) -> bool:
    return await _status(table, row_id, column) == value


async def _gone(table: type[Table], row_id: int) -> bool:
    return not await table.exists().where(table._meta.primary_key == row_id)


async def _minutes_approved(meeting_id: int) -> bool:
    row = await Minutes.select(Minutes.status).where(Minutes.meeting == meeting_id).first()
    return row is not None and row["status"] == "approved"


async def _is_submitted(report_id: int) -> bool:
    return await _status(Report, report_id, "submitted_at") is not None


async def _open(page: Page, live_server: str, step: Step, world: World) -> None:
    await sign_in_through_form(page, live_server, step.who, PASSWORD)
    await page.goto(live_server + step.page(world))
    if step.name == "remove agenda item":
        # Removing is a step of its own: its link shows the page with the confirmation.
        await page.locator(".remove-link").first.click()
        await expect(page.locator(".remove-item")).to_be_visible()
    if step.fill:
        await step.fill(page)


@pytest.mark.parametrize("step", STEPS, ids=[step.name for step in STEPS])
async def test_with_javascript_a_dialog_asks_first(
    browser_page: Page, live_server: str, step: Step
) -> None:
    page = browser_page
    world = await _world()
    await _open(page, live_server, step, world)
    # The box gives way to the dialog.
    form = page.locator("form").filter(has=page.get_by_role("button", name=step.button))
    await expect(form.locator("[data-confirm-box]")).to_be_hidden()
    await page.get_by_role("button", name=step.button).click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text(step.cannot_undo)
    # Going back changes nothing.
    await dialog.get_by_role("button", name="Go back").click()
    await expect(dialog).to_be_hidden()
    assert not await step.taken(world)
    # Going ahead takes the step.
    await page.get_by_role("button", name=step.button).click()
    async with page.expect_navigation():
        await dialog.get_by_role("button", name=step.button).click()
    await expect(page.get_by_role("status")).to_be_visible()
    assert await step.taken(world), step.name


@pytest.mark.parametrize("step", STEPS, ids=[step.name for step in STEPS])
async def test_without_javascript_a_box_must_be_ticked(
    no_script_page: Page, live_server: str, step: Step
) -> None:
    page = no_script_page
    world = await _world()
    await _open(page, live_server, step, world)
    # Sent unticked: refused, with the reason beside the box and in the summary.
    async with page.expect_navigation():
        await page.get_by_role("button", name=step.button).click()
    assert not await step.taken(world)
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("There is a problem")
    link = summary.get_by_role("link").filter(has_text=step.cannot_undo)
    await expect(link).to_have_count(1)
    box = page.locator("#understood")
    await expect(box).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#understood-error")).to_contain_text(step.cannot_undo)
    # The summary's link leads to the box.
    await link.click()
    await expect(box).to_be_focused()
    # Ticked (what else was chosen is kept): the step is taken.
    await box.check()
    async with page.expect_navigation():
        await page.get_by_role("button", name=step.button).click()
    await expect(page.get_by_role("status")).to_be_visible()
    assert await step.taken(world), step.name
