"""Restoring a backup into an empty database, then checking the audit chain it brought.

Only an empty database is restored into (no account, no group, no audit event), so a
restore can never silently overwrite an organisation's records; a database that only has
the schema (after `governance migrate`) counts as empty.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from governance.core.audit import ChainVerdict, verify_chain
from governance.core.db import PooledSQLiteEngine, get_engine
from governance.operations.backups import (
    POSTGRESQL,
    RECORD_TABLES,
    BackupError,
    Progress,
    backup_engine,
    engine_of,
    pg_url,
    quiet,
    run_tool,
    verify_backup,
)
from governance.settings import PRIVATE_FILE, Settings, get_settings


async def _rows_in(table: str) -> int:
    try:
        rows = await get_engine().run_ddl(f"SELECT count(*) AS n FROM {table}")
    except Exception:
        return 0  # no such table yet: nothing in it
    return int(rows[0]["n"]) if rows else 0


async def database_is_empty() -> bool:
    counts = [await _rows_in(table) for table in RECORD_TABLES]
    return not any(counts)


def _restore_sqlite(backup: Path, target: Path, progress: Progress) -> None:
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    destination = sqlite3.connect(target, timeout=10)
    try:

        def report(_: int, remaining: int, total: int) -> None:
            progress(f"restored {total - remaining} of {total} pages")

        source.backup(destination, pages=1024, progress=report)
    except sqlite3.Error as error:
        raise BackupError(f"{backup} could not be restored: {error}.") from error
    finally:
        destination.close()
        source.close()
    target.chmod(PRIVATE_FILE)


def _restore_postgres(settings: Settings, backup: Path, progress: Progress) -> None:
    arguments = [
        "pg_restore",
        "--verbose",
        # The empty schema `governance migrate` may have made is replaced by the backup's.
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={pg_url(settings)}",
        str(backup),
    ]
    run_tool(arguments, progress, "pg_restore")


async def restore_backup(
    backup: Path, progress: Progress = quiet, settings: Settings | None = None
) -> ChainVerdict:
    """Restores the file into the configured database, which must be empty; the audit
    chain's verdict afterwards. Call with the database open (`open_database`)."""
    settings = settings or get_settings()
    made_by, here = backup_engine(backup), engine_of(settings)
    if made_by != here:
        raise BackupError(
            f"{backup} is a {made_by} backup; this service is set up for {here} "
            "(GOVERNANCE_DATABASE_URL)."
        )
    if not await database_is_empty():
        raise BackupError(
            "The database is not empty: restore only into a new, empty database "
            "(point GOVERNANCE_DATABASE_URL at one), so no records are overwritten."
        )
    await asyncio.to_thread(verify_backup, backup)
    engine = get_engine()
    if made_by == POSTGRESQL:
        await asyncio.to_thread(_restore_postgres, settings, backup, progress)
    else:
        if isinstance(engine, PooledSQLiteEngine):
            await engine.close_pool()  # no connection of ours holds the old pages
        await asyncio.to_thread(_restore_sqlite, backup, settings.sqlite_path, progress)
    return await verify_chain()
