"""Login throttling: per account, and per address at four times the account limit."""

from __future__ import annotations

import asyncio
import datetime as dt

import time_machine

from governance.accounts.services import ADDRESS_ATTEMPTS_FACTOR
from governance.accounts.tables import LoginAttempt, UserSession
from governance.core.clock import utcnow
from governance.settings import get_settings
from tests.accounts.support import browser, issued_session, log_in
from tests.factories import PASSWORD, make_user

WRONG = "not the password at all"
ADDRESS = "203.0.113.7"  # the test client's address
THROTTLED = "Too many failed sign-ins"


async def fail(client, email: str, times: int) -> None:
    for _ in range(times):
        response = await log_in(client, email, WRONG)
        assert response.status_code == 422, response.status_code


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert THROTTLED in response.text
    assert f"Wait {get_settings().login_window_minutes} minutes" in response.text
    assert issued_session(response) is None


async def test_account_is_throttled_after_five_failures_then_freed_by_time(client, app):
    limit = get_settings().login_max_attempts
    assert limit == 5
    await make_user(email="target@example.org")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        await fail(client, "target@example.org", limit - 1)
        # Four failures: the right password still works, and clears the count.
        assert (await log_in(client, "target@example.org", PASSWORD)).status_code == 302
        assert await LoginAttempt.count().where(LoginAttempt.email == "target@example.org") == 0

        await fail(client, "target@example.org", limit)
        assert_throttled(await log_in(client, "target@example.org", PASSWORD))
        # Whatever the case of the email, and from any other address.
        assert_throttled(await log_in(client, "TARGET@example.org", PASSWORD))
        async with browser(app, address="198.51.100.20") as elsewhere:
            assert_throttled(await log_in(elsewhere, "target@example.org", PASSWORD))

        # Another account from the same address is not held back by this one.
        await make_user(email="colleague@example.org")
        assert (await log_in(client, "colleague@example.org", PASSWORD)).status_code == 302

        traveller.shift(dt.timedelta(minutes=get_settings().login_window_minutes - 1))
        assert_throttled(await log_in(client, "target@example.org", PASSWORD))

        traveller.shift(dt.timedelta(minutes=2))
        response = await log_in(client, "target@example.org", PASSWORD)

    assert response.status_code == 302
    assert issued_session(response)


async def test_address_is_throttled_at_four_times_the_account_limit(client, app):
    settings = get_settings()
    address_limit = settings.login_max_attempts * ADDRESS_ATTEMPTS_FACTOR
    assert address_limit == 20
    for name in ("first", "last", "fresh"):
        await make_user(email=f"{name}@example.org")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        # Failures spread over accounts, none of them reaching its own limit (unknown
        # emails count against the address too). Most are recorded directly, as a failed
        # sign-in records them, to keep the test quick; the last ones go through the form.
        now = utcnow()
        spread = [("nobody1@example.org", 4), ("nobody2@example.org", 4)]
        spread += [("nobody3@example.org", 4), ("nobody4@example.org", 4)]
        spread += [("first@example.org", 1)]
        await LoginAttempt.insert(
            *(
                LoginAttempt(email=email, ip_address=ADDRESS, attempted_at=now)
                for email, times in spread
                for _ in range(times)
            )
        )
        await fail(client, "first@example.org", 2)
        assert await LoginAttempt.count() == address_limit - 1
        # One below the limit, people at this address can still sign in.
        assert (await log_in(client, "last@example.org", PASSWORD)).status_code == 302

        await fail(client, "nobody5@example.org", 1)

        assert_throttled(await log_in(client, "fresh@example.org", PASSWORD))
        # The same person at another address is not affected.
        async with browser(app, address="198.51.100.20") as elsewhere:
            assert (await log_in(elsewhere, "fresh@example.org", PASSWORD)).status_code == 302

        traveller.shift(dt.timedelta(minutes=settings.login_window_minutes + 1))
        response = await log_in(client, "fresh@example.org", PASSWORD)

    assert response.status_code == 302
    assert issued_session(response)


async def test_throttled_sign_in_creates_no_session(client):
    user_id = await make_user(email="target@example.org")
    await fail(client, "target@example.org", get_settings().login_max_attempts)

    response = await log_in(client, "target@example.org", PASSWORD)

    assert_throttled(response)
    assert await UserSession.count().where(UserSession.user == user_id) == 0


async def test_guesses_sent_all_at_once_are_throttled_too(client):
    """An attacker firing many guesses in parallel must not get past the limit because each
    was checked before the others were recorded."""
    limit = get_settings().login_max_attempts
    await make_user(email="target@example.org")

    responses = await asyncio.gather(
        *(log_in(client, "target@example.org", f"guess number {n}") for n in range(limit * 2))
    )

    heard = [response for response in responses if response.status_code == 422]
    refused = [response for response in responses if response.status_code == 429]
    assert 1 <= len(heard) <= limit
    assert len(heard) + len(refused) == len(responses)
    assert_throttled(await log_in(client, "target@example.org", PASSWORD))


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
