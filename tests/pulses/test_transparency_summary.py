"""The pulse summary of a group's transparency report: the runs that closed in the period,
of a visibility the edition counts (never a group-only run; a Board-only one in the Board
edition only), their response rates and headline scores where the threshold allows, "not
shown: fewer than N people" otherwise; computed when the report is generated and frozen
with it when published."""

from __future__ import annotations

import datetime as dt

from governance.core.clock import organisation_today
from governance.pulses import services
from governance.pulses.schemas import NewPulse
from governance.pulses.tables import PulseRun
from governance.transparency import services as transparency
from governance.transparency.metrics import compute_figures, last_ended_quarter
from governance.transparency.schemas import GenerateReport
from tests.factories import viewer_for
from tests.helpers import sign_in
from tests.pulses.conftest import answers_for, import_staff, launch, links, questions


def _quarter():  # type: ignore[no-untyped-def]
    """The last quarter that has ended (a report is approved once its period is over)."""
    return last_ended_quarter(organisation_today())


def _this_quarter() -> str:
    return _quarter().label


async def _move_runs(closes_on) -> None:  # type: ignore[no-untyped-def]
    """Every run closes on that day (opening a week before it)."""
    await PulseRun.update(
        {PulseRun.closes_on: closes_on, PulseRun.opens_on: closes_on - dt.timedelta(days=7)}
    ).where(PulseRun.id > 0)


async def _run(cast, title: str, visibility: str, answers: int, score: int = 4):  # type: ignore[no-untyped-def]
    """A run of a new pulse that closes today (within this quarter), with `answers`."""
    chair = await viewer_for(cast.chair)
    pulse_id = await services.create_pulse(
        cast.group_id, NewPulse(title=title, theme="wellbeing", visibility=visibility), chair
    )
    run_id = await launch(cast, pulse_id)
    qs = await questions(pulse_id)
    sent = sorted((await links(run_id)).values())
    for link in sent[:answers]:
        await services.answer_pulse(link.rsplit("/", 1)[1], answers_for(qs, score=score))
    return run_id, sent[answers:], qs


async def _world(cast):  # type: ignore[no-untyped-def]
    await import_staff(10)
    small = await _run(cast, "Small internal pulse", "internal", 3, score=1)
    await _run(cast, "Big internal pulse", "internal", 6)
    await _run(cast, "Board-only pulse", "board", 6)
    await _run(cast, "Group-only pulse", "group", 6)
    # Answered while open; then each run is one that closed on the quarter's last day.
    await _move_runs(_quarter().ends_on)
    return small


def _titles(figures) -> list[str]:  # type: ignore[no-untyped-def]
    return [run.pulse_title for run in figures.groups[0].pulse_runs]


async def test_each_edition_counts_the_runs_it_may_and_shows_only_what_the_threshold_allows(
    cast,
):
    await _world(cast)
    public = await compute_figures(cast.slug, _this_quarter(), "public")
    assert sorted(_titles(public)) == ["Big internal pulse", "Small internal pulse"]
    board = await compute_figures(cast.slug, _this_quarter(), "board")
    assert sorted(_titles(board)) == [
        "Big internal pulse",
        "Board-only pulse",
        "Small internal pulse",
    ]
    runs = {run.pulse_title: run for run in public.groups[0].pulse_runs}
    small, big = runs["Small internal pulse"], runs["Big internal pulse"]
    assert (small.responses, small.invited, small.threshold) == (3, 10, 5)
    assert small.headlines and all(value is None for _, _, value in small.headlines)
    assert big.responses == 6
    assert {kind for _, kind, _ in big.headlines} == {"mean", "eNPS"}
    assert all(value == 4.0 for _, kind, value in big.headlines if kind == "mean")


async def test_the_published_report_carries_the_summary_frozen_and_suppressed(cast, client):
    _, unanswered, qs = await _world(cast)
    chair = await viewer_for(cast.chair)
    command = GenerateReport(scope=cast.slug, period=_this_quarter(), edition="public")
    report_id = (await transparency.generate_report(command, chair)).report_id
    await transparency.approve_report(report_id, chair)
    await transparency.publish_report(report_id, chair)
    # Two more answers take the small run to the threshold: the report does not move.
    await _move_runs(organisation_today() + dt.timedelta(days=3))
    for link in unanswered[:2]:
        await services.answer_pulse(link.rsplit("/", 1)[1], answers_for(qs, score=1))
    await _move_runs(_quarter().ends_on)
    live = await compute_figures(cast.slug, _this_quarter(), "public")
    live_small = next(r for r in live.groups[0].pulse_runs if r.pulse_title.startswith("Small"))
    assert live_small.responses == 5 and live_small.headlines[0][2] == 1.0
    await sign_in(client, cast.director)
    page = (await client.get(f"/transparency/reports/{report_id}")).text
    assert "Pulse check-ins" in page and "Big internal pulse, run 1" in page
    assert "Small internal pulse, run 1" in page and "not shown: fewer than 5 people" in page
    assert "fewer than 5 responses of 10 invited" in page
    assert "Board-only pulse" not in page and "Group-only pulse" not in page
    document = (await client.get(f"/transparency/reports/{report_id}/json")).json()
    runs = {r["run"]: r for r in document["report"]["groups"][0]["pulse_runs"]}
    assert set(runs) == {"Big internal pulse, run 1", "Small internal pulse, run 1"}
    small = runs["Small internal pulse, run 1"]
    assert small["responses"] == "fewer than 5" and small["response_rate"] == "fewer than 5"
    assert all(v.startswith("not shown") for v in small["headlines"].values())
    assert "1" not in "".join(small["headlines"].values())
    big = runs["Big internal pulse, run 1"]
    assert big["responses"] == "6" and big["response_rate"] == "60%"
