"""Scheduled jobs of operations: the nightly backup and its rotation."""

from __future__ import annotations

import asyncio

from governance.core.clock import organisation_today
from governance.operations.backups import nightly_backup


async def nightly_backup_job() -> str:
    """Tonight's copy into <data folder>/backups. A failure raises, so the scheduler logs it
    and the operations page shows the job's last run as failed; the next night tries again."""
    return await asyncio.to_thread(nightly_backup, organisation_today())
