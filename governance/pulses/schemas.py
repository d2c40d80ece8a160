"""The contracts of pulses: commands in, views out, the question library and every limit."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec

from governance.accounts.policy import Visibility
from governance.core import contracts


class Theme(StrEnum):
    WELLBEING = "wellbeing"
    INCLUSION = "inclusion"


class Cadence(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ONCE = "once"


class Kind(StrEnum):
    SCALE = "scale"  # 1 to 5, with a label for each point
    ENPS = "enps"  # 0 to 10, "how likely are you to recommend working here"
    CHOICE = "choice"  # one of a few options
    COMMENT = "comment"  # one optional free-text comment
    DEMOGRAPHIC = "demographic"  # self-described, optional, "prefer not to say" always offered


THEMES: tuple[str, ...] = tuple(Theme)
CADENCES: tuple[str, ...] = tuple(Cadence)
KINDS: tuple[str, ...] = tuple(Kind)
# A run's results are read by the group and, at `internal`, by the Director and the Board;
# at `board`, by the Board only; at `group`, by nobody else. Never public: the public
# transparency edition carries only what survives suppression, through its own report.
RUN_VISIBILITIES: tuple[str, ...] = (Visibility.INTERNAL, Visibility.BOARD, Visibility.GROUP)
RUN_STATUSES = ("open", "closed")

MIN_QUESTIONS = 1
MAX_QUESTIONS = 10  # scored and choice questions; the comment and demographics aside
MAX_OPTIONS = 8
OPTION_MAX_LENGTH = 80
PROMPT_MAX_LENGTH = 300
TITLE_MAX_LENGTH = 200
COMMENT_MAX_LENGTH = 2000
MAX_RUN_DAYS = 60
REMIND_DAYS_BEFORE_CLOSE = 2
PREFER_NOT_TO_SAY = "Prefer not to say"
NOT_STATED = "Not stated"
CONSENT_TEXT = (
    "The questions about you are optional. Answering them lets the group see whether "
    "experiences differ between groups of staff; no figure is shown for any group of fewer "
    "than the minimum number of responses, and your answers are stored with no link to you."
)
AGREE_LABELS = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]

# The library a pulse starts from: each theme's questions, copied into the new pulse, where
# its chair may edit them before the first run. (kind, prompt, options)
LIBRARY: dict[str, tuple[tuple[str, str, list[str]], ...]] = {
    Theme.WELLBEING: (
        (Kind.SCALE, "My workload is manageable.", AGREE_LABELS),
        (Kind.SCALE, "I can switch off from work when I am not working.", AGREE_LABELS),
        (Kind.SCALE, "I feel supported by my manager.", AGREE_LABELS),
        (Kind.SCALE, "I can talk openly about the difficult parts of our work.", AGREE_LABELS),
        (Kind.ENPS, "How likely are you to recommend working here to a friend?", []),
        (
            Kind.CHOICE,
            "How has your wellbeing changed since the last check-in?",
            ["Better", "About the same", "Worse"],
        ),
        (Kind.COMMENT, "Anything else you would like the group to know?", []),
    ),
    Theme.INCLUSION: (
        (Kind.SCALE, "I am treated with respect by the people I work with.", AGREE_LABELS),
        (Kind.SCALE, "I can be myself at work.", AGREE_LABELS),
        (Kind.SCALE, "Decisions about people here are fair.", AGREE_LABELS),
        (Kind.SCALE, "I would feel safe reporting discrimination.", AGREE_LABELS),
        (Kind.ENPS, "How likely are you to recommend working here to a friend?", []),
        (Kind.COMMENT, "Anything else you would like the group to know?", []),
        (
            Kind.DEMOGRAPHIC,
            "How would you describe your gender?",
            ["Woman", "Man", "Non-binary", "In another way"],
        ),
        (
            Kind.DEMOGRAPHIC,
            "Do you consider yourself to have a disability?",
            ["Yes", "No"],
        ),
    ),
}

Title = Annotated[str, contracts.text("Title", max_length=TITLE_MAX_LENGTH)]
ThemeChoice = Annotated[str, contracts.choice("Starting questions", THEMES)]
CadenceChoice = Annotated[str, contracts.choice("Cadence", CADENCES)]
VisibilityChoice = Annotated[
    str,
    contracts.choice(
        "Visibility", RUN_VISIBILITIES, description="Who besides the group reads the results"
    ),
]
KindChoice = Annotated[str, contracts.choice("Kind", KINDS)]
Prompt = Annotated[str, contracts.text("The question", max_length=PROMPT_MAX_LENGTH)]
Options = Annotated[
    str,
    contracts.text(
        "Options (one a line)",
        max_length=MAX_OPTIONS * (OPTION_MAX_LENGTH + 1),
        one_line=False,
        required=False,
    ),
]
ClosesOn = Annotated[dt.date, contracts.labelled("Closes on")]


# --- commands ---------------------------------------------------------------------------


class NewPulse(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A pulse of the group, with an editable copy of one theme's library questions."""

    title: Title
    theme: ThemeChoice = Theme.WELLBEING.value
    cadence: CadenceChoice = Cadence.QUARTERLY.value
    visibility: VisibilityChoice = Visibility.INTERNAL.value


class QuestionChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A question's new wording (and options, one a line), before the pulse's first run."""

    prompt: Prompt
    options: Options = ""


class NewQuestion(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: KindChoice
    prompt: Prompt
    options: Options = ""


class NewRun(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A run that opens today and closes on `closes_on`, sent to every active staff address.
    It takes the pulse's visibility: runs of one pulse never differ, so that nobody who
    reads some of them can tell from a gap in the numbers that others exist."""

    closes_on: ClosesOn


class ResultsPaper(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A run's results put on a coming meeting's agenda as a paper (a snapshot), on the
    meeting itself or on one of its agenda items."""

    meeting_id: contracts.RowIdValue
    agenda_item_id: contracts.RowIdValue | None = None


class ResultsAnnex(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A run's results quoted in one of the group's draft reports (a recommendation or a
    periodic report), as an annex: the same snapshot as a meeting's paper."""

    report_id: contracts.RowIdValue


# --- views ------------------------------------------------------------------------------


class QuestionView(msgspec.Struct, kw_only=True):
    id: int
    position: int
    kind: str
    prompt: str
    options: list[str]

    @property
    def choices(self) -> list[str]:
        """What the answer form offers (a demographic question always offers "prefer not
        to say")."""
        if self.kind == Kind.DEMOGRAPHIC:
            return [*self.options, PREFER_NOT_TO_SAY]
        return list(self.options)


class RunSummaryView(msgspec.Struct, kw_only=True):
    id: int
    number: int
    opens_on: dt.date
    closes_on: dt.date
    status: str
    visibility: str
    invited: int
    responses: int


class PulseView(msgspec.Struct, kw_only=True):
    id: int
    group_id: int
    group_slug: str
    group_name: str
    title: str
    theme: str
    cadence: str
    visibility: str
    questions: list[QuestionView]
    runs: list[RunSummaryView]
    editable: bool  # no run yet: questions may change
    manages: bool  # the viewer is the group's chair or secretary


class PulseSummaryView(msgspec.Struct, kw_only=True):
    id: int
    group_slug: str
    group_name: str
    title: str
    theme: str
    cadence: str
    runs: int


class PulseListView(msgspec.Struct, kw_only=True):
    pulses: list[PulseSummaryView]


class QuestionResult(msgspec.Struct, kw_only=True):
    """One question's figures in one cut, or `suppressed` with none."""

    question_id: int
    prompt: str
    kind: str
    answered: int | None
    mean: float | None = None
    distribution: list[tuple[str, int]] = msgspec.field(default_factory=list)
    enps: int | None = None
    suppressed: bool = False


class CutResult(msgspec.Struct, kw_only=True):
    """The figures of the respondents who gave one answer to a demographic question."""

    question_id: int
    question: str
    option: str
    responses: str  # a number, or "fewer than 5" / "withheld"
    suppressed: bool
    questions: list[QuestionResult]


class RunResultsView(msgspec.Struct, kw_only=True):
    pulse_id: int
    pulse_title: str
    group_id: int
    group_slug: str
    run: RunSummaryView
    threshold: int
    suppressed: bool  # fewer responses than the threshold: no figure at all
    response_rate: float | None
    questions: list[QuestionResult]
    cuts: list[CutResult]
    comments: list[str] | None  # None: the viewer may not read them, or too few responses


class AgendaPlace(msgspec.Struct, kw_only=True):
    """A coming meeting of the group, or one of its agenda items, where a run's results
    can be put as a paper."""

    meeting_id: int
    agenda_item_id: int | None
    label: str


class DraftPlace(msgspec.Struct, kw_only=True):
    """A draft report of the group that a run's results can be quoted in."""

    report_id: int
    label: str


class TrendPoint(msgspec.Struct, kw_only=True):
    run_number: int
    closes_on: dt.date
    responses: int | None
    means: dict[str, float | None]  # question prompt → mean, None where suppressed
    enps: int | None


class RosterRowError(msgspec.Struct, kw_only=True):
    line: int
    message: str


class RosterImportView(msgspec.Struct, kw_only=True):
    added: int
    reactivated: int
    deactivated: int
    active: int


class AnswerFormView(msgspec.Struct, kw_only=True):
    pulse_title: str
    group_name: str
    closes_on: dt.date
    questions: list[QuestionView]
    consent: str
