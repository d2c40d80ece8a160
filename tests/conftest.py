"""Test harness: one database per run (SQLite by default, PostgreSQL when
GOVERNANCE_TEST_DATABASE_URL is set), emptied after every test; an in-process client;
a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

# Settings are read once, at import: fix them before anything imports governance.
_DATA_DIR = Path(tempfile.mkdtemp(prefix="governance-test-"))
os.environ["GOVERNANCE_DATA_DIR"] = str(_DATA_DIR)
os.environ["GOVERNANCE_SECRET_KEY"] = "test-secret-key-not-for-production"
os.environ["GOVERNANCE_BASE_URL"] = "http://testserver"
os.environ["GOVERNANCE_TIMEZONE"] = "Europe/London"
os.environ.pop("GOVERNANCE_SMTP_URL", None)
os.environ["GOVERNANCE_DATABASE_URL"] = os.environ.get("GOVERNANCE_TEST_DATABASE_URL") or (
    f"sqlite:///{_DATA_DIR / 'test.sqlite3'}"
)

import httpx  # noqa: E402
import pytest  # noqa: E402
from litestar import Litestar  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402

from governance.app import create_app  # noqa: E402
from governance.cli import apply_migrations  # noqa: E402
from governance.core.clock import organisation_today  # noqa: E402
from governance.core.db import get_engine, is_postgres, open_database  # noqa: E402
from governance.piccolo_conf import APP_REGISTRY  # noqa: E402
from tests.factories import make_group, make_membership, make_user  # noqa: E402
from tests.helpers import QueryCounter, SmtpSink, asgi_transport  # noqa: E402

TEST_DATA_DIR = _DATA_DIR


def _all_tables() -> list[str]:
    names: list[str] = []
    for app_config in APP_REGISTRY.app_configs.values():
        names.extend(table._meta.tablename for table in app_config.table_classes)
    return names


@pytest.fixture(scope="session", autouse=True)
async def database() -> AsyncIterator[None]:
    async with open_database():
        await apply_migrations()
        yield


@pytest.fixture(autouse=True)
async def empty_database(database: None) -> AsyncIterator[None]:
    yield
    engine = get_engine()
    tables = _all_tables()
    if is_postgres(engine):
        # TRUNCATE costs most of a second for this many tables; deleting with the foreign-key
        # triggers off and restarting the id sequences does the same in a few milliseconds.
        statements = [
            "SET session_replication_role = replica",
            *(f"DELETE FROM {table}" for table in tables),
            "SET session_replication_role = DEFAULT",
            *(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1, false)"
                for table in tables
            ),
        ]
        assert isinstance(engine, PostgresEngine) and engine.pool is not None
        async with engine.pool.acquire() as connection:
            await connection.execute("; ".join(statements))
    else:
        await engine.run_ddl("PRAGMA foreign_keys = OFF")
        try:
            for table in tables:
                await engine.run_ddl(f"DELETE FROM {table}")
        finally:
            await engine.run_ddl("PRAGMA foreign_keys = ON")


@pytest.fixture(scope="session")
def app() -> Litestar:
    return create_app()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client: keeps cookies, does not follow redirects."""
    transport = asgi_transport(app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def count_queries() -> QueryCounter:
    return QueryCounter(get_engine())


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def mail_dir() -> Path:
    return TEST_DATA_DIR / "mail"


# A group with a chair, a secretary, two members, a former member, a Director, a Board
# member, a stranger and a member of another group: the people most rules are about.
@dataclass
class Cast:
    group_id: int
    slug: str
    chair: int
    secretary: int
    member: int
    member2: int
    former: int
    director: int
    board: int
    board2: int
    stranger: int
    other_group_member: int


@pytest.fixture
async def cast() -> Cast:
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    other_group = await make_group(slug="ndi", name="Working Group on NDI")
    today = organisation_today()
    chair = await make_user("chair@example.org", "Chair Person")
    secretary = await make_user("secretary@example.org", "Secretary Person")
    member = await make_user("member@example.org", "Member One")
    member2 = await make_user("member2@example.org", "Member Two")
    former = await make_user("former@example.org", "Former Member")
    director = await make_user("director@example.org", "The Director", director=True)
    board = await make_user("board@example.org", "Board Member", board=True)
    board2 = await make_user("board2@example.org", "Second Board Member", board=True)
    stranger = await make_user("stranger@example.org", "Stranger")
    other = await make_user("other@example.org", "Other Group Member")
    start = today - dt.timedelta(days=200)
    await make_membership(chair, group_id, "chair", start)
    await make_membership(secretary, group_id, "secretary", start)
    await make_membership(member, group_id, "member", start)
    await make_membership(member2, group_id, "member", start)
    await make_membership(former, group_id, "member", start, today - dt.timedelta(days=100))
    await make_membership(other, other_group, "member", start)
    return Cast(
        group_id,
        "wellbeing",
        chair,
        secretary,
        member,
        member2,
        former,
        director,
        board,
        board2,
        stranger,
        other,
    )
