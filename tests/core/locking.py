"""Making races certain on PostgreSQL: a third connection holds some rows locked while the
racers start, and lets go only once they are all queued behind it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from governance.settings import get_settings


class RowHolder:
    def __init__(self, connection: asyncpg.Connection, transaction: object) -> None:
        self.connection = connection
        self.transaction = transaction
        self.released = False

    async def waiting(self) -> int:
        # Statistics views keep one snapshot per transaction unless told to take a new one.
        await self.connection.execute("SELECT pg_stat_clear_snapshot()")
        return int(
            await self.connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )

    async def release_when_waiting(self, racers: int) -> None:
        """Lets go of the rows once `racers` sessions are waiting for a lock."""
        for _ in range(1000):
            if await self.waiting() >= racers:
                await self.release()
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"expected {racers} sessions to queue for the held rows")

    async def release(self) -> None:
        if not self.released:
            self.released = True
            await self.transaction.rollback()  # type: ignore[attr-defined]


@asynccontextmanager
async def rows_held(select_for_update: str, *args: object) -> AsyncIterator[RowHolder]:
    connection = await asyncpg.connect(get_settings().database_url)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(select_for_update, *args)
        holder = RowHolder(connection, transaction)
        try:
            yield holder
        finally:
            await holder.release()
    finally:
        await connection.close()
