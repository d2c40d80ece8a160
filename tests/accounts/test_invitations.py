"""Inviting people by email: the outbox row, the real SMTP delivery, the single-use link."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
import time_machine

from governance.accounts import services
from governance.accounts.passwords import verify_password
from governance.accounts.schemas import NewPassword
from governance.accounts.tables import User
from governance.core.clock import utcnow
from governance.core.db import is_postgres
from governance.core.email import SmtpTransport, deliver_outbox
from governance.core.errors import NotFoundError
from governance.core.tables import AuditEvent, OutboundEmail
from tests.accounts.support import counts, issued_session, log_in, password_hash_of
from tests.core.locking import rows_held
from tests.factories import make_user
from tests.helpers import (
    field_error,
    found,
    html_part,
    post_form,
    shown_after_refusal,
    sign_in,
    text_part,
)

MAIL_FROM = "Governance <governance@example.org>"
NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"http://testserver/account/set-password/[A-Za-z0-9_.\-]+")


async def invite(client, email="newcomer@example.org", name="Nia Newcomer", **roles):
    data = {"email": email, "display_name": name, **{role: "on" for role in roles}}
    return await post_form(client, "/admin/users/invite", data)


def path_of(link: str) -> str:
    return link.removeprefix("http://testserver")


async def set_password(client, link: str, password: str = NEW_PASSWORD):
    return await post_form(
        client, path_of(link), {"password": password, "password_confirm": password}
    )


async def test_invitation_end_to_end(client, smtp_sink):
    admin_id = await make_user(name="Ann & <Bob> O'Hara", admin=True)
    await sign_in(client, admin_id)

    response = await invite(client, email="Newcomer@Example.org", is_board=True)

    assert response.status_code == 302
    assert response.headers["location"] == "/admin/users"
    user = await User.select().where(User.email == "newcomer@example.org").first()
    assert user is not None
    assert user["password_hash"] == ""
    assert user["is_board"] and not user["is_admin"] and not user["is_director"]
    events = await AuditEvent.select().where(AuditEvent.action == "user.invited")
    assert len(events) == 1
    assert events[0]["actor_id"] == admin_id
    assert events[0]["entity_id"] == str(user["id"])

    report = await deliver_outbox(SmtpTransport(smtp_sink.url), MAIL_FROM)

    assert report.sent == 1
    assert len(smtp_sink.messages) == 1
    message = smtp_sink.messages[0]
    assert message["To"] == "newcomer@example.org"
    assert "invited" in message["Subject"].lower()
    assert message.is_multipart()
    assert message.get_content_type() == "multipart/alternative"
    text, html = text_part(message), html_part(message)
    links = LINK.findall(text)
    assert len(set(links)) == 1
    link = links[0]
    assert link in html
    # The text part is plain text: nothing HTML-escaped. The HTML part is escaped.
    assert "Ann & <Bob> O'Hara has invited you" in text
    assert "&amp;" not in text and "&lt;" not in text
    assert "Ann &amp; &lt;Bob&gt; O&#39;Hara" in html
    assert "<Bob>" not in html

    # The newcomer follows the link in a fresh browser.
    client.cookies.clear()
    form = await client.get(path_of(link))
    assert form.status_code == 200
    assert "newcomer@example.org" in form.text
    assert 'name="password_confirm"' in form.text

    done = await set_password(client, link)
    assert done.status_code == 302
    assert done.headers["location"] == "/login"
    stored = await password_hash_of(user["id"])
    assert verify_password(stored, NEW_PASSWORD)
    signed_in = await log_in(client, "newcomer@example.org", NEW_PASSWORD)
    assert signed_in.status_code == 302
    assert issued_session(signed_in)

    # The same link a second time is no longer valid, and changes nothing.
    again = await client.get(path_of(link))
    assert again.status_code == 404
    assert "no longer valid" in again.text
    reused = await set_password(client, link, "someone else's password")
    assert reused.status_code == 404
    assert "no longer valid" in reused.text
    assert await password_hash_of(user["id"]) == stored
    assert await AuditEvent.count().where(AuditEvent.action == "user.password_set") == 1


async def test_expired_invitation_is_refused(client):
    admin_id = await make_user(admin=True)
    await sign_in(client, admin_id)
    start = utcnow()
    with time_machine.travel(start, tick=False) as traveller:
        assert (await invite(client)).status_code == 302
        row = found(await OutboundEmail.select().output(load_json=True).first())
        link = row["context"]["link"]
        user_id = int(row["dedupe_key"].split(":")[2])
        client.cookies.clear()

        traveller.shift(dt.timedelta(days=6, hours=23))
        assert (await client.get(path_of(link))).status_code == 200

        traveller.shift(dt.timedelta(days=1, hours=2))  # eight days after the invitation
        page = await client.get(path_of(link))
        assert page.status_code == 404
        assert "no longer valid" in page.text
        refused = await set_password(client, link)

    assert refused.status_code == 404
    assert await password_hash_of(user_id) == ""


async def test_tampered_link_is_refused(client):
    admin_id = await make_user(admin=True)
    await sign_in(client, admin_id)
    await invite(client)
    link = found(await OutboundEmail.select().output(load_json=True).first())["context"]["link"]
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")

    assert (await client.get(path_of(tampered))).status_code == 404
    assert (await client.get("/account/set-password/not-a-token")).status_code == 404


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": "not-an-email", "display_name": "Nia"}, "email", "must be an email address"),
        ({"email": "", "display_name": "Nia"}, "email", "Email is required."),
        ({"email": "nia@example.org", "display_name": "  "}, "display_name", "Name is required."),
        ({"email": "taken@example.org", "display_name": "Nia"}, "email", "already exists"),
        ({"email": "TAKEN@example.org", "display_name": "Nia"}, "email", "already exists"),
    ],
)
async def test_invalid_invitation_changes_nothing(client, fields, field, message):
    admin_id = await make_user(admin=True)
    await make_user(email="taken@example.org")
    await sign_in(client, admin_id)
    before = await counts()

    response = await post_form(client, "/admin/users/invite", fields)

    response = await shown_after_refusal(client, response)
    error = field_error(response.text, field)
    assert error is not None and message in error
    # What was typed is shown again.
    if fields["email"]:
        assert f'value="{fields["email"]}"' in response.text
    assert await counts() == before


async def test_invitation_link_set_password_form_errors_keep_the_link_valid(client):
    admin_id = await make_user(admin=True)
    await sign_in(client, admin_id)
    await invite(client)
    link = found(await OutboundEmail.select().output(load_json=True).first())["context"]["link"]
    client.cookies.clear()

    short = await set_password(client, link, "short")
    assert short.status_code == 422
    assert field_error(short.text, "password") is not None
    mismatch = await post_form(
        client,
        path_of(link),
        {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD + "!"},
    )
    assert mismatch.status_code == 422
    assert field_error(mismatch.text, "password_confirm") is not None

    assert (await set_password(client, link)).status_code == 302


async def test_non_admin_cannot_invite(client):
    user_id = await make_user()
    await sign_in(client, user_id)
    before = await counts()

    response = await invite(client)

    assert response.status_code == 403
    assert await counts() == before


async def test_resending_an_invitation_queues_a_new_email_each_time(client):
    admin_id = await make_user(admin=True)
    await sign_in(client, admin_id)
    await invite(client)
    user_id = found(await User.select(User.id).where(User.email == "newcomer@example.org").first())[
        "id"
    ]

    for _ in range(2):
        response = await post_form(client, f"/admin/users/{user_id}/resend-invitation")
        assert response.status_code == 302

    assert await OutboundEmail.count().where(OutboundEmail.recipient == "newcomer@example.org") == 3
    assert await AuditEvent.count().where(AuditEvent.action == "user.invitation_resent") == 2


async def test_a_link_used_twice_at_once_sets_the_password_once():
    """Two submissions of the same link racing each other: only one may win.

    On PostgreSQL the race is made certain: a third connection holds the user's row while
    both submissions read it and then queue to write it. SQLite's IMMEDIATE transactions
    queue whole writers, so there the two simply run one after the other.
    """
    user_id = await make_user(password_hash="")
    token = services.password_link(user_id, "", "invitation").rsplit("/", 1)[1]
    passwords = ("first racer's password", "second racer's password")

    def race() -> list[asyncio.Task]:
        return [
            asyncio.create_task(
                services.set_password_with_token(
                    token, NewPassword(password=password, password_confirm=password)
                )
            )
            for password in passwords
        ]

    if is_postgres():
        async with rows_held("SELECT id FROM app_user WHERE id = $1 FOR UPDATE", user_id) as held:
            tasks = race()
            await held.release_when_waiting(racers=2)
            results = await asyncio.gather(*tasks, return_exceptions=True)
    else:
        results = await asyncio.gather(*race(), return_exceptions=True)

    refused = [r for r in results if isinstance(r, NotFoundError)]
    assert len(refused) == 1, results
    assert await AuditEvent.count().where(AuditEvent.action == "user.password_set") == 1
    stored = await password_hash_of(user_id)
    assert sum(verify_password(stored, password) for password in passwords) == 1
