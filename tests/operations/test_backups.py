"""Backups are taken while the service writes, restore into a fresh database with the same
rows and an intact audit chain, and a damaged file is refused in one line (issue 14).

Runs on the suite's database: SQLite by default, PostgreSQL when
GOVERNANCE_TEST_DATABASE_URL names one (then pg_dump and pg_restore do the work)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest

from governance.accounts.tables import User
from governance.core.audit import SYSTEM, record_event
from governance.core.clock import utcnow
from governance.core.db import get_engine, is_postgres, write_transaction
from governance.documents import services as documents
from governance.documents.schemas import CHUNK_SIZE, HolderKind, NewDocuments
from governance.meetings import services as meetings
from governance.meetings.schemas import AgendaItemDetails
from governance.operations import backups
from governance.operations.backups import (
    BackupError,
    copies_to_keep,
    create_backup,
    last_backup,
    nightly_backup,
    prune_nightly,
    sha256_of,
    verify_backup,
)
from governance.settings import get_settings
from tests.documents import files
from tests.documents.files import MemoryUpload
from tests.factories import make_meeting, viewer_for

REPO_ROOT = Path(__file__).resolve().parents[2]
WRITES_DURING_BACKUP = 5


def governance(*args: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GOVERNANCE_DATABASE_URL": database_url,
        "GOVERNANCE_DATA_DIR": str(data_dir),
    }
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "governance.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


class BackgroundWriter:
    """Adds an account and its audit event, in one transaction, again and again."""

    def __init__(self) -> None:
        self.written = 0
        self.stop = asyncio.Event()
        self._count_changed = threading.Condition()

    async def run(self) -> None:
        while not self.stop.is_set():
            async with write_transaction():
                rows = await User.insert(
                    User(
                        email=f"written{self.written}@example.org",
                        display_name=f"Written {self.written}",
                        created_at=utcnow(),
                    )
                ).returning(User.id)
                await record_event(SYSTEM, "test.written", "user", rows[0]["id"], "written")
            with self._count_changed:
                self.written += 1
                self._count_changed.notify_all()
            await asyncio.sleep(0)

    def wait_for(self, count: int) -> None:
        """Blocks the backup's thread until the writer has written that many rows."""
        with self._count_changed:
            assert self._count_changed.wait_for(lambda: self.written >= count, timeout=60)


@contextlib.asynccontextmanager
async def fresh_database(tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database of the suite's engine; its URL."""
    if not is_postgres():
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    suite = urlparse(get_settings().database_url)
    name = f"{suite.path.lstrip('/')}_restored"
    engine = get_engine()
    await engine.run_ddl(f"DROP DATABASE IF EXISTS {name}")
    await engine.run_ddl(f"CREATE DATABASE {name}")
    try:
        yield urlunparse(suite._replace(path=f"/{name}"))
    finally:
        await engine.run_ddl(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def rows_of(database_url: str) -> tuple[list[str], int]:
    """The accounts' emails in id order and the number of audit events, read directly."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            emails = [
                row[0] for row in connection.execute("SELECT email FROM app_user ORDER BY id")
            ]
            events = connection.execute("SELECT count(*) FROM audit_event").fetchone()[0]
        finally:
            connection.close()
        return emails, int(events)
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        emails = [
            row["email"] for row in await connection.fetch("SELECT email FROM app_user ORDER BY id")
        ]
        events = await connection.fetchval("SELECT count(*) FROM audit_event")
    finally:
        await connection.close()
    return emails, int(events)


DOCUMENT_QUERIES = {
    "documents": "SELECT id, series, version, title, file_name, media_type, size, sha256,"
    " visibility, holder_kind, holder_id FROM document ORDER BY id",
    "contents": "SELECT sha256, size, chunk_count FROM document_content ORDER BY sha256",
    "chunks": "SELECT sha256, chunk_index, data FROM document_blob ORDER BY sha256, chunk_index",
}


async def document_rows(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The document rows, content rows and chunk bytes, read directly."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            return {
                name: [tuple(row) for row in connection.execute(query)]
                for name, query in DOCUMENT_QUERIES.items()
            }
        finally:
            connection.close()
    import asyncpg

    pg = await asyncpg.connect(database_url)
    try:
        return {
            name: [
                tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in await pg.fetch(query)
            ]
            for name, query in DOCUMENT_QUERIES.items()
        }
    finally:
        await pg.close()


def downloaded_sha256(rows: dict[str, list[tuple[Any, ...]]], sha256: str) -> str:
    """The SHA-256 of what a download of that content serves: its chunks in order."""
    chunks = [row[2] for row in rows["chunks"] if row[0] == sha256]
    return hashlib.sha256(b"".join(bytes(chunk) for chunk in chunks)).hexdigest()


async def seed_documents(cast: Any) -> None:
    """Papers on a meeting: a PDF, an ODT, a text over one chunk long, one Board-only."""
    chair = await viewer_for(cast.chair)
    meeting_id = await make_meeting(cast.slug, cast.chair)
    board_item = await meetings.add_agenda_item(
        meeting_id, AgendaItemDetails(title="Conduct", visibility="board"), chair
    )
    long_text = ("Line of the annex.\n" * (CHUNK_SIZE // 19 + 2000)).encode()
    for upload, visibility, item in (
        (MemoryUpload("paper.pdf", files.pdf("Budget")), "internal", None),
        (MemoryUpload("annex.odt", files.odt()), "internal", None),
        (MemoryUpload("long.txt", long_text), "internal", None),
        (MemoryUpload("board.pdf", files.pdf("Board only")), "board", board_item),
    ):
        command = NewDocuments(visibility=visibility, agenda_item_id=item)
        await documents.add_documents(HolderKind.MEETING, meeting_id, [upload], command, chair)


async def test_a_backup_taken_while_writing_restores_the_same_rows_and_an_intact_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cast: Any
):
    # One page per step, so the copy is still under way while the writer writes.
    monkeypatch.setattr(backups, "PAGES_PER_STEP", 1)
    await seed_documents(cast)
    seeded_emails, seeded_events = await rows_of(get_settings().database_url)
    seeded_documents = await document_rows(get_settings().database_url)
    assert len(seeded_documents["documents"]) == 4
    assert any(row[1] > 1 for row in seeded_documents["contents"])  # several chunks
    writer = BackgroundWriter()
    writing = asyncio.create_task(writer.run())
    await asyncio.to_thread(writer.wait_for, 3)
    waited: list[int] = []

    def progress(_: str) -> None:
        if not waited:  # the first step is done: let the writer write some more meanwhile
            waited.append(writer.written)
            writer.wait_for(writer.written + WRITES_DURING_BACKUP)

    made = await asyncio.to_thread(create_backup, tmp_path / "copy", progress)
    writer.stop.set()
    await writing

    assert waited, "the backup reported no progress"
    assert writer.written >= waited[0] + WRITES_DURING_BACKUP
    copy = Path(made.path)
    assert stat.S_IMODE(os.stat(copy).st_mode) == 0o600
    assert made.sha256 == sha256_of(copy)
    assert last_backup() == made
    source_emails, _ = await rows_of(get_settings().database_url)

    async with fresh_database(tmp_path) as restored_url:
        done = await asyncio.to_thread(
            governance, "restore", str(copy), database_url=restored_url, data_dir=tmp_path
        )
        assert done.returncode == 0, done.stderr
        emails, events = await rows_of(restored_url)
        restored_documents = await document_rows(restored_url)

    # A consistent moment: every restored account came with its audit event, the accounts
    # are the source's first ones, and the rows written after that moment are not there.
    assert f"Audit chain intact: {events} events checked." in done.stdout
    assert events - seeded_events == len(emails) - len(seeded_emails) >= 3
    assert emails == source_emails[: len(emails)]
    assert len(emails) < len(source_emails)
    # The documents, their contents and every chunk's bytes, identical; a download of each
    # restored document gives its SHA-256.
    assert restored_documents == seeded_documents
    for document in restored_documents["documents"]:
        assert downloaded_sha256(restored_documents, document[7]) == document[7]


async def test_restore_refuses_a_database_that_is_not_empty(tmp_path: Path):
    copy = tmp_path / "copy"
    await asyncio.to_thread(create_backup, copy)
    async with write_transaction():
        await record_event(SYSTEM, "test.written", "user", 1, "a record to keep")

    done = await asyncio.to_thread(
        governance,
        "restore",
        str(copy),
        database_url=get_settings().database_url,
        data_dir=tmp_path,
    )

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "governance: The database is not empty: restore only into a new, empty database "
        "(point GOVERNANCE_DATABASE_URL at one), so no records are overwritten."
    ]


def damaged(copy: Path, how: str) -> Path:
    data = bytearray(copy.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 2]
    else:  # scribbled over from the middle on, the header intact
        middle = len(data) // 2
        data[middle:] = b"\xff" * (len(data) - middle)
    broken = copy.with_name(f"{copy.name}.{how}")
    broken.write_bytes(bytes(data))
    return broken


@pytest.mark.parametrize("how", ["truncated", "scribbled"])
async def test_a_damaged_backup_is_refused_in_one_line(tmp_path: Path, how: str):
    async with write_transaction():
        for number in range(50):
            await record_event(SYSTEM, "test.written", "user", number, "x" * 400)
    copy = tmp_path / "copy"
    await asyncio.to_thread(create_backup, copy)
    broken = damaged(copy, how)

    checked = await asyncio.to_thread(verify_backup, copy)
    with pytest.raises(BackupError):
        await asyncio.to_thread(verify_backup, broken)
    verify = await asyncio.to_thread(
        governance,
        "backup",
        "verify",
        str(broken),
        database_url=get_settings().database_url,
        data_dir=tmp_path,
    )
    async with fresh_database(tmp_path) as restored_url:
        restore = await asyncio.to_thread(
            governance, "restore", str(broken), database_url=restored_url, data_dir=tmp_path
        )

    assert checked.audit_intact in (True, None)
    for done in (verify, restore):
        assert done.returncode == 1
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("governance: "), done.stderr
        assert str(broken) in lines[0]
        assert "Traceback" not in done.stderr


async def test_a_file_that_is_no_backup_is_refused(tmp_path: Path):
    stranger = tmp_path / "notes.txt"
    stranger.write_text("not a database")

    with pytest.raises(BackupError, match="is not a Governance backup"):
        verify_backup(stranger)
    with pytest.raises(BackupError, match="There is no file at"):
        verify_backup(tmp_path / "missing")


def test_the_rotation_keeps_seven_daily_and_four_weekly_copies():
    start = dt.date(2026, 9, 1)
    days = [start + dt.timedelta(days=offset) for offset in range(60)]

    kept = copies_to_keep(days)

    newest = days[-1]
    daily = {newest - dt.timedelta(days=offset) for offset in range(7)}
    assert daily <= kept
    weekly = kept - daily
    # The newest copy of each of the four newest weeks; the newest weeks' are daily already.
    assert len({day.isocalendar()[:2] for day in kept}) == 4
    assert all(day.isoweekday() == 7 for day in weekly)
    assert len(kept) <= 7 + 4


async def test_the_nightly_backup_runs_once_a_day_and_prunes_old_copies(tmp_path: Path):
    settings = get_settings()
    folder = backups.backups_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    extension = "sqlite3" if settings.is_sqlite else "pgdump"
    today = dt.date(2026, 12, 3)
    for offset in range(1, 40):
        (folder / f"governance-nightly-{today - dt.timedelta(days=offset)}.{extension}").touch()
    try:
        first = await asyncio.to_thread(nightly_backup, today)
        second = await asyncio.to_thread(nightly_backup, today)
        remaining = sorted(folder.glob("governance-nightly-*"))
    finally:
        for path in folder.glob("governance-nightly-*"):
            path.unlink()

    assert f"governance-nightly-{today}.{extension}" in first
    assert "already made" in second
    assert len(remaining) <= 7 + 4
    assert prune_nightly(folder) == []


async def test_nightly_backups_can_be_turned_off(monkeypatch: pytest.MonkeyPatch):
    from dataclasses import replace

    settings = replace(get_settings(), nightly_backups=False)

    assert "off" in nightly_backup(dt.date(2026, 12, 3), settings)
