"""Two-factor sign-in (RFC 6238): enrolment, the code step of a sign-in, no replay,
recovery codes, throttling, the roles that must enrol, and an administrator's reset."""

from __future__ import annotations

import html
import json
import re

import httpx
import pyotp
from litestar import Litestar

from governance.accounts.tables import RecoveryCode, User
from governance.core.tables import AuditEvent, OutboundEmail
from tests.accounts.support import browser, issued_session, log_in
from tests.accounts.test_transport_security import served
from tests.factories import PASSWORD, make_user
from tests.helpers import found, post_form, shown_after_refusal, sign_in


def _context(row: dict) -> dict:
    context = row["context"]
    return json.loads(context) if isinstance(context, str) else context


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden field {name}"
    return html.unescape(match.group(1))


async def enrol(client: httpx.AsyncClient) -> tuple[str, list[str]]:
    """Enrols the signed-in client's account from the page, as a person would: the secret
    shown as text, the first code from it; returns the secret and the recovery codes."""
    setup = await client.get("/profile/two-factor")
    assert setup.status_code == 200
    assert setup.headers["cache-control"] == "no-store"
    secret = found(re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', setup.text)).group(1)
    assert "<svg" in setup.text  # the QR code, made on the server
    answer = await post_form(
        client,
        "/profile/two-factor",
        {"enrolment": _hidden(setup.text, "enrolment"), "code": pyotp.TOTP(secret).now()},
    )
    assert answer.status_code == 200, answer.text
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", answer.text)
    assert len(codes) == 10
    return secret, codes


async def password_step(client: httpx.AsyncClient, email: str) -> str:
    """Signs in with the password; returns the challenge of the code step."""
    answer = await log_in(client, email, PASSWORD)
    assert answer.status_code == 200, answer.status_code
    assert issued_session(answer) is None  # no session before the code
    assert "Enter your code" in answer.text
    return _hidden(answer.text, "challenge")


async def fresh_code(secret: str, user_id: int) -> str:
    """A code no sign-in has used yet: the next step's (a code is accepted once, and the
    enrolment took the current one; a step either side of now is accepted)."""
    row = found(await User.select(User.totp_last_step).where(User.id == user_id).first())
    return pyotp.TOTP(secret).at((row["totp_last_step"] + 1) * 30)


async def code_step(client: httpx.AsyncClient, challenge: str, code: str) -> httpx.Response:
    return await post_form(client, "/login/code", {"challenge": challenge, "code": code})


async def test_enrolment_then_sign_in_needs_the_code(client, app):
    user_id = await make_user("board@example.org", board=True)
    await sign_in(client, user_id)
    secret, _ = await enrol(client)
    row = found(
        await User.select(User.totp_enabled_at, User.totp_secret).where(User.id == user_id).first()
    )
    assert row["totp_enabled_at"] is not None and row["totp_secret"] == secret
    assert await RecoveryCode.count().where(RecoveryCode.user == user_id) == 10
    # The codes are kept only as hashes.
    stored = await RecoveryCode.select(RecoveryCode.code_hash).where(RecoveryCode.user == user_id)
    assert all(len(row["code_hash"]) == 64 for row in stored)

    async with browser(app) as other:
        challenge = await password_step(other, "board@example.org")
        wrong = await code_step(other, challenge, "000000")
        assert wrong.status_code == 422
        assert "That code is not right" in wrong.text
        right = await code_step(other, challenge, await fresh_code(secret, user_id))
        assert right.status_code == 302 and issued_session(right)
        assert (await other.get("/")).status_code == 200

    # Later pages never show the secret again.
    status = await client.get("/profile/two-factor")
    assert secret not in status.text and "is <strong>on</strong>" in status.text
    assert secret not in (await client.get("/profile/security")).text
    actions = [row["action"] for row in await AuditEvent.select(AuditEvent.action)]
    assert "user.second_factor_enabled" in actions
    notices = await OutboundEmail.select().where(OutboundEmail.template == "security_notice")
    assert notices and all(secret not in str(row["context"]) for row in notices)


async def test_a_code_is_accepted_once(client, app):
    user_id = await make_user("member@example.org")
    await sign_in(client, user_id)
    secret, _ = await enrol(client)
    async with browser(app) as first, browser(app) as second:
        # The enrolment took a code: replaying it is refused.
        row = found(await User.select(User.totp_last_step).where(User.id == user_id).first())
        code = pyotp.TOTP(secret).at(row["totp_last_step"] * 30)
        challenge = await password_step(first, "member@example.org")
        replayed = await code_step(first, challenge, code)
        assert replayed.status_code == 422
        next_code = await fresh_code(secret, user_id)
        # A code for the next step (a clock a little ahead) is accepted once, not twice.
        assert (await code_step(first, challenge, next_code)).status_code == 302
        challenge = await password_step(second, "member@example.org")
        again = await code_step(second, challenge, next_code)
        assert again.status_code == 422


async def test_a_recovery_code_signs_in_once(client, app):
    user_id = await make_user("member@example.org")
    await sign_in(client, user_id)
    _, codes = await enrol(client)
    async with browser(app) as other:
        challenge = await password_step(other, "member@example.org")
        assert (await code_step(other, challenge, codes[3].upper())).status_code == 302
    async with browser(app) as other:
        challenge = await password_step(other, "member@example.org")
        assert (await code_step(other, challenge, codes[3])).status_code == 422
    events = await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.action == "user.recovery_code_used"
    )
    assert len(events) == 1


async def test_wrong_codes_are_throttled(client, app):
    user_id = await make_user("member@example.org")
    await sign_in(client, user_id)
    secret, _ = await enrol(client)
    async with browser(app) as other:
        challenge = await password_step(other, "member@example.org")
        statuses = [(await code_step(other, challenge, "123456")).status_code for _ in range(6)]
        assert statuses[:5] == [422] * 5
        assert statuses[5] == 429
        # Even the right code waits while the account and address are throttled.
        throttled = await code_step(other, challenge, pyotp.TOTP(secret).now())
        assert throttled.status_code == 429 and "Retry-After" in throttled.headers


async def test_a_forged_or_stale_challenge_goes_back_to_the_password(client):
    await make_user("member@example.org")
    answer = await code_step(client, "forged", "123456")
    assert answer.status_code == 302 and answer.headers["location"] == "/login"


async def test_required_roles_reach_nothing_before_enrolling(app):
    admin_id = await make_user("admin@example.org", admin=True)
    member_id = await make_user("member@example.org")
    async with served(app, GOVERNANCE_REQUIRE_2FA="admin,director,board") as http:
        await sign_in(http, admin_id)
        for path in ("/", "/groups", "/profile", "/admin/users"):
            answer = await http.get(path)
            assert answer.status_code == 302, path
            assert answer.headers["location"] == "/profile/two-factor"
        page = await http.get("/profile/two-factor")
        assert page.status_code == 200 and "Your role requires" in page.text
        token = await _token_for(admin_id)
        api = await http.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
        assert api.status_code == 403
        assert "two-factor" in api.json()["detail"]
        await enrol(http)
        assert (await http.get("/")).status_code == 200
        # Once enrolled it cannot be turned off while the role requires it.
        off = await post_form(http, "/profile/two-factor/off", {"current_password": PASSWORD})
        assert off.status_code == 302
        assert await User.count().where(User.totp_enabled_at.is_not_null()) == 1
        # A role not listed is not made to enrol.
        http.cookies.clear()
        await sign_in(http, member_id)
        assert (await http.get("/")).status_code == 200


async def _token_for(user_id: int) -> str:
    from governance.accounts.sessions import create_api_token

    return (await create_api_token(user_id, "test", None))[1]


async def test_an_administrator_resets_a_lost_second_factor(client, app):
    member_id = await make_user("member@example.org")
    admin_id = await make_user("admin@example.org", admin=True)
    async with browser(app) as member:
        await sign_in(member, member_id)
        await enrol(member)
    await sign_in(client, admin_id)
    answer = await post_form(client, f"/admin/users/{member_id}/reset-two-factor")
    assert answer.status_code == 302
    row = found(await User.select(User.totp_enabled_at).where(User.id == member_id).first())
    assert row["totp_enabled_at"] is None
    assert await RecoveryCode.count().where(RecoveryCode.user == member_id) == 0
    notices = await OutboundEmail.select(OutboundEmail.context).where(
        (OutboundEmail.template == "security_notice")
        & (OutboundEmail.recipient == "member@example.org")
    )
    assert any("administrator reset" in _context(row)["what"] for row in notices)
    event = await AuditEvent.select().where(AuditEvent.action == "user.second_factor_reset").first()
    assert event is not None
    # Signing in again needs only the password.
    async with browser(app) as member:
        answer = await log_in(member, "member@example.org", PASSWORD)
        assert answer.status_code == 302 and issued_session(answer)


async def test_a_member_may_turn_it_off_with_their_password(client):
    user_id = await make_user("member@example.org")
    await sign_in(client, user_id)
    await enrol(client)
    wrong = await post_form(client, "/profile/two-factor/off", {"current_password": "nope"})
    wrong = await shown_after_refusal(client, wrong)
    assert "not your current password" in wrong.text
    off = await post_form(client, "/profile/two-factor/off", {"current_password": PASSWORD})
    assert off.status_code == 302
    row = found(await User.select(User.totp_enabled_at).where(User.id == user_id).first())
    assert row["totp_enabled_at"] is None


async def test_a_wrong_first_code_enrols_nothing(client):
    user_id = await make_user("member@example.org")
    await sign_in(client, user_id)
    setup = await client.get("/profile/two-factor")
    answer = await post_form(
        client, "/profile/two-factor", {"enrolment": _hidden(setup.text, "enrolment"), "code": "12"}
    )
    answer = await shown_after_refusal(client, answer)
    assert "That code is not right" in answer.text
    forged = await post_form(client, "/profile/two-factor", {"enrolment": "x", "code": "123456"})
    forged = await shown_after_refusal(client, forged)
    row = found(await User.select(User.totp_enabled_at).where(User.id == user_id).first())
    assert row["totp_enabled_at"] is None


def test_the_setting_names_roles(tmp_path):
    import pytest

    from governance.settings import SettingsError, load_settings

    base = {"GOVERNANCE_SECRET_KEY": "x" * 32, "GOVERNANCE_DATA_DIR": str(tmp_path)}
    assert load_settings(base).require_second_factor == frozenset()
    roles = load_settings({**base, "GOVERNANCE_REQUIRE_2FA": "admin, board"})
    assert roles.require_second_factor == {"admin", "board"}
    with pytest.raises(SettingsError, match="GOVERNANCE_REQUIRE_2FA"):
        load_settings({**base, "GOVERNANCE_REQUIRE_2FA": "everyone"})


_ = Litestar
