"""`governance audit verify` as an operator runs it: the chain and every frozen record, each
altered record named by kind and id, and a non-zero exit on any of them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from governance.reports import services
from governance.reports.schemas import ReportDraft
from governance.reports.tables import Report
from tests.factories import viewer_for

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_verify() -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # our own command, fixed arguments
        [sys.executable, "-m", "governance.cli", "audit", "verify"],
        cwd=REPO_ROOT,
        env=dict(os.environ),  # the same database as this test process
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_verify_names_each_altered_record_and_fails(cast):
    chair = await viewer_for(cast.chair)
    ids = []
    for title in ("First", "Second"):
        report_id = await services.create_report(
            cast.slug,
            ReportDraft(kind="recommendation", period="", title=title, body="Text.", route="both"),
            chair,
        )
        await services.submit_report(report_id, chair)
        ids.append(report_id)

    clean = await asyncio.to_thread(run_verify)
    assert clean.returncode == 0, clean.stderr
    assert "Audit chain intact" in clean.stdout and "Frozen records intact" in clean.stdout

    await Report.update({Report.title: "Renamed in the database"}).where(Report.id == ids[1])
    tampered = await asyncio.to_thread(run_verify)

    assert tampered.returncode == 1
    # The chain itself is intact (nothing went through the service), and its head printed.
    assert "Audit chain intact" in tampered.stdout and "Head: event" in tampered.stdout
    assert f"Mismatch: report {ids[1]}: its content does not match its hash." in tampered.stderr
    assert f"report {ids[0]}" not in tampered.stderr
