"""A production install starts with a secret key set and no data folder yet (issue 10,
defect 10); the folder and what the service writes in it are private (issue 11, item 5)."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def governance(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GOVERNANCE_") or key == "GOVERNANCE_BROWSER_REQUIRED"
    }
    env |= {"GOVERNANCE_DATA_DIR": str(data_dir), "GOVERNANCE_SECRET_KEY": "a-set-secret-key"}
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "governance.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_init_creates_a_missing_data_folder_private_to_the_service(tmp_path: Path):
    data_dir = tmp_path / "not" / "yet" / "there"

    done = await asyncio.to_thread(governance, data_dir, "init")

    assert done.returncode == 0, done.stderr
    assert "Database ready" in done.stdout
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "mail") == 0o700
    assert mode(data_dir / "governance.sqlite3") == 0o600


async def test_a_data_folder_that_cannot_be_made_is_one_line_naming_it(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    refused = await asyncio.to_thread(governance, blocker / "var", "init")

    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"governance: cannot create the data folder {blocker / 'var'}: Not a directory"
    ]
    assert "Traceback" not in refused.stderr


async def test_files_already_there_are_made_private(tmp_path: Path):
    data_dir = tmp_path / "var"
    assert (await asyncio.to_thread(governance, data_dir, "init")).returncode == 0
    (data_dir / "governance.sqlite3").chmod(0o644)
    (data_dir / "mail" / "old.eml").write_text("Subject: x\n\nhello")
    (data_dir / "mail" / "old.eml").chmod(0o644)

    assert (await asyncio.to_thread(governance, data_dir, "migrate")).returncode == 0

    assert mode(data_dir / "governance.sqlite3") == 0o600
    assert mode(data_dir / "mail" / "old.eml") == 0o600
