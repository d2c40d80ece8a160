"""Backups: a consistent copy of the database taken while the service runs, checked,
restored into an empty database, and made every night with a rotation.

SQLite is copied with its online backup API (`sqlite3.Connection.backup`), which copies the
database as of one moment even while other connections write; PostgreSQL with
`pg_dump --format=custom`, which reads from one snapshot. Documents are stored in the
database (by SHA-256), so they are in the copy. A backup file is either an SQLite database
or a pg_dump archive; which one is read from its first bytes, never from its name.

Nothing here raises a traceback at an operator: every failure is a `BackupError` whose
message is one sentence saying what is wrong with which file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from governance.settings import PRIVATE_DIRECTORY, PRIVATE_FILE, Settings, get_settings

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
SQLITE, POSTGRESQL = "sqlite", "postgresql"
# Pages copied per step of SQLite's backup: about 4 MB, so progress shows on large files.
PAGES_PER_STEP = 1024
NIGHTLY_PREFIX = "governance-nightly-"
LAST_BACKUP_FILE = "last-backup.json"
KEEP_DAILY = 7
KEEP_WEEKLY = 4
# Tables that hold an organisation's records: a database with a row in any is not empty.
RECORD_TABLES = ("app_user", "working_group", "audit_event")

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is one line for the operator."""

    @property
    def message(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class BackupMade:
    path: str
    sha256: str
    size: int
    engine: str
    made_at: str


@dataclass(frozen=True)
class BackupChecked:
    engine: str
    detail: str
    # The audit chain's verdict in the copy, or why it was not checked.
    audit: str
    audit_intact: bool | None


def quiet(_: str) -> None:
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backups_folder(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).data_dir / "backups"


def engine_of(settings: Settings) -> str:
    return SQLITE if settings.is_sqlite else POSTGRESQL


def pg_url(settings: Settings) -> str:
    return settings.database_url.replace("postgres://", "postgresql://", 1)


def default_backup_path(settings: Settings, now: dt.datetime) -> Path:
    extension = "sqlite3" if settings.is_sqlite else "pgdump"
    return backups_folder(settings) / f"governance-{now:%Y%m%dT%H%M%SZ}.{extension}"


# --- making a backup ------------------------------------------------------------------


def _copy_sqlite(source_path: Path, target: Path, progress: Progress) -> None:
    if not source_path.exists():
        raise BackupError(f"There is no database at {source_path} to back up.")
    source = sqlite3.connect(source_path, timeout=10, isolation_level=None)
    copy = sqlite3.connect(target)
    try:
        # A read transaction pins the copy to one moment (WAL keeps it while others write);
        # without it, SQLite restarts the copy whenever another connection writes, and a
        # steady writer could keep it from ever finishing.
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()

        def report(_: int, remaining: int, total: int) -> None:
            progress(f"copied {total - remaining} of {total} pages")

        source.backup(copy, pages=PAGES_PER_STEP, progress=report)
    except sqlite3.Error as error:
        raise BackupError(f"The database could not be copied: {error}.") from error
    finally:
        copy.close()
        source.close()


def run_tool(arguments: list[str], progress: Progress, what: str) -> None:
    """Runs pg_dump or pg_restore, relaying its verbose lines as progress."""
    try:
        process = subprocess.Popen(  # noqa: S603 - pg_dump or pg_restore, arguments built here
            arguments,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
    except FileNotFoundError as error:
        raise BackupError(
            f"{arguments[0]} is not installed (Debian: apt-get install postgresql-client)."
        ) from error
    problems = []
    assert process.stderr is not None
    for line in process.stderr:
        line = line.strip()
        if line.startswith(f"{arguments[0]}: error") or "FATAL" in line:
            problems.append(line)
        elif line:
            progress(line.removeprefix(f"{arguments[0]}: "))
    if process.wait() != 0:
        first = problems[0] if problems else f"{arguments[0]} exited with {process.returncode}"
        raise BackupError(f"{what} failed: {first}")


def _dump_postgres(settings: Settings, target: Path, progress: Progress) -> None:
    arguments = ["pg_dump", "--format=custom", "--verbose", f"--file={target}", pg_url(settings)]
    run_tool(arguments, progress, "pg_dump")


def _private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIRECTORY)


def _record_last_backup(settings: Settings, made: BackupMade) -> None:
    """Where and when the newest backup was made, for the operations page."""
    folder = backups_folder(settings)
    _private_folder(folder)
    record = folder / LAST_BACKUP_FILE
    record.write_text(json.dumps(asdict(made), indent=2))
    record.chmod(PRIVATE_FILE)


def create_backup(
    target: Path | None = None, progress: Progress = quiet, settings: Settings | None = None
) -> BackupMade:
    """A consistent copy of the running service's database, private to this account."""
    settings = settings or get_settings()
    now = dt.datetime.now(dt.UTC)
    target = (target or default_backup_path(settings, now)).resolve()
    _private_folder(target.parent)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    old_mask = os.umask(0o077)
    try:
        if settings.is_sqlite:
            _copy_sqlite(settings.sqlite_path, partial, progress)
        else:
            _dump_postgres(settings, partial, progress)
        partial.chmod(PRIVATE_FILE)
        # Renamed only once complete, so a file under the final name is never half a copy.
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
        os.umask(old_mask)
    made = BackupMade(
        str(target), sha256_of(target), target.stat().st_size, engine_of(settings), now.isoformat()
    )
    _record_last_backup(settings, made)
    return made


def last_backup(settings: Settings | None = None) -> BackupMade | None:
    record = backups_folder(settings) / LAST_BACKUP_FILE
    try:
        return BackupMade(**json.loads(record.read_text()))
    except (OSError, ValueError, TypeError):
        return None


# --- checking a backup ----------------------------------------------------------------


def backup_engine(path: Path) -> str:
    """Which engine made this file, from its first bytes."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError as error:
        raise BackupError(f"There is no file at {path}.") from error
    except OSError as error:
        raise BackupError(f"{path} cannot be read: {error.strerror or error}.") from error
    if head.startswith(SQLITE_MAGIC):
        return SQLITE
    if head.startswith(PG_DUMP_MAGIC):
        return POSTGRESQL
    raise BackupError(f"{path} is not a Governance backup (neither SQLite nor pg_dump).")


@contextlib.contextmanager
def _scratch_copy(path: Path) -> Iterator[Path]:
    """A private copy to open, so checking a backup never changes the backup itself."""
    with tempfile.TemporaryDirectory(prefix="governance-check-") as folder:
        copy = Path(folder) / "copy.sqlite3"
        shutil.copyfile(path, copy)
        yield copy


def _sqlite_integrity(path: Path) -> int:
    """Runs integrity_check on the copy; the number of audit events in it."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            if verdict != ["ok"]:
                raise BackupError(f"the copy is damaged ({_one_line(verdict[0])})")
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            if not set(RECORD_TABLES) <= tables:
                raise BackupError("the copy holds no Governance database")
            return int(connection.execute("SELECT count(*) FROM audit_event").fetchone()[0])
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"the copy is damaged ({_one_line(str(error))})") from error


def _one_line(report: str, limit: int = 200) -> str:
    """SQLite's own report, which can run to many lines, as the one line a refusal is."""
    flat = " ".join(report.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _audit_chain_of_copy(database_url: str) -> tuple[str, bool]:
    """Runs `governance audit verify` against the copy, in a process of its own (the
    chain's key comes from this service's secret key)."""
    environment = {**os.environ, "GOVERNANCE_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "governance.cli", "audit", "verify"],
        env=environment,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=3600,
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    return (lines[0] if lines else "no verdict"), done.returncode == 0


def _pg_archive_entries(path: Path) -> int:
    done = subprocess.run(  # noqa: S603 - a fixed command
        ["pg_restore", "--list", str(path)],  # noqa: S607 - the client tools on PATH
        capture_output=True,
        text=True,
        errors="replace",  # a damaged archive's bytes can reach the message
        timeout=600,
    )
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["unreadable"])[0]
        raise BackupError(f"{path} is damaged: {first.removeprefix('pg_restore: error: ')}.")
    entries = [line for line in done.stdout.splitlines() if line and not line.startswith(";")]
    if not any(" TABLE DATA " in line and " audit_event " in line for line in entries):
        raise BackupError(f"{path} holds no Governance database.")
    return len(entries)


def verify_backup(path: Path) -> BackupChecked:
    """Opens the copy and checks it; raises BackupError for a damaged or foreign file."""
    engine = backup_engine(path)
    if engine == POSTGRESQL:
        try:
            entries = _pg_archive_entries(path)
        except FileNotFoundError as error:
            raise BackupError("pg_restore is not installed (postgresql-client).") from error
        return BackupChecked(
            POSTGRESQL,
            f"pg_dump archive with {entries} entries",
            "not checked in the archive; `governance restore` checks it after restoring",
            None,
        )
    with _scratch_copy(path) as copy:
        try:
            events = _sqlite_integrity(copy)
        except BackupError as error:
            raise BackupError(f"{path} is not a usable backup: {error.message}.") from error
        verdict, intact = _audit_chain_of_copy(f"sqlite:///{copy}")
    return BackupChecked(SQLITE, f"SQLite integrity ok, {events} audit events", verdict, intact)


# --- the nightly rotation -------------------------------------------------------------


def _nightly_date(path: Path) -> dt.date | None:
    stem = path.name.removeprefix(NIGHTLY_PREFIX).split(".")[0]
    try:
        return dt.date.fromisoformat(stem)
    except ValueError:
        return None


def copies_to_keep(dates: list[dt.date]) -> set[dt.date]:
    """The 7 newest daily copies, and the newest copy of each of the 4 newest weeks."""
    newest_first = sorted(set(dates), reverse=True)
    keep = set(newest_first[:KEEP_DAILY])
    weeks: dict[tuple[int, int], dt.date] = {}
    for day in newest_first:
        weeks.setdefault(day.isocalendar()[:2], day)
    keep.update(sorted(weeks.values(), reverse=True)[:KEEP_WEEKLY])
    return keep


def prune_nightly(folder: Path) -> list[Path]:
    """Removes the nightly copies the rotation no longer keeps; the removed paths."""
    copies = {path: _nightly_date(path) for path in folder.glob(f"{NIGHTLY_PREFIX}*")}
    dated = {path: day for path, day in copies.items() if day is not None}
    keep = copies_to_keep(list(dated.values()))
    removed = [path for path, day in dated.items() if day not in keep]
    for path in removed:
        path.unlink(missing_ok=True)
    return sorted(removed)


def nightly_backup(today: dt.date, settings: Settings | None = None) -> str:
    """Tonight's copy (once a day, however often it is asked), then the rotation."""
    settings = settings or get_settings()
    if not settings.nightly_backups:
        return "nightly backups are off (GOVERNANCE_NIGHTLY_BACKUPS)"
    folder = backups_folder(settings)
    extension = "sqlite3" if settings.is_sqlite else "pgdump"
    target = folder / f"{NIGHTLY_PREFIX}{today.isoformat()}.{extension}"
    made = "already made" if target.exists() else create_backup(target, settings=settings).sha256
    removed = prune_nightly(folder)
    return f"{target.name}: {made}; {len(removed)} old copies removed"
