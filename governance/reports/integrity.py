"""Whether a submitted report still has the content it was submitted with.

Submission stores the SHA-256 of the report's canonical content (`content_hash`), which
covers its annexes (each one's file name and SHA-256, in the order they were added). The page,
the API and `governance audit verify` recompute it from the row as it stands: a body
changed in the database behind the service's back shows as a mismatch, never silently
beside the old hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from governance.core.audit import RecordMismatch, audited_hashes, hash_problem
from governance.reports.schemas import ReportStatus
from governance.reports.tables import Report

OK = "ok"
MISMATCH = "mismatch"
SUBMITTED_ACTION = "report.submitted"


Annexes = Sequence[Mapping[str, Any]]


def content_hash(report: Mapping[str, Any], annexes: Annexes = ()) -> str:
    """SHA-256 of what submission freezes: the canonical JSON of these fields and, when it
    has any, of its annexes' names and hashes (so a report without annexes keeps the hash
    it was submitted with before reports had annexes)."""
    canonical = {
        "group": report["group"],
        "kind": report["kind"],
        "period": report["period"],
        "title": report["title"],
        "body": report["body"],
        "visibility": report["visibility"],
        "to_director": report["to_director"],
        "to_board": report["to_board"],
        "follows_up": report["follows_up"],
    }
    if annexes:
        canonical["annexes"] = [
            {"file_name": annex["file_name"], "sha256": annex["sha256"]} for annex in annexes
        ]
    return hashlib.sha256(
        json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def _frozen(report: Mapping[str, Any]) -> dict[str, Any]:
    # The hash was taken over booleans, whatever a database driver gives back.
    return {
        **report,
        "to_director": bool(report["to_director"]),
        "to_board": bool(report["to_board"]),
    }


def integrity(report: Mapping[str, Any], annexes: Annexes = ()) -> str | None:
    """ "ok" or "mismatch" for a submitted report; None for a draft, which has no hash."""
    if report["status"] != ReportStatus.SUBMITTED:
        return None
    return OK if content_hash(_frozen(report), annexes) == report["content_hash"] else MISMATCH


async def annexes_of(report_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The current annexes of these reports, each one's name and hash: one query."""
    from governance.documents.queries import annex_hashes

    return await annex_hashes(report_ids)


async def mismatched_reports(batch_size: int = 500) -> list[RecordMismatch]:
    """Every submitted report whose content no longer matches its hash, or whose hash is
    not the one the audit trail recorded at its submission."""
    audited = await audited_hashes(SUBMITTED_ACTION)
    mismatched: list[RecordMismatch] = []
    last_id = 0
    while True:
        rows = (
            await Report.select()
            .where((Report.status == ReportStatus.SUBMITTED) & (Report.id > last_id))
            .order_by(Report.id)
            .limit(batch_size)
        )
        if not rows:
            return mismatched
        annexes = await annexes_of([row["id"] for row in rows])
        for row in rows:
            computed = content_hash(_frozen(row), annexes.get(row["id"], []))
            problem = hash_problem(computed, row["content_hash"], audited.get(str(row["id"])))
            if problem:
                mismatched.append(RecordMismatch("report", row["id"], problem))
        last_id = rows[-1]["id"]
