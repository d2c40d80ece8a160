"""What each edition shows: the one place where figures become what a reader sees.

`present(content, edition)` turns stored figures (`TransparencyFigures.to_dict()`) into a
`Presented` report. Every format (the page, the printable document and its PDF, CSV, JSON,
the API and the charts) is made from a `Presented` report and never from the stored
figures, so no format can show a figure its edition suppresses.

The board edition shows every figure. The public edition, whose figures count only public
and internal records (`accounts.scopes.EDITION_COUNTS`), also suppresses small numbers of
people (`ABOUT_PEOPLE`: the attendance rate and the members it is drawn from; a pulse run's
responses, whose headlines the pulse threshold already left out). The group's own activity
(meetings held, decisions, actions, periodic reports on time, late or missed, the Director's
and the Board's answers) says nothing about any person, so a small group publishes it too:

- a count about people from 1 to 4 is shown as "fewer than 5" (0 is shown: it identifies
  nobody);
- a rate drawn from fewer than 5 people is shown as "fewer than 5";
- a count that, with the others shown, would give away a suppressed one is "withheld"
  (`suppression.suppress`: the organisation's totals across groups are checked until no
  relation has exactly one unknown cell);
- no names of people appear except the chairs'.

Figures stored before that rule (`SmallNumbers.EVERY_COUNT`) are shown as they were
published: every count from 1 to 4 hidden, and rates and medians drawn from fewer than 5
people or items, so their documents and hashes do not change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from governance.accounts.policy import LINES, Line
from governance.transparency.figures import (
    EDITIONS,
    ORGANISATION,
    ORGANISATION_NAME,
    PUBLIC_THRESHOLD,
    SmallNumbers,
)
from governance.transparency.suppression import (
    FEWER,
    WITHHELD,
    Cell,
    Key,
    Relation,
    primary,
    suppress,
)

NOT_MEASURED = "—"
SUPPRESSION_NOTE = (
    f"In this edition a figure about people (attendance, pulse responses) drawn from fewer "
    f'than {PUBLIC_THRESHOLD} people is shown as "{FEWER}", and a figure from which one of '
    f'those could be worked out is "{WITHHELD}". Counts of the group\'s own activity '
    "(meetings, decisions, actions, reports) are shown whatever their size: they identify "
    "no one."
)
# The note of reports whose figures were stored before the rule above (every count hidden).
EVERY_COUNT_NOTE = (
    f"In this edition a figure drawn from fewer than {PUBLIC_THRESHOLD} people or items is "
    f'shown as "{FEWER}", and a figure from which one of those could be worked out is '
    f'"{WITHHELD}".'
)
TOTALS_SLUG = ORGANISATION  # the organisation's totals across groups, in CSV and JSON
EDITION_NAMES = {"board": "Board edition", "public": "Public edition"}

# (metric, label, kind). Kinds: count, rate (a fraction shown as a percentage), median (days),
# share (derived here: numerator / denominator, both counts).
GROUP_METRICS: tuple[tuple[str, str, str], ...] = (
    ("meetings_held", "Meetings held", "count"),
    ("meetings_cancelled", "Meetings cancelled", "count"),
    ("attendance_rate", "Attendance rate at meetings held", "rate"),
    ("attendance_people", "Members the attendance rate is drawn from", "count"),
    ("meetings_with_quorum", "Meetings held with quorum", "count"),
    ("meetings_quorum_share", "Share of meetings held with quorum", "share"),
    ("decisions", "Decisions taken", "count"),
    ("decisions_with_quorum", "Decisions taken with quorum", "count"),
    ("decisions_quorum_share", "Share of decisions taken with quorum", "share"),
    ("actions_opened", "Actions opened", "count"),
    ("actions_completed", "Actions completed", "count"),
    ("actions_dropped", "Actions dropped", "count"),
    ("actions_overdue_at_end", "Actions overdue at the end of the period", "count"),
    ("median_days_to_complete", "Median days to complete an action", "median"),
    ("confidential_matters", "Confidential matters considered (never their content)", "count"),
)
LINE_METRICS: tuple[tuple[str, str, str], ...] = (
    ("periodic_due", "Periodic reports due", "count"),
    ("periodic_on_time", "Periodic reports on time", "count"),
    ("periodic_late", "Periodic reports late", "count"),
    ("periodic_missed", "Periodic reports missed", "count"),
    ("recommendations", "Recommendations", "count"),
    ("accepted", "Accepted", "count"),
    ("partially_accepted", "Partially accepted", "count"),
    ("declined", "Declined", "count"),
    ("noted", "Noted", "count"),
    ("pending", "Pending a response", "count"),
    ("overdue_responses", "Responses overdue at the end of the period", "count"),
    ("median_days_to_acknowledge", "Median days to acknowledge", "median"),
    ("median_days_to_respond", "Median days to respond", "median"),
)
METRIC_LABELS = {name: label for name, label, _ in GROUP_METRICS + LINE_METRICS}
SHARES = {
    "meetings_quorum_share": ("meetings_with_quorum", "meetings_held"),
    "decisions_quorum_share": ("decisions_with_quorum", "decisions"),
}
RESPONDED = ("accepted", "partially_accepted", "declined", "noted")
# (total, parts, exact): parts that add up to a total, or (not exact) to at most it.
LINE_RELATIONS = (
    ("recommendations", ("accepted", "partially_accepted", "declined", "noted", "pending"), True),
    # Periods still owed are due but neither on time, late nor missed.
    ("periodic_due", ("periodic_on_time", "periodic_late", "periodic_missed"), False),
    ("pending", ("overdue_responses",), False),
)
GROUP_RELATIONS = (
    ("meetings_held", ("meetings_with_quorum",), False),
    ("decisions", ("decisions_with_quorum",), False),
)
MONTH_METRIC = "actions_completed_by_month"
HEADLINE_METRICS = (
    "meetings_held",
    "attendance_rate",
    "decisions",
    "actions_opened",
    "actions_completed",
    "actions_overdue_at_end",
    "median_days_to_complete",
    "confidential_matters",
)
HEADLINE_LINE_METRICS = ("recommendations", "pending", "overdue_responses")
# The figures about people: the only ones the public edition hides when they are small
# (besides a pulse run's responses, always about people). Every other figure counts what
# the group did, which identifies no one however few.
ABOUT_PEOPLE = frozenset({"attendance_people", "attendance_rate"})


@dataclass
class Figure:
    metric: str
    label: str
    kind: str  # count, rate, median, share
    value: int | float | None  # None when suppressed or when there is nothing to measure
    display: str
    suppressed: str = ""  # "", FEWER or WITHHELD

    @property
    def public_value(self) -> int | float | str | None:
        """The value as the formats carry it: a number, None, or the suppression words."""
        return self.suppressed or self.value

    @property
    def reading(self) -> str:
        """The figure as a page or an email says it: a suppressed one as what it is ("not
        shown: fewer than 5 people"), never as a value beside a rate."""
        if not self.suppressed:
            return self.display
        people = self.suppressed == FEWER and (
            self.kind == "rate" or self.metric.rpartition(":")[2] in ABOUT_PEOPLE
        )
        return f"not shown: {self.display}{' people' if people else ''}"


@dataclass
class PresentedLine:
    recipient: str
    name: str
    figures: list[Figure]

    def get(self, metric: str) -> Figure:
        return next(f for f in self.figures if f.metric == metric)


@dataclass
class PresentedPulseRun:
    """One pulse run as the edition shows it: every figure already text. The headlines were
    suppressed below the pulse threshold when the figures were computed; the public edition
    also shows a response count of fewer than 5 as such, and then no response rate."""

    title: str
    closes_on: str
    invited: int
    responses: str
    response_rate: str
    headlines: list[tuple[str, str]]  # (the question and its kind of figure, the figure)


@dataclass
class PresentedGroup:
    slug: str
    name: str
    chair_names: list[str]
    figures: list[Figure]
    lines: list[PresentedLine]
    months: list[Figure]  # actions completed per month; metric is the month "2026-07"
    is_total: bool = False
    # None: figures computed before reports carried a pulse summary (shown as they were).
    pulse_runs: list[PresentedPulseRun] | None = None

    def get(self, metric: str) -> Figure:
        return next(f for f in self.figures if f.metric == metric)

    def line(self, recipient: str) -> PresentedLine | None:
        return next((line for line in self.lines if line.recipient == recipient), None)


@dataclass
class Presented:
    scope: str
    scope_name: str
    period_label: str
    starts_on: str
    ends_on: str
    edition: str
    generated_at: str
    groups: list[PresentedGroup]
    totals: PresentedGroup | None = None  # the organisation's totals, organisation scope only
    any_suppressed: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def sections(self) -> list[PresentedGroup]:
        """The totals first (organisation scope), then each group."""
        return ([self.totals] if self.totals else []) + self.groups

    @property
    def edition_name(self) -> str:
        return EDITION_NAMES[self.edition]

    @property
    def generated_text(self) -> str:
        """When the figures were counted, in UTC to the minute."""
        try:
            moment = dt.datetime.fromisoformat(self.generated_at)
        except ValueError:
            return self.generated_at
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).strftime("%-d %b %Y, %H:%M UTC")


# --- the suppression --------------------------------------------------------------------

CellKey = Key


@dataclass(frozen=True)
class Hiding:
    """What one presentation hides: nothing (the board edition), the small figures about
    people (the public edition), or every small figure (a public edition whose figures were
    stored before the figures about people were told apart)."""

    public: bool
    every_count: bool = False

    @classmethod
    def of(cls, content: dict[str, Any], edition: str) -> Hiding:
        rule = content.get("small_numbers", SmallNumbers.EVERY_COUNT.value)
        return cls(edition == "public", rule != SmallNumbers.ABOUT_PEOPLE.value)

    def hides_small(self, metric: str) -> bool:
        """Whether a small value of this figure is hidden: the one test every format's
        figures pass through (all are made from `present`)."""
        return self.public and (self.every_count or metric in ABOUT_PEOPLE)

    @property
    def note(self) -> str:
        return EVERY_COUNT_NOTE if self.every_count else SUPPRESSION_NOTE


def _primary(value: int, hiding: Hiding, metric: str) -> str:
    return primary(value) if hiding.hides_small(metric) else ""


def _as_int(value: Any) -> int:
    return int(value or 0)


def _display_count(value: int) -> str:
    return f"{value:,}"


def _display_rate(value: float | None) -> str:
    return NOT_MEASURED if value is None else f"{round(value * 100)}%"


def _display_median(value: float | None) -> str:
    if value is None:
        return NOT_MEASURED
    number = round(float(value), 1)
    text = f"{number:g}"
    return f"{text} day" if number == 1 else f"{text} days"


def _responded(line: dict[str, Any]) -> int:
    return sum(_as_int(line.get(name)) for name in RESPONDED)


def _section_cells(
    slug: str, group: dict[str, Any], hiding: Hiding, cells: dict[CellKey, Cell]
) -> None:
    for metric, _, kind in GROUP_METRICS:
        if kind == "count":
            value = _as_int(group.get(metric))
            cells[(slug, "", metric)] = Cell(value, _primary(value, hiding, metric))
    for line in group.get("lines", []):
        for metric, _, kind in LINE_METRICS:
            if kind == "count":
                value = _as_int(line.get(metric))
                hidden = _primary(value, hiding, metric)
                cells[(slug, line["recipient"], metric)] = Cell(value, hidden)
    for month, count in group.get(MONTH_METRIC, []):
        count = _as_int(count)
        cells[(slug, "", f"month:{month}")] = Cell(count, _primary(count, hiding, MONTH_METRIC))


def _section_relations(slug: str, group: dict[str, Any]) -> list[Relation]:
    relations = [
        Relation(((slug, "", total), *[(slug, "", p) for p in parts]), exact)
        for total, parts, exact in GROUP_RELATIONS
    ]
    for line in group.get("lines", []):
        recipient = line["recipient"]
        for total, parts, exact in LINE_RELATIONS:
            keys = ((slug, recipient, total), *[(slug, recipient, p) for p in parts])
            relations.append(Relation(keys, exact))
    months = [(slug, "", f"month:{month}") for month, _ in group.get(MONTH_METRIC, [])]
    if months:
        relations.append(Relation(((slug, "", "actions_completed"), *months)))
    return relations


def _totals(groups: list[dict[str, Any]]) -> dict[str, Any]:
    """The organisation's counts across its groups (no rates or medians: those do not add)."""
    total: dict[str, Any] = {"group_slug": TOTALS_SLUG, "group_name": "All groups"}
    for metric, _, kind in GROUP_METRICS:
        if kind == "count":
            total[metric] = sum(_as_int(group.get(metric)) for group in groups)
    recipients: list[str] = []
    for group in groups:
        for line in group.get("lines", []):
            if line["recipient"] not in recipients:
                recipients.append(line["recipient"])
    total["lines"] = [
        {
            "recipient": recipient,
            **{
                metric: sum(
                    _as_int(line.get(metric))
                    for group in groups
                    for line in group.get("lines", [])
                    if line["recipient"] == recipient
                )
                for metric, _, kind in LINE_METRICS
                if kind == "count"
            },
        }
        for recipient in recipients
    ]
    months: dict[str, int] = {}
    for group in groups:
        for month, count in group.get(MONTH_METRIC, []):
            months[month] = months.get(month, 0) + _as_int(count)
    total[MONTH_METRIC] = sorted(months.items())
    return total


def _total_relations(groups: list[dict[str, Any]], total: dict[str, Any]) -> list[Relation]:
    slugs = [group["group_slug"] for group in groups]
    keys: list[tuple[str, str]] = [
        ("", metric) for metric, _, kind in GROUP_METRICS if kind == "count"
    ]
    keys += [
        (line["recipient"], metric)
        for line in total["lines"]
        for metric, _, kind in LINE_METRICS
        if kind == "count"
    ]
    keys += [("", f"month:{month}") for month, _ in total[MONTH_METRIC]]
    return [
        Relation(((TOTALS_SLUG, line, metric), *[(slug, line, metric) for slug in slugs]))
        for line, metric in keys
    ]


def _count_figure(metric: str, label: str, cell: Cell) -> Figure:
    if cell.hidden:
        return Figure(metric, label, "count", None, cell.hidden, cell.hidden)
    return Figure(metric, label, "count", cell.value, _display_count(cell.value))


def _measured_figure(
    metric: str, label: str, kind: str, value: Any, base: int, hiding: Hiding
) -> Figure:
    """A rate or median: suppressed in the public edition when it is about people and drawn
    from fewer than the threshold's people (or, by the earlier rule, from fewer items)."""
    if value is None:
        return Figure(metric, label, kind, None, NOT_MEASURED)
    if hiding.hides_small(metric) and base < PUBLIC_THRESHOLD:
        return Figure(metric, label, kind, None, FEWER, FEWER)
    number = float(value)
    display = _display_rate(number) if kind == "rate" else _display_median(number)
    return Figure(metric, label, kind, round(number, 4), display)


def _share_figure(metric: str, label: str, numerator: Cell, denominator: Cell) -> Figure:
    if numerator.hidden or denominator.hidden:
        return Figure(metric, label, "share", None, FEWER, FEWER)
    if denominator.value == 0:
        return Figure(metric, label, "share", None, NOT_MEASURED)
    share = numerator.value / denominator.value
    return Figure(metric, label, "share", round(share, 4), _display_rate(share))


def _group_figures(
    slug: str, group: dict[str, Any], cells: dict[CellKey, Cell], hiding: Hiding, is_total: bool
) -> list[Figure]:
    figures = []
    for metric, label, kind in GROUP_METRICS:
        if kind == "count":
            figures.append(_count_figure(metric, label, cells[(slug, "", metric)]))
        elif kind == "share":
            numerator, denominator = SHARES[metric]
            figures.append(
                _share_figure(
                    metric, label, cells[(slug, "", numerator)], cells[(slug, "", denominator)]
                )
            )
        elif not is_total:  # rates and medians do not add up across groups
            # The attendance rate is drawn from the people expected; the median days to
            # complete from the actions completed.
            base = "attendance_people" if metric == "attendance_rate" else "actions_completed"
            value = group.get(metric)
            figures.append(
                _measured_figure(metric, label, kind, value, cells[(slug, "", base)].value, hiding)
            )
    return figures


def _line_figures(
    slug: str, line: dict[str, Any], cells: dict[CellKey, Cell], hiding: Hiding, is_total: bool
) -> PresentedLine:
    recipient = line["recipient"]
    figures = []
    # The number of values behind a line's medians is not among the figures; the
    # responses recorded are the fewest it can be drawn from.
    responded = sum(cells[(slug, recipient, name)].value for name in RESPONDED)
    for metric, label, kind in LINE_METRICS:
        if kind == "count":
            figures.append(_count_figure(metric, label, cells[(slug, recipient, metric)]))
        elif not is_total:
            value = line.get(metric)
            figures.append(_measured_figure(metric, label, kind, value, responded, hiding))
    return PresentedLine(recipient, _line_name(recipient), figures)


def _line_name(recipient: str) -> str:
    return Line(recipient).label if recipient in LINES else recipient


def _section(
    slug: str, group: dict[str, Any], cells: dict[CellKey, Cell], hiding: Hiding, is_total: bool
) -> PresentedGroup:
    months = [
        _count_figure(month, month, cells[(slug, "", f"month:{month}")])
        for month, _ in group.get(MONTH_METRIC, [])
    ]
    return PresentedGroup(
        slug=slug,
        name=str(group.get("group_name", slug)),
        # Chairs are the only people a report names, in either edition.
        chair_names=[str(name) for name in group.get("chair_names", [])],
        figures=_group_figures(slug, group, cells, hiding, is_total),
        lines=[
            _line_figures(slug, line, cells, hiding, is_total) for line in group.get("lines", [])
        ],
        months=months,
        is_total=is_total,
        pulse_runs=None if is_total else _pulse_runs(group, hiding.public),
    )


def _headline(prompt: str, kind: str, value: Any, threshold: int) -> tuple[str, str]:
    label = f"{prompt} ({kind})"
    if value is None:
        return label, f"not shown: fewer than {threshold} people"
    return label, f"{value:g}" if isinstance(value, float) else str(value)


def _pulse_run(run: dict[str, Any], public: bool) -> PresentedPulseRun:
    responses = _as_int(run.get("responses"))
    invited = _as_int(run.get("invited"))
    # A run's responses are people, in either rule.
    hidden = primary(responses) if public else ""
    rate = f"{responses / invited:.0%}" if invited else NOT_MEASURED
    threshold = _as_int(run.get("threshold"))
    return PresentedPulseRun(
        title=f"{run.get('pulse_title', '')}, run {run.get('run_number', '')}",
        closes_on=_text(run.get("closes_on", "")),
        invited=invited,
        responses=hidden or str(responses),
        response_rate=hidden or rate,
        headlines=[
            _headline(str(prompt), str(kind), value, threshold)
            for prompt, kind, value in run.get("headlines", [])
        ],
    )


def _pulse_runs(group: dict[str, Any], public: bool) -> list[PresentedPulseRun] | None:
    if "pulse_runs" not in group:
        return None
    return [_pulse_run(run, public) for run in group["pulse_runs"]]


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def present(content: dict[str, Any], edition: str) -> Presented:
    """The figures as the edition shows them. The only function that decides what is shown."""
    if edition not in EDITIONS:
        raise ValueError(f"unknown edition {edition!r}")
    hiding = Hiding.of(content, edition)
    groups = list(content.get("groups", []))
    scope = str(content.get("scope", ""))
    cells: dict[CellKey, Cell] = {}
    relations: list[Relation] = []
    for group in groups:
        _section_cells(group["group_slug"], group, hiding, cells)
        relations += _section_relations(group["group_slug"], group)
    total = _totals(groups) if scope == ORGANISATION else None
    if total is not None:
        # Totals are counted from the groups' stored figures, then suppressed like them.
        _section_cells(TOTALS_SLUG, total, hiding, cells)
        relations += _section_relations(TOTALS_SLUG, total)
        relations += _total_relations(groups, total)
    if hiding.public:
        suppress(cells, relations)
    sections = [_section(g["group_slug"], g, cells, hiding, False) for g in groups]
    totals_section = _section(TOTALS_SLUG, total, cells, hiding, True) if total else None
    period = content.get("period", {})
    presented = Presented(
        scope=scope,
        scope_name=(
            ORGANISATION_NAME
            if scope == ORGANISATION
            else (sections[0].name if sections else scope)
        ),
        period_label=str(period.get("label", "")),
        starts_on=_text(period.get("starts_on", "")),
        ends_on=_text(period.get("ends_on", "")),
        edition=edition,
        generated_at=_text(content.get("generated_at", "")),
        groups=sections,
        totals=totals_section,
    )
    presented.any_suppressed = any(figure.suppressed for figure in all_figures(presented))
    if hiding.public:
        presented.notes.append(hiding.note)
    return presented


# --- the shapes every format is made from -----------------------------------------------


@dataclass(frozen=True)
class FigureRow:
    """One figure: the CSV's row, and the unit the tests check in every format."""

    scope: str
    period: str
    metric: str
    line: str
    value: int | float | str | None


def all_figures(presented: Presented) -> Iterable[Figure]:
    for section in presented.sections:
        yield from section.figures
        for line in section.lines:
            yield from line.figures
        yield from section.months


def figure_rows(presented: Presented) -> list[FigureRow]:
    rows = []
    for section in presented.sections:
        for figure in section.figures:
            rows.append(
                FigureRow(
                    section.slug, presented.period_label, figure.metric, "", figure.public_value
                )
            )
        for line in section.lines:
            for figure in line.figures:
                rows.append(
                    FigureRow(
                        section.slug,
                        presented.period_label,
                        figure.metric,
                        line.recipient,
                        figure.public_value,
                    )
                )
        for figure in section.months:
            rows.append(
                FigureRow(
                    section.slug,
                    presented.period_label,
                    f"{MONTH_METRIC}:{figure.metric}",
                    "",
                    figure.public_value,
                )
            )
    return rows


def _section_document(section: PresentedGroup) -> dict[str, Any]:
    doc = _section_figures_document(section)
    # Only reports computed with a pulse summary carry one, so the published hash of an
    # earlier report is still the hash of its document.
    if section.pulse_runs is not None:
        doc["pulse_runs"] = [
            {
                "run": run.title,
                "closes_on": run.closes_on,
                "invited": run.invited,
                "responses": run.responses,
                "response_rate": run.response_rate,
                "headlines": {label: figure for label, figure in run.headlines},
            }
            for run in section.pulse_runs
        ]
    return doc


def _section_figures_document(section: PresentedGroup) -> dict[str, Any]:
    return {
        "slug": section.slug,
        "name": section.name,
        "chairs": section.chair_names,
        "figures": {figure.metric: figure.public_value for figure in section.figures},
        "lines": [
            {
                "recipient": line.recipient,
                "figures": {figure.metric: figure.public_value for figure in line.figures},
            }
            for line in section.lines
        ],
        MONTH_METRIC: [
            {"month": figure.metric, "value": figure.public_value} for figure in section.months
        ],
    }


def document(
    presented: Presented,
    *,
    version: int = 1,
    supersedes_version: int | None = None,
    narrative: str = "",
) -> dict[str, Any]:
    """The report as the edition publishes it: what the JSON format carries and what the
    SHA-256 is computed over. Nothing suppressed is in it, so publishing its hash cannot
    help anyone to work out a suppressed figure."""
    return {
        "scope": presented.scope,
        "scope_name": presented.scope_name,
        "period": {
            "label": presented.period_label,
            "starts_on": presented.starts_on,
            "ends_on": presented.ends_on,
        },
        "edition": presented.edition,
        "version": version,
        "supersedes_version": supersedes_version,
        "generated_at": presented.generated_at,
        "narrative": narrative,
        "notes": presented.notes,
        "totals": _section_document(presented.totals) if presented.totals else None,
        "groups": [_section_document(section) for section in presented.groups],
    }


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def document_hash(doc: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON encoding (sorted keys, no spaces, UTF-8)."""
    return hashlib.sha256(canonical_json(doc)).hexdigest()


def headline(section: PresentedGroup) -> list[Figure]:
    """The figures the Board page compares from one period to the next."""
    figures = [f for f in section.figures if f.metric in HEADLINE_METRICS]
    for line in section.lines:
        for metric in HEADLINE_LINE_METRICS:
            figure = line.get(metric)
            figures.append(
                Figure(
                    f"{line.recipient}:{metric}",
                    f"{figure.label} ({line.name} line)",
                    figure.kind,
                    figure.value,
                    figure.display,
                    figure.suppressed,
                )
            )
    return figures


def normalise_content(content: dict[str, Any]) -> dict[str, Any]:
    """Stored figures as plain JSON values (dates as ISO text, month pairs as lists)."""
    result: dict[str, Any] = json.loads(json.dumps(content, default=_text))
    return result
