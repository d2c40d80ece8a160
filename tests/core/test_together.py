"""core/together.py: prepared selects asked for at the same moment inside `reads_together()`
go to the database as one statement, and each caller gets exactly the rows, with the types,
that its select returns alone: on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from governance.accounts.tables import User
from governance.core.db import PreparedSelect, read_at_once, reads_together, write_transaction
from governance.documents.tables import DocumentBlob
from governance.groups.tables import Membership, WorkingGroup
from governance.meetings.tables import Meeting
from tests.factories import make_group, make_meeting, make_membership, make_user
from tests.helpers import QueryCounter

PEOPLE = PreparedSelect(
    lambda ids: (
        User.select(
            User.id,
            User.display_name,
            User.is_admin,
            User.notification_categories,
            User.created_at,
            User.last_login_at,
        )
        .where(User.id.is_in(ids))
        .order_by(User.id, ascending=False)
    )
)
MEMBERSHIPS = PreparedSelect(
    lambda group_id: (
        Membership.select(
            Membership.user,
            Membership.role,
            Membership.starts_on,
            Membership.ends_on,
            Membership.user.display_name,
            Membership.group.slug.as_alias("group_slug"),
        )
        .where(Membership.group == group_id)
        .order_by(Membership.id)
    )
)
MEETINGS = PreparedSelect(
    lambda group_id, since: (
        Meeting.select()
        .where((Meeting.group == group_id) & (Meeting.starts_at > since))
        .order_by(Meeting.starts_at)
        .limit(2)
    )
)
GROUP_COUNT = PreparedSelect(lambda: WorkingGroup.select(Count()))
# A query of another kind than a select runs alone, even inside a batch.
GROUP_EXISTS = PreparedSelect(lambda slug: WorkingGroup.exists().where(WorkingGroup.slug == slug))
NO_ONE = PreparedSelect(lambda name: User.select(User.id, User.email).where(User.email == name))


async def a_small_world() -> dict[str, Any]:
    group = await make_group(slug="together")
    chair = await make_user(name="Chair Person")
    member = await make_user(name="Ada “Quoted” O'Neil \\ back")
    await make_membership(chair, group, "chair")
    await make_membership(member, group, "member", dt.date(2025, 1, 2), dt.date(2027, 3, 4))
    await User.update({User.is_admin: True, User.notification_categories: ["a", {"b": 1}]}).where(
        User.id == member
    )
    for days in (3, 1, 2):
        await make_meeting(
            "together",
            chair,
            title=f"In {days} days",
            starts_at=dt.datetime.now(dt.UTC).replace(microsecond=123456) + dt.timedelta(days=days),
        )
    return {"group": group, "people": [chair, member]}


async def each_alone(world: dict[str, Any]) -> list[Any]:
    since = dt.datetime.now(dt.UTC)
    return [
        await PEOPLE.run(ids=world["people"]),
        await MEMBERSHIPS.run(group_id=world["group"]),
        await MEETINGS.run(group_id=world["group"], since=since - dt.timedelta(days=1)),
        await GROUP_COUNT.run(),
        await NO_ONE.run(name="nobody@example.org"),
    ]


async def all_together(world: dict[str, Any]) -> list[Any]:
    since = dt.datetime.now(dt.UTC)
    return list(
        await asyncio.gather(
            PEOPLE.run(ids=world["people"]),
            MEMBERSHIPS.run(group_id=world["group"]),
            MEETINGS.run(group_id=world["group"], since=since - dt.timedelta(days=1)),
            GROUP_COUNT.run(),
            NO_ONE.run(name="nobody@example.org"),
        )
    )


async def test_selects_gathered_together_are_one_statement_with_the_same_rows_and_types(
    count_queries: QueryCounter,
) -> None:
    world = await a_small_world()
    with count_queries():
        alone = await each_alone(world)
    assert count_queries.count == 5
    with count_queries(), reads_together():
        together = await all_together(world)
    assert count_queries.count == 1
    assert together == alone
    for rows_alone, rows_together in zip(alone, together, strict=True):
        for row_alone, row_together in zip(rows_alone, rows_together, strict=True):
            assert {k: type(v) for k, v in row_together.items()} == {
                k: type(v) for k, v in row_alone.items()
            }
    people, memberships, meetings, (count,), nobody = together
    assert [p["id"] for p in people] == sorted(world["people"], reverse=True)  # order kept
    assert people[0]["is_admin"] is True and people[1]["is_admin"] is False
    assert people[0]["created_at"].tzinfo is not None
    assert memberships[1]["ends_on"] == dt.date(2027, 3, 4)
    assert memberships[1]["user.display_name"] == "Ada “Quoted” O'Neil \\ back"
    assert memberships[0]["group_slug"] == "together"
    assert [m["title"] for m in meetings] == ["In 1 days", "In 2 days"]  # order and limit
    assert meetings[0]["starts_at"].microsecond == 123456
    assert count["count"] >= 1 and nobody == []


async def test_reads_that_wait_on_each_other_go_in_one_statement_per_step(
    count_queries: QueryCounter,
) -> None:
    world = await a_small_world()

    async def members_then_people() -> list[dict[str, Any]]:
        members = await MEMBERSHIPS.run(group_id=world["group"])
        return await PEOPLE.run(ids=[m["user"] for m in members])

    with count_queries(), reads_together():
        first, second = await asyncio.gather(members_then_people(), members_then_people())
    assert count_queries.count == 2
    assert first == second and len(first) == 2


async def test_a_lone_select_and_a_transactions_selects_run_as_themselves(
    count_queries: QueryCounter,
) -> None:
    world = await a_small_world()
    with count_queries(), reads_together():
        (alone,) = await asyncio.gather(PEOPLE.run(ids=world["people"]))
    assert count_queries.count == 1 and len(alone) == 2
    with count_queries(), reads_together():
        people, exists = await asyncio.gather(
            PEOPLE.run(ids=world["people"]), GROUP_EXISTS.run(slug="together")
        )
    assert count_queries.count == 2 and people == alone and exists is True
    with reads_together():
        async with write_transaction():
            with count_queries():
                # One after the other, as a use case reads (a transaction's connection
                # answers one statement at a time: asyncpg refuses two at once).
                inside = [
                    await PEOPLE.run(ids=world["people"]),
                    await MEMBERSHIPS.run(group_id=world["group"]),
                ]
    assert count_queries.count == 2 and inside[0] == alone


async def test_a_failing_batch_fails_every_select_in_it_and_leaves_none_waiting() -> None:
    broken = PreparedSelect(lambda: User.select(User.id).where(WhereRaw("no_such_function(1)")))
    with reads_together(), pytest.raises(Exception):  # noqa: B017 - the driver's error
        await asyncio.gather(broken.run(), GROUP_COUNT.run())
    with reads_together():
        assert (await asyncio.gather(GROUP_COUNT.run()))[0][0]["count"] >= 0


CHUNKS = PreparedSelect(
    lambda sha256: DocumentBlob.select(DocumentBlob.data).where(DocumentBlob.sha256 == sha256)
)


async def test_a_select_of_bytes_runs_alone_and_returns_its_bytes(
    count_queries: QueryCounter,
) -> None:
    raw = bytes(range(256))
    await DocumentBlob.insert(DocumentBlob(sha256="b" * 64, chunk_index=0, data=raw))
    with count_queries(), reads_together():
        chunks, (count,) = await asyncio.gather(CHUNKS.run(sha256="b" * 64), GROUP_COUNT.run())
    # JSON cannot carry bytes exactly: that select is its own statement.
    assert count_queries.count == 2
    assert bytes(chunks[0]["data"]) == raw and count["count"] >= 0


async def test_reads_at_once_inside_a_transaction_run_one_after_another() -> None:
    world = await a_small_world()
    async with write_transaction():
        # Two at once on a transaction's one connection would be refused by asyncpg.
        people, members = await read_at_once(
            PEOPLE.run(ids=world["people"]), MEMBERSHIPS.run(group_id=world["group"])
        )
    assert len(people) == 2 and len(members) == 2
