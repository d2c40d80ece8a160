"""Reads of transparency reports, returning views, with who reads what applied in the query.

Who reads (`accounts.scopes.transparency_reports`):
- the board edition: Board members, and for a group's report the group's current members.
  Never the Director as such: it counts Board-only matters.
- the public edition: anyone, without signing in, once published; while a draft or
  approved, the readers of the board edition and those who manage the report.
A report its reader may not read is "not found", exactly like one that does not exist, in
the same single query.

A report's figures are always shown as its edition shows them (`editions.present`), in
every format: the page, the printable document and its PDF, CSV, JSON and the API.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Any, TypeVar

from governance.accounts import scopes
from governance.accounts.policy import Viewer
from governance.core.clock import date_in_zone, organisation_today
from governance.core.contracts import field_errors, refuse
from governance.core.db import PreparedSelect, read_at_once
from governance.core.errors import InvalidInput, NotFoundError, PermissionDenied
from governance.core.exports import pdf_from_html
from governance.core.urls import path_for
from governance.groups.queries import get_group
from governance.groups.tables import WorkingGroup
from governance.meetings.queries import published_minutes
from governance.meetings.schemas import PublishedMinutesView
from governance.settings import get_settings
from governance.transparency import formats, metrics
from governance.transparency.editions import (
    Presented,
    headline,
    normalise_content,
    present,
)
from governance.transparency.figures import (
    EDITIONS,
    ORGANISATION,
    ORGANISATION_NAME,
    Edition,
)
from governance.transparency.formats import AuditHead, Rendition, ReportFacts, rendition
from governance.transparency.schemas import (
    BoardEntry,
    BoardOverview,
    ComparedFigure,
    GroupRef,
    LinksView,
    ReportFilters,
    ReportOutline,
    ReportPage,
    ReportStatus,
    ReportSummaryView,
    ReportView,
    ScopePage,
    TransparencyListView,
    TransparencyReportView,
    VersionView,
)
from governance.transparency.tables import TransparencyReport

NOT_FOUND = "There is no transparency report at this address, or you cannot see it."
NOT_FOR_YOU = "This page is for Board members and administrators."
LIST_LIMIT = 500
R = TypeVar("R", bound=ReportSummaryView)

_ALIASES = (
    TransparencyReport.group.slug.as_alias("group_slug"),
    TransparencyReport.group.name.as_alias("group_name"),
)
# Everything but the figures, the narrative and who approved and published.
_SUMMARY_COLUMNS = (
    *TransparencyReport.all_columns(
        exclude=[
            TransparencyReport.narrative,
            TransparencyReport.content,
            TransparencyReport.approved_by,
            TransparencyReport.published_by,
        ]
    ),
    *_ALIASES,
)
_FULL_COLUMNS = (
    *TransparencyReport.all_columns(),
    *_ALIASES,
    TransparencyReport.approved_by.display_name.as_alias("approved_by_name"),
    TransparencyReport.published_by.display_name.as_alias("published_by_name"),
)


def _summary_fields(row: dict[str, Any]) -> dict[str, Any]:
    organisation = row["group"] is None
    return {
        "id": row["id"],
        "group": row["group"],
        "scope": ORGANISATION if organisation else str(row["group_slug"]),
        "scope_name": ORGANISATION_NAME if organisation else str(row["group_name"]),
        "period": row["period"],
        "edition": row["edition"],
        "version": row["version"],
        "supersedes": row["supersedes"],
        "status": row["status"],
        "content_hash": row["content_hash"],
        "created_at": row["created_at"],
        "generated_at": row["generated_at"],
        "approved_at": row["approved_at"],
        "published_at": row["published_at"],
    }


def _summary(row: dict[str, Any]) -> ReportSummaryView:
    return ReportSummaryView(**_summary_fields(row))


def _view(row: dict[str, Any]) -> ReportView:
    content = row["content"]
    if isinstance(content, str):
        content = json.loads(content or "{}")
    return ReportView(
        **_summary_fields(row),
        narrative=row["narrative"] or "",
        content=content,
        approved_by=row["approved_by"],
        approved_by_name=row["approved_by_name"] or "",
        published_by=row["published_by"],
        published_by_name=row["published_by_name"] or "",
        audit_head_sequence=row["audit_head_sequence"],
        audit_head_hash=row["audit_head_hash"] or "",
    )


async def _full_rows(condition: Any) -> list[ReportView]:
    rows = await TransparencyReport.select(*_FULL_COLUMNS).where(condition).output(load_json=True)
    return [_view(row) for row in rows]


# --- one report -------------------------------------------------------------------------


async def get_report(report_id: int, reader: Viewer | None) -> ReportView:
    """The report with its figures as stored, if this reader may read it (one query)."""
    found = await _full_rows(
        (TransparencyReport.id == report_id) & scopes.transparency_reports(reader)
    )
    if not found:
        raise NotFoundError(NOT_FOUND)
    return found[0]


async def is_readable(report_id: int, reader: Viewer | None) -> bool:
    return bool(
        await TransparencyReport.exists().where(
            (TransparencyReport.id == report_id) & scopes.transparency_reports(reader)
        )
    )


async def supersedes_version(report: ReportSummaryView) -> int | None:
    """The version number this report supersedes, if any."""
    if report.supersedes is None:
        return None
    older = (
        await TransparencyReport.select(TransparencyReport.version)
        .where(TransparencyReport.id == report.supersedes)
        .first()
    )
    return older["version"] if older else None


async def _newer_version(report: ReportSummaryView, reader: Viewer | None) -> VersionView | None:
    """The version that supersedes this one, if this reader may read it."""
    newer = (
        await TransparencyReport.select(
            TransparencyReport.id, TransparencyReport.version, TransparencyReport.status
        )
        .where((TransparencyReport.supersedes == report.id) & scopes.transparency_reports(reader))
        .first()
    )
    return VersionView(**newer) if newer else None


def _facts(
    report: ReportView, supersedes_version: int | None, newer: VersionView | None
) -> ReportFacts:
    public = report.edition == Edition.PUBLIC
    published = report.status == ReportStatus.PUBLISHED
    return ReportFacts(
        report_id=report.id,
        status=report.status,
        version=report.version,
        supersedes_version=supersedes_version,
        superseded_by_version=newer.version
        if newer is not None and newer.status == ReportStatus.PUBLISHED
        else None,
        narrative=report.narrative,
        stored_hash=report.content_hash if published else "",
        approved_at=report.approved_at,
        published_at=report.published_at,
        # The public edition names no one but the chairs it lists.
        approved_by_name="" if public else report.approved_by_name,
        published_by_name="" if public else report.published_by_name,
        audit_head=AuditHead(report.audit_head_sequence, report.audit_head_hash)
        if published and report.audit_head_sequence is not None
        else None,
    )


_PRESENTED_CACHE: dict[tuple[int, str, str], Presented] = {}
_CACHE_SIZE = 128


def presented_of(report: ReportView) -> Presented:
    """The report's figures as its edition shows them. A published report never changes,
    so its presentation is kept (by id and hash) for the next reader."""
    if report.status != ReportStatus.PUBLISHED:
        return present(report.content, report.edition)
    # Keyed by the content too, so that content changed behind the service's back is
    # shown as it now is (and flagged), not as it was.
    fingerprint = json.dumps(report.content, sort_keys=True, default=str).encode()
    key = (report.id, report.content_hash, hashlib.sha256(fingerprint).hexdigest())
    cached = _PRESENTED_CACHE.get(key)
    if cached is None:
        cached = present(report.content, report.edition)
        if len(_PRESENTED_CACHE) >= _CACHE_SIZE:
            _PRESENTED_CACHE.pop(next(iter(_PRESENTED_CACHE)))
        _PRESENTED_CACHE[key] = cached
    return cached


async def _rendered(
    report_id: int, reader: Viewer | None
) -> tuple[ReportView, Rendition, VersionView | None]:
    report = await get_report(report_id, reader)
    older, newer = await supersedes_version(report), await _newer_version(report, reader)
    return report, rendition(presented_of(report), _facts(report, older, newer)), newer


async def report_rendition(report_id: int, reader: Viewer | None) -> Rendition:
    """The report as every format shows it."""
    return (await _rendered(report_id, reader))[1]


def approval_blocker(report: ReportSummaryView) -> str:
    """Why this draft cannot be approved yet, or an empty string: its period has not ended,
    or its figures were counted before the period ended."""
    period = metrics.parse_report_period(report.period)
    if not metrics.period_has_ended(period):
        return f"The period {period.label} has not ended; a report can be approved after it."
    if date_in_zone(report.generated_at) <= period.ends_on:
        return "The figures were generated before the period ended. Refresh them first."
    return ""


async def report_page(report_id: int, reader: Viewer | None) -> ReportPage:
    """Everything the report's page shows: the rendition and what the reader may do."""
    report, item, newer = await _rendered(report_id, reader)
    unpublished = report.status != ReportStatus.PUBLISHED
    approves = scopes.approves_transparency(reader, report.group)
    return ReportPage(
        report=report,
        item=item,
        newer=newer,
        can_manage=unpublished and scopes.manages_transparency(reader, report.group),
        can_approve=report.status == ReportStatus.DRAFT and approves,
        can_publish=report.status == ReportStatus.APPROVED and approves,
        approval_blocker=approval_blocker(report),
    )


# --- lists ------------------------------------------------------------------------------


async def _filter_condition(filters: ReportFilters) -> Any:
    refuse(field_errors(filters), "Unknown filter.")
    parts = []
    if filters.scope == ORGANISATION:
        parts.append(TransparencyReport.group.is_null())
    elif filters.scope:
        parts.append(TransparencyReport.group == (await get_group(filters.scope))["id"])
    if filters.period:
        parts.append(TransparencyReport.period == filters.period.strip().upper())
    if filters.edition:
        parts.append(TransparencyReport.edition == filters.edition)
    if filters.status:
        parts.append(TransparencyReport.status == filters.status)
    return parts


def _newest_first(condition: Any, limit: int) -> Any:
    return (
        TransparencyReport.select(*_SUMMARY_COLUMNS)
        .where(condition)
        .order_by(TransparencyReport.period, ascending=False)
        .order_by(TransparencyReport.id, ascending=False)
        .limit(limit)
    )


async def _listed(condition: Any, limit: int = LIST_LIMIT) -> list[ReportSummaryView]:
    return [_summary(row) for row in await _newest_first(condition, limit)]


# Built once: anyone may ask for the public index and its feed, on every view.
_PUBLISHED_PUBLIC_EDITIONS = PreparedSelect(
    lambda: _newest_first(scopes.transparency_reports(None), LIST_LIMIT)
)


async def list_reports(
    reader: Viewer | None, filters: ReportFilters | None = None, *, limit: int = LIST_LIMIT
) -> list[ReportSummaryView]:
    """The reports this reader may read, newest period first, filtered in the query."""
    condition = scopes.transparency_reports(reader)
    for part in await _filter_condition(filters or ReportFilters()):
        condition = condition & part
    return await _listed(condition, limit)


async def public_reports() -> list[ReportSummaryView]:
    """Published public editions, for /transparency: anyone may read them (the reports
    `list_reports(None)` gives, newest period first)."""
    reports = [_summary(row) for row in await _PUBLISHED_PUBLIC_EDITIONS.run()]
    newer = {report.supersedes: report.version for report in reports if report.supersedes}
    for report in reports:
        report.superseded_by_version = newer.get(report.id)
    return reports


async def public_index() -> tuple[list[ReportSummaryView], list[PublishedMinutesView]]:
    """What `/transparency` and its feed list, for anyone, read at once (one statement on
    a page): the published public editions and the public versions of approved minutes."""
    reports, minutes = await read_at_once(public_reports(), published_minutes())
    return reports, minutes


async def scope_page(scope: str, viewer: Viewer) -> ScopePage:
    """A group's (or the organisation's) reports this reader may read, and whether they may
    generate one. The organisation's page is for those who manage its reports."""
    group = None if scope == ORGANISATION else await get_group(scope)
    group_id = group["id"] if group else None
    if group is None and not scopes.manages_transparency(viewer, None):
        raise PermissionDenied(NOT_FOR_YOU)
    in_scope = (
        TransparencyReport.group == group["id"] if group else TransparencyReport.group.is_null()
    )
    reports = await _listed(scopes.transparency_reports(viewer) & in_scope)
    return ScopePage(
        scope=scope,
        scope_name=group["name"] if group else ORGANISATION_NAME,
        group=GroupRef(id=group["id"], slug=group["slug"], name=group["name"]) if group else None,
        reports=reports,
        can_generate=scopes.manages_transparency(viewer, group_id),
        editions=EDITIONS,
        suggested_period=metrics.last_ended_quarter(organisation_today()).label,
    )


# --- the API's view ---------------------------------------------------------------------


def _links(report_id: int) -> LinksView:
    return LinksView(
        html=path_for("transparency:show", report_id=report_id),
        pdf=path_for("transparency:pdf", report_id=report_id),
        csv=path_for("transparency:csv", report_id=report_id),
        json=path_for("transparency:json", report_id=report_id),
    )


def _api_view(report: ReportSummaryView, readable: bool = True) -> TransparencyReportView:
    facts = {name: getattr(report, name) for name in ReportOutline.__struct_fields__}
    return TransparencyReportView(
        **facts, sha256=report.sha256, readable=readable, links=_links(report.id)
    )


async def report_for_api(report_id: int, reader: Viewer | None) -> TransparencyReportView:
    """The report with its published document (`report`), as the API gives it."""
    report, item, _ = await _rendered(report_id, reader)
    view = _api_view(report)
    view.supersedes_version = item.facts.supersedes_version
    view.superseded_by_version = item.facts.superseded_by_version
    view.report = item.document
    view.integrity = item.integrity
    return view


async def generated_for_api(report_id: int, viewer: Viewer) -> TransparencyReportView:
    """What the API answers after generating: the report, or, for one its maker may not
    read (an administrator may generate the organisation's board edition, not read it),
    its facts with none of its figures."""
    try:
        return await report_for_api(report_id, viewer)
    except NotFoundError:
        row = (
            await TransparencyReport.select(*_SUMMARY_COLUMNS)
            .where(TransparencyReport.id == report_id)
            .first()
        )
        if row is None:
            raise
        return _api_view(_summary(row), readable=False)


async def list_for_api(
    reader: Viewer | None, filters: ReportFilters | None = None
) -> TransparencyListView:
    return TransparencyListView(
        reports=[_api_view(report) for report in await list_reports(reader, filters)]
    )


# --- the Board's page -------------------------------------------------------------------


def _period_key(report: ReportSummaryView) -> tuple[dt.date, int, int]:
    return metrics.parse_report_period(report.period).ends_on, report.version, report.id


def _previous_label(report: ReportSummaryView) -> str:
    return metrics.previous_period(metrics.parse_report_period(report.period)).label


def _latest_by_scope(reports: Iterable[R]) -> dict[str, R]:
    latest: dict[str, R] = {}
    for report in reports:
        if report.scope not in latest or _period_key(report) > _period_key(latest[report.scope]):
            latest[report.scope] = report
    return latest


async def _board_reports(viewer: Viewer) -> list[ReportView]:
    """The latest published board edition of each scope and the published one of the
    period before it: like is compared with like, never a draft whose figures may still
    change (issue 16). Which reports are wanted is decided on their facts; only those have
    their figures fetched, so the page does not grow with the years of reports behind it."""
    summaries = [
        report
        for report in map(
            _summary,
            await TransparencyReport.select(*_SUMMARY_COLUMNS).where(
                (TransparencyReport.edition == Edition.BOARD) & scopes.transparency_reports(viewer)
            ),
        )
        if report.status == ReportStatus.PUBLISHED
    ]
    latest = _latest_by_scope(summaries).values()
    previous = {(report.scope, _previous_label(report)) for report in latest}
    wanted = {report.id for report in latest} | {
        report.id for report in summaries if (report.scope, report.period) in previous
    }
    return await _full_rows(TransparencyReport.id.is_in(sorted(wanted) or [scopes.NO_GROUP]))


def _change(current: Any, previous: Any) -> str:
    if current.suppressed or previous is None or previous.suppressed:
        return ""
    if current.value is None or previous.value is None:
        return ""
    difference = float(current.value) - float(previous.value)
    if current.kind in ("rate", "share"):
        points = round(difference * 100)
        return f"{points:+d} points" if points else "no change"
    if current.kind == "median":
        return f"{difference:+.1f} days" if difference else "no change"
    return f"{int(difference):+d}" if difference else "no change"


class _Previous:
    """The previous period's figures of each scope: from its stored report, or counted now
    from the records (once per period, for every scope at once)."""

    def __init__(self, reports: list[ReportView]) -> None:
        self.stored = {(r.scope, r.period): r for r in sorted(reports, key=_period_key)}
        self.computed: dict[str, Presented] = {}

    async def section(self, scope: str, label: str) -> tuple[Any, bool]:
        earlier = self.stored.get((scope, label))
        if earlier is not None:
            sections = presented_of(earlier).sections
            return (sections[0] if sections else None), True
        if label not in self.computed:
            figures = await metrics.compute_figures(ORGANISATION, label, Edition.BOARD)
            self.computed[label] = present(normalise_content(figures.to_dict()), Edition.BOARD)
        candidates = self.computed[label].sections
        return next((s for s in candidates if s.slug == scope), None), False


async def _board_entry(
    scope: str, name: str, report: ReportView | None, previous: _Previous
) -> BoardEntry:
    if report is None:
        return BoardEntry(scope=scope, name=name, report=None)
    sections = presented_of(report).sections
    section = sections[0] if sections else None
    label = _previous_label(report)
    previous_section, stored = await previous.section(scope, label)
    before = {f.metric: f for f in headline(previous_section)} if previous_section else {}
    figures = [
        ComparedFigure(
            label=figure.label,
            current=figure.display,
            previous=before[figure.metric].display if figure.metric in before else "",
            change=_change(figure, before.get(figure.metric)),
        )
        for figure in (headline(section) if section else [])
    ]
    return BoardEntry(
        scope=scope,
        name=name,
        report=report,
        previous_label=label,
        previous_stored=stored,
        figures=figures,
    )


async def board_overview(viewer: Viewer) -> BoardOverview:
    """For Board members: the latest board-edition report of each group and of the
    organisation, each headline figure beside the previous period's, and what awaits a
    response. A fixed number of queries whatever the number of groups, with one
    computation of figures per previous period that has no stored report."""
    from governance.reports.queries import inbox

    if not viewer.user.is_board:
        raise PermissionDenied("This page is for Board members.")
    reports = await _board_reports(viewer)
    latest = _latest_by_scope(reports)
    previous = _Previous(reports)
    groups = await WorkingGroup.select(WorkingGroup.slug, WorkingGroup.name).order_by(
        WorkingGroup.name
    )
    scope_names = [(ORGANISATION, ORGANISATION_NAME)] + [(g["slug"], g["name"]) for g in groups]
    entries = [
        await _board_entry(scope, name, latest.get(scope), previous) for scope, name in scope_names
    ]
    waiting = await inbox(viewer)
    return BoardOverview(
        entries=entries,
        awaiting=waiting.awaiting,
        awaiting_management=waiting.awaiting_management,
    )


# --- building without storing (the CLI) --------------------------------------------------


async def build_rendition(scope: str, period_label: str, edition: str) -> Rendition:
    """Computes and presents a report without storing it (`governance report build`)."""
    figures = await metrics.compute_figures(scope, period_label, edition)
    presented = present(normalise_content(figures.to_dict()), edition)
    return rendition(presented, ReportFacts())


async def build_report_file(scope: str, period_label: str, edition: str, format_name: str) -> bytes:
    """`governance report build`: a report computed now, in one format, stored nowhere."""
    if format_name not in formats.FORMATS:
        raise InvalidInput(
            "The format is html, pdf, csv or json.", {"format": "Choose html, pdf, csv or json."}
        )
    item = await build_rendition(scope, period_label, edition)
    if format_name == "pdf":
        return await pdf_from_html(formats.document_html(item), get_settings().base_url + "/")
    return formats.render(item, format_name)
