"""`scripts/run` serves the demo at the address it is given, and the links it puts in email
point there too (issue 10, defect 11: they pointed at port 8000 whatever the port)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
# Installing the run extra and seeding a year of demo data take a while on a busy machine:
# a limit for the whole run, not a wait for any one step.
DEADLINE_SECONDS = 600


async def _wait_until_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_SECONDS
    async with httpx.AsyncClient() as client:
        while loop.time() < deadline:
            assert process.poll() is None, "scripts/run stopped before serving"
            try:
                if (await client.get(f"{url}/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)  # polling for the event, not waiting for a time
    raise AssertionError("the service did not become ready")


@pytest.mark.slow
async def test_links_in_email_follow_the_port_scripts_run_serves(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVERNANCE_")}
    env |= {"GOVERNANCE_PORT": str(port), "GOVERNANCE_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(  # noqa: ASYNC220 - our own script, on loopback
        ["bash", "scripts/run"],  # noqa: S607
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        await _wait_until_ready(f"http://127.0.0.1:{port}", process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        await asyncio.to_thread(process.wait, 60)
    with sqlite3.connect(tmp_path / "governance.sqlite3") as database:
        contexts = [row[0] for row in database.execute("SELECT context FROM outbound_email")]
    assert contexts, "the demo queues email"
    assert all(f"http://127.0.0.1:{port}/" in context for context in contexts)
    assert not any("127.0.0.1:8000" in context for context in contexts)
