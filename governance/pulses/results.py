"""A run's figures from its anonymous responses, with nothing shown that is drawn from
fewer than the threshold's responses (GOVERNANCE_PULSE_MIN_RESPONSES, 5 by default).

No figure at all for a run below the threshold. A demographic question cuts the responses
by its answers (those who did not say, or preferred not to, are one more cut): a cut below
the threshold shows nothing, and the transparency module's secondary suppression withholds
more cuts where the run's total and the other cuts would give a small one away. One more
rule for figures that are not counts: whatever cuts are hidden, together they are either
none or at least the threshold, since the run's mean less the shown cuts' means gives the
mean of the hidden ones together. Cuts are of one question at a time, never crossed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from governance.pulses.schemas import (
    NOT_STATED,
    PREFER_NOT_TO_SAY,
    CutResult,
    Kind,
    QuestionResult,
    QuestionView,
)
from governance.transparency.suppression import FEWER, WITHHELD, Cell, Key, Relation, suppress

Answers = dict[str, Any]
FIGURE_KINDS = (Kind.SCALE, Kind.ENPS, Kind.CHOICE)


def enps(scores: Sequence[int]) -> int:
    """Promoters (9, 10) less detractors (0 to 6), as a share of all, from -100 to 100."""
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores))


def question_figures(
    question: QuestionView, responses: Sequence[Answers], threshold: int
) -> QuestionResult:
    values = [r[str(question.id)] for r in responses if str(question.id) in r]
    result = QuestionResult(
        question_id=question.id, prompt=question.prompt, kind=question.kind, answered=None
    )
    if len(values) < threshold:
        result.suppressed = True
        return result
    result.answered = len(values)
    counts = Counter(values)
    if question.kind == Kind.SCALE:
        labels = question.options or [str(n) for n in range(1, 6)]
        result.mean = round(sum(values) / len(values), 2)
        result.distribution = [(f"{n} {labels[n - 1]}", counts.get(n, 0)) for n in range(1, 6)]
    elif question.kind == Kind.ENPS:
        result.mean = round(sum(values) / len(values), 2)
        result.enps = enps(values)
        result.distribution = [(str(n), counts.get(n, 0)) for n in range(11)]
    else:
        result.distribution = [(option, counts.get(option, 0)) for option in question.options]
    return result


def _stated(answer: Any) -> str:
    return NOT_STATED if answer in (None, "", PREFER_NOT_TO_SAY) else str(answer)


def hidden_cuts(counts: dict[str, int], total: int, threshold: int) -> dict[str, str]:
    """Which cuts of one question show nothing, and why (FEWER or WITHHELD)."""
    total_key: Key = ("cut", "", "total")
    cells: dict[Key, Cell] = {total_key: Cell(total, threshold=threshold)}
    for option, count in counts.items():
        cell = Cell(count, threshold=threshold)
        cell.hidden = FEWER if cell.small else ""
        cells[("cut", "", option)] = cell
    suppress(cells, [Relation((total_key, *(("cut", "", o) for o in counts)))])
    hidden = {
        key[2]: cell.hidden for key, cell in cells.items() if cell.hidden and key != total_key
    }
    # The hidden cuts together: none, or at least the threshold (else withhold the smallest
    # shown cut with anyone in it, and look again).
    while 0 < sum(counts[o] for o in hidden) < threshold:
        shown = sorted((count, o) for o, count in counts.items() if o not in hidden and count)
        if not shown:
            break
        hidden[shown[0][1]] = WITHHELD
    return hidden


def cut_results(
    questions: Sequence[QuestionView], responses: Sequence[Answers], threshold: int
) -> list[CutResult]:
    """Each demographic question's cuts, with figures only for the cuts that may show them."""
    figures = [q for q in questions if q.kind in FIGURE_KINDS]
    cuts: list[CutResult] = []
    for demographic in (q for q in questions if q.kind == Kind.DEMOGRAPHIC):
        groups: dict[str, list[Answers]] = {o: [] for o in [*demographic.options, NOT_STATED]}
        for response in responses:
            groups.setdefault(_stated(response.get(str(demographic.id))), []).append(response)
        counts = {option: len(members) for option, members in groups.items()}
        hidden = hidden_cuts(counts, len(responses), threshold)
        for option, members in groups.items():
            reason = hidden.get(option, "")
            if reason == FEWER:
                reason = f"fewer than {threshold}"
            cuts.append(
                CutResult(
                    question_id=demographic.id,
                    question=demographic.prompt,
                    option=option,
                    responses=reason or str(len(members)),
                    suppressed=bool(reason),
                    questions=[]
                    if reason
                    else [question_figures(q, members, threshold) for q in figures],
                )
            )
    return cuts


def comments(questions: Sequence[QuestionView], responses: Sequence[Answers]) -> list[str]:
    """The free-text comments, sorted (never in the order they were stored)."""
    ids = [str(q.id) for q in questions if q.kind == Kind.COMMENT]
    return sorted(str(r[i]) for r in responses for i in ids if r.get(i))
