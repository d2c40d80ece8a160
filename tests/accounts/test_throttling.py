"""Sign-in throttling: per account *and* address pair, with delays that grow with each
failure (1 s, 2 s, 4 s ... up to the window), never a lock that a stranger can hold; and per
address at four times the pair's allowance."""

from __future__ import annotations

import asyncio
import datetime as dt

import time_machine

from governance.accounts.services import ADDRESS_ATTEMPTS_FACTOR
from governance.accounts.tables import LoginAttempt, UserSession
from governance.core.clock import utcnow
from governance.core.tables import OutboundEmail
from governance.settings import get_settings
from tests.accounts.support import browser, issued_session, log_in
from tests.factories import PASSWORD, make_user
from tests.helpers import found, post_form

WRONG = "not the password at all"
ADDRESS = "203.0.113.7"  # the test client's address
STRANGER = "198.51.100.20"
THROTTLED = "Too many failed sign-ins"
NEW_PASSWORD = "a completely new passphrase"


async def fail(client, email: str, times: int) -> None:
    for _ in range(times):
        response = await log_in(client, email, WRONG)
        assert response.status_code == 422, response.status_code


def assert_throttled(response, wait_seconds: int | None = None) -> None:
    """A 429 page saying how long to wait, with that wait in Retry-After, and no session."""
    assert response.status_code == 429
    assert THROTTLED in response.text
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= get_settings().login_window_minutes * 60
    if wait_seconds is not None:
        assert retry_after == wait_seconds
        if wait_seconds < 60:
            unit = "second" if wait_seconds == 1 else "seconds"
            assert f"Wait {wait_seconds} {unit} and try again" in response.text
    assert issued_session(response) is None


async def record_failures(email: str, address: str, times: int) -> None:
    """Failures recorded directly, as a failed sign-in records them, to keep a test quick."""
    now = utcnow()
    await LoginAttempt.insert(
        *(LoginAttempt(email=email, ip_address=address, attempted_at=now) for _ in range(times))
    )


async def test_a_pair_waits_longer_after_each_failure_beyond_five(client):
    limit = get_settings().login_max_attempts
    assert limit == 5
    await make_user(email="target@example.org")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        await fail(client, "target@example.org", limit - 1)
        # Four failures: the right password still works, and clears the count.
        assert (await log_in(client, "target@example.org", PASSWORD)).status_code == 302
        assert await LoginAttempt.count().where(LoginAttempt.email == "target@example.org") == 0

        await fail(client, "target@example.org", limit)
        # Even the right password waits, so a guess cannot be told from it.
        assert_throttled(await log_in(client, "target@example.org", PASSWORD), wait_seconds=1)
        # Whatever the case of the email.
        assert_throttled(await log_in(client, "TARGET@example.org", PASSWORD), wait_seconds=1)

        # Each further failure doubles the wait; refused attempts do not count.
        for wait in (1, 2, 4, 8):
            traveller.shift(dt.timedelta(seconds=wait))
            await fail(client, "target@example.org", 1)
            assert_throttled(await log_in(client, "target@example.org", WRONG), wait * 2)
        assert await LoginAttempt.count() == limit + 4

        # Another account from the same address is not held back by this one.
        await make_user(email="colleague@example.org")
        assert (await log_in(client, "colleague@example.org", PASSWORD)).status_code == 302

        traveller.shift(dt.timedelta(seconds=15))
        assert_throttled(await log_in(client, "target@example.org", PASSWORD), wait_seconds=1)
        traveller.shift(dt.timedelta(seconds=1))
        response = await log_in(client, "target@example.org", PASSWORD)

    assert response.status_code == 302
    assert issued_session(response)
    assert await LoginAttempt.count() == 0


async def test_the_wait_never_exceeds_the_window_and_ends_with_it(client):
    window = dt.timedelta(minutes=get_settings().login_window_minutes)
    await make_user(email="target@example.org")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        await record_failures("target@example.org", ADDRESS, 60)

        refused = await log_in(client, "target@example.org", PASSWORD)
        assert_throttled(refused, wait_seconds=int(window.total_seconds()))
        assert "Wait 15 minutes" in refused.text

        traveller.shift(window + dt.timedelta(seconds=1))
        response = await log_in(client, "target@example.org", PASSWORD)

    assert response.status_code == 302


async def test_a_stranger_hammering_an_account_cannot_lock_its_owner_out(client, app):
    """The owner, at an address that has not failed, signs in with the right password while
    a stranger elsewhere keeps failing for the same account."""
    await make_user(email="target@example.org")
    with time_machine.travel(utcnow(), tick=False):
        await record_failures("target@example.org", STRANGER, 40)
        async with browser(app, address=STRANGER) as stranger:
            for _ in range(3):
                assert_throttled(await log_in(stranger, "target@example.org", PASSWORD))

            for _ in range(3):
                owner = await log_in(client, "target@example.org", PASSWORD)
                assert owner.status_code == 302
                assert issued_session(owner)

            # The owner's success frees the owner's address only: the stranger still waits.
            assert_throttled(await log_in(stranger, "target@example.org", PASSWORD))


async def test_a_password_reset_lifts_the_accounts_throttle(client):
    limit = get_settings().login_max_attempts
    await make_user(email="target@example.org")
    with time_machine.travel(utcnow(), tick=False):
        await fail(client, "target@example.org", limit)
        await record_failures("target@example.org", STRANGER, 30)
        assert_throttled(await log_in(client, "target@example.org", PASSWORD))

        await post_form(client, "/account/forgot-password", {"email": "target@example.org"})
        row = found(
            await OutboundEmail.select()
            .where(OutboundEmail.template == "password_reset")
            .output(load_json=True)
            .first()
        )
        path = str(row["context"]["link"]).removeprefix("http://testserver")
        done = await post_form(
            client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
        )
        assert done.status_code == 302

        response = await log_in(client, "target@example.org", NEW_PASSWORD)

    assert response.status_code == 302
    assert issued_session(response)
    assert await LoginAttempt.count().where(LoginAttempt.email == "target@example.org") == 0


async def test_concurrent_correct_sign_ins_of_one_account_are_never_refused(client, app):
    """Many tabs, or a script's workers, signing in as one person at once from one address."""
    attempts = get_settings().login_max_attempts * 3
    user_id = await make_user(email="busy@example.org")

    async def sign_in_once():
        async with browser(app) as tab:
            return await log_in(tab, "busy@example.org", PASSWORD)

    with time_machine.travel(utcnow(), tick=False):
        responses = await asyncio.gather(*(sign_in_once() for _ in range(attempts)))

    assert [response.status_code for response in responses] == [302] * attempts
    assert all(issued_session(response) for response in responses)
    assert await UserSession.count().where(UserSession.user == user_id) == attempts
    assert await LoginAttempt.count() == 0


async def test_address_is_throttled_at_four_times_the_pair_allowance(client, app):
    settings = get_settings()
    address_limit = settings.login_max_attempts * ADDRESS_ATTEMPTS_FACTOR
    assert address_limit == 20
    for name in ("first", "last", "fresh"):
        await make_user(email=f"{name}@example.org")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        # Failures spread over accounts, none of them reaching its own allowance (unknown
        # emails count against the address too); the last ones go through the form.
        for number in range(1, 5):
            await record_failures(f"nobody{number}@example.org", ADDRESS, 4)
        await record_failures("first@example.org", ADDRESS, 1)
        await fail(client, "first@example.org", 2)
        assert await LoginAttempt.count() == address_limit - 1
        # One below the limit, people at this address can still sign in.
        assert (await log_in(client, "last@example.org", PASSWORD)).status_code == 302

        await fail(client, "nobody5@example.org", 1)

        assert_throttled(await log_in(client, "fresh@example.org", PASSWORD), wait_seconds=1)
        # The same person at another address is not affected.
        async with browser(app, address=STRANGER) as elsewhere:
            assert (await log_in(elsewhere, "fresh@example.org", PASSWORD)).status_code == 302

        traveller.shift(dt.timedelta(seconds=1))
        response = await log_in(client, "fresh@example.org", PASSWORD)

    assert response.status_code == 302
    assert issued_session(response)


async def test_throttled_sign_in_creates_no_session(client):
    user_id = await make_user(email="target@example.org")
    with time_machine.travel(utcnow(), tick=False):
        await fail(client, "target@example.org", get_settings().login_max_attempts)

        response = await log_in(client, "target@example.org", PASSWORD)

    assert_throttled(response)
    assert await UserSession.count().where(UserSession.user == user_id) == 0


async def test_guesses_sent_all_at_once_are_throttled_too(client):
    """An attacker firing many guesses in parallel must not get past the allowance because
    each was checked before the others were decided."""
    limit = get_settings().login_max_attempts
    await make_user(email="target@example.org")

    with time_machine.travel(utcnow(), tick=False):
        responses = await asyncio.gather(
            *(log_in(client, "target@example.org", f"guess number {n}") for n in range(limit * 2))
        )

        heard = [response for response in responses if response.status_code == 422]
        refused = [response for response in responses if response.status_code == 429]
        assert 1 <= len(heard) <= limit
        assert len(heard) + len(refused) == len(responses)
        assert_throttled(await log_in(client, "target@example.org", PASSWORD))


async def test_an_attempt_left_under_way_by_a_stopped_process_counts_as_a_failure(client):
    """It is not waited for (the next attempt is judged at once) and it is not forgotten."""
    limit = get_settings().login_max_attempts
    await make_user(email="target@example.org")
    with time_machine.travel(utcnow(), tick=False):
        await LoginAttempt.insert(
            LoginAttempt(
                email="target@example.org",
                ip_address=ADDRESS,
                attempted_at=utcnow() - dt.timedelta(minutes=2),
                pending=True,
            )
        )
        await record_failures("target@example.org", ADDRESS, limit - 1)

        assert_throttled(await log_in(client, "target@example.org", PASSWORD), wait_seconds=1)


async def test_attempts_older_than_the_window_are_cleared_away(client):
    now = utcnow()
    window = dt.timedelta(minutes=get_settings().login_window_minutes)
    await LoginAttempt.insert(
        *(
            LoginAttempt(email=f"old{n}@example.org", ip_address=ADDRESS, attempted_at=now - age)
            for n, age in enumerate([window + dt.timedelta(minutes=1), dt.timedelta(days=30)])
        ),
        LoginAttempt(email="recent@example.org", ip_address=ADDRESS, attempted_at=now),
    )

    await fail(client, "someone@example.org", 1)

    remaining = sorted(row["email"] for row in await LoginAttempt.select(LoginAttempt.email))
    assert remaining == ["recent@example.org", "someone@example.org"]
