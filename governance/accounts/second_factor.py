"""The mechanics of two-factor sign-in: time-based codes (RFC 6238, with `pyotp`), the QR
code an authenticator app scans (SVG made on the server, with `segno`), and recovery codes.
The rules (who must enrol, when a code is accepted, throttling) are in `services.py`."""

from __future__ import annotations

import hashlib
import io
import secrets
import time

import pyotp
import segno

ISSUER = "Governance"
RECOVERY_CODE_COUNT = 10
# Codes from one step either side of now are accepted, for clocks a little apart.
ACCEPTED_DRIFT_STEPS = 1
# Readable without ambiguity (no 0/O, 1/l/I), typed in two groups of five.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of an otpauth:// address as an inline SVG element."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer, kind="svg", scale=5, border=2, xmldecl=False, svgns=True, title="QR code"
    )
    return buffer.getvalue().decode()


def normalised_code(code: str) -> str:
    """What was typed, without the spaces and dashes people add."""
    return "".join(code.split()).replace("-", "").lower()


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code this is, within the accepted drift, or None."""
    code = normalised_code(code)
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // totp.interval)
    for step in range(current - ACCEPTED_DRIFT_STEPS, current + ACCEPTED_DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.at(step * totp.interval), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_code_digest(code: str) -> str:
    return hashlib.sha256(f"recovery:{normalised_code(code)}".encode()).hexdigest()
