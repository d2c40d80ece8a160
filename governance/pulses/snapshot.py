"""A run's results as the record keeps them: a Markdown document frozen when it is made,
naming the pulse, the run and its response count, with only the figures the threshold
allows (the same `RunResultsView` the results page shows, so a cut hidden there is hidden
here) and never a comment (a paper or a report is read beyond the owning group)."""

from __future__ import annotations

import datetime as dt

from governance.pulses.schemas import CutResult, QuestionResult, RunResultsView


def _figure(question: QuestionResult, threshold: int) -> str:
    if question.suppressed:
        return f"- {question.prompt}: not shown (fewer than {threshold} answers)"
    parts = [f"{question.answered} answers"]
    if question.mean is not None:
        parts.append(f"mean {question.mean:g}")
    if question.enps is not None:
        parts.append(f"eNPS {question.enps}")
    if question.distribution:
        parts.append("; ".join(f"{label}: {count}" for label, count in question.distribution))
    return f"- {question.prompt}: " + ", ".join(parts)


def _cut(cut: CutResult, threshold: int) -> list[str]:
    heading = f"{cut.question}: {cut.option}"
    if cut.suppressed:
        return [f"- {heading}: not shown ({cut.responses} responses)"]
    return [
        f"#### {heading} ({cut.responses} responses)",
        "",
        *(_figure(q, threshold) for q in cut.questions),
        "",
    ]


def heading(view: RunResultsView) -> str:
    run = view.run
    return (
        f"{view.pulse_title}, run {run.number} ({run.opens_on:%d %B %Y} to "
        f"{run.closes_on:%d %B %Y}): {run.responses} responses of {run.invited} invited"
        + (f" ({view.response_rate:g}%)" if view.response_rate is not None else "")
    )


def summary_lines(view: RunResultsView) -> list[str]:
    """The figures, as Markdown lines: the whole run's, then each cut's."""
    if view.suppressed:
        return [f"Not shown: fewer than {view.threshold} people answered, so no figure is given."]
    lines = [_figure(q, view.threshold) for q in view.questions]
    if view.cuts:
        lines += ["", "By what people said about themselves:", ""]
        for cut in view.cuts:
            lines += _cut(cut, view.threshold)
    return lines


def results_markdown(view: RunResultsView, made_at: dt.datetime) -> str:
    lines = [
        f"# Pulse results: {view.pulse_title}, run {view.run.number}",
        "",
        heading(view) + ".",
        "",
        f"Snapshot taken {made_at:%d %B %Y %H:%M} UTC; it does not change if more answers "
        f"arrive. No figure is shown for fewer than {view.threshold} responses, and none "
        "that would let a smaller group be worked out. Comments are not included.",
        "",
        "## Figures",
        "",
        *summary_lines(view),
    ]
    return "\n".join(lines).rstrip() + "\n"


def file_name(view: RunResultsView) -> str:
    return f"pulse-{view.pulse_id}-run-{view.run.number}-results.md"
