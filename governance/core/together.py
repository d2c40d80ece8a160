"""Reads sent together: the selects a page makes at the same moment, answered by one statement.

A page's reads are many small selects (the meeting, its agenda, attendance, minutes, papers),
most of which do not wait on each other. Inside `reads_together()`, every prepared select
(`core.db.PreparedSelect`) that is asked for while the others are also waiting joins a batch;
when the loop has nothing else to run, the batch goes to the database as one statement, each
select a subquery whose rows come back as one JSON array, and each caller gets its own rows
back, typed as Piccolo would have returned them. So code reads as before (one awaited query
each, gathered where they are independent), and a page costs one round trip for each step
of reads that depend on each other, not one for each read.

This is the DataLoader pattern (batching by the event loop's turn), done here because
neither Piccolo nor Litestar offers it. Batches are for reads outside a transaction only: a
use case's reads inside its transaction run one by one, as written.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from piccolo.columns import (
    JSON,
    JSONB,
    UUID,
    Array,
    Boolean,
    Bytea,
    Date,
    DoublePrecision,
    Interval,
    Numeric,
    Real,
    Time,
    Timestamp,
    Timestamptz,
)
from piccolo.query.methods.select import Select
from piccolo.querystring import QueryString

# PostgreSQL's json_build_array takes at most 100 arguments; no select of ours comes close.
MOST_COLUMNS_A_PART = 100
_ALIAS = re.compile(r' AS "([^"]+)"\s*$')

Decode = Callable[[Any], Any]
# How many further turns of the loop a batch waits for selects before it is sent.
TURNS_WAITED = 3


def _as_is(value: Any) -> Any:
    return value


def _timestamp_utc(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:  # SQLite keeps UTC times without their offset
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _timestamp(value: Any) -> Any:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def _date(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _time(value: Any) -> Any:
    return dt.time.fromisoformat(value) if isinstance(value, str) else value


def _boolean(value: Any) -> Any:
    return None if value is None else bool(value)


def _interval(value: Any) -> Any:
    return dt.timedelta(seconds=float(value)) if isinstance(value, int | float) else value


def _uuid(value: Any) -> Any:
    return uuid.UUID(value) if isinstance(value, str) else value


# What JSON makes of each kind of column, turned back into what the driver returns. Checked
# in order (Timestamptz is not a Timestamp in Piccolo, but be explicit anyway).
_DECODERS: tuple[tuple[type, Decode], ...] = (
    (Timestamptz, _timestamp_utc),
    (Timestamp, _timestamp),
    (Date, _date),
    (Time, _time),
    (Boolean, _boolean),
    (Interval, _interval),
    (UUID, _uuid),
)


def _decoder(selected: Any) -> Decode:
    for column_type, decode in _DECODERS:
        if isinstance(selected, column_type):
            return decode
    return _as_is


# Kinds of column that JSON cannot carry exactly (bytes, decimals, floats, arrays): a select
# holding one runs alone.
_NOT_CARRIED = (Bytea, Numeric, Real, DoublePrecision, Array)


def _is_json(selected: Any) -> bool:
    return isinstance(selected, JSON | JSONB)


@dataclass(frozen=True)
class _Output:
    """One column of a select's answer: its name, and how to read it back from JSON."""

    name: str
    decode: Decode
    is_json: bool


def outputs_of(query: Any, engine_type: str) -> list[_Output] | None:
    """The columns a built select answers with, in order, by the alias its SQL gives each;
    None for a query of another kind (a count, an exists) or one selecting a column JSON
    cannot carry exactly, which runs alone."""
    if not isinstance(query, Select):
        return None
    if any(isinstance(c, _NOT_CARRIED) for c in query.columns_delegate.selected_columns):
        return None
    outputs = []
    selected: Any  # a column or another selectable (a count, a raw value)
    for selected in query.columns_delegate.selected_columns:
        sql, _ = selected.get_select_string(engine_type).compile_string(engine_type)
        found = _ALIAS.search(sql)
        name = found.group(1) if found else selected._meta.name
        outputs.append(_Output(name, _decoder(selected), _is_json(selected)))
    if not outputs or len(outputs) > MOST_COLUMNS_A_PART:
        raise ValueError(f"a select of {len(outputs)} columns cannot be sent with others")
    return outputs


def _part_sql(outputs: Sequence[_Output], engine_type: str) -> str:
    """The template of one select as a subquery whose answer is one JSON array of rows."""
    if engine_type == "sqlite":
        row = ", ".join(f't."{o.name}"' for o in outputs)
        return "(SELECT json_group_array(json_array(" + row + ")) FROM ({}) AS t)"
    # PostgreSQL: JSON columns go as their text, as asyncpg returns them alone.
    row = ", ".join(f't."{o.name}"' + ("::text" if o.is_json else "") for o in outputs)
    return "(SELECT COALESCE(json_agg(json_build_array(" + row + ")), '[]') FROM ({}) AS t)::text"


@dataclass
class Part:
    """One prepared select waiting in a batch: its built query, its own statement, its
    outputs and its arguments (already bound), and the future its caller awaits."""

    query: Any
    sql: str
    outputs: list[_Output]
    args: list[Any]
    answer: asyncio.Future[list[dict[str, Any]]]


# The statements made for each combination of selects a page sends (a page sends the same
# ones each time), so Piccolo builds each combination's SQL once.
_COMBINED: dict[tuple[str, tuple[str, ...]], tuple[str, int]] = {}
MOST_COMBINATIONS_KEPT = 512


def _combined_sql(parts: Sequence[Part], engine_type: str) -> tuple[str, int]:
    key = (engine_type, tuple(part.sql for part in parts))
    combined = _COMBINED.get(key)
    if combined is None:
        columns = [f"{_part_sql(p.outputs, engine_type)} AS p{n}" for n, p in enumerate(parts)]
        template = "SELECT " + ", ".join(columns)
        subqueries = [part.query.querystrings[0] for part in parts]
        sql, placeholders = QueryString(template, *subqueries).compile_string(engine_type)
        if len(_COMBINED) >= MOST_COMBINATIONS_KEPT:
            _COMBINED.clear()
        combined = _COMBINED[key] = (sql, len(placeholders))
    return combined


def statement_of(parts: Sequence[Part], engine_type: str) -> QueryString:
    """One statement answering every part, each in its own column."""
    sql, placeholders = _combined_sql(parts, engine_type)
    args = [arg for part in parts for arg in part.args]
    if placeholders != len(args):  # a select whose SQL holds values of its own
        raise ValueError("the selects' arguments do not line up with their statement")
    statement = QueryString("", query_type="select", table=parts[0].query.table)
    statement._frozen_compiled_strings = (sql, args)
    return statement


def rows_of(part: Part, answer: str | None) -> list[dict[str, Any]]:
    names = [o.name for o in part.outputs]
    decoders = [o.decode for o in part.outputs]
    return [
        {name: decode(value) for name, decode, value in zip(names, decoders, row, strict=True)}
        for row in json.loads(answer or "[]")
    ]


Send = Callable[[Sequence[Part]], Any]


@dataclass
class Batch:
    """The selects asked for in this turn of the event loop, sent when the turn ends."""

    send: Send
    waiting: list[Part] = field(default_factory=list)
    sending: set[asyncio.Task[Any]] = field(default_factory=set)

    def join(self, part: Part) -> None:
        if not self.waiting:
            # Runs after every task that is ready now has taken its step (call_soon is
            # first in, first out), so the selects those steps ask for are in this batch.
            asyncio.get_running_loop().call_soon(self._send_waiting, TURNS_WAITED)
        self.waiting.append(part)

    def _send_waiting(self, turns_left: int) -> None:
        if turns_left:
            # A step that gathers reads starts them as tasks, which take their first step
            # in the next turn: wait for those (and for gathers within gathers).
            asyncio.get_running_loop().call_soon(self._send_waiting, turns_left - 1)
            return
        parts, self.waiting = self.waiting, []
        task = asyncio.ensure_future(self._answer(parts))
        self.sending.add(task)
        task.add_done_callback(self.sending.discard)

    async def _answer(self, parts: list[Part]) -> None:
        try:
            await self.send(parts)
        except BaseException as error:  # every caller hears of it, nothing is left waiting
            for part in parts:
                if not part.answer.done():
                    part.answer.set_exception(error)
            if not isinstance(error, Exception):
                raise


_current_batch: contextvars.ContextVar[Batch | None] = contextvars.ContextVar(
    "reads_together", default=None
)


def current_batch() -> Batch | None:
    return _current_batch.get()


@contextlib.contextmanager
def reads_together(send: Send) -> Iterator[Batch]:
    """Prepared selects asked for inside this block (and in tasks it starts) are batched."""
    batch = Batch(send)
    token = _current_batch.set(batch)
    try:
        yield batch
    finally:
        _current_batch.reset(token)
