"""Database engines: SQLite with persistent connections, PostgreSQL with a pool.

Stock Piccolo opens a new SQLite connection for every query, which costs milliseconds a
query; pages here are served from a small set of long-lived connections instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString

from governance.core.errors import NotFoundError
from governance.settings import get_settings, prepare_data_dir

SQLITE_BUSY_TIMEOUT_SECONDS = 10.0


class QueryCountingMixin:
    """Counts every statement sent, so tests can hold pages to a fixed number of queries."""

    queries_run: int = 0

    def count_query(self) -> None:
        self.queries_run += 1


class PooledSQLiteTransaction(SQLiteTransaction):
    """A transaction that hands its connection back to the pool instead of closing it."""

    engine: PooledSQLiteEngine

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            await self.engine.release(self.connection)
            self.engine.current_transaction.reset(self.context)
        return exception is None


class PooledSQLiteEngine(QueryCountingMixin, SQLiteEngine):
    """SQLite in WAL mode with a busy timeout, foreign keys on, and reused connections."""

    def __init__(self, path: str, pool_size: int = 4) -> None:
        super().__init__(path=path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
        self.pool_size = pool_size
        self._idle: list[aiosqlite.Connection] = []

    async def _open(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute("PRAGMA synchronous = NORMAL")
        await connection.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
        await connection.execute("PRAGMA foreign_keys = ON")
        return connection

    async def acquire(self) -> aiosqlite.Connection:
        if self._idle:
            return self._idle.pop()
        return await self._open()

    async def release(self, connection: aiosqlite.Connection) -> None:
        if len(self._idle) < self.pool_size and not connection.in_transaction:
            self._idle.append(connection)
        else:
            await connection.close()

    async def close_pool(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    async def get_connection(self) -> aiosqlite.Connection:  # type: ignore[override]
        return await self.acquire()

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> list[dict[str, Any]]:
        connection = await self.acquire()
        try:
            # One hop to the connection's thread for the statement and its rows.
            return list(await connection.execute_fetchall(query, args or []))  # type: ignore[arg-type]
        finally:
            await self.release(connection)

    async def _run_in_existing_connection(
        self,
        connection: aiosqlite.Connection,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> list[dict[str, Any]]:
        return list(await connection.execute_fetchall(query, args or []))  # type: ignore[arg-type]

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        self.count_query()
        return await super().run_querystring(querystring, in_pool=in_pool)

    def transaction(  # type: ignore[override]
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> PooledSQLiteTransaction:
        return PooledSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )


class CountingPostgresEngine(QueryCountingMixin, PostgresEngine):
    """PostgreSQL; the connection pool is opened and closed in the app's lifespan."""

    def __init__(self, dsn: str) -> None:
        super().__init__(config={"dsn": dsn})

    async def run_querystring(self, querystring: QueryString, in_pool: bool = True) -> Any:
        self.count_query()
        return await super().run_querystring(querystring, in_pool=in_pool)


def build_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        return PooledSQLiteEngine(path=database_url.removeprefix("sqlite:///"))
    return CountingPostgresEngine(dsn=database_url.replace("postgres://", "postgresql://", 1))


def get_engine() -> Engine:
    engine = engine_finder()
    if engine is None:
        raise RuntimeError("No database engine: PICCOLO_CONF does not name governance.piccolo_conf")
    return engine


def is_postgres(engine: Engine | None = None) -> bool:
    return (engine or get_engine()).engine_type == "postgres"


def write_transaction() -> Any:
    """A transaction for changes: IMMEDIATE on SQLite so writers queue instead of failing."""
    engine = get_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


@contextlib.asynccontextmanager
async def open_database() -> AsyncIterator[Engine]:
    """Opens the pool for the life of the app or a command, and closes it after."""
    prepare_data_dir(get_settings())
    engine = get_engine()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=10)
    try:
        yield engine
    finally:
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()
        elif isinstance(engine, PooledSQLiteEngine):
            await engine.close_pool()


async def database_is_reachable() -> bool:
    try:
        await get_engine().run_ddl("SELECT 1")
    except Exception:
        return False
    return True


async def one_row(query: Any, missing: str) -> dict[str, Any]:
    """The first row of a select, or NotFoundError with this message if there is none."""
    row = await query.first()
    if row is None:
        raise NotFoundError(missing)
    return row  # type: ignore[no-any-return]


def columns_from(table: Any, command: Any) -> dict[Any, Any]:
    """A command's values by the table's columns of the same names, for an insert or an
    update (every field of the command is a column of the table)."""
    return {getattr(table, name): getattr(command, name) for name in command.__struct_fields__}
