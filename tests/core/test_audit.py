"""The audit chain: one event per change, in its transaction; tampering found; no forks."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from governance.accounts import services
from governance.accounts.policy import CurrentUser
from governance.accounts.schemas import (
    AccountChange,
    AccountView,
    Invitation,
    NewPassword,
    PasswordResetRequest,
    ProfileChange,
    RoleChoice,
)
from governance.accounts.tables import User
from governance.core import audit
from governance.core.audit import (
    GENESIS_HASH,
    SYSTEM,
    compute_hash,
    record_event,
    verify_chain,
)
from governance.core.db import write_transaction
from governance.core.errors import InvalidInput, NotFoundError, PermissionDenied
from governance.core.tables import AuditChainHead, AuditEvent, OutboundEmail
from tests.factories import make_user
from tests.helpers import found

REPO_ROOT = Path(__file__).resolve().parents[2]


async def append(count: int, start: int = 1) -> None:
    for n in range(start, start + count):
        async with write_transaction():
            await record_event(SYSTEM, "test.event", "thing", n, f"Event number {n}")


async def events() -> list[dict]:
    return await AuditEvent.select().order_by(AuditEvent.sequence)


async def actor(admin: bool = True) -> CurrentUser:
    user_id = await make_user(admin=admin)
    row = await User.select().where(User.id == user_id).first()
    return CurrentUser.from_row(found(row))


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "governance.cli", *args],
        cwd=REPO_ROOT,
        env=dict(os.environ),  # the same database as this test process
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- the chain -----------------------------------------------------------------------------


async def test_events_form_a_hash_chain():
    await append(5)

    rows = await events()

    assert [row["sequence"] for row in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["previous_hash"] == GENESIS_HASH
    for before, after in itertools.pairwise(rows):
        assert after["previous_hash"] == before["hash"]
    for row in rows:
        assert row["hash"] == compute_hash(row)
        assert len(row["hash"]) == 64
    assert len({row["hash"] for row in rows}) == 5
    verdict = await verify_chain()
    assert verdict.intact
    assert verdict.events_checked == 5
    assert verdict.first_bad_sequence is None


async def test_empty_chain_is_intact():
    verdict = await verify_chain()
    assert verdict.intact and verdict.events_checked == 0


async def test_an_event_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        await record_event(SYSTEM, "test.event", "thing", 1, "no transaction")
    assert await AuditEvent.count() == 0


async def test_an_event_is_rolled_back_with_its_change():
    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with write_transaction():
            await record_event(SYSTEM, "test.event", "thing", 1, "kept only with its change")
            raise Abandoned

    assert await AuditEvent.count() == 0
    await append(1)
    assert [row["sequence"] for row in await events()] == [1]


async def test_long_summaries_are_cut_and_still_verify():
    async with write_transaction():
        await record_event(SYSTEM, "test.event", "thing", 1, "ü" * 800)
    (row,) = await events()
    assert len(row["summary"]) == 500
    assert (await verify_chain()).intact


# --- tampering ------------------------------------------------------------------------------


async def test_altered_summary_is_found():
    await append(5)
    await AuditEvent.update({AuditEvent.summary: "Nothing happened"}).where(
        AuditEvent.sequence == 3
    )

    verdict = await verify_chain()

    assert not verdict.intact
    assert verdict.first_bad_sequence == 3
    assert verdict.events_checked == 2


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_label", "someone-else@example.org"),
        ("actor_id", 999),
        ("action", "user.created"),
        ("entity_id", "77"),
    ],
)
async def test_any_altered_field_is_found(column, value):
    await append(4)
    await AuditEvent.update({getattr(AuditEvent, column): value}).where(AuditEvent.sequence == 2)

    verdict = await verify_chain()

    assert (verdict.intact, verdict.first_bad_sequence) == (False, 2)


async def test_altered_time_is_found():
    await append(3)
    (row,) = await AuditEvent.select().where(AuditEvent.sequence == 2)
    earlier = row["occurred_at"].replace(year=row["occurred_at"].year - 1)
    await AuditEvent.update({AuditEvent.occurred_at: earlier}).where(AuditEvent.sequence == 2)

    verdict = await verify_chain()

    assert (verdict.intact, verdict.first_bad_sequence) == (False, 2)


async def test_deleted_middle_event_is_found():
    await append(5)
    await AuditEvent.delete().where(AuditEvent.sequence == 3)

    verdict = await verify_chain()

    assert not verdict.intact
    assert verdict.first_bad_sequence == 3
    assert "missing" in verdict.problem


async def test_deleted_first_event_is_found():
    await append(3)
    await AuditEvent.delete().where(AuditEvent.sequence == 1)

    verdict = await verify_chain()

    assert (verdict.intact, verdict.first_bad_sequence) == (False, 1)


async def test_swapped_sequence_numbers_are_found():
    await append(5)
    # Through a free number, since sequence numbers are unique.
    await AuditEvent.update({AuditEvent.sequence: 1000}).where(AuditEvent.sequence == 2)
    await AuditEvent.update({AuditEvent.sequence: 2}).where(AuditEvent.sequence == 4)
    await AuditEvent.update({AuditEvent.sequence: 4}).where(AuditEvent.sequence == 1000)

    verdict = await verify_chain()

    assert not verdict.intact
    assert verdict.first_bad_sequence == 2


async def test_altered_hash_is_found():
    await append(5)
    await AuditEvent.update({AuditEvent.hash: "f" * 64}).where(AuditEvent.sequence == 4)

    verdict = await verify_chain()

    assert (verdict.intact, verdict.first_bad_sequence) == (False, 4)


async def test_rewritten_event_with_a_recomputed_hash_breaks_the_next_link():
    """A forger who recomputes the altered event's own hash is caught by the next event."""
    await append(5)
    (row,) = await AuditEvent.select().where(AuditEvent.sequence == 3)
    row["summary"] = "Nothing happened"
    await AuditEvent.update(
        {AuditEvent.summary: row["summary"], AuditEvent.hash: compute_hash(row)}
    ).where(AuditEvent.sequence == 3)

    verdict = await verify_chain()

    assert (verdict.intact, verdict.first_bad_sequence) == (False, 4)


async def test_verification_reads_past_its_batch_size(monkeypatch):
    await append(5)
    await AuditEvent.update({AuditEvent.summary: "x"}).where(AuditEvent.sequence == 4)
    # The chain is read in batches; a break after the first batch must still be found.
    original = audit._events_in_order
    monkeypatch.setattr(audit, "_events_in_order", lambda: original(batch_size=2))

    verdict = await verify_chain()

    assert (verdict.intact, verdict.first_bad_sequence) == (False, 4)


async def test_deleting_the_newest_events_is_caught_by_the_head():
    """Issue 10, defect 8: the chain's tail was not protected."""
    await append(5)
    await AuditEvent.delete().where(AuditEvent.sequence >= 4)

    verdict = await verify_chain()

    assert (verdict.intact, verdict.first_bad_sequence) == (False, 4)
    assert verdict.problem == "events 4 to 5 are missing from the end"
    assert verdict.head_sequence == 5


async def test_deleting_the_newest_event_and_moving_the_head_back_is_caught():
    await append(5)
    (fourth,) = await AuditEvent.select().where(AuditEvent.sequence == 4)
    await AuditEvent.delete().where(AuditEvent.sequence == 5)
    # A database writer moves the head back, but cannot seal it without the secret key.
    await AuditChainHead.update(
        {AuditChainHead.sequence: 4, AuditChainHead.hash: fourth["hash"]}
    ).where(AuditChainHead.id == 1)

    verdict = await verify_chain()

    assert not verdict.intact and verdict.problem == "the chain's head has been altered"


async def test_deleting_events_and_the_head_is_caught_unless_the_chain_is_empty():
    await append(3)
    await AuditChainHead.delete().where(AuditChainHead.id == 1)
    assert (await verify_chain()).problem == "the chain's head is missing"


async def test_a_chain_rebuilt_with_the_published_algorithm_is_caught():
    """Issue 11, item 12: without the secret key, a rewritten chain does not verify."""
    await append(4)
    previous = GENESIS_HASH
    for row in await events():
        row["summary"] = f"Rewritten {row['sequence']}"
        row["previous_hash"] = previous
        row["scheme"] = "sha256"  # the published, unkeyed algorithm
        row["hash"] = compute_hash(row)
        previous = row["hash"]
        await AuditEvent.update(
            {
                AuditEvent.summary: row["summary"],
                AuditEvent.previous_hash: row["previous_hash"],
                AuditEvent.scheme: row["scheme"],
                AuditEvent.hash: row["hash"],
            }
        ).where(AuditEvent.sequence == row["sequence"])

    verdict = await verify_chain()

    assert not verdict.intact
    assert verdict.problem == "events were added after the chain's head"


async def test_events_are_keyed_with_a_key_that_is_not_in_the_database():
    await append(1)
    (row,) = await events()
    assert row["scheme"] == "hmac-sha256"
    unkeyed = compute_hash({**row, "scheme": "sha256"})
    assert row["hash"] == compute_hash(row) != unkeyed


async def test_older_unkeyed_events_still_verify_but_none_may_follow_a_keyed_one():
    await append(3)
    rows = await events()
    # As written before the chain was keyed: plain SHA-256, then keyed events after them.
    previous = GENESIS_HASH
    for row in rows[:2]:
        row.update(previous_hash=previous, scheme="sha256")
        row["hash"] = compute_hash(row)
        previous = row["hash"]
    rows[2].update(previous_hash=previous)
    rows[2]["hash"] = compute_hash(rows[2])
    for row in rows:
        await AuditEvent.update(
            {
                AuditEvent.previous_hash: row["previous_hash"],
                AuditEvent.scheme: row["scheme"],
                AuditEvent.hash: row["hash"],
            }
        ).where(AuditEvent.sequence == row["sequence"])
    await audit.seal_head()
    assert (await verify_chain()).intact
    await append(1, start=4)
    assert (await verify_chain()).intact
    await AuditEvent.update({AuditEvent.scheme: "sha256"}).where(AuditEvent.sequence == 4)
    assert (await verify_chain()).first_bad_sequence == 4


# --- the command line -----------------------------------------------------------------------


async def test_audit_verify_command_exit_codes():
    await append(4)

    intact = await asyncio.to_thread(run_cli, "audit", "verify")

    assert intact.returncode == 0, intact.stderr
    assert "4 events" in intact.stdout
    head = (await events())[-1]
    # The head, printed so it can be written down outside the system.
    assert f"Head: event 4, hash {head['hash']}" in intact.stdout

    await AuditEvent.update({AuditEvent.summary: "Nothing happened"}).where(
        AuditEvent.sequence == 3
    )
    broken = await asyncio.to_thread(run_cli, "audit", "verify")

    assert broken.returncode == 1
    assert "sequence 3" in broken.stderr
    assert broken.stdout == ""


# --- concurrent writers ---------------------------------------------------------------------


async def test_concurrent_appends_do_not_fork_the_chain():
    async def one(n: int) -> None:
        async with write_transaction():
            await record_event(SYSTEM, "test.event", "thing", n, f"Concurrent {n}")

    await asyncio.gather(*(one(n) for n in range(20)))

    rows = await events()
    assert [row["sequence"] for row in rows] == list(range(1, 21))
    assert sorted(row["entity_id"] for row in rows) == sorted(str(n) for n in range(20))
    verdict = await verify_chain()
    assert verdict.intact and verdict.events_checked == 20


# --- one event per change, in its transaction -----------------------------------------------


def new_password(password: str) -> NewPassword:
    return NewPassword(password=password, password_confirm=password)


async def test_each_account_service_writes_exactly_one_event():
    admin = await actor()

    async def new_events(action_call) -> list[str]:
        before = await AuditEvent.count()
        await action_call
        rows = await AuditEvent.select(AuditEvent.action).where(AuditEvent.sequence > before)
        return [row["action"] for row in rows]

    created = await new_events(
        services.create_user("c@example.org", "C", RoleChoice(), "a long enough password")
    )
    assert created == ["user.created"]
    invited_id_holder: list[AccountView] = []

    async def invite() -> None:
        invited_id_holder.append(
            await services.invite_user(
                Invitation(email="i@example.org", display_name="I", is_board=True), admin
            )
        )

    assert await new_events(invite()) == ["user.invited"]
    invited_id = invited_id_holder[0].id
    assert await new_events(services.resend_invitation(invited_id, admin)) == [
        "user.invitation_resent"
    ]
    assert await new_events(
        services.update_user(invited_id, AccountChange(display_name="I2", is_director=True), admin)
    ) == ["user.updated"]
    assert await new_events(services.set_user_active(invited_id, False, admin)) == [
        "user.deactivated"
    ]
    assert await new_events(services.set_user_active(invited_id, True, admin)) == [
        "user.reactivated"
    ]
    assert await new_events(
        services.update_profile(
            ProfileChange(
                display_name="Admin",
                timezone="Europe/Paris",
                digest_frequency="off",
                digest_weekday="monday",
            ),
            admin,
        )
    ) == ["user.profile_updated"]
    assert await new_events(
        services.request_password_reset(PasswordResetRequest(email="c@example.org"))
    ) == ["user.password_reset_requested"]
    token = services.password_link(invited_id, "", "invitation").rsplit("/", 1)[1]
    assert await new_events(
        services.set_password_with_token(token, new_password("the invitee's password"))
    ) == ["user.password_set"]
    assert await new_events(services.issue_api_token("c@example.org")) == ["api_token.created"]
    assert (await verify_chain()).intact


async def test_refused_changes_write_no_event_and_change_nothing():
    admin = await actor()
    member = await actor(admin=False)
    await make_user(email="taken@example.org")
    before_users = await User.count()

    refusals = [
        (
            services.invite_user(Invitation(email="taken@example.org", display_name="Dup"), admin),
            InvalidInput,
        ),
        (
            services.invite_user(Invitation(email="new@example.org", display_name="New"), member),
            PermissionDenied,
        ),
        (services.set_user_active(admin.id, False, admin), InvalidInput),
        (services.update_user(admin.id, AccountChange(display_name="Admin"), admin), InvalidInput),
        (services.resend_invitation(9999, admin), NotFoundError),
        (
            services.set_password_with_token("forged", new_password("some password here")),
            NotFoundError,
        ),
        (services.issue_api_token("nobody@example.org"), NotFoundError),
    ]
    for call, error in refusals:
        with pytest.raises(error):
            await call
    await services.request_password_reset(PasswordResetRequest(email="nobody@example.org"))

    assert await AuditEvent.count() == 0
    assert await OutboundEmail.count() == 0
    assert await User.count() == before_users


async def test_summaries_name_the_change_and_the_actor():
    admin = await actor()
    await services.invite_user(
        Invitation(email="i@example.org", display_name="I", is_board=True), admin
    )

    (row,) = await AuditEvent.select()

    assert row["actor_id"] == admin.id
    assert row["actor_label"] == admin.email
    assert row["entity_type"] == "user"
    assert "i@example.org" in row["summary"] and "board" in row["summary"]
