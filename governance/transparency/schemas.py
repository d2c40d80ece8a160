"""The contracts of transparency reports: each use case's command in and view out, and every
limit.

The JSON API takes these commands as its request bodies and answers with
`TransparencyReportView`; the pages fill the same commands from their forms
(`core.contracts.read_form`) and render the page views. A limit is written once, here.
A report's figures are not views of their own: they travel as the `Rendition` of
`formats`, in which the edition's suppression has already been applied.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

import msgspec

from governance.core import contracts
from governance.transparency.editions import EDITION_NAMES
from governance.transparency.figures import EDITIONS, ORGANISATION
from governance.transparency.formats import Rendition


class ReportStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    PUBLISHED = "published"

    @property
    def label(self) -> str:
        return self.value.capitalize()


STATUSES: tuple[str, ...] = tuple(ReportStatus)
STATUS_LABELS: dict[str, str] = {status.value: status.label for status in ReportStatus}

MAX_NARRATIVE = 50_000
# What publishing cannot undo: its confirmation says so, and the page publishes only once the
# person has ticked that they understand.
PUBLICATION_IS_FINAL = (
    "a published report is frozen under its SHA-256 and the Board is told; it never changes"
    " again (generating its period again makes a new version), and a public edition can be"
    " read by anyone."
)
CONFIRM_FIRST = "Confirm that you understand what cannot be undone. Nothing has been changed."
SCOPE_MAX_LENGTH = 80
PERIOD_MAX_LENGTH = 10

Scope = Annotated[
    str,
    contracts.text(
        "Scope",
        max_length=SCOPE_MAX_LENGTH,
        description="A group's short name, or organisation",
    ),
]
PeriodLabel = Annotated[
    str,
    contracts.text(
        "Period", max_length=PERIOD_MAX_LENGTH, description="A quarter (2026-Q3) or a year (2026)"
    ),
]
EditionChoice = Annotated[
    str,
    contracts.choice(
        "Edition",
        EDITIONS,
        description="board: everything the Board may read; public: public and internal "
        "records only, figures about fewer than 5 people (attendance, pulse responses) shown "
        "as 'fewer than 5'; counts of the groups' activity shown whatever their size",
    ),
]
Narrative = Annotated[
    str,
    contracts.text(
        "Narrative",
        max_length=MAX_NARRATIVE,
        required=False,
        one_line=False,
        description="Markdown, sanitised when shown",
    ),
]


# --- commands ---------------------------------------------------------------------------


class GenerateReport(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Generate a draft of a period, or refresh the period's unpublished draft, or (when
    the period's report is published) make its next version. `scope` is a group's short
    name or "organisation"; `period` a quarter (2026-Q3) or a year (2026)."""

    scope: Scope
    period: PeriodLabel
    edition: EditionChoice


class NarrativeChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The narrative, in Markdown (sanitised when shown). Changing an approved report's
    narrative withdraws its approval."""

    narrative: Narrative


class ReportFilters(msgspec.Struct, kw_only=True):
    """Filters of a list of reports; empty means any."""

    scope: Annotated[str, contracts.text("Scope", max_length=SCOPE_MAX_LENGTH, required=False)] = ""
    period: Annotated[
        str, contracts.text("Period", max_length=PERIOD_MAX_LENGTH, required=False)
    ] = ""
    edition: Annotated[
        str,
        contracts.choice("Edition", EDITIONS, required=False, message="Choose board or public."),
    ] = ""
    status: Annotated[
        str,
        contracts.choice(
            "Status", STATUSES, required=False, message="Choose draft, approved or published."
        ),
    ] = ""


class Generated(msgspec.Struct, frozen=True):
    """What generating made: a new report, or (`created` False) the period's unpublished
    report refreshed."""

    report_id: int
    created: bool


# --- views ------------------------------------------------------------------------------


class ReportOutline(msgspec.Struct, kw_only=True):
    """What every view of a report says of it, in lists and in the API alike."""

    id: int
    scope: str  # the group's short name, or "organisation"
    scope_name: str
    period: str
    edition: str
    version: int
    status: str
    supersedes: int | None  # the id of the version this one replaces
    generated_at: dt.datetime
    approved_at: dt.datetime | None
    published_at: dt.datetime | None


class ReportSummaryView(ReportOutline, kw_only=True):
    """A report's facts, without its figures or narrative."""

    group: int | None  # None for the organisation
    content_hash: str  # set once published
    created_at: dt.datetime
    # In the public list: the version that replaced this one, once published.
    superseded_by_version: int | None = None

    @property
    def edition_name(self) -> str:
        return EDITION_NAMES.get(self.edition, self.edition)

    @property
    def is_organisation(self) -> bool:
        return self.scope == ORGANISATION

    @property
    def sha256(self) -> str | None:
        return self.content_hash if self.status == ReportStatus.PUBLISHED else None


class ReportView(ReportSummaryView, kw_only=True):
    """A report as stored: its facts, its figures (`content`, as computed) and narrative."""

    narrative: str
    content: dict[str, Any]
    approved_by: int | None
    approved_by_name: str
    published_by: int | None
    published_by_name: str
    # The audit chain's head recorded at publication (none before it, or for older reports).
    audit_head_sequence: int | None = None
    audit_head_hash: str = ""


class VersionView(msgspec.Struct, kw_only=True):
    """Another version of the same scope, period and edition."""

    id: int
    version: int
    status: str


class ReportPage(msgspec.Struct, kw_only=True):
    """The report's page: the report, its rendition, its next version if readable, and
    what the reader may do with it."""

    report: ReportView
    item: Rendition
    newer: VersionView | None
    can_manage: bool
    can_approve: bool
    can_publish: bool
    # Why the draft cannot be approved yet; empty when it can.
    approval_blocker: str


class GroupRef(msgspec.Struct, kw_only=True):
    id: int
    slug: str
    name: str


class ScopePage(msgspec.Struct, kw_only=True):
    """A group's (or the organisation's) reports this reader may read."""

    scope: str
    scope_name: str
    group: GroupRef | None
    reports: list[ReportSummaryView]
    can_generate: bool
    editions: tuple[str, ...]
    suggested_period: str


class ComparedFigure(msgspec.Struct, kw_only=True):
    label: str
    current: str
    previous: str
    change: str


class BoardEntry(msgspec.Struct, kw_only=True):
    """The latest board edition of one scope, each headline figure beside the previous
    period's."""

    scope: str
    name: str
    report: ReportSummaryView | None
    previous_label: str = ""
    # False when no report was stored for the previous period: counted now instead.
    previous_stored: bool = False
    figures: list[ComparedFigure] = []


class BoardOverview(msgspec.Struct, kw_only=True):
    entries: list[BoardEntry]
    # What awaits the Board's response, and the Director line's responses past due.
    awaiting: list[Any]
    awaiting_management: list[Any]


class LinksView(msgspec.Struct, kw_only=True):
    html: str
    pdf: str
    csv: str
    json: str


class TransparencyReportView(ReportOutline, kw_only=True):
    """A report as the API gives it."""

    sha256: str | None  # set once published
    # False only for a report its maker may not read (an administrator's board edition).
    readable: bool
    links: LinksView
    supersedes_version: int | None = None
    superseded_by_version: int | None = None
    report: dict[str, Any] | None = None  # the published document; absent in lists
    # Once published and read whole: "ok" while the stored content still has `sha256`,
    # "mismatch" once it does not; null otherwise.
    integrity: str | None = None


class TransparencyListView(msgspec.Struct, kw_only=True):
    reports: list[TransparencyReportView]
