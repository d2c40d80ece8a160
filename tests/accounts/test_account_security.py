"""A person's own account security: change of password and of email, sessions listed and
ended, API tokens listed, expiring, revoked and read-only; each audited and told by email."""

from __future__ import annotations

import datetime as dt
import json
import re

import httpx
import time_machine

from governance.accounts.sessions import create_api_token, start_session
from governance.accounts.tables import ApiToken, User
from governance.core.tables import AuditEvent, OutboundEmail
from tests.accounts.support import (
    browser,
    get_with_session,
    log_in,
    password_hash_of,
    session_exists,
)
from tests.factories import PASSWORD, make_user
from tests.helpers import found, post_form, shown_after_refusal, sign_in

NEW_PASSWORD = "a brand new passphrase here"


async def notices_to(address: str) -> list[str]:
    rows = await OutboundEmail.select(OutboundEmail.context).where(
        (OutboundEmail.template == "security_notice") & (OutboundEmail.recipient == address)
    )
    contexts = [
        json.loads(r["context"]) if isinstance(r["context"], str) else r["context"] for r in rows
    ]
    return [context["what"] for context in contexts]


async def actions() -> list[str]:
    return [row["action"] for row in await AuditEvent.select(AuditEvent.action)]


# --- password -----------------------------------------------------------------------------


async def test_changing_the_password_ends_the_other_sessions(client, app):
    user_id = await make_user("member@example.org")
    current = await sign_in(client, user_id)
    async with browser(app) as other:
        elsewhere = await sign_in(other, user_id)
    answer = await post_form(
        client,
        "/profile/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert answer.status_code == 302
    assert await session_exists(current) and not await session_exists(elsewhere)
    assert "user.password_changed" in await actions()
    assert any("password was changed" in what for what in await notices_to("member@example.org"))
    async with browser(app) as fresh:
        assert (await log_in(fresh, "member@example.org", NEW_PASSWORD)).status_code == 302


async def test_a_wrong_current_password_changes_nothing_and_names_every_field(client):
    user_id = await make_user("member@example.org")
    await sign_in(client, user_id)
    before = await password_hash_of(user_id)
    answer = await post_form(
        client,
        "/profile/password",
        {"current_password": "wrong", "password": "short", "password_confirm": "short"},
    )
    answer = await shown_after_refusal(client, answer)
    assert "not your current password" in answer.text
    assert "at least 12 characters" in answer.text
    assert "wrong" not in re.findall(r'value="([^"]*)"', answer.text)  # never typed back
    assert await password_hash_of(user_id) == before
    assert "user.password_changed" not in await actions()


# --- email --------------------------------------------------------------------------------


async def _confirmation_link() -> str:
    row = found(
        await OutboundEmail.select(OutboundEmail.context)
        .where(OutboundEmail.template == "email_change")
        .first()
    )
    context = json.loads(row["context"]) if isinstance(row["context"], str) else row["context"]
    return context["link"].removeprefix("http://testserver")


async def test_a_change_of_email_needs_the_link_and_the_link_works_once(client):
    user_id = await make_user("old@example.org")
    await sign_in(client, user_id)
    answer = await post_form(
        client, "/profile/email", {"email": "New@Example.org", "current_password": PASSWORD}
    )
    assert answer.status_code == 302
    # Nothing changes until the new address's link is opened and confirmed.
    assert found(await User.select(User.email).where(User.id == user_id).first())["email"] == (
        "old@example.org"
    )
    confirmation = await OutboundEmail.select().where(OutboundEmail.template == "email_change")
    assert [row["recipient"] for row in confirmation] == ["new@example.org"]
    assert any("new@example.org" in what for what in await notices_to("old@example.org"))
    link = await _confirmation_link()
    # Opening the link (a mail scanner might) changes nothing; the page's button does.
    assert (await client.get(link)).status_code == 200
    assert found(await User.select(User.email).where(User.id == user_id).first())["email"] == (
        "old@example.org"
    )
    assert (await post_form(client, link)).status_code == 302
    assert found(await User.select(User.email).where(User.id == user_id).first())["email"] == (
        "new@example.org"
    )
    assert any("changed to new@example.org" in w for w in await notices_to("old@example.org"))
    assert "user.email_changed" in await actions()
    again = await post_form(client, link)
    assert again.status_code == 404


async def test_an_email_already_taken_or_a_wrong_password_is_refused(client):
    await make_user("taken@example.org")
    user_id = await make_user("me@example.org")
    await sign_in(client, user_id)
    answer = await post_form(
        client, "/profile/email", {"email": "taken@example.org", "current_password": "nope"}
    )
    answer = await shown_after_refusal(client, answer)
    assert "already exists" in answer.text and "not your current password" in answer.text
    assert await OutboundEmail.count() == 0


# --- sessions -----------------------------------------------------------------------------


async def test_sessions_are_listed_and_another_one_can_be_ended(client, app):
    user_id = await make_user("member@example.org")
    await sign_in(client, user_id)
    elsewhere = await start_session(
        user_id, "198.51.100.9", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", None
    )
    page = await client.get("/profile/security")
    assert page.status_code == 200
    assert "198.51.100.9" in page.text and "(this one)" in page.text
    assert "Firefox on Linux" in page.text
    handles = re.findall(r'action="/profile/sessions/([0-9a-f]{16})/end"', page.text)
    assert len(handles) == 1  # only the other one offers "End"
    assert elsewhere not in page.text
    assert (await post_form(client, f"/profile/sessions/{handles[0]}/end")).status_code == 302
    assert not await session_exists(elsewhere)
    async with browser(app) as other:
        assert (await get_with_session(other, "/", elsewhere)).status_code == 302
    assert "user.session_ended" in await actions()


async def test_ending_all_other_sessions_keeps_this_one(client, app):
    user_id = await make_user("member@example.org")
    current = await sign_in(client, user_id)
    others = []
    for _ in range(2):
        async with browser(app) as other:
            others.append(await sign_in(other, user_id))
    assert (await post_form(client, "/profile/sessions/end-others")).status_code == 302
    assert await session_exists(current)
    assert not any([await session_exists(token) for token in others])


async def test_nobody_ends_another_persons_session(client, app):
    owner = await make_user("owner@example.org")
    intruder = await make_user("intruder@example.org")
    async with browser(app) as owner_browser:
        owner_token = await sign_in(owner_browser, owner)
        page = await owner_browser.get("/profile/security")
    await sign_in(client, intruder)
    for handle in re.findall(r"/profile/sessions/([0-9a-f]{16})/end", page.text) or ["0" * 16]:
        await post_form(client, f"/profile/sessions/{handle}/end")
    assert await session_exists(owner_token)


# --- API tokens ---------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_a_token_made_on_the_profile_is_shown_once_and_listed(client):
    user_id = await make_user("member@example.org")
    await sign_in(client, user_id)
    answer = await post_form(
        client, "/profile/tokens", {"label": "report script", "expires_in_days": "30"}
    )
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    token = found(re.search(r'<code id="new-token">(gov_[^<]+)</code>', answer.text)).group(1)
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    listing = await client.get("/profile/security")
    assert "report script" in listing.text and token not in listing.text
    row = found(await ApiToken.select().where(ApiToken.user == user_id).first())
    assert row["token_hash"] != token
    expected = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    assert abs(row["expires_at"] - expected) < dt.timedelta(minutes=5)
    assert "api_token.created" in await actions()
    assert any("report script" in what for what in await notices_to("member@example.org"))


async def test_bad_token_requests_name_every_field(client):
    user_id = await make_user("member@example.org")
    await sign_in(client, user_id)
    answer = await post_form(client, "/profile/tokens", {"label": "", "expires_in_days": "999"})
    answer = await shown_after_refusal(client, answer)
    assert "Label" in answer.text and "365" in answer.text
    assert await ApiToken.count() == 0


async def test_revoked_and_expired_tokens_are_refused_with_the_reason(client):
    user_id = await make_user("member@example.org")
    await sign_in(client, user_id)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    revoked_id, revoked = await create_api_token(user_id, "old script", soon)
    _, expiring = await create_api_token(user_id, "short", soon)
    assert (await post_form(client, f"/profile/tokens/{revoked_id}/revoke")).status_code == 302
    answer = await client.get("/api/v1/me", headers=bearer(revoked))
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "revoked" in answer.json()["detail"]
    with time_machine.travel(soon + dt.timedelta(minutes=1)):
        answer = await client.get("/api/v1/me", headers=bearer(expiring))
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
    assert "api_token.revoked" in await actions()


async def test_nobody_revokes_another_persons_token(client):
    owner = await make_user("owner@example.org")
    intruder = await make_user("intruder@example.org")
    token_id, token = await create_api_token(owner, "owner's", None)
    await sign_in(client, intruder)
    await post_form(client, f"/profile/tokens/{token_id}/revoke")
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200


async def test_a_read_only_token_reads_but_changes_nothing(client, app):
    user_id = await make_user("member@example.org")
    _, token = await create_api_token(user_id, "reader", None, read_only=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as api:
        assert (await api.get("/api/v1/groups", headers=bearer(token))).status_code == 200
        before = await AuditEvent.count()
        answer = await api.post("/api/v1/groups/any/actions", headers=bearer(token), json={})
        assert answer.status_code == 403
        assert "read-only" in answer.json()["detail"]
        assert await AuditEvent.count() == before


async def test_tokens_from_the_command_line(capsys):
    from governance.accounts.queries import list_tokens_of
    from governance.accounts.services import issue_api_token, revoke_token

    await make_user("cli@example.org")
    token = await issue_api_token("cli@example.org", "nightly", 7, read_only=True)
    assert token.startswith("gov_")
    (listed,) = found(await list_tokens_of("cli@example.org"))
    assert listed.read_only and listed.state == "active" and listed.label == "nightly"
    assert found(listed.expires_at) - dt.datetime.now(dt.UTC) < dt.timedelta(days=7, minutes=1)
    await revoke_token(listed.id, None)
    (listed,) = found(await list_tokens_of("cli@example.org"))
    assert listed.state == "revoked"
