"""The frozen records, re-checked: what `governance audit verify` checks beyond the chain.

Submitted reports, approved minutes (and their decisions) and published transparency
reports each keep the SHA-256 of what was frozen; each domain recomputes its own from the
rows as they stand (`<domain>/integrity.py`). This module only gathers their findings.
"""

from __future__ import annotations

from governance.core.audit import RecordMismatch
from governance.meetings.integrity import mismatched_minutes
from governance.reports.integrity import mismatched_reports
from governance.transparency.integrity import mismatched_reports as mismatched_transparency


async def mismatched_records() -> list[RecordMismatch]:
    """Every frozen record whose content no longer matches its hash, by kind and id."""
    return [
        *await mismatched_reports(),
        *await mismatched_transparency(),
        *await mismatched_minutes(),
    ]
