"""Issue 18 in a real browser: the Wellbeing chair creates a pulse from the library (adding
one question about the respondent), launches a run to 12 staff; 6 answer from their email
links without signing in, and a second use of a link is refused; the chair sees the
results, in which a cut of 4 answers shows nothing, and a trend across two runs. Every
wait is on an event (a navigation, a locator); nothing sleeps."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import Browser, Page, expect

from governance.core.clock import organisation_today
from governance.pulses import jobs, services
from governance.pulses.queries import questions_of
from governance.pulses.schemas import NewRun
from governance.pulses.tables import Pulse
from tests.browser.conftest import sign_in_through_form
from tests.factories import PASSWORD, make_group, make_membership, make_user, viewer_for
from tests.helpers import found
from tests.pulses.conftest import answers_for, links, roster_csv

EXPECT_TIMEOUT_MS = 60_000


async def _submit(page: Page, button: str) -> None:
    async with page.expect_navigation():
        await page.get_by_role("button", name=button).click()


async def _answer(page: Page, link: str, questions: list, field_work: bool) -> None:  # type: ignore[type-arg]
    await page.goto(link)
    for question in questions:
        name = f"q{question.id}"
        value = {"scale": "4", "enps": "9"}.get(question.kind)
        if question.kind == "choice":
            value = question.options[1]
        if question.kind == "demographic":
            value = "Yes" if field_work else "No"
        if value is not None:
            await page.locator(f'input[name="{name}"][value="{value}"]').check()
    await _submit(page, "Send my answers")
    await expect(page.get_by_role("heading", name="Thank you")).to_be_visible(
        timeout=EXPECT_TIMEOUT_MS
    )


async def test_chair_runs_a_pulse_staff_answer_by_link_and_the_chair_reads_a_trend(
    browser: Browser, live_server: str
) -> None:
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    chair = await make_user("chair@example.org", "Wren Okafor")
    await make_membership(chair, group_id, "chair", organisation_today() - dt.timedelta(days=90))
    await services.import_roster(roster_csv(12), await viewer_for(await make_user(admin=True)))

    context = await browser.new_context()
    page = await context.new_page()
    page.set_default_timeout(EXPECT_TIMEOUT_MS)
    await sign_in_through_form(page, live_server, "chair@example.org", PASSWORD)
    await page.goto(f"{live_server}/groups/wellbeing/pulses/new")
    await page.get_by_label("Title").fill("Winter wellbeing check-in")
    await page.get_by_label("Starting questions").select_option("wellbeing")
    await _submit(page, "Create the pulse")
    await expect(page.get_by_role("heading", name="Winter wellbeing check-in")).to_be_visible()
    await page.get_by_label("Kind").select_option("demographic")
    # The form below the questions (each question above has its own, folded away).
    await page.locator("#prompt").fill("Do you work in the field?")
    await page.locator("#options").fill("Yes\nNo")
    await _submit(page, "Add the question")
    closes_on = organisation_today() + dt.timedelta(days=10)
    await page.get_by_label("Closes on").fill(closes_on.isoformat())
    await _submit(page, "Launch the run")
    await expect(page.get_by_text("Fewer than 5 responses")).to_be_visible()
    results_url = page.url

    pulse_id = found(await Pulse.select(Pulse.id).first())["id"]
    questions = await questions_of(pulse_id)
    run_id = int(results_url.rsplit("/", 1)[1])
    sent = sorted((await links(run_id)).values())
    assert len(sent) == 12
    # Six staff, each in a browser of their own that never signed in.
    for number, link in enumerate(sent[:6]):
        staff = await browser.new_context()
        staff_page = await staff.new_page()
        staff_page.set_default_timeout(EXPECT_TIMEOUT_MS)
        await _answer(
            staff_page, link.replace("http://testserver", live_server), questions, number < 4
        )
        if number == 0:
            await staff_page.goto(link.replace("http://testserver", live_server))
            await expect(staff_page.get_by_text("used already")).to_be_visible()
        await staff.close()

    await page.goto(results_url)
    await expect(page.get_by_text("6 responses of 12 invited")).to_be_visible()
    await expect(page.get_by_role("table", name="All responses")).to_be_visible()
    # Four said they work in the field: that cut shows nothing (nor does the other, which
    # the whole run less it would give away).
    await expect(page.get_by_text("Do you work in the field? Yes: fewer than 5")).to_be_visible()
    assert await page.get_by_role("table", name="Do you work in the field? Yes").count() == 0

    # A second run, answered by five, after the first closes.
    await jobs.pulse_sweep(closes_on + dt.timedelta(days=1))
    second = await services.launch_run(
        pulse_id, NewRun(closes_on=closes_on), await viewer_for(chair)
    )
    for link in sorted((await links(second)).values())[:5]:
        await services.answer_pulse(link.rsplit("/", 1)[1], answers_for(questions, score=3))
    await page.goto(f"{live_server}/pulses/{pulse_id}")
    trend = page.locator("#chart-pulse-trend")
    await expect(trend.locator("img")).to_be_visible()
    rows = trend.locator("table.chart-data tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("4")
    await expect(rows.nth(1)).to_contain_text("3")
    await context.close()
