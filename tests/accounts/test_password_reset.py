"""Password reset by email: no account enumeration, one use, two hours, other sessions end."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re

import httpx
import time_machine

from governance.accounts.passwords import verify_password
from governance.accounts.tables import User
from governance.core.clock import utcnow
from governance.core.db import QueryCountingMixin, get_engine
from governance.core.email import FileTransport, deliver_outbox
from governance.core.tables import AuditEvent, OutboundEmail
from tests.accounts.support import (
    browser,
    counts,
    get_with_session,
    issued_session,
    log_in,
    password_hash_of,
    session_exists,
    sessions_of,
)
from tests.factories import PASSWORD, make_user
from tests.helpers import (
    CSRF_COOKIE,
    csrf_token,
    field_error,
    html_part,
    post_form,
    sign_in,
    text_part,
)

NEW_PASSWORD = "a completely new passphrase"


def flash(html: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+" role="status">([^<]*)</p>', html)


async def ask_for_reset(client, email: str) -> tuple[int, str, list[str]]:
    response = await post_form(client, "/account/forgot-password", {"email": email})
    landing = await client.get(response.headers.get("location", "/login"))
    return response.status_code, response.headers.get("location", ""), flash(landing.text)


async def reset_link() -> str:
    rows = (
        await OutboundEmail.select()
        .where(OutboundEmail.template == "password_reset")
        .output(load_json=True)
    )
    assert len(rows) == 1
    return str(rows[0]["context"]["link"]).removeprefix("http://testserver")


async def set_password(client, path: str, password: str = NEW_PASSWORD):
    return await post_form(client, path, {"password": password, "password_confirm": password})


async def test_existing_and_unknown_emails_get_the_same_answer(client):
    await make_user(email="ada@example.org")

    known = await ask_for_reset(client, "Ada@Example.org")
    unknown = await ask_for_reset(client, "nobody@example.org")

    assert known == unknown
    assert known[0] == 302 and known[1] == "/login"
    assert known[2] and "If an active account has that email" in known[2][0]
    rows = await OutboundEmail.select()
    assert [row["recipient"] for row in rows] == ["ada@example.org"]
    assert await AuditEvent.count().where(AuditEvent.action == "user.password_reset_requested") == 1


async def test_deactivated_account_gets_no_reset_email(client):
    await make_user(email="gone@example.org", active=False)
    before = await counts()

    status, location, _ = await ask_for_reset(client, "gone@example.org")

    assert (status, location) == (302, "/login")
    assert await counts() == before


async def test_bad_email_re_renders_the_form(client):
    before = await counts()
    response = await post_form(client, "/account/forgot-password", {"email": "not an email"})
    assert response.status_code == 422
    assert field_error(response.text, "email") is not None
    assert await counts() == before


async def test_asking_repeatedly_in_an_hour_sends_one_email_and_records_one_event(client):
    await make_user(email="ada@example.org")
    with time_machine.travel(utcnow().replace(minute=5), tick=False) as traveller:
        for _ in range(3):
            await ask_for_reset(client, "ada@example.org")
        assert await OutboundEmail.count() == 1
        assert await AuditEvent.count() == 1

        traveller.shift(dt.timedelta(hours=1))
        await ask_for_reset(client, "ada@example.org")

    assert await OutboundEmail.count() == 2
    assert await AuditEvent.count() == 2


async def test_reset_email_is_delivered_with_the_link(client, tmp_path):
    await make_user(email="ada@example.org", name="Ada")
    await ask_for_reset(client, "ada@example.org")

    report = await deliver_outbox(FileTransport(tmp_path), "Governance <governance@example.org>")

    assert report.sent == 1
    (eml,) = tmp_path.glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ada@example.org"
    link = "http://testserver" + await reset_link()
    assert link in text_part(message)
    assert link in html_part(message)
    assert "Hello Ada," in text_part(message)


async def test_reset_link_works_once_and_ends_other_sessions(client, app):
    user_id = await make_user(email="ada@example.org")
    old_hash = await password_hash_of(user_id)
    laptop = await sign_in(client, user_id)
    phone = await sign_in(client, user_id)
    client.cookies.clear()
    await ask_for_reset(client, "ada@example.org")
    path = await reset_link()

    async with browser(app) as someone:
        form = await someone.get(path)
        assert form.status_code == 200
        assert "ada@example.org" in form.text
        done = await set_password(someone, path)
        assert done.status_code == 302
        assert done.headers["location"] == "/login"

        again = await someone.get(path)
        assert again.status_code == 404
        reused = await set_password(someone, path, "another password entirely")
        assert reused.status_code == 404

    new_hash = await password_hash_of(user_id)
    assert new_hash != old_hash
    assert verify_password(new_hash, NEW_PASSWORD)
    # Every session that existed with the old password has ended.
    assert not await session_exists(laptop)
    assert not await session_exists(phone)
    assert await sessions_of(user_id) == 0
    replay = await get_with_session(client, "/profile", laptop)
    assert replay.status_code == 302
    # The old password no longer works; the new one does.
    assert (await log_in(client, "ada@example.org", PASSWORD)).status_code == 422
    assert issued_session(await log_in(client, "ada@example.org", NEW_PASSWORD))
    assert await AuditEvent.count().where(AuditEvent.action == "user.password_set") == 1


async def test_reset_link_expires_after_two_hours(client):
    user_id = await make_user(email="ada@example.org")
    old_hash = await password_hash_of(user_id)
    with time_machine.travel(utcnow(), tick=False) as traveller:
        await ask_for_reset(client, "ada@example.org")
        path = await reset_link()

        traveller.shift(dt.timedelta(hours=1, minutes=59))
        assert (await client.get(path)).status_code == 200

        traveller.shift(dt.timedelta(minutes=2))
        expired = await client.get(path)
        refused = await set_password(client, path)

    assert expired.status_code == 404
    assert "no longer valid" in expired.text
    assert refused.status_code == 404
    assert await password_hash_of(user_id) == old_hash


async def test_a_new_reset_link_is_void_once_the_password_changes_another_way(client):
    """Links are tied to the password they were made for, not only to time."""
    user_id = await make_user(email="ada@example.org")
    await ask_for_reset(client, "ada@example.org")
    path = await reset_link()
    await User.update({User.password_hash: "changed-elsewhere"}).where(User.id == user_id)

    assert (await client.get(path)).status_code == 404


async def test_the_answer_costs_the_same_whether_or_not_the_account_exists(app, client):
    """Asking for a reset must not tell, by the work done before the answer, which emails
    have accounts: no query before the answer for a known address, an unknown one, or a
    known one asked for again in the hour. The link is queued after the answer."""
    await make_user(email="ada@example.org")
    engine = get_engine()
    assert isinstance(engine, QueryCountingMixin)
    answered_after: list[int] = []

    async def watched(scope, receive, send):
        started = engine.queries_run

        async def send_and_count(message):
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered_after.append(engine.queries_run - started)
            await send(message)

        await app(scope, receive, send_and_count)

    transport = httpx.ASGITransport(app=watched, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as watcher:
        watcher.cookies.set(CSRF_COOKIE, await csrf_token(client))
        token = client.cookies[CSRF_COOKIE]
        for address in ("ada@example.org", "nobody@example.org", "ada@example.org"):
            response = await watcher.post(
                "/account/forgot-password", data={"email": address, "_csrf_token": token}
            )
            assert (response.status_code, response.headers["location"]) == (302, "/login")

    assert answered_after == [0, 0, 0]
    # The work was done once the answer had gone: one link, for the account that exists.
    rows = await OutboundEmail.select(OutboundEmail.recipient)
    assert [row["recipient"] for row in rows] == ["ada@example.org"]
    assert await AuditEvent.count().where(AuditEvent.action == "user.password_reset_requested") == 1
