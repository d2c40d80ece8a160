"""Keyset paging for lists that grow: newest first, a page of `limit` rows, and opaque
cursors for the next page ("Older") and the previous one ("Newer").

A cursor names the row a page starts after: its sort value and id, as URL-safe base64 of
a small JSON array, and the direction. The query asks for the rows strictly past it in
(sort value, id) order, one more than the page holds (to know whether another page
follows), in ONE query whatever the page: a page deep in the list costs what the first
one does (tests/test_query_counts.py). The caller passes its query with its reader's
visibility already in its conditions (`accounts/scopes.py`), so a page is always full of
rows its reader may read: no gap, and no count, betrays a hidden row. No domain rules
live here.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.columns import Column

from governance.core.errors import InvalidInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
OLDER = "older"
NEWER = "newer"
BAD_CURSOR = "This page address is not valid any more; start again from the first page."
MAX_CURSOR_LENGTH = 200


@dataclass(frozen=True)
class Position:
    """Where a page starts: after the row of this sort value and id, going this way."""

    value: dt.datetime | dt.date
    row_id: int
    direction: str = OLDER


def encode_cursor(value: dt.datetime | dt.date, row_id: int, direction: str) -> str:
    kind = "t" if isinstance(value, dt.datetime) else "d"
    raw = json.dumps([direction[0], kind, value.isoformat(), row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Position | None:
    """The position a cursor names; None for no cursor (the first page). A cursor that was
    not made here is refused as bad input (422), never a server error."""
    if not cursor:
        return None
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError(cursor)
        padded = cursor + "=" * (-len(cursor) % 4)
        way, kind, text, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        value: dt.datetime | dt.date
        if kind == "t":
            value = dt.datetime.fromisoformat(text)
            if value.tzinfo is None:
                raise ValueError(text)
        elif kind == "d":
            value = dt.date.fromisoformat(text)
        else:
            raise ValueError(kind)
        if way not in ("o", "n") or not isinstance(row_id, int) or isinstance(row_id, bool):
            raise ValueError(way)
        return Position(value, row_id, OLDER if way == "o" else NEWER)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInput(BAD_CURSOR, {"cursor": BAD_CURSOR}) from None


def page_size(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        message = f"Rows per page: a number from 1 to {MAX_PAGE_SIZE}."
        raise InvalidInput(message, {"limit": message})
    return limit


@dataclass(frozen=True)
class Page:
    """One page of rows and the cursors of the pages either side of it (None where there
    is none): `older` further along the list, `newer` back towards its start."""

    rows: list[dict[str, Any]]
    older: str | None
    newer: str | None


@dataclass(frozen=True)
class PageAt:
    """What decides a page query's form (not its values): whether a cursor leads there,
    which way the rows run, and how many are asked for. A `PreparedSelect` keeps one
    statement for each (see `page_of`)."""

    size: int
    has_cursor: bool
    later: bool
    backwards: bool

    @classmethod
    def of(cls, at: Position | None, limit: int | None, descending: bool) -> PageAt:
        backwards = at is not None and at.direction == NEWER
        # Along the list: past the cursor in the list's own order; back: before it, reversed.
        return cls(page_size(limit), at is not None, descending == backwards, backwards)


def page_of(query: Any, sort: Column, row_id: Column, at: PageAt, value: Any, at_id: Any) -> Any:
    """`query` limited to the page `at` names, past the row of sort `value` and id `at_id`
    (values or a prepared select's placeholders), one row more than the page holds."""
    if at.has_cursor:
        if at.later:
            after = (sort > value) | ((sort == value) & (row_id > at_id))
        else:
            after = (sort < value) | ((sort == value) & (row_id < at_id))
        query = query.where(after)
    return query.order_by(sort, row_id, ascending=at.later).limit(at.size + 1)


def page_from(
    rows: list[dict[str, Any]], sort: Column, row_id: Column, at: PageAt, cursor: Position | None
) -> Page:
    """The page of the rows `page_of`'s query answered, with its neighbours' cursors."""
    more = len(rows) > at.size
    rows = rows[: at.size]
    if at.backwards:
        rows.reverse()
    return Page(rows, *_neighbours(rows, sort, row_id, cursor, more))


async def keyset_page(
    query: Any,
    sort: Column,
    row_id: Column,
    cursor: str | None = None,
    limit: int | None = None,
    *,
    descending: bool = True,
) -> Page:
    """The page of `query` (a Piccolo select, conditions applied, selecting `sort` and
    `row_id` under their own names) that `cursor` names: newest first, or with
    `descending=False` soonest first (then "older" is the page further along, "newer"
    the one before): one query."""
    position = decode_cursor(cursor)
    at = PageAt.of(position, limit, descending)
    value, at_id = (position.value, position.row_id) if position else (None, None)
    rows: list[dict[str, Any]] = await page_of(query, sort, row_id, at, value, at_id)
    return page_from(rows, sort, row_id, at, position)


def _neighbours(
    rows: Sequence[dict[str, Any]], sort: Column, row_id: Column, at: Position | None, more: bool
) -> tuple[str | None, str | None]:
    """(older, newer) cursors: "older" past the page's last row, "newer" before its first.
    Going older, a next page exists when more rows came back and a newer one whenever a
    cursor led here; going newer, the other way round."""
    if not rows:
        return None, None
    sort_name, id_name = sort._meta.name, row_id._meta.name
    first, last = rows[0], rows[-1]
    going_newer = at is not None and at.direction == NEWER
    has_older = more if not going_newer else True
    has_newer = (at is not None) if not going_newer else more
    older = encode_cursor(last[sort_name], last[id_name], OLDER) if has_older else None
    newer = encode_cursor(first[sort_name], first[id_name], NEWER) if has_newer else None
    return older, newer
