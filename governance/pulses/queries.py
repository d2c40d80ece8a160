"""Reads of pulses, with visibility applied in the query (`scopes.pulses`,
`scopes.pulse_runs`): a pulse or run the viewer may not read is "not found", like one that
does not exist. Results are figures only; no query here returns a response."""

from __future__ import annotations

from typing import Any

from piccolo.query.functions.aggregate import Count

from governance.accounts import scopes
from governance.accounts.policy import Viewer
from governance.core.clock import utcnow
from governance.core.db import one_row
from governance.core.errors import NotFoundError
from governance.groups.tables import WorkingGroup
from governance.meetings.tables import AgendaItem, Meeting
from governance.pulses import results
from governance.pulses.schemas import (
    CONSENT_TEXT,
    AgendaPlace,
    AnswerFormView,
    DraftPlace,
    Kind,
    PulseListView,
    PulseSummaryView,
    PulseView,
    QuestionView,
    RunResultsView,
    RunSummaryView,
    TrendPoint,
)
from governance.pulses.tables import (
    Pulse,
    PulseInvitation,
    PulseQuestion,
    PulseResponse,
    PulseRun,
    StaffMember,
)
from governance.reports.tables import Report
from governance.settings import get_settings
from governance.transparency.charts import Chart

NO_PULSE = "There is no pulse at this address."
NO_RUN = "There is no pulse run at this address."


def threshold() -> int:
    return get_settings().pulse_min_responses


async def pulse_list(viewer: Viewer, group_id: int | None = None) -> PulseListView:
    condition = scopes.pulses(viewer)
    if group_id is not None:
        condition = condition & (Pulse.group == group_id)
    rows = (
        await Pulse.select(
            Pulse.id, Pulse.title, Pulse.theme, Pulse.cadence, Pulse.group.slug, Pulse.group.name
        )
        .where(condition)
        .order_by(Pulse.group.name)
        .order_by(Pulse.id)
    )
    counts = (
        {
            row["pulse"]: row["count"]
            for row in await PulseRun.select(PulseRun.pulse, Count(PulseRun.id, alias="count"))
            .where(PulseRun.pulse.is_in([r["id"] for r in rows] or [0]))
            .group_by(PulseRun.pulse)
        }
        if rows
        else {}
    )
    return PulseListView(
        pulses=[
            PulseSummaryView(
                id=r["id"],
                group_slug=r["group.slug"],
                group_name=r["group.name"],
                title=r["title"],
                theme=r["theme"],
                cadence=r["cadence"],
                runs=counts.get(r["id"], 0),
            )
            for r in rows
        ]
    )


async def startable_groups(viewer: Viewer) -> list[dict[str, Any]]:
    """The groups this viewer may start a pulse for (those they chair or are secretary
    of; the same rule as `services.create_pulse`), by name; no query for someone who leads
    none."""
    led = [group_id for group_id in viewer.group_roles if viewer.leads(group_id)]
    if not led:
        return []
    return (
        await WorkingGroup.select(WorkingGroup.slug, WorkingGroup.name)
        .where(WorkingGroup.id.is_in(led))
        .order_by(WorkingGroup.name)
    )


async def questions_of(pulse_id: int) -> list[QuestionView]:
    rows = (
        await PulseQuestion.select(
            PulseQuestion.id,
            PulseQuestion.position,
            PulseQuestion.kind,
            PulseQuestion.prompt,
            PulseQuestion.options,
        )
        .where(PulseQuestion.pulse == pulse_id)
        .order_by(PulseQuestion.position)
        .order_by(PulseQuestion.id)
        .output(load_json=True)
    )
    return [QuestionView(**row) for row in rows]


async def _response_counts(run_ids: list[int]) -> dict[int, int]:
    if not run_ids:
        return {}
    rows = (
        await PulseInvitation.select(PulseInvitation.run, Count(alias="count"))
        .where(
            PulseInvitation.run.is_in(run_ids) & (PulseInvitation.used == True)  # noqa: E712
        )
        .group_by(PulseInvitation.run)
    )
    return {row["run"]: row["count"] for row in rows}


async def runs_of(pulse_id: int, viewer: Viewer) -> list[RunSummaryView]:
    rows = (
        await PulseRun.select(
            PulseRun.id,
            PulseRun.number,
            PulseRun.opens_on,
            PulseRun.closes_on,
            PulseRun.status,
            PulseRun.visibility,
            PulseRun.invited,
        )
        .where((PulseRun.pulse == pulse_id) & scopes.pulse_runs(viewer))
        .order_by(PulseRun.number)
    )
    counts = await _response_counts([row["id"] for row in rows])
    return [RunSummaryView(**row, responses=counts.get(row["id"], 0)) for row in rows]


async def _readable_pulse(pulse_id: int, viewer: Viewer) -> dict[str, Any]:
    return await one_row(
        Pulse.select(
            Pulse.id,
            Pulse.group,
            Pulse.title,
            Pulse.theme,
            Pulse.cadence,
            Pulse.visibility,
            Pulse.group.slug,
            Pulse.group.name,
        ).where((Pulse.id == pulse_id) & scopes.pulses(viewer)),
        NO_PULSE,
    )


async def pulse_page(pulse_id: int, viewer: Viewer) -> PulseView:
    pulse = await _readable_pulse(pulse_id, viewer)
    runs = await runs_of(pulse_id, viewer)
    return PulseView(
        id=pulse["id"],
        group_id=pulse["group"],
        group_slug=pulse["group.slug"],
        group_name=pulse["group.name"],
        title=pulse["title"],
        theme=pulse["theme"],
        cadence=pulse["cadence"],
        visibility=pulse["visibility"],
        questions=await questions_of(pulse_id),
        runs=runs,
        editable=not runs,
        manages=viewer.leads(pulse["group"]),
    )


async def _responses(run_id: int) -> list[dict[str, Any]]:
    # Sorted by their random id: whatever order the database keeps, none reaches a page.
    rows = (
        await PulseResponse.select(PulseResponse.answers)
        .where(PulseResponse.run == run_id)
        .order_by(PulseResponse.id)
        .output(load_json=True)
    )
    return [row["answers"] for row in rows]


def run_columns() -> tuple[Any, ...]:
    """What a run's results are computed from (`compute`): the run, its pulse and group."""
    return (
        PulseRun.id,
        PulseRun.number,
        PulseRun.opens_on,
        PulseRun.closes_on,
        PulseRun.status,
        PulseRun.visibility,
        PulseRun.invited,
        PulseRun.pulse,
        PulseRun.pulse.title,
        PulseRun.pulse.group,
        PulseRun.pulse._.group._.slug,
    )


async def run_results(run_id: int, viewer: Viewer) -> RunResultsView:
    run = await one_row(
        PulseRun.select(*run_columns()).where((PulseRun.id == run_id) & scopes.pulse_runs(viewer)),
        NO_RUN,
    )
    questions = await questions_of(run["pulse"])
    responses = await _responses(run_id)
    return compute(run, questions, responses, viewer)


def compute(
    run: dict[str, Any],
    questions: list[QuestionView],
    responses: list[dict[str, Any]],
    viewer: Viewer | None,
) -> RunResultsView:
    minimum = threshold()
    count = len(responses)
    shown = count >= minimum
    summary = RunSummaryView(
        id=run["id"],
        number=run["number"],
        opens_on=run["opens_on"],
        closes_on=run["closes_on"],
        status=run["status"],
        visibility=run["visibility"],
        invited=run["invited"],
        responses=count,
    )
    figures = [q for q in questions if q.kind in results.FIGURE_KINDS]
    reads_comments = viewer is not None and scopes.reads_pulse_comments(viewer, run["pulse.group"])
    return RunResultsView(
        pulse_id=run["pulse"],
        pulse_title=run["pulse.title"],
        group_id=run["pulse.group"],
        group_slug=run["pulse.group.slug"],
        run=summary,
        threshold=minimum,
        suppressed=not shown,
        response_rate=round(100 * count / run["invited"], 1) if run["invited"] else None,
        questions=[results.question_figures(q, responses, minimum) for q in figures]
        if shown
        else [],
        cuts=results.cut_results(questions, responses, minimum) if shown else [],
        comments=results.comments(questions, responses) if shown and reads_comments else None,
    )


async def trend(pulse_id: int, viewer: Viewer) -> tuple[list[TrendPoint], Chart]:
    """Each readable run's means and eNPS (None where suppressed), and their chart."""
    await _readable_pulse(pulse_id, viewer)
    points = []
    for run in await runs_of(pulse_id, viewer):
        figures = await run_results(run.id, viewer)
        points.append(
            TrendPoint(
                run_number=run.number,
                closes_on=run.closes_on,
                responses=None if figures.suppressed else run.responses,
                means={q.prompt: q.mean for q in figures.questions if q.kind == Kind.SCALE},
                enps=next((q.enps for q in figures.questions if q.kind == Kind.ENPS), None),
            )
        )
    return points, trend_chart(points, await questions_of(pulse_id))


def trend_chart(points: list[TrendPoint], questions: list[QuestionView]) -> Chart:
    prompts = [q.prompt for q in questions if q.kind == Kind.SCALE]
    labels = [f"Run {p.run_number} ({p.closes_on:%d %b %Y})" for p in points]
    series = [(prompt[:40], [p.means.get(prompt) for p in points]) for prompt in prompts]
    rows = [
        [label, *(("—" if p.means.get(q) is None else f"{p.means[q]:g}") for q in prompts)]
        for label, p in zip(labels, points, strict=True)
    ]
    return Chart(
        name="pulse-trend",
        title="Mean score (1 to 5) by run",
        alt="The mean score of each question in each run; a run with too few responses is a gap.",
        headers=["Run", *prompts],
        rows=rows,
        x_labels=labels,
        series=series,
        empty=not any(value is not None for _, values in series for value in values),
    )


async def agenda_places(group_id: int, viewer: Viewer) -> list[AgendaPlace]:
    """The group's coming meetings (scheduled, not started) and their agenda items this
    viewer reads, soonest first: where a run's results can be put as a paper. Two queries;
    none for someone who does not lead the group."""
    if not viewer.leads(group_id):
        return []
    meetings = (
        await Meeting.select(Meeting.id, Meeting.title, Meeting.starts_at)
        .where(
            (Meeting.group == group_id)
            & (Meeting.status == "scheduled")
            & (Meeting.starts_at > utcnow())
            & scopes.meetings(viewer)
        )
        .order_by(Meeting.starts_at)
        .order_by(Meeting.id)
    )
    if not meetings:
        return []
    items = (
        await AgendaItem.select(AgendaItem.id, AgendaItem.meeting, AgendaItem.title)
        .where(AgendaItem.meeting.is_in([m["id"] for m in meetings]) & scopes.agenda_items(viewer))
        .order_by(AgendaItem.position)
        .order_by(AgendaItem.id)
    )
    places = []
    for meeting in meetings:
        label = f"{meeting['title']} ({meeting['starts_at']:%d %b %Y})"
        places.append(AgendaPlace(meeting_id=meeting["id"], agenda_item_id=None, label=label))
        places.extend(
            AgendaPlace(
                meeting_id=meeting["id"],
                agenda_item_id=item["id"],
                label=f"{label}: item {item['title']}",
            )
            for item in items
            if item["meeting"] == meeting["id"]
        )
    return places


async def draft_places(group_id: int, viewer: Viewer) -> list[DraftPlace]:
    """The group's draft reports this viewer reads, newest first: where a run's results can
    be quoted as an annex. One query; none for someone who does not lead the group."""
    if not viewer.leads(group_id):
        return []
    rows = (
        await Report.select(Report.id, Report.title, Report.kind)
        .where((Report.group == group_id) & (Report.status == "draft") & scopes.reports(viewer))
        .order_by(Report.id, ascending=False)
    )
    return [
        DraftPlace(report_id=row["id"], label=f"{row['title']} ({row['kind']}, draft)")
        for row in rows
    ]


async def answer_form(run_id: int) -> AnswerFormView:
    run = await one_row(
        PulseRun.select(
            PulseRun.pulse, PulseRun.closes_on, PulseRun.pulse.title, PulseRun.pulse._.group._.name
        ).where(PulseRun.id == run_id),
        NO_RUN,
    )
    questions = await questions_of(run["pulse"])
    return AnswerFormView(
        pulse_title=run["pulse.title"],
        group_name=run["pulse.group.name"],
        closes_on=run["closes_on"],
        questions=questions,
        consent=CONSENT_TEXT if any(q.kind == Kind.DEMOGRAPHIC for q in questions) else "",
    )


async def roster_counts() -> dict[str, int]:
    active = await StaffMember.count().where(StaffMember.active == True)  # noqa: E712
    return {"active": active, "total": await StaffMember.count()}


def refuse_unless(found: bool, message: str = NO_PULSE) -> None:
    if not found:
        raise NotFoundError(message)
