"""Writers on the embedded SQLite default: they queue in the process, one at a time in the
order they came, so concurrent writes never fail; and when the database stays locked by
someone else, the answer is a 503 with Retry-After, never a 500."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from governance.accounts.services import issue_api_token
from governance.actions import services
from governance.actions.schemas import ProgressNote
from governance.actions.tables import ActionUpdate
from governance.core.clock import organisation_today
from governance.core.db import PooledSQLiteEngine, get_engine, is_postgres, write_transaction
from governance.core.errors import BUSY_RETRY_AFTER_SECONDS
from governance.settings import get_settings
from tests.actions.conftest import fields
from tests.factories import make_group, make_membership, make_user, viewer_for
from tests.helpers import csrf_token, post_form, sign_in

pytestmark = pytest.mark.skipif(is_postgres(), reason="SQLite's single writer")

WRITERS = 24


OWNER_EMAIL = "owner@example.org"


@pytest.fixture
async def owner() -> int:
    return await make_user(OWNER_EMAIL, "Action Owner")


@pytest.fixture
async def action_id(owner: int) -> int:
    """An open action in a group, owned by `owner`, who may add progress notes to it."""
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    chair = await make_user("chair@example.org", "Chair Person")
    start = organisation_today() - dt.timedelta(days=30)
    await make_membership(chair, group_id, "chair", start)
    await make_membership(owner, group_id, "member", start)
    return await services.create_action(group_id, fields(owners=[owner]), await viewer_for(chair))


def sqlite_engine() -> PooledSQLiteEngine:
    engine = get_engine()
    assert isinstance(engine, PooledSQLiteEngine)
    return engine


@pytest.fixture
async def short_busy_timeout() -> AsyncIterator[PooledSQLiteEngine]:
    """SQLite gives up on a taken write lock after 20 ms instead of 10 s: long enough for
    a reader, far too short for writers that overlap."""
    engine = sqlite_engine()
    saved = engine.busy_timeout_seconds
    await engine.set_busy_timeout(0.02)
    try:
        yield engine
    finally:
        await engine.set_busy_timeout(saved)


@pytest.fixture
async def api_headers(owner: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {await issue_api_token(OWNER_EMAIL)}"}


@pytest.fixture
def lock_held_elsewhere() -> Iterator[sqlite3.Connection]:
    """A second, real connection to the same database file holding SQLite's write lock."""
    connection = sqlite3.connect(get_settings().sqlite_path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield connection
    finally:
        connection.execute("ROLLBACK")
        connection.close()


async def test_concurrent_writers_all_succeed_even_when_sqlite_would_not_wait(
    client: httpx.AsyncClient, owner: int, action_id: int, short_busy_timeout: PooledSQLiteEngine
) -> None:
    # Writers that each talked to SQLite's lock directly would overlap, and with a 20 ms
    # busy timeout most of them would fail with "database is locked".
    await sign_in(client, owner)
    await csrf_token(client)
    responses = await asyncio.gather(
        *(
            post_form(client, f"/actions/{action_id}/progress", {"body": f"Note {n}"})
            for n in range(WRITERS)
        )
    )
    assert [response.status_code for response in responses] == [302] * WRITERS
    assert await ActionUpdate.count().where(ActionUpdate.action == action_id) == WRITERS


async def test_writers_take_their_turns_in_the_order_they_came() -> None:
    queue = sqlite_engine().writers
    order: list[int] = []

    async def writer(n: int) -> None:
        async with write_transaction():
            order.append(n)

    async with queue.turn():
        tasks = []
        for n in range(5):
            tasks.append(asyncio.create_task(writer(n)))
            await asyncio.sleep(0)  # the new task runs until it waits for its turn
            assert queue.waiting == n + 1
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]


async def test_a_database_locked_by_another_connection_is_a_503_page_not_a_500(
    client: httpx.AsyncClient,
    owner: int,
    action_id: int,
    short_busy_timeout: PooledSQLiteEngine,
) -> None:
    await sign_in(client, owner)
    token = await csrf_token(client)
    holder = sqlite3.connect(get_settings().sqlite_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = await client.post(
            f"/actions/{action_id}/progress", data={"body": "Lost?", "_csrf_token": token}
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(BUSY_RETRY_AFTER_SECONDS)
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Busy, try again</h1>" in response.text
    assert "Nothing has been saved. Try again in a moment." in response.text
    assert await ActionUpdate.count().where(ActionUpdate.action == action_id) == 0
    # Once the lock is free, the same request goes through.
    again = await post_form(client, f"/actions/{action_id}/progress", {"body": "Saved"})
    assert again.status_code == 302


async def test_a_database_locked_by_another_connection_is_a_503_problem_on_the_api(
    client: httpx.AsyncClient,
    owner: int,
    action_id: int,
    short_busy_timeout: PooledSQLiteEngine,
    api_headers: dict[str, str],
    lock_held_elsewhere: sqlite3.Connection,
) -> None:
    # (The token was issued before the lock was taken.)
    response = await client.post(
        f"/api/v1/actions/{action_id}/updates", json={"body": "Lost?"}, headers=api_headers
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(BUSY_RETRY_AFTER_SECONDS)
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 503
    assert problem["title"] == "Busy, try again"
    assert "Nothing has been saved" in problem["detail"]


async def test_a_writer_queued_too_long_in_the_process_is_a_503(
    client: httpx.AsyncClient, owner: int, action_id: int
) -> None:
    await sign_in(client, owner)
    token = await csrf_token(client)
    queue = sqlite_engine().writers
    saved, queue.timeout_seconds = queue.timeout_seconds, 0.05
    try:
        async with queue.turn():  # a writer ahead that does not finish in time
            response = await client.post(
                f"/actions/{action_id}/progress", data={"body": "Late", "_csrf_token": token}
            )
    finally:
        queue.timeout_seconds = saved
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(BUSY_RETRY_AFTER_SECONDS)
    assert await ActionUpdate.count().where(ActionUpdate.action == action_id) == 0


async def test_a_write_transaction_runs_without_giving_the_event_loop_back(
    owner: int, action_id: int
) -> None:
    # While a transaction holds the write lock, every other writer waits; so it runs its
    # statements at once rather than waiting for the pages the loop has ready to render.
    turns_of_others = 0

    async def another_request() -> None:
        nonlocal turns_of_others
        while True:
            turns_of_others += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(another_request())
    await asyncio.sleep(0)
    viewer = await viewer_for(owner)
    try:
        before = turns_of_others
        await services.add_progress(action_id, ProgressNote(body="At once"), viewer)
        assert turns_of_others == before
    finally:
        other.cancel()
    assert await ActionUpdate.count().where(ActionUpdate.action == action_id) == 1
