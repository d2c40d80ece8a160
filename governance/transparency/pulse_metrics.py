"""The pulse summary of a transparency report: the runs of each group's pulses that closed
in the period (their closing day, a local date, within it), of a visibility the edition
counts (`scopes.counted_in_edition`: never a group-only run, a Board-only one only in the
Board edition), with their response counts and each scored question's headline (the mean
of a 1 to 5 scale, the eNPS of the 0 to 10 question) where the pulse threshold allows it.

The headlines come from `pulses.queries.compute`, the same figures the results page shows,
with no viewer (so never a comment); a figure it suppresses is stored as None, so the
report's stored figures, frozen when it is published, hold nothing the threshold hides.
Three queries, whatever the number of runs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from governance.accounts import scopes
from governance.pulses import queries as pulse_queries
from governance.pulses.schemas import Kind, QuestionView, RunResultsView
from governance.pulses.tables import PulseQuestion, PulseResponse, PulseRun
from governance.transparency.figures import GroupFigures, Period, PulseRunFigures


async def _runs(group_ids: list[int], period: Period, edition: str) -> list[dict[str, Any]]:
    return list(
        await PulseRun.select(*pulse_queries.run_columns())
        .where(
            PulseRun.pulse.group.is_in(group_ids)
            & (PulseRun.closes_on >= period.starts_on)
            & (PulseRun.closes_on <= period.ends_on)
            & scopes.counted_in_edition(PulseRun.visibility, edition)
        )
        .order_by(PulseRun.closes_on)
        .order_by(PulseRun.id)
    )


async def _questions(pulse_ids: list[int]) -> dict[int, list[QuestionView]]:
    rows = (
        await PulseQuestion.select(
            PulseQuestion.id,
            PulseQuestion.pulse,
            PulseQuestion.position,
            PulseQuestion.kind,
            PulseQuestion.prompt,
            PulseQuestion.options,
        )
        .where(PulseQuestion.pulse.is_in(pulse_ids or [0]))
        .order_by(PulseQuestion.position)
        .order_by(PulseQuestion.id)
        .output(load_json=True)
    )
    by_pulse: dict[int, list[QuestionView]] = defaultdict(list)
    for row in rows:
        by_pulse[row.pop("pulse")].append(QuestionView(**row))
    return by_pulse


async def _responses(run_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    rows = (
        await PulseResponse.select(PulseResponse.run, PulseResponse.answers)
        .where(PulseResponse.run.is_in(run_ids or [0]))
        .order_by(PulseResponse.id)
        .output(load_json=True)
    )
    by_run: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_run[row["run"]].append(row["answers"])
    return by_run


def run_figures(view: RunResultsView, closes_on: Any) -> PulseRunFigures:
    headlines: list[tuple[str, str, float | None]] = []
    for question in view.questions:
        if question.kind == Kind.SCALE:
            headlines.append((question.prompt, "mean", question.mean))
        elif question.kind == Kind.ENPS:
            headlines.append((question.prompt, "eNPS", question.enps))
    return PulseRunFigures(
        pulse_title=view.pulse_title,
        run_number=view.run.number,
        closes_on=closes_on,
        invited=view.run.invited,
        responses=view.run.responses,
        threshold=view.threshold,
        headlines=headlines,
    )


async def add_pulse_runs(
    figures: dict[int, GroupFigures], group_ids: list[int], period: Period, edition: str
) -> None:
    """Each group's pulse runs of the period, into its figures."""
    runs = await _runs(group_ids, period, edition)
    questions = await _questions(sorted({run["pulse"] for run in runs}))
    responses = await _responses([run["id"] for run in runs])
    for run in runs:
        group = figures.get(run["pulse.group"])
        if group is None:
            continue
        view = pulse_queries.compute(
            run, questions.get(run["pulse"], []), responses.get(run["id"], []), None
        )
        if view.suppressed:
            # The headlines' questions are named all the same, each shown as not given.
            scored = [q for q in questions.get(run["pulse"], []) if q.kind in _HEADLINE_KINDS]
            view.questions = []
            group.pulse_runs.append(_suppressed_run(view, scored, run["closes_on"]))
        else:
            group.pulse_runs.append(run_figures(view, run["closes_on"]))


_HEADLINE_KINDS = (Kind.SCALE, Kind.ENPS)


def _suppressed_run(
    view: RunResultsView, scored: list[QuestionView], closes_on: Any
) -> PulseRunFigures:
    result = run_figures(view, closes_on)
    result.headlines = [
        (q.prompt, "mean" if q.kind == Kind.SCALE else "eNPS", None) for q in scored
    ]
    return result
