"""PostgreSQL's pool takes connections back without asyncpg's reset statement (`RESET ALL`,
`UNLISTEN *`, `pg_advisory_unlock_all()`, ...): safe only while nothing the service does
leaves state in a connection's session, which is what these tests hold."""

from __future__ import annotations

import asyncio

import pytest
from piccolo.engine.postgres import PostgresEngine

from governance.core.audit import SYSTEM, record_event
from governance.core.db import get_engine, is_postgres, write_transaction
from governance.settings import get_settings

pytestmark = pytest.mark.skipif(not is_postgres(), reason="PostgreSQL's connection pool")


async def test_the_audit_chains_lock_ends_with_its_transaction():
    async with write_transaction():
        await record_event(SYSTEM, "test.event", "thing", 1, "Takes the chain's lock")
    # pg_locks shows every session's locks, the pooled connections' included.
    rows = await get_engine().run_ddl(
        "SELECT count(*) AS held FROM pg_locks WHERE locktype = 'advisory'"
    )
    assert rows[0]["held"] == 0


async def test_a_transaction_given_up_leaves_no_transaction_open_in_the_pool():
    engine = get_engine()
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await record_event(SYSTEM, "test.event", "thing", 1, "Rolled back")
            raise RuntimeError("given up")
    for _ in range(12):  # more than the pool's connections: each is handed out again
        rows = await engine.run_ddl("SELECT txid_current_if_assigned() AS open_transaction")
        assert rows[0]["open_transaction"] is None


async def test_the_pool_holds_at_most_the_configured_connections_and_queues_the_rest():
    engine = get_engine()
    most = get_settings().database_pool_size
    assert isinstance(engine, PostgresEngine) and engine.pool is not None
    assert engine.pool.get_max_size() == most

    async def backend() -> int:
        rows = await engine.run_ddl("SELECT pg_backend_pid() AS pid, pg_sleep(0.001)")
        return int(rows[0]["pid"])

    # Three times as many statements at once as there are connections: each waits its turn
    # for one and none fails.
    backends = await asyncio.gather(*(backend() for _ in range(3 * most)))
    assert len(backends) == 3 * most
    assert len(set(backends)) <= most
