"""Database engines: SQLite with persistent connections, PostgreSQL with a pool.

Stock Piccolo opens a new SQLite connection for every query, which costs milliseconds a
query; pages here are served from a small set of long-lived connections instead.

SQLite allows one writer at a time. Left to itself, a connection that finds the write lock
taken sleeps in SQLite's busy handler, retrying at growing intervals in no particular order,
so under load some writers overtake others and some wait out the whole busy timeout and fail
("database is locked"), while the holder's statements wait for the event loop to finish
rendering other pages. So writers of this process queue here first, one at a time in the
order they came (`WriterQueue`), and the one whose turn it is writes through the one
`WriterConnection`, from BEGIN IMMEDIATE to COMMIT without giving the loop back.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import aiosqlite
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString
from piccolo.table import Table

from governance.core.errors import DatabaseBusy, NotFoundError
from governance.core.together import Part, current_batch, outputs_of, rows_of, statement_of
from governance.core.together import reads_together as batching
from governance.settings import get_settings, prepare_data_dir

READING_METHODS = frozenset({"GET", "HEAD"})
SQLITE_BUSY_TIMEOUT_SECONDS = 10.0
# How long a writer waits for its turn in this process's queue before the request is
# answered 503 (the queue is FIFO, so this is how long the writers ahead may take in all).
WRITER_QUEUE_TIMEOUT_SECONDS = 10.0
# Statements that only read: in WAL mode they never wait for the writer, so they skip the
# queue. Anything else (INSERT, UPDATE, DELETE, DDL, a WITH that may write, a PRAGMA that
# changes a setting for the writes after it) takes a turn on the writer connection.
_READ_ONLY_STATEMENT = re.compile(r"\s*(SELECT|EXPLAIN)\b", re.IGNORECASE)
SQLITE_BUSY = 5
PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
)


def is_read_only(statement: str) -> bool:
    return _READ_ONLY_STATEMENT.match(statement) is not None


class WriterQueue:
    """One writer at a time within this process, first come, first served.

    An asyncio.Lock wakes its waiters in the order they queued and lets no newcomer jump
    the queue. There is one lock per event loop (a lock belongs to the loop it is used in).
    A writer that has waited longer than `timeout_seconds` gives up with DatabaseBusy, which
    the web layer answers with a 503 and Retry-After.
    """

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        self.waiting = 0  # writers queued behind the one whose turn it is
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def wait_for_turn(self) -> asyncio.Lock:
        """Waits until this writer is at the head of the queue; returns the lock to release."""
        lock = self._lock()
        queued = int(lock.locked())
        self.waiting += queued
        try:
            async with asyncio.timeout(self.timeout_seconds):
                await lock.acquire()
        except TimeoutError:
            raise DatabaseBusy() from None
        finally:
            self.waiting -= queued
        return lock

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        lock = await self.wait_for_turn()
        try:
            yield
        finally:
            lock.release()


class QueryCountingMixin:
    """Counts every statement sent, so tests can hold pages to a fixed number of queries."""

    queries_run: int = 0

    def count_query(self) -> None:
        self.queries_run += 1


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", 0) & 0xFF == SQLITE_BUSY


class WriterConnection:
    """The one connection this process writes through, used on the event loop's thread.

    Only the writer whose turn it is uses it, so nothing else waits for it. Its statements
    run at once rather than on a worker thread: a thread hop costs little, but resuming
    after it waits for every page the loop has ready to render, and a transaction of ten
    statements held the lock for ten such waits under load. Now a transaction runs from
    BEGIN to COMMIT in one go, taking milliseconds of the loop. Only a statement that finds
    SQLite's lock held by another process (the scheduler, a command) waits, on a thread,
    for up to the busy timeout.
    """

    def __init__(self, connection_kwargs: dict[str, Any], busy_timeout_seconds: float) -> None:
        self.busy_timeout_seconds = busy_timeout_seconds
        # Piccolo's arguments (its column type converters, no implicit transactions).
        self._connection = sqlite3.connect(
            **{**connection_kwargs, "timeout": 0, "check_same_thread": False}
        )
        self._connection.row_factory = dict_factory
        for pragma in PRAGMAS:
            self._connection.execute(pragma)
        self._connection.execute("PRAGMA busy_timeout = 0")

    @property
    def in_transaction(self) -> bool:
        return self._connection.in_transaction

    async def execute(self, query: str, args: Sequence[Any] | None = None) -> list[Any]:
        try:
            return self._connection.execute(query, args or ()).fetchall()
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
        # Nothing was done: another process holds the write lock. Wait for it off the loop.
        return await asyncio.to_thread(self._execute_waiting, query, args or ())

    execute_fetchall = execute

    def _execute_waiting(self, query: str, args: Sequence[Any]) -> list[Any]:
        self._connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_seconds * 1000)}")
        try:
            return self._connection.execute(query, args).fetchall()
        finally:
            self._connection.execute("PRAGMA busy_timeout = 0")

    def close(self) -> None:
        self._connection.close()


class PooledSQLiteTransaction(SQLiteTransaction):
    """A transaction that waits for its turn among this process's writers, then runs on
    the writer connection from BEGIN to COMMIT.

    A nested transaction is part of its parent and takes no turn of its own.
    """

    engine: PooledSQLiteEngine
    connection: WriterConnection  # type: ignore[assignment]
    _turn: asyncio.Lock

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self._turn = await self.engine.writers.wait_for_turn()
        try:
            self.connection = self.engine.writer()
            await self.begin()
        except BaseException:
            self._turn.release()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

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
            try:
                if self.connection.in_transaction:  # a COMMIT that failed
                    await self.connection.execute("ROLLBACK")
            finally:
                self.engine.current_transaction.reset(self.context)
                self._turn.release()
        return exception is None


class PooledSQLiteEngine(QueryCountingMixin, SQLiteEngine):
    """SQLite in WAL mode with a busy timeout and foreign keys on: reads from a pool of
    reused connections, writes through one connection, one writer at a time."""

    def __init__(self, path: str, pool_size: int = 4) -> None:
        super().__init__(path=path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
        self.pool_size = pool_size
        self._idle: list[aiosqlite.Connection] = []
        # One writer connection per event loop, as there is one queue per loop: two loops
        # (in two threads) never share a connection, and meet at SQLite's lock instead.
        self._writer_connections: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, WriterConnection
        ] = weakref.WeakKeyDictionary()
        self._reader_connections: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, WriterConnection
        ] = weakref.WeakKeyDictionary()
        # Another process (the scheduler, a command) can still hold SQLite's lock; SQLite's
        # busy timeout bounds that wait.
        self.busy_timeout_seconds = SQLITE_BUSY_TIMEOUT_SECONDS
        self.writers = WriterQueue(WRITER_QUEUE_TIMEOUT_SECONDS)

    async def set_busy_timeout(self, seconds: float) -> None:
        """Changes how long a statement waits for another process's write lock; connections
        opened before are closed so that every one uses the new figure."""
        self.busy_timeout_seconds = seconds
        await self.close_pool()

    def writer(self) -> WriterConnection:
        loop = asyncio.get_running_loop()
        writer = self._writer_connections.get(loop)
        if writer is None:
            writer = WriterConnection(self.connection_kwargs, self.busy_timeout_seconds)
            self._writer_connections[loop] = writer
        return writer

    async def _open(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(
            **{**self.connection_kwargs, "timeout": self.busy_timeout_seconds}
        )
        connection.row_factory = dict_factory  # type: ignore[assignment]
        for pragma in PRAGMAS:
            await connection.execute(pragma)
        await connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_seconds * 1000)}")
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
        writers = [*self._writer_connections.values(), *self._reader_connections.values()]
        self._writer_connections.clear()
        self._reader_connections.clear()
        for writer in writers:
            writer.close()

    async def get_connection(self) -> aiosqlite.Connection:  # type: ignore[override]
        return await self.acquire()

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> list[dict[str, Any]]:
        if is_read_only(query):
            return await self._run_on_pooled_connection(query, args)
        # A write outside a transaction (a session's last use, a sign-in attempt) queues
        # with the transactions, so that it neither overtakes them nor fails waiting.
        async with self.writers.turn():
            return await self.writer().execute(query, args)

    def reader(self) -> WriterConnection:
        """This loop's connection for reads outside a transaction, used on the loop's
        thread like the writer's (a read in WAL mode waits for no writer)."""
        loop = asyncio.get_running_loop()
        reader = self._reader_connections.get(loop)
        if reader is None:
            reader = WriterConnection(self.connection_kwargs, self.busy_timeout_seconds)
            self._reader_connections[loop] = reader
        return reader

    async def _run_on_pooled_connection(
        self, query: str, args: list[Any] | None
    ) -> list[dict[str, Any]]:
        # A page's reads take microseconds each in SQLite: run at once on the loop's own
        # connection, they spare the hop to a worker thread and back, which under load
        # cost more than the statement (the hop's return waits behind every page the
        # loop has ready). Only a read that finds the database busy waits, on a thread.
        return await self.reader().execute(query, args)

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


_engines: list[Engine] = []


def get_engine() -> Engine:
    """The process's engine, found once, as each Piccolo table keeps it once found
    (`Table._meta.db`): Piccolo's finder imports the configuration module again at every
    call, a couple of dozen times a page."""
    if not _engines:
        engine = engine_finder()
        if engine is None:
            raise RuntimeError(
                "No database engine: PICCOLO_CONF does not name governance.piccolo_conf"
            )
        _engines.append(engine)
    return _engines[0]


def is_postgres(engine: Engine | None = None) -> bool:
    return (engine or get_engine()).engine_type == "postgres"


def write_transaction() -> Any:
    """A transaction for changes. On SQLite it waits for its turn among this process's
    writers, then BEGIN IMMEDIATE takes SQLite's write lock at once (a deferred transaction
    that reads first could find the lock taken when it comes to write, and fail at once).
    Put nothing in it but its statements: the rest of the queue waits while it is open."""
    engine = get_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def hold_row(table: type[Table], row_id: int) -> None:
    """Holds one row until the transaction commits (PostgreSQL's SELECT ... FOR UPDATE), so
    that two changes of the same record queue instead of both working from what they read
    first; call it before reading what the change depends on. SQLite's write transactions
    (`write_transaction`) are IMMEDIATE and already queue."""
    if is_postgres():
        key = table._meta.primary_key
        await table.select(key).where(key == row_id).lock_rows()


async def _keep_session_state_of_returned_connection(connection: Any) -> None:
    """asyncpg, by default, sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL` whenever a connection goes back to the pool: one more round trip and statement
    for every statement of a page (measured: about a third of PostgreSQL's time per
    dashboard). The service leaves no session state behind: it takes advisory locks only
    for a transaction (`pg_advisory_xact_lock`), never LISTENs, SETs or opens a cursor outside
    a transaction; and asyncpg still rolls back a transaction left open before this runs."""


@contextlib.asynccontextmanager
async def open_database() -> AsyncIterator[Engine]:
    """Opens the pool for the life of the app or a command, and closes it after."""
    settings = get_settings()
    prepare_data_dir(settings)
    engine = get_engine()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(
            min_size=1,
            max_size=settings.database_pool_size,
            reset=_keep_session_state_of_returned_connection,
        )
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


class _Slot:
    """Stands for one value of a prepared select while its SQL is built."""

    __slots__ = ("index", "name")

    def __init__(self, name: str, index: int | None) -> None:
        self.name, self.index = name, index


def _picker(arg: Any) -> Callable[[Mapping[str, Any]], Any]:
    if not isinstance(arg, _Slot):
        return lambda values: arg  # a value the query itself holds
    name, index = arg.name, arg.index
    if index is None:
        return lambda values: values[name]
    return lambda values: values[name][index]


def _shape_of(part: Any) -> Any:
    # What decides a query's form: an object says it with `query_shape` (a viewer: who
    # they are and the roles they hold), anything else is its own key.
    return getattr(part, "query_shape", part)


class PreparedSelect:
    """A Piccolo select whose SQL is built once per shape and run again with new values.

    On the hot pages Piccolo's building of a select (it walks every column, join and
    condition, copying columns as it goes) costs far more than SQLite's running of it. Here
    `build(*structure, **values)` is called once per shape, with placeholders for the
    values, and its compiled statement kept; each run binds the values to it and hands the
    rows to the query's own result handling. The shape is the engine, the `structure`
    arguments (what decides the query's form: a viewer, whose roles decide the visibility
    conditions; a filter that adds a condition) and the length of each list value (an IN
    list of three is another statement than one of four). `build` uses the values only as
    values in conditions, never to choose the query's form (a `None` would be bound, not
    turned into IS NULL) nor in LIMIT.
    """

    SHAPES_KEPT = 512

    def __init__(self, build: Callable[..., Any]) -> None:
        self._build = build
        self._shapes: dict[tuple[Any, ...], tuple[Any, str, list[Any]]] = {}
        # Each built query's columns, by the query (kept alive by `_shapes`).
        self._outputs: dict[int, list[Any] | None] = {}

    def _prepared(
        self, engine_type: str, structure: tuple[Any, ...], values: Mapping[str, Any]
    ) -> tuple[Any, str, list[Any]]:
        lengths = tuple((n, len(v) if isinstance(v, list) else -1) for n, v in values.items())
        shape = (engine_type, tuple(map(_shape_of, structure)), lengths)
        prepared = self._shapes.get(shape)
        if prepared is None:
            placeholders = {
                name: [_Slot(name, i) for i in range(len(value))]
                if isinstance(value, list)
                else _Slot(name, None)
                for name, value in values.items()
            }
            query = self._build(*structure, **placeholders)
            (querystring,) = query.querystrings
            sql, args = querystring.compile_string(engine_type=engine_type)
            if len(self._shapes) >= self.SHAPES_KEPT:
                self._shapes.clear()
                self._outputs.clear()
            prepared = self._shapes[shape] = (query, sql, [_picker(arg) for arg in args])
        return prepared

    async def run(self, *structure: Any, **values: Any) -> list[dict[str, Any]]:
        """The rows, as the built query would return them with these values (lists of
        values passed as lists); inside `reads_together()`, sent with the other selects
        asked for at the same moment."""
        engine = get_engine()
        query, sql, pickers = self._prepared(engine.engine_type, structure, values)
        args = [pick(values) for pick in pickers]
        batch = current_batch()
        outputs = self._outputs_of(engine.engine_type, query) if batch is not None else None
        if batch is not None and outputs is not None and not engine.current_transaction.get():
            answer = asyncio.get_running_loop().create_future()
            batch.join(Part(query, sql, outputs, args, answer))
            rows = await answer
        else:
            querystring = QueryString("", query_type="select", table=query.table)
            querystring._frozen_compiled_strings = (sql, args)
            rows = await engine.run_querystring(querystring)
        return await query._process_results(rows)  # type: ignore[no-any-return]

    def _outputs_of(self, engine_type: str, query: Any) -> list[Any] | None:
        key = id(query)
        if key not in self._outputs:
            self._outputs[key] = outputs_of(query, engine_type)
        return self._outputs[key]


async def _send_together(parts: Sequence[Part]) -> None:
    """Answers a batch of selects: one alone as itself, several in one statement."""
    engine = get_engine()
    if len(parts) == 1:
        (part,) = parts
        querystring = QueryString("", query_type="select", table=part.query.table)
        querystring._frozen_compiled_strings = (part.sql, part.args)
        part.answer.set_result(await engine.run_querystring(querystring))
        return
    (row,) = await engine.run_querystring(statement_of(parts, engine.engine_type))
    answers = list(dict(row).values())
    for part, answer in zip(parts, answers, strict=True):
        part.answer.set_result(rows_of(part, answer))


async def read_at_once(*reads: Awaitable[Any]) -> tuple[Any, ...]:
    """Reads that do not wait on each other, asked for at once (inside `reads_together()`,
    one statement); inside a transaction one after another, as its connection answers one
    statement at a time (PostgreSQL's driver refuses a second while one runs)."""
    if get_engine().current_transaction.get():
        return tuple([await read for read in reads])
    return tuple(await asyncio.gather(*reads))


Answer = TypeVar("Answer")


async def read_left_out(answer: Answer) -> Answer:
    """Stands for a read this reader's page leaves out (their roles call for none of its
    rows) among the page's reads at once: no statement, `answer` as its result."""
    return answer


def reads_together() -> contextlib.AbstractContextManager[Any]:
    """Inside this block, prepared selects asked for at the same moment (from tasks
    gathered together) are sent as one statement: see core/together.py."""
    return batching(_send_together)


class ReadsTogetherMiddleware(ASGIMiddleware):
    """A request that only reads (GET, HEAD) runs inside `reads_together()`: the selects its
    page gathers go to the database together. A request that writes runs as written, one
    statement at a time, inside its use case's transaction."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method") not in READING_METHODS:
            await next_app(scope, receive, send)
            return
        with reads_together():
            await next_app(scope, receive, send)
