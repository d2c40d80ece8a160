"""Transparency reports: generating, refreshing, approving and publishing them, and who reads them.

A report is one scope (a group, or the organisation with a section per group), one period
(a quarter or a year) and one edition (board or public). It is generated as a draft from
the records (`metrics.compute_figures`), by the scheduler after the period ends or on
demand; while a draft its figures can be refreshed and its narrative (Markdown) edited;
the group's chair (for the organisation, a Board member) approves it; the same people
publish it. Publishing freezes the figures and the narrative under the SHA-256 of the
published document (`editions.document`), writes the audit event and tells every active
Board member by email. A published report never changes: every change to it is refused
with 409. Generating a period whose report is published makes a new version that names
the one it supersedes.

Who manages: for a group, its chair or secretary; for the organisation, a Board member or
an administrator. Who approves and publishes: the group's chair; for the organisation, a
Board member.

Who reads, in the queries (`readable_clause`):
- the board edition: Board members, and for a group's report the group's current members.
  Never the Director as such: it counts Board-only matters.
- the public edition: anyone, without signing in, once published; while a draft or
  approved, the readers of the board edition and those who manage the report.
A report its reader may not read is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from governance.accounts.policy import Viewer
from governance.accounts.tables import User
from governance.core.audit import Actor, record_event
from governance.core.clock import organisation_today, utcnow
from governance.core.db import get_engine, is_postgres, write_transaction
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.core.templating import format_datetime
from governance.groups.tables import WorkingGroup
from governance.notifications import emails
from governance.notifications.emails import Recipient
from governance.settings import get_settings
from governance.transparency import metrics
from governance.transparency.editions import (
    EDITION_NAMES,
    ORGANISATION,
    Presented,
    document,
    document_hash,
    headline,
    normalise_content,
    present,
)
from governance.transparency.figures import EDITIONS, Period, TransparencyFigures
from governance.transparency.formats import Rendition, ReportFacts, rendition
from governance.transparency.tables import TransparencyReport

STATUSES = ("draft", "approved", "published")
NOT_FOUND = "There is no transparency report at this address, or you cannot see it."
NEVER_CHANGES = "A published report never changes. Generate the period again to make a new version."
MAX_NARRATIVE = 50_000
# Any fixed number: generating a scope, period and edition takes this advisory lock (with
# a key for the three) on PostgreSQL, so two requests cannot both add a version.
GENERATION_LOCK_KEY = 0x7A4E


@dataclass(frozen=True)
class Generated:
    report_id: int
    created: bool  # False when an unpublished report of that period was refreshed


# --- who may do what --------------------------------------------------------------------


def can_manage(viewer: Viewer | None, group_id: int | None) -> bool:
    """Generate, refresh and write the narrative."""
    if viewer is None:
        return False
    if group_id is None:
        return viewer.user.is_board or viewer.user.is_admin
    return viewer.leads(group_id)


def can_approve(viewer: Viewer | None, group_id: int | None) -> bool:
    """Approve and publish: the group's chair; for the organisation, a Board member."""
    if viewer is None:
        return False
    if group_id is None:
        return viewer.user.is_board
    return viewer.group_roles.get(group_id) == "chair"


def _reads_board_edition(viewer: Viewer, group_id: int | None) -> bool:
    return viewer.user.is_board or (group_id is not None and viewer.is_member_of(group_id))


def can_read(viewer: Viewer | None, report: dict[str, Any]) -> bool:
    """The rule `readable_clause` applies in the queries, for one row already fetched."""
    published_public = report["edition"] == "public" and report["status"] == "published"
    if published_public:
        return True
    if viewer is None:
        return False
    group_id = report["group"]
    if report["edition"] == "board":
        return _reads_board_edition(viewer, group_id)
    return _reads_board_edition(viewer, group_id) or can_manage(viewer, group_id)


def readable_clause(viewer: Viewer | None) -> Any:
    """Rows of TransparencyReport this reader may read (see the module's docstring)."""
    clause: Any = (TransparencyReport.edition == "public") & (
        TransparencyReport.status == "published"
    )
    if viewer is None:
        return clause
    if viewer.user.is_board:
        # Every board edition, and every public edition at any status.
        return clause | TransparencyReport.edition.is_in(list(EDITIONS))
    member_groups = list(viewer.group_roles) or [-1]
    clause = clause | TransparencyReport.group.is_in(member_groups)
    if viewer.user.is_admin:
        clause = clause | (
            TransparencyReport.group.is_null() & (TransparencyReport.edition == "public")
        )
    return clause


# --- reading ----------------------------------------------------------------------------

_COLUMNS = (
    TransparencyReport.group.slug.as_alias("group_slug"),
    TransparencyReport.group.name.as_alias("group_name"),
    TransparencyReport.approved_by.display_name.as_alias("approved_by_name"),
    TransparencyReport.published_by.display_name.as_alias("published_by_name"),
)
_SUMMARY_COLUMNS = (
    TransparencyReport.id,
    TransparencyReport.group,
    TransparencyReport.period,
    TransparencyReport.edition,
    TransparencyReport.version,
    TransparencyReport.supersedes,
    TransparencyReport.status,
    TransparencyReport.content_hash,
    TransparencyReport.created_at,
    TransparencyReport.generated_at,
    TransparencyReport.approved_at,
    TransparencyReport.published_at,
    TransparencyReport.group.slug.as_alias("group_slug"),
    TransparencyReport.group.name.as_alias("group_name"),
)


def scope_of(report: dict[str, Any]) -> str:
    return str(report["group_slug"]) if report["group"] is not None else ORGANISATION


def scope_name_of(report: dict[str, Any]) -> str:
    return str(report["group_name"]) if report["group"] is not None else "The organisation"


def _annotate(row: dict[str, Any]) -> dict[str, Any]:
    row["scope"] = scope_of(row)
    row["scope_name"] = scope_name_of(row)
    row["edition_name"] = EDITION_NAMES.get(row["edition"], row["edition"])
    content = row.get("content")
    if isinstance(content, str):
        row["content"] = json.loads(content or "{}")
    return row


async def _row(report_id: int, viewer: Viewer | None) -> dict[str, Any]:
    row = (
        await TransparencyReport.select(*TransparencyReport.all_columns(), *_COLUMNS)
        .where((TransparencyReport.id == report_id) & readable_clause(viewer))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFoundError(NOT_FOUND)
    return _annotate(row)


async def get_report(report_id: int, viewer: Viewer | None) -> dict[str, Any]:
    return await _row(report_id, viewer)


async def report_summary(report_id: int) -> dict[str, Any]:
    """A report's facts without its figures or narrative, whoever asks: for the one who
    just generated a report they may not read (an administrator's board edition)."""
    row = (
        await TransparencyReport.select(*_SUMMARY_COLUMNS)
        .where(TransparencyReport.id == report_id)
        .first()
    )
    if row is None:
        raise NotFoundError(NOT_FOUND)
    return _annotate(row)


async def _versions_around(
    report: dict[str, Any], viewer: Viewer | None
) -> tuple[int | None, dict[str, Any] | None]:
    """The version number this report supersedes, and the next version if readable."""
    supersedes_version = None
    if report["supersedes"] is not None:
        older = (
            await TransparencyReport.select(TransparencyReport.version)
            .where(TransparencyReport.id == report["supersedes"])
            .first()
        )
        supersedes_version = older["version"] if older else None
    newer = (
        await TransparencyReport.select(
            TransparencyReport.id, TransparencyReport.version, TransparencyReport.status
        )
        .where((TransparencyReport.supersedes == report["id"]) & readable_clause(viewer))
        .first()
    )
    return supersedes_version, newer


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    zone = get_settings().timezone
    return f"{format_datetime(moment, zone)} ({zone})"


def _facts(
    report: dict[str, Any], supersedes_version: int | None, newer: dict[str, Any] | None
) -> ReportFacts:
    public = report["edition"] == "public"
    return ReportFacts(
        report_id=report["id"],
        status=report["status"],
        version=report["version"],
        supersedes_version=supersedes_version,
        superseded_by_version=newer["version"]
        if newer is not None and newer["status"] == "published"
        else None,
        narrative=report["narrative"] or "",
        stored_hash=report["content_hash"] if report["status"] == "published" else "",
        approved_at=_when(report["approved_at"]),
        published_at=_when(report["published_at"]),
        # The public edition names no one but the chairs it lists.
        approved_by_name="" if public else (report.get("approved_by_name") or ""),
        published_by_name="" if public else (report.get("published_by_name") or ""),
    )


_PRESENTED_CACHE: dict[tuple[int, str], Presented] = {}
_CACHE_SIZE = 128


def presented_of(report: dict[str, Any]) -> Presented:
    """The report's figures as its edition shows them. A published report never changes,
    so its presentation is kept (by id and hash) for the next reader."""
    if report["status"] != "published":
        return present(report["content"], report["edition"])
    key = (int(report["id"]), str(report["content_hash"]))
    cached = _PRESENTED_CACHE.get(key)
    if cached is None:
        cached = present(report["content"], report["edition"])
        if len(_PRESENTED_CACHE) >= _CACHE_SIZE:
            _PRESENTED_CACHE.pop(next(iter(_PRESENTED_CACHE)))
        _PRESENTED_CACHE[key] = cached
    return cached


async def report_rendition(report_id: int, viewer: Viewer | None) -> Rendition:
    report = await _row(report_id, viewer)
    supersedes_version, newer = await _versions_around(report, viewer)
    return rendition(presented_of(report), _facts(report, supersedes_version, newer))


async def report_page(report_id: int, viewer: Viewer | None) -> dict[str, Any]:
    """Everything the report's page shows: the rendition and what the reader may do."""
    report = await _row(report_id, viewer)
    supersedes_version, newer = await _versions_around(report, viewer)
    item = rendition(presented_of(report), _facts(report, supersedes_version, newer))
    unpublished = report["status"] != "published"
    return {
        "report": report,
        "item": item,
        "newer": newer,
        "can_manage": unpublished and can_manage(viewer, report["group"]),
        "can_approve": report["status"] == "draft" and can_approve(viewer, report["group"]),
        "can_publish": report["status"] == "approved" and can_approve(viewer, report["group"]),
        "approval_blocker": approval_blocker(report),
    }


async def list_reports(
    viewer: Viewer | None,
    *,
    scope: str | None = None,
    period: str | None = None,
    edition: str | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """The reports this reader may read, newest period first, filtered in the query."""
    condition = readable_clause(viewer)
    if scope is not None:
        if scope == ORGANISATION:
            condition = condition & TransparencyReport.group.is_null()
        else:
            group = await _group(scope)
            condition = condition & (TransparencyReport.group == group["id"])
    if period is not None:
        condition = condition & (TransparencyReport.period == period.strip().upper())
    if edition is not None:
        condition = condition & (TransparencyReport.edition == edition)
    if status is not None:
        condition = condition & (TransparencyReport.status == status)
    rows = (
        await TransparencyReport.select(*_SUMMARY_COLUMNS)
        .where(condition)
        .order_by(TransparencyReport.period, ascending=False)
        .order_by(TransparencyReport.id, ascending=False)
        .limit(limit)
    )
    return [_annotate(row) for row in rows]


async def public_reports() -> list[dict[str, Any]]:
    """Published public editions, for /transparency: anyone may read them."""
    rows = await list_reports(None)
    newer = {row["supersedes"]: row["version"] for row in rows if row["supersedes"]}
    for row in rows:
        row["superseded_by_version"] = newer.get(row["id"])
    return rows


async def _group(slug: str) -> dict[str, Any]:
    group = await WorkingGroup.select().where(WorkingGroup.slug == slug).first()
    if group is None:
        raise NotFoundError("There is no working group at this address.")
    return group  # type: ignore[no-any-return]


async def scope_page(scope: str, viewer: Viewer) -> dict[str, Any]:
    """A group's (or the organisation's) reports this reader may read, and whether they may
    generate one."""
    group = None if scope == ORGANISATION else await _group(scope)
    group_id = group["id"] if group else None
    reports = await list_reports(viewer, scope=scope)
    return {
        "scope": scope,
        "scope_name": group["name"] if group else "The organisation",
        "group": group,
        "reports": reports,
        "can_generate": can_manage(viewer, group_id),
        "editions": EDITIONS,
        "suggested_period": last_ended_quarter(organisation_today()).label,
    }


# --- periods ----------------------------------------------------------------------------


def last_ended_quarter(today: dt.date) -> Period:
    first_of_quarter = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    day = first_of_quarter - dt.timedelta(days=1)
    return metrics.parse_report_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def last_ended_year(today: dt.date) -> Period:
    return metrics.parse_report_period(str(today.year - 1))


def period_has_ended(period: Period, today: dt.date | None = None) -> bool:
    return period.ends_on < (today or organisation_today())


def _generated_after_period(report: dict[str, Any], period: Period) -> bool:
    zone = ZoneInfo(get_settings().timezone)
    generated = report["generated_at"].astimezone(zone).date()
    return generated > period.ends_on


def approval_blocker(report: dict[str, Any]) -> str:
    """Why this draft cannot be approved yet, or an empty string."""
    period = metrics.parse_report_period(report["period"])
    if not period_has_ended(period):
        return f"The period {period.label} has not ended; a report can be approved after it."
    if not _generated_after_period(report, period):
        return "The figures were generated before the period ended. Refresh them first."
    return ""


# --- generating -------------------------------------------------------------------------


def _check_edition(edition: str) -> None:
    if edition not in EDITIONS:
        raise InvalidInput(
            "The edition is board or public.", {"edition": "Choose board or public."}
        )


async def _scope_group(scope: str) -> dict[str, Any] | None:
    if scope == ORGANISATION:
        return None
    group = await WorkingGroup.select().where(WorkingGroup.slug == scope).first()
    if group is None:
        raise InvalidInput(
            "There is no such working group.",
            {"scope": "Choose a working group's short name, or organisation."},
        )
    return group  # type: ignore[no-any-return]


def _scope_condition(group_id: int | None) -> Any:
    if group_id is None:
        return TransparencyReport.group.is_null()
    return TransparencyReport.group == group_id


async def _lock(scope: str, period: str, edition: str) -> None:
    engine = get_engine()
    if is_postgres(engine):
        digest = hashlib.sha256(f"{scope}:{period}:{edition}".encode()).digest()
        key = int.from_bytes(digest[:4], "big", signed=True)
        await engine.run_ddl(f"SELECT pg_advisory_xact_lock({GENERATION_LOCK_KEY}, {key})")


def _describe(scope: str, period: str, edition: str, version: int) -> str:
    return f"{scope} {period}, {edition} edition, version {version}"


def _description(report: dict[str, Any]) -> str:
    return _describe(report["scope"], report["period"], report["edition"], report["version"])


async def store_figures(
    figures: TransparencyFigures,
    group_id: int | None,
    actor: Actor,
    *,
    only_if_absent: bool,
    expect_id: int | None = None,
) -> Generated | None:
    """Stores freshly computed figures: refreshes the latest version while it is not
    published (an approved one goes back to draft), or adds a version after a published
    one. With only_if_absent (the scheduler), does nothing if the period has any report.
    With expect_id (refreshing one report), refuses if that report is no longer the
    latest unpublished version (it was published meanwhile)."""
    scope, label, edition = figures.scope, figures.period.label, figures.edition
    content = normalise_content(figures.to_dict())
    now = utcnow()
    async with write_transaction():
        await _lock(scope, label, edition)
        latest = (
            await TransparencyReport.select(
                TransparencyReport.id, TransparencyReport.version, TransparencyReport.status
            )
            .where(
                _scope_condition(group_id)
                & (TransparencyReport.period == label)
                & (TransparencyReport.edition == edition)
            )
            .order_by(TransparencyReport.version, ascending=False)
            .first()
        )
        if latest is not None and only_if_absent:
            return None
        if expect_id is not None and (
            latest is None or latest["id"] != expect_id or latest["status"] == "published"
        ):
            raise ConflictError(NEVER_CHANGES)
        if latest is not None and latest["status"] != "published":
            await TransparencyReport.update(
                {
                    TransparencyReport.content: content,
                    TransparencyReport.generated_at: figures.generated_at,
                    TransparencyReport.status: "draft",
                    TransparencyReport.approved_at: None,
                    TransparencyReport.approved_by: None,
                }
            ).where(
                (TransparencyReport.id == latest["id"]) & (TransparencyReport.status != "published")
            )
            was = " (approval withdrawn)" if latest["status"] == "approved" else ""
            await record_event(
                actor,
                "transparency.refreshed",
                "transparency_report",
                latest["id"],
                f"Transparency report {latest['id']} "
                f"({_describe(scope, label, edition, latest['version'])}) figures refreshed{was}",
            )
            return Generated(int(latest["id"]), created=False)
        version = (latest["version"] + 1) if latest else 1
        rows = await TransparencyReport.insert(
            TransparencyReport(
                group=group_id,
                period=label,
                edition=edition,
                version=version,
                supersedes=latest["id"] if latest else None,
                status="draft",
                narrative="",
                content=content,
                content_hash="",
                created_at=now,
                generated_at=figures.generated_at,
            )
        ).returning(TransparencyReport.id)
        report_id = int(rows[0]["id"])
        supersedes = f", superseding report {latest['id']}" if latest else ""
        await record_event(
            actor,
            "transparency.generated",
            "transparency_report",
            report_id,
            f"Transparency report {report_id} "
            f"({_describe(scope, label, edition, version)}) generated as a draft{supersedes}",
        )
    return Generated(report_id, created=True)


async def generate_report(scope: str, period_label: str, edition: str, viewer: Viewer) -> Generated:
    """A draft of the period, or the period's unpublished draft refreshed, or a new version
    after a published one. For the group's chair or secretary; for the organisation, a Board
    member or an administrator."""
    scope = (scope or "").strip()
    group = await _scope_group(scope)
    group_id = group["id"] if group else None
    if not can_manage(viewer, group_id):
        raise PermissionDenied(
            "Only the group's chair or secretary can generate its transparency reports."
            if group
            else "Only Board members and administrators can generate the organisation's "
            "transparency reports."
        )
    _check_edition(edition)
    period = metrics.parse_report_period(period_label)
    figures = await metrics.compute_figures(scope, period.label, edition)
    stored = await store_figures(figures, group_id, viewer.user, only_if_absent=False)
    assert stored is not None
    return stored


async def _unpublished(report_id: int, viewer: Viewer) -> dict[str, Any]:
    report = await _row(report_id, viewer)
    if report["status"] == "published":
        raise ConflictError(NEVER_CHANGES)
    return report


def _manage_refusal(report: dict[str, Any]) -> PermissionDenied:
    if report["group"] is None:
        return PermissionDenied(
            "Only Board members and administrators can change the organisation's reports."
        )
    return PermissionDenied("Only the group's chair or secretary can change its reports.")


async def refresh_report(report_id: int, viewer: Viewer) -> Generated:
    """Recomputes an unpublished report's figures (an approved one goes back to draft)."""
    report = await _unpublished(report_id, viewer)
    if not can_manage(viewer, report["group"]):
        raise _manage_refusal(report)
    figures = await metrics.compute_figures(report["scope"], report["period"], report["edition"])
    stored = await store_figures(
        figures, report["group"], viewer.user, only_if_absent=False, expect_id=report_id
    )
    assert stored is not None
    return stored


async def update_narrative(report_id: int, narrative: str, viewer: Viewer) -> None:
    """The narrative (Markdown, sanitised when shown). Changing an approved report's
    narrative withdraws its approval."""
    errors = {}
    if len(narrative) > MAX_NARRATIVE:
        errors["narrative"] = f"The narrative must be at most {MAX_NARRATIVE:,} characters."
    elif "\x00" in narrative:
        errors["narrative"] = "The narrative contains a character that cannot be stored."
    async with write_transaction():
        report = await _unpublished(report_id, viewer)
        if not can_manage(viewer, report["group"]):
            raise _manage_refusal(report)
        if errors:
            raise InvalidInput("The narrative needs correcting. Nothing has been saved.", errors)
        updated = (
            await TransparencyReport.update(
                {
                    TransparencyReport.narrative: narrative,
                    TransparencyReport.status: "draft",
                    TransparencyReport.approved_at: None,
                    TransparencyReport.approved_by: None,
                }
            )
            .where(
                (TransparencyReport.id == report_id) & (TransparencyReport.status != "published")
            )
            .returning(TransparencyReport.id)
        )
        if not updated:
            raise ConflictError(NEVER_CHANGES)
        was = " (approval withdrawn)" if report["status"] == "approved" else ""
        await record_event(
            viewer.user,
            "transparency.narrative_updated",
            "transparency_report",
            report_id,
            f"Transparency report {report_id} narrative updated{was}",
        )


def _approve_refusal(report: dict[str, Any]) -> PermissionDenied:
    if report["group"] is None:
        return PermissionDenied(
            "Only a Board member can approve and publish the organisation's reports."
        )
    return PermissionDenied("Only the group's chair can approve and publish its reports.")


async def approve_report(report_id: int, viewer: Viewer) -> None:
    async with write_transaction():
        report = await _unpublished(report_id, viewer)
        if not can_approve(viewer, report["group"]):
            raise _approve_refusal(report)
        if report["status"] == "approved":
            raise ConflictError("This report is already approved.")
        blocker = approval_blocker(report)
        if blocker:
            raise ConflictError(blocker)
        updated = (
            await TransparencyReport.update(
                {
                    TransparencyReport.status: "approved",
                    TransparencyReport.approved_at: utcnow(),
                    TransparencyReport.approved_by: viewer.user.id,
                }
            )
            .where((TransparencyReport.id == report_id) & (TransparencyReport.status == "draft"))
            .returning(TransparencyReport.id)
        )
        if not updated:
            raise ConflictError("This report is no longer a draft.")
        await record_event(
            viewer.user,
            "transparency.approved",
            "transparency_report",
            report_id,
            f"Transparency report {report_id} ({_description(report)}) approved",
        )


async def _board_members() -> list[dict[str, Any]]:
    return await User.select(User.id, User.email, User.display_name).where(
        (User.is_board == True) & (User.is_active == True)  # noqa: E712 - SQL comparisons
    )


def _headline_rows(presented: Presented) -> list[dict[str, str]]:
    sections = presented.sections
    if not sections:
        return []
    return [{"label": f.label, "value": f.display} for f in headline(sections[0])]


async def publish_report(report_id: int, viewer: Viewer) -> str:
    """Freezes the approved report under the SHA-256 of its published document, records
    it, and tells every active Board member. Returns the hash."""
    async with write_transaction():
        report = await _unpublished(report_id, viewer)
        if not can_approve(viewer, report["group"]):
            raise _approve_refusal(report)
        if report["status"] != "approved":
            raise ConflictError("A report is approved before it is published.")
        supersedes_version, _ = await _versions_around(report, viewer)
        presented = present(report["content"], report["edition"])
        digest = document_hash(
            document(
                presented,
                version=report["version"],
                supersedes_version=supersedes_version,
                narrative=report["narrative"] or "",
            )
        )
        now = utcnow()
        updated = (
            await TransparencyReport.update(
                {
                    TransparencyReport.status: "published",
                    TransparencyReport.content_hash: digest,
                    TransparencyReport.published_at: now,
                    TransparencyReport.published_by: viewer.user.id,
                }
            )
            .where((TransparencyReport.id == report_id) & (TransparencyReport.status == "approved"))
            .returning(TransparencyReport.id)
        )
        if not updated:
            raise ConflictError("This report is no longer approved, or is already published.")
        description = _description(report)
        await record_event(
            viewer.user,
            "transparency.published",
            "transparency_report",
            report_id,
            f"Transparency report {report_id} ({description}) published; sha256 {digest}",
        )
        for person in await _board_members():
            await emails.transparency_published(
                Recipient.of(person, "id"),
                report_id=report_id,
                scope_name=report["scope_name"],
                period=report["period"],
                edition_name=report["edition_name"],
                version=report["version"],
                supersedes_version=supersedes_version,
                sha256=digest,
                headline=_headline_rows(presented),
            )
    return digest


# --- building without storing (the CLI) --------------------------------------------------


async def build_rendition(scope: str, period_label: str, edition: str) -> Rendition:
    """Computes and presents a report without storing it (`governance report build`)."""
    _check_edition(edition)
    figures = await metrics.compute_figures(scope, period_label, edition)
    presented = present(normalise_content(figures.to_dict()), edition)
    return rendition(presented, ReportFacts())


# --- the Board's page -------------------------------------------------------------------


def previous_period(period: Period) -> Period:
    if "-Q" in period.label:
        year, quarter = period.label.split("-Q")
        number = int(quarter) - 1
        label = f"{year}-Q{number}" if number else f"{int(year) - 1}-Q4"
    else:
        label = str(int(period.label) - 1)
    return metrics.parse_report_period(label)


def _period_key(report: dict[str, Any]) -> tuple[dt.date, int, int]:
    period = metrics.parse_report_period(report["period"])
    return period.ends_on, report["version"], report["id"]


def _latest_by_scope(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        scope = row["scope"]
        if scope not in latest or _period_key(row) > _period_key(latest[scope]):
            latest[scope] = row
    return latest


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


async def board_overview(viewer: Viewer) -> dict[str, Any]:
    """For Board members: the latest board-edition report of each group and of the
    organisation, each headline figure beside the previous period's, and what awaits a
    response. A fixed number of queries whatever the number of groups, with one
    computation of figures per previous period that has no stored report."""
    from governance.reports.queries import inbox

    if not viewer.user.is_board:
        raise PermissionDenied("This page is for Board members.")
    # Which reports are wanted is decided on their facts; only those have their figures
    # fetched, so the page does not grow with the years of reports behind it.
    summaries = [
        _annotate(row)
        for row in await TransparencyReport.select(*_SUMMARY_COLUMNS).where(
            (TransparencyReport.edition == "board") & readable_clause(viewer)
        )
    ]
    latest_ids = {row["id"] for row in _latest_by_scope(summaries).values()}
    previous_labels = {
        (row["scope"], previous_period(metrics.parse_report_period(row["period"])).label)
        for row in summaries
        if row["id"] in latest_ids
    }
    wanted = {
        row["id"]
        for row in sorted(summaries, key=_period_key)
        if row["id"] in latest_ids or (row["scope"], row["period"]) in previous_labels
    }
    rows = [
        _annotate(row)
        for row in await TransparencyReport.select(*TransparencyReport.all_columns(), *_COLUMNS)
        .where(TransparencyReport.id.is_in(list(wanted) or [-1]))
        .output(load_json=True)
    ]
    latest = _latest_by_scope(rows)
    stored = {(row["scope"], row["period"]): row for row in sorted(rows, key=_period_key)}
    groups = await WorkingGroup.select(WorkingGroup.slug, WorkingGroup.name).order_by(
        WorkingGroup.name
    )
    computed: dict[str, Presented] = {}
    entries = []
    for scope, name in [(ORGANISATION, "The organisation")] + [
        (group["slug"], group["name"]) for group in groups
    ]:
        report = latest.get(scope)
        if report is None:
            entries.append({"scope": scope, "name": name, "report": None, "figures": []})
            continue
        presented = presented_of(report)
        section = presented.sections[0] if presented.sections else None
        previous = previous_period(metrics.parse_report_period(report["period"]))
        previous_section = None
        earlier = stored.get((scope, previous.label))
        if earlier is not None:
            earlier_sections = presented_of(earlier).sections
            previous_section = earlier_sections[0] if earlier_sections else None
        else:
            if previous.label not in computed:
                figures = await metrics.compute_figures(ORGANISATION, previous.label, "board")
                computed[previous.label] = present(normalise_content(figures.to_dict()), "board")
            candidates = computed[previous.label].sections
            previous_section = next((s for s in candidates if s.slug == scope), None)
        previous_figures = (
            {f.metric: f for f in headline(previous_section)} if previous_section else {}
        )
        entries.append(
            {
                "scope": scope,
                "name": name,
                "report": report,
                "previous_label": previous.label,
                "previous_stored": earlier is not None,
                "figures": [
                    {
                        "label": figure.label,
                        "current": figure.display,
                        "previous": previous_figures[figure.metric].display
                        if figure.metric in previous_figures
                        else "",
                        "change": _change(figure, previous_figures.get(figure.metric)),
                    }
                    for figure in (headline(section) if section else [])
                ],
            }
        )
    waiting = await inbox(viewer)
    return {
        "entries": entries,
        "awaiting": waiting.awaiting,
        "awaiting_management": waiting.awaiting_management,
    }


async def build_report_file(scope: str, period_label: str, edition: str, format_name: str) -> bytes:
    """`governance report build`: a report computed now, in one format, stored nowhere."""
    import anyio.to_thread

    from governance.transparency import formats

    if format_name not in formats.FORMATS:
        raise InvalidInput(
            "The format is html, pdf, csv or json.", {"format": "Choose html, pdf, csv or json."}
        )
    item = await build_rendition(scope, period_label, edition)
    if format_name == "pdf":
        html = formats.document_html(item)
        return await anyio.to_thread.run_sync(
            formats.pdf_bytes, html, get_settings().base_url + "/"
        )
    return formats.render(item, format_name)
