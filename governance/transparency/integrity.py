"""Whether published transparency reports still hold what was published.

Publishing freezes the SHA-256 of the report's published document (`formats.published_document`,
made from the stored figures, narrative, version and the audit chain's head). `governance
audit verify` rebuilds that document from the row as it stands and compares.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from governance.core.audit import CONTENT_CHANGED, RecordMismatch, audited_hashes, hash_problem
from governance.transparency.editions import document_hash, present
from governance.transparency.formats import AuditHead, published_document
from governance.transparency.schemas import ReportStatus
from governance.transparency.tables import TransparencyReport

PUBLISHED_ACTION = "transparency.published"


def recomputed_hash(row: Mapping[str, Any], supersedes_version: int | None) -> str:
    """The hash of the document this stored row publishes; "" if it no longer makes one."""
    content = row["content"]
    try:
        if isinstance(content, str):
            content = json.loads(content or "{}")
        head = (
            AuditHead(row["audit_head_sequence"], row["audit_head_hash"])
            if row["audit_head_sequence"] is not None
            else None
        )
        doc = published_document(
            present(content, row["edition"]),
            version=row["version"],
            supersedes_version=supersedes_version,
            narrative=row["narrative"] or "",
            audit_head=head,
        )
        return document_hash(doc)
    except (ValueError, TypeError, KeyError, AttributeError):
        # Content altered out of shape is altered content.
        return ""


async def _versions(ids: set[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = await TransparencyReport.select(TransparencyReport.id, TransparencyReport.version).where(
        TransparencyReport.id.is_in(sorted(ids))
    )
    return {row["id"]: row["version"] for row in rows}


async def mismatched_reports(batch_size: int = 100) -> list[RecordMismatch]:
    """Every published report whose stored content no longer makes the document its hash
    was taken over, or whose hash is not the one the audit trail recorded."""
    audited = await audited_hashes(PUBLISHED_ACTION)
    found: list[RecordMismatch] = []
    last_id = 0
    while True:
        rows = (
            await TransparencyReport.select()
            .where(
                (TransparencyReport.status == ReportStatus.PUBLISHED)
                & (TransparencyReport.id > last_id)
            )
            .order_by(TransparencyReport.id)
            .limit(batch_size)
            .output(load_json=True)
        )
        if not rows:
            return found
        versions = await _versions({r["supersedes"] for r in rows if r["supersedes"]})
        for row in rows:
            computed = recomputed_hash(row, versions.get(row["supersedes"] or 0))
            stored = row["content_hash"]
            problem = hash_problem(computed, stored, audited.get(str(row["id"])))
            if computed == "":
                problem = CONTENT_CHANGED
            if problem:
                found.append(RecordMismatch("transparency_report", row["id"], problem))
        last_id = rows[-1]["id"]
