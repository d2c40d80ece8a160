"""The rules of transparency reports: generating, refreshing, writing the narrative,
approving and publishing them.

A report is one scope (a group, or the organisation with a section per group), one period
(a quarter or a year) and one edition (board or public). It is generated as a draft from
the records (`metrics.compute_figures`), by the scheduler after the period ends or on
demand; while a draft its figures can be refreshed and its narrative (Markdown) edited;
the group's chair (for the organisation, a Board member) approves it once the period has
ended and the figures were counted after it; the same people publish it. Publishing
freezes the figures and the narrative under the SHA-256 of the published document
(`editions.document`), writes the audit event and tells every active Board member by
email. A published report never changes: every change to it is refused with 409.
Generating a period whose report is published makes a new version that names the one it
supersedes.

Who manages (generates, refreshes, writes the narrative) and who approves are decided in
`accounts.scopes` (`manages_transparency`, `approves_transparency`); who reads which
report, in `queries`.

Each use case authorises, then finds every field's error at once, then writes, audits and
queues email in one write transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from governance.accounts import scopes
from governance.accounts.policy import Viewer
from governance.accounts.tables import User
from governance.core.audit import Actor, EventScope, current_head, record_event
from governance.core.clock import organisation_today, utcnow
from governance.core.contracts import (
    NO_ERRORS,
    Confirmation,
    field_errors,
    refuse,
    trimmed,
    unconfirmed,
)
from governance.core.db import get_engine, is_postgres, write_transaction
from governance.core.errors import ConflictError, InvalidInput, PermissionDenied
from governance.groups.tables import WorkingGroup
from governance.notifications import emails
from governance.notifications.emails import Recipient
from governance.transparency import metrics, queries
from governance.transparency.editions import (
    Presented,
    document_hash,
    headline,
    normalise_content,
    present,
)
from governance.transparency.figures import ORGANISATION, Period, TransparencyFigures
from governance.transparency.formats import AuditHead, published_document
from governance.transparency.schemas import (
    CONFIRM_FIRST,
    PUBLICATION_IS_FINAL,
    Generated,
    GenerateReport,
    NarrativeChange,
    ReportStatus,
    ReportSummaryView,
    ReportView,
)
from governance.transparency.tables import TransparencyReport

NEVER_CHANGES = "A published report never changes. Generate the period again to make a new version."
NARRATIVE_NEEDS_CORRECTING = "The narrative needs correcting. Nothing has been saved."
NO_SUCH_SCOPE = "Choose a working group's short name, or organisation."
# Any fixed number: generating a scope, period and edition takes this advisory lock (with
# a key for the three) on PostgreSQL, so two requests cannot both add a version.
GENERATION_LOCK_KEY = 0x7A4E
# An approved report goes back to draft when its figures or narrative change.
BACK_TO_DRAFT: dict[Any, Any] = {
    TransparencyReport.status: ReportStatus.DRAFT,
    TransparencyReport.approved_at: None,
    TransparencyReport.approved_by: None,
}


@dataclass(frozen=True)
class _Who:
    """Who may take a step of a report: the rule, and the refusal for a group's report and
    for the organisation's."""

    may: Callable[[Viewer | None, int | None], bool]
    group_refusal: str
    organisation_refusal: str

    def authorise(self, viewer: Viewer, group_id: int | None) -> None:
        if not self.may(viewer, group_id):
            refusal = self.organisation_refusal if group_id is None else self.group_refusal
            raise PermissionDenied(refusal)


GENERATORS = _Who(
    scopes.manages_transparency,
    "Only the group's chair or secretary can generate its transparency reports.",
    "Only Board members and administrators can generate the organisation's transparency reports.",
)
MANAGERS = _Who(
    scopes.manages_transparency,
    "Only the group's chair or secretary can change its reports.",
    "Only Board members and administrators can change the organisation's reports.",
)
APPROVERS = _Who(
    scopes.approves_transparency,
    "Only the group's chair can approve and publish its reports.",
    "Only a Board member can approve and publish the organisation's reports.",
)


def _describe(scope: str, period: str, edition: str, version: int) -> str:
    return f"{scope} {period}, {edition} edition, version {version}"


def _description(report: ReportSummaryView) -> str:
    return _describe(report.scope, report.period, report.edition, report.version)


# --- storing figures --------------------------------------------------------------------


async def _lock(scope: str, period: str, edition: str) -> None:
    engine = get_engine()
    if is_postgres(engine):
        digest = hashlib.sha256(f"{scope}:{period}:{edition}".encode()).digest()
        key = int.from_bytes(digest[:4], "big", signed=True)
        await engine.run_ddl(f"SELECT pg_advisory_xact_lock({GENERATION_LOCK_KEY}, {key})")


async def _latest_version(figures: TransparencyFigures, group_id: int | None) -> Any:
    """The latest version of the figures' scope, period and edition, if there is one."""
    scope = (
        TransparencyReport.group.is_null()
        if group_id is None
        else TransparencyReport.group == group_id
    )
    return (
        await TransparencyReport.select(
            TransparencyReport.id, TransparencyReport.version, TransparencyReport.status
        )
        .where(
            scope
            & (TransparencyReport.period == figures.period.label)
            & (TransparencyReport.edition == figures.edition)
        )
        .order_by(TransparencyReport.version, ascending=False)
        .first()
    )


def _event_scope(group_id: int | None, edition: str, *, published: bool = False) -> EventScope:
    """Who may see the report's events in the trail: the readers of the report."""
    return EventScope(group_id, scopes.transparency_readers(edition, published))


async def _refresh_version(
    latest: dict[str, Any], figures: TransparencyFigures, group_id: int | None, actor: Actor
) -> Generated:
    """New figures for an unpublished version; an approved one goes back to draft."""
    report_id = int(latest["id"])
    await TransparencyReport.update(
        {
            TransparencyReport.content: normalise_content(figures.to_dict()),
            TransparencyReport.generated_at: figures.generated_at,
            **BACK_TO_DRAFT,
        }
    ).where(
        (TransparencyReport.id == report_id) & (TransparencyReport.status != ReportStatus.PUBLISHED)
    )
    was = " (approval withdrawn)" if latest["status"] == ReportStatus.APPROVED else ""
    described = _describe(figures.scope, figures.period.label, figures.edition, latest["version"])
    await record_event(
        actor,
        "transparency.refreshed",
        "transparency_report",
        report_id,
        f"Transparency report {report_id} ({described}) figures refreshed{was}",
        scope=_event_scope(group_id, figures.edition),
    )
    return Generated(report_id, created=False)


async def _add_version(
    latest: dict[str, Any] | None,
    figures: TransparencyFigures,
    group_id: int | None,
    actor: Actor,
) -> Generated:
    """A new draft: version 1, or the version after a published one."""
    version = (latest["version"] + 1) if latest else 1
    rows = await TransparencyReport.insert(
        TransparencyReport(
            group=group_id,
            period=figures.period.label,
            edition=figures.edition,
            version=version,
            supersedes=latest["id"] if latest else None,
            status=ReportStatus.DRAFT,
            narrative="",
            content=normalise_content(figures.to_dict()),
            content_hash="",
            created_at=utcnow(),
            generated_at=figures.generated_at,
        )
    ).returning(TransparencyReport.id)
    report_id = int(rows[0]["id"])
    supersedes = f", superseding report {latest['id']}" if latest else ""
    described = _describe(figures.scope, figures.period.label, figures.edition, version)
    await record_event(
        actor,
        "transparency.generated",
        "transparency_report",
        report_id,
        f"Transparency report {report_id} ({described}) generated as a draft{supersedes}",
        scope=_event_scope(group_id, figures.edition),
    )
    return Generated(report_id, created=True)


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
    latest unpublished version (it was published meanwhile). Joins the caller's
    transaction when there is one."""
    async with write_transaction():
        await _lock(figures.scope, figures.period.label, figures.edition)
        latest = await _latest_version(figures, group_id)
        if latest is not None and only_if_absent:
            return None
        if expect_id is not None and (
            latest is None
            or latest["id"] != expect_id
            or latest["status"] == ReportStatus.PUBLISHED
        ):
            raise ConflictError(NEVER_CHANGES)
        if latest is not None and latest["status"] != ReportStatus.PUBLISHED:
            return await _refresh_version(latest, figures, group_id, actor)
        return await _add_version(latest, figures, group_id, actor)


# --- generating -------------------------------------------------------------------------


async def _generation_scope(
    scope: str, viewer: Viewer, errors: dict[str, str]
) -> dict[str, Any] | None:
    """The group a report is to be generated for (None for the organisation), once the
    viewer is known to manage its reports; an unknown group is the scope's error."""
    if "scope" in errors:
        return None
    group = None
    if scope != ORGANISATION:
        group = await WorkingGroup.select().where(WorkingGroup.slug == scope).first()
        if group is None:
            errors["scope"] = NO_SUCH_SCOPE
            return None
    GENERATORS.authorise(viewer, group["id"] if group else None)
    return group


def _period(label: str, errors: dict[str, str]) -> Period | None:
    """The quarter or year the label names, if it has begun; otherwise the period's error."""
    if "period" in errors:
        return None
    try:
        period = metrics.parse_report_period(label)
    except InvalidInput as error:
        errors["period"] = error.field_errors.get("period", error.message)
        return None
    if period.starts_on > organisation_today():
        errors["period"] = "Choose a period that has begun."
        return None
    return period


async def generate_report(
    command: GenerateReport, viewer: Viewer, *, unreadable: Mapping[str, str] = NO_ERRORS
) -> Generated:
    """A draft of the period, or the period's unpublished draft refreshed, or a new version
    after a published one. For the group's chair or secretary; for the organisation, a Board
    member or an administrator."""
    command = trimmed(command)
    async with write_transaction():
        errors = {**field_errors(command), **unreadable}
        group = await _generation_scope(command.scope, viewer, errors)
        period = _period(command.period, errors)
        refuse(errors)
        assert period is not None
        figures = await metrics.compute_figures(command.scope, period.label, command.edition)
        stored = await store_figures(
            figures, group["id"] if group else None, viewer.user, only_if_absent=False
        )
    assert stored is not None
    return stored


# --- changing a report ------------------------------------------------------------------


async def _unpublished(report_id: int, viewer: Viewer, who: _Who) -> ReportView:
    """The report, if this viewer may read it, it is not published and `who` includes
    them."""
    report = await queries.get_report(report_id, viewer)
    if report.status == ReportStatus.PUBLISHED:
        raise ConflictError(NEVER_CHANGES)
    who.authorise(viewer, report.group)
    return report


async def refresh_report(report_id: int, viewer: Viewer) -> Generated:
    """Recomputes an unpublished report's figures (an approved one goes back to draft)."""
    async with write_transaction():
        report = await _unpublished(report_id, viewer, MANAGERS)
        figures = await metrics.compute_figures(report.scope, report.period, report.edition)
        stored = await store_figures(
            figures, report.group, viewer.user, only_if_absent=False, expect_id=report_id
        )
    assert stored is not None
    return stored


async def update_narrative(
    report_id: int,
    command: NarrativeChange,
    viewer: Viewer,
    *,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> None:
    """The narrative (Markdown, sanitised when shown; its line breaks kept, trimmed at the
    ends). Changing an approved report's narrative withdraws its approval."""
    narrative = command.narrative.replace("\r\n", "\n").strip()
    async with write_transaction():
        report = await _unpublished(report_id, viewer, MANAGERS)
        refuse({**field_errors(command), **unreadable}, NARRATIVE_NEEDS_CORRECTING)
        updated = (
            await TransparencyReport.update(
                {TransparencyReport.narrative: narrative, **BACK_TO_DRAFT}
            )
            .where(
                (TransparencyReport.id == report_id)
                & (TransparencyReport.status != ReportStatus.PUBLISHED)
            )
            .returning(TransparencyReport.id)
        )
        if not updated:
            raise ConflictError(NEVER_CHANGES)
        was = " (approval withdrawn)" if report.status == ReportStatus.APPROVED else ""
        await record_event(
            viewer.user,
            "transparency.narrative_updated",
            "transparency_report",
            report_id,
            f"Transparency report {report_id} narrative updated{was}",
            scope=_event_scope(report.group, report.edition),
        )


async def approve_report(report_id: int, viewer: Viewer) -> None:
    """The group's chair (for the organisation, a Board member) approves a draft, once its
    period has ended and its figures were counted after."""
    async with write_transaction():
        report = await _unpublished(report_id, viewer, APPROVERS)
        if report.status == ReportStatus.APPROVED:
            raise ConflictError("This report is already approved.")
        blocker = queries.approval_blocker(report)
        if blocker:
            raise ConflictError(blocker)
        updated = (
            await TransparencyReport.update(
                {
                    TransparencyReport.status: ReportStatus.APPROVED,
                    TransparencyReport.approved_at: utcnow(),
                    TransparencyReport.approved_by: viewer.user.id,
                }
            )
            .where(
                (TransparencyReport.id == report_id)
                & (TransparencyReport.status == ReportStatus.DRAFT)
            )
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
            scope=_event_scope(report.group, report.edition),
        )


# --- publishing -------------------------------------------------------------------------


async def _freeze(report_id: int, digest: str, head: AuditHead, viewer: Viewer) -> None:
    updated = (
        await TransparencyReport.update(
            {
                TransparencyReport.status: ReportStatus.PUBLISHED,
                TransparencyReport.content_hash: digest,
                TransparencyReport.audit_head_sequence: head.sequence,
                TransparencyReport.audit_head_hash: head.hash,
                TransparencyReport.published_at: utcnow(),
                TransparencyReport.published_by: viewer.user.id,
            }
        )
        .where(
            (TransparencyReport.id == report_id)
            & (TransparencyReport.status == ReportStatus.APPROVED)
        )
        .returning(TransparencyReport.id)
    )
    if not updated:
        raise ConflictError("This report is no longer approved, or is already published.")


async def _tell_the_board(
    report: ReportView, presented: Presented, supersedes: int | None, digest: str
) -> None:
    """Every active Board member is told, with the edition's headline figures only."""
    sections = presented.sections
    rows = headline(sections[0]) if sections else []
    board = await User.select(User.id, User.email, User.display_name).where(
        (User.is_board == True) & (User.is_active == True)  # noqa: E712 - SQL comparisons
    )
    for person in board:
        await emails.transparency_published(
            Recipient.of(person, "id"),
            report_id=report.id,
            group_id=report.group,
            readers=scopes.transparency_readers(report.edition, published=True),
            scope_name=report.scope_name,
            period=report.period,
            edition_name=report.edition_name,
            version=report.version,
            supersedes_version=supersedes,
            sha256=digest,
            headline=[{"label": f.label, "value": f.reading} for f in rows],
        )


async def publish_report(
    report_id: int, viewer: Viewer, *, confirmation: Confirmation | None = None
) -> str:
    """Freezes the approved report under the SHA-256 of its published document, records
    it, and tells every active Board member. Returns the hash. A page's caller must have
    confirmed (`PUBLICATION_IS_FINAL`)."""
    async with write_transaction():
        report = await _unpublished(report_id, viewer, APPROVERS)
        if report.status != ReportStatus.APPROVED:
            raise ConflictError("A report is approved before it is published.")
        refuse(unconfirmed(confirmation, PUBLICATION_IS_FINAL), CONFIRM_FIRST)
        supersedes = await queries.supersedes_version(report)
        presented = present(report.content, report.edition)
        # The chain as it stands: the event recording this publication comes right after.
        head = AuditHead(*await current_head())
        digest = document_hash(
            published_document(
                presented,
                version=report.version,
                supersedes_version=supersedes,
                narrative=report.narrative,
                audit_head=head,
            )
        )
        await _freeze(report_id, digest, head, viewer)
        await record_event(
            viewer.user,
            "transparency.published",
            "transparency_report",
            report_id,
            f"Transparency report {report_id} ({_description(report)}) published; sha256 {digest}",
            scope=_event_scope(report.group, report.edition, published=True),
        )
        await _tell_the_board(report, presented, supersedes, digest)
    return digest
