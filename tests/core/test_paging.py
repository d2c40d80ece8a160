"""core/paging.py: opaque cursors that round-trip and refuse anything not made here (422,
never 500), and keyset pages that walk a list both ways in one query each."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.core.errors import InvalidInput
from governance.core.paging import (
    NEWER,
    OLDER,
    decode_cursor,
    encode_cursor,
    keyset_page,
    page_size,
)
from governance.core.tables import OutboundEmail
from tests.helpers import QueryCounter

MOMENT = dt.datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)


def test_cursors_round_trip_and_are_opaque() -> None:
    for value in (MOMENT, dt.date(2026, 12, 1)):
        for direction in (OLDER, NEWER):
            cursor = encode_cursor(value, 42, direction)
            assert "/" not in cursor and "+" not in cursor and "=" not in cursor
            at = decode_cursor(cursor)
            assert at is not None
            assert (at.value, at.row_id, at.direction) == (value, 42, direction)
    assert decode_cursor(None) is None and decode_cursor("") is None


@pytest.mark.parametrize(
    "bad", ["x", "not-a-cursor!", "W10", "eyJ4IjoxfQ", "WyJvIiwidCIsIm5vdyIsMV0", "A" * 500]
)
def test_a_cursor_not_made_here_is_bad_input(bad: str) -> None:
    with pytest.raises(InvalidInput):
        decode_cursor(bad)


def test_page_size_bounds() -> None:
    assert page_size(None) == 20
    assert page_size(100) == 100
    for bad in (0, -1, 101):
        with pytest.raises(InvalidInput):
            page_size(bad)


async def test_pages_walk_older_and_back_newer_in_one_query_each(
    count_queries: QueryCounter,
) -> None:
    # Ten rows, two of them at the same moment (the id breaks the tie).
    moments = [MOMENT - dt.timedelta(minutes=n // 2 * 2) for n in range(10)]
    for number, moment in enumerate(moments):
        await OutboundEmail.insert(
            OutboundEmail(
                recipient="a@example.org",
                template="t",
                context={},
                dedupe_key=f"paging:{number}",
                next_attempt_at=moment,
                created_at=moment,
            )
        )
    query = lambda: OutboundEmail.select(OutboundEmail.id, OutboundEmail.created_at)  # noqa: E731
    everything = await query().order_by(OutboundEmail.created_at, OutboundEmail.id, ascending=False)
    expected = [row["id"] for row in everything]

    pages, cursor = [], None
    while True:
        with count_queries():
            page = await keyset_page(query(), OutboundEmail.created_at, OutboundEmail.id, cursor, 4)
        assert count_queries.count == 1
        pages.append(page)
        if page.older is None:
            break
        cursor = page.older
    assert [row["id"] for page in pages for row in page.rows] == expected
    assert [len(page.rows) for page in pages] == [4, 4, 2]
    assert pages[0].newer is None and pages[1].newer and pages[2].newer
    back = await keyset_page(query(), OutboundEmail.created_at, OutboundEmail.id, pages[2].newer, 4)
    assert [row["id"] for row in back.rows] == expected[4:8]
    assert back.older and back.newer
    first = await keyset_page(query(), OutboundEmail.created_at, OutboundEmail.id, back.newer, 4)
    assert [row["id"] for row in first.rows] == expected[:4]
    assert first.newer is None


async def test_a_soonest_first_list_pages_the_same_way() -> None:
    moments = [MOMENT + dt.timedelta(minutes=n // 3) for n in range(7)]
    for number, moment in enumerate(moments):
        await OutboundEmail.insert(
            OutboundEmail(
                recipient="a@example.org",
                template="t",
                context={},
                dedupe_key=f"soonest:{number}",
                next_attempt_at=moment,
                created_at=moment,
            )
        )
    query = lambda: OutboundEmail.select(OutboundEmail.id, OutboundEmail.created_at)  # noqa: E731
    everything = await query().order_by(OutboundEmail.created_at, OutboundEmail.id)
    expected = [row["id"] for row in everything]
    columns = (OutboundEmail.created_at, OutboundEmail.id)
    first = await keyset_page(query(), *columns, None, 3, descending=False)
    second = await keyset_page(query(), *columns, first.older, 3, descending=False)
    third = await keyset_page(query(), *columns, second.older, 3, descending=False)
    assert [r["id"] for p in (first, second, third) for r in p.rows] == expected
    assert third.older is None and first.newer is None
    back = await keyset_page(query(), *columns, third.newer, 3, descending=False)
    assert [r["id"] for r in back.rows] == expected[3:6]
