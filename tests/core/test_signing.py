"""Signed, expiring tokens for emailed links."""

from __future__ import annotations

import datetime as dt

import time_machine
from itsdangerous import URLSafeTimedSerializer

from governance.core.clock import utcnow
from governance.core.signing import sign, unsign
from governance.settings import get_settings


def test_round_trip_within_its_age():
    token = sign("set-password", {"u": 7, "p": "reset"})
    assert unsign("set-password", token, 60) == {"u": 7, "p": "reset"}


def test_token_for_one_purpose_is_refused_for_another():
    token = sign("flash", [{"message": "hello"}])
    assert unsign("set-password", token, 60) is None


def test_expired_token_is_refused():
    with time_machine.travel(utcnow(), tick=False) as traveller:
        token = sign("set-password", {"u": 7})
        traveller.shift(dt.timedelta(seconds=59))
        assert unsign("set-password", token, 60) == {"u": 7}
        traveller.shift(dt.timedelta(seconds=2))
        assert unsign("set-password", token, 60) is None


def test_altered_or_malformed_tokens_are_refused_not_raised():
    token = sign("set-password", {"u": 7})
    payload = token.partition(".")[0]
    for bad in (
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "x" + token,
        f"{payload}.",
        "",
        "no-dots-at-all",
        "é.é.é",
    ):
        assert unsign("set-password", bad, 60) is None, bad


def test_correctly_signed_but_undecodable_payload_is_refused():
    """Only the key's holder could make one, but it must still be a refusal, not a 500."""
    serializer = URLSafeTimedSerializer(get_settings().secret_key, salt="governance:set-password")
    token = serializer.make_signer().sign(b"!!not base64 json!!").decode()
    assert unsign("set-password", token, 60) is None
