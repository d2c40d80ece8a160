"""The contracts of accounts: each use case's command in and view out, and every limit.

The pages fill these commands from their forms (`core.contracts.read_form`). A limit is
written once, here: in the field's `Meta`, or, for what `Meta` cannot say (a password's
least length), as a constant the service checks.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec

from governance.core import contracts
from governance.core.forms import TIMEZONE_CHOICES


class DigestFrequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    OFF = "off"


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"


PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 1024

Email = Annotated[str, contracts.text("Email", max_length=320)]
DisplayName = Annotated[str, contracts.text("Name", max_length=200)]
# A password is taken exactly as typed (spaces count), and only its length is checked:
# at least PASSWORD_MIN_LENGTH characters to set one, at most PASSWORD_MAX_LENGTH.
Password = Annotated[str, msgspec.Meta(description="The password, exactly as typed")]
TimeZone = Annotated[
    str,
    contracts.choice(
        "Time zone",
        TIMEZONE_CHOICES,
        description="An IANA zone: Europe/London",
        message="Time zone must be a time zone such as Europe/London.",
    ),
]
FrequencyChoice = Annotated[str, contracts.choice("Digest", DigestFrequency)]
WeekdayChoice = Annotated[str, contracts.choice("Weekday", Weekday)]
Flag = Annotated[bool, contracts.labelled("Role", required=False)]


class RoleChoice(msgspec.Struct, frozen=True, kw_only=True):
    """The organisation roles a person holds."""

    is_admin: bool = False
    is_director: bool = False
    is_board: bool = False

    def describe(self) -> str:
        held = [name for name in self.__struct_fields__ if getattr(self, name)]
        return ", ".join(name.removeprefix("is_") for name in held) or "no organisation role"


# --- commands ---------------------------------------------------------------------------


class Login(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    email: Email
    password: Password = ""


class PasswordResetRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Asks for a link to set a new password, sent to the account's email if it exists."""

    email: Email


class NewPassword(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new password, typed twice."""

    password: Password = ""
    password_confirm: Password = ""


class RoleFlags(msgspec.Struct, kw_only=True):
    """The organisation roles a form ticks (every box left empty: none)."""

    is_admin: Flag = False
    is_director: Flag = False
    is_board: Flag = False

    @property
    def roles(self) -> RoleChoice:
        return RoleChoice(
            is_admin=self.is_admin, is_director=self.is_director, is_board=self.is_board
        )


class Invitation(RoleFlags, forbid_unknown_fields=True, kw_only=True):
    """A new account, invited by email to set its password; roles are optional."""

    email: Email
    display_name: DisplayName


class AccountChange(RoleFlags, forbid_unknown_fields=True, kw_only=True):
    """An administrator's change of someone's name and organisation roles."""

    display_name: DisplayName


class ProfileChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A person's own name, time zone and digest."""

    display_name: DisplayName
    timezone: TimeZone
    digest_frequency: FrequencyChoice
    digest_weekday: WeekdayChoice = Weekday.MONDAY.value


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A person's new password, given with their current one."""

    current_password: Password = ""
    password: Password = ""
    password_confirm: Password = ""


class EmailChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new email for one's own account, confirmed by a link sent to it."""

    email: Email
    current_password: Password = ""


Code = Annotated[
    str, contracts.text("Code", max_length=32, description="Six digits, or a recovery code")
]
SignedToken = Annotated[str, msgspec.Meta(max_length=2000, description="A token the page signed")]


class SecondFactorEnrolment(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The first code from a newly scanned authenticator, which turns two-factor sign-in on."""

    enrolment: SignedToken = ""
    code: Code = ""


class SecondFactorSignIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The second step of a sign-in: the code from the authenticator, or a recovery code."""

    challenge: SignedToken = ""
    code: Code = ""


class SecondFactorRemoval(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    current_password: Password = ""


TOKEN_DEFAULT_DAYS = 90
TOKEN_MAX_DAYS = 365
TokenLabel = Annotated[str, contracts.text("Label", max_length=100)]
TokenDays = Annotated[
    int, contracts.number("Expires after (days)", minimum=1, maximum=TOKEN_MAX_DAYS)
]
ReadOnly = Annotated[bool, contracts.labelled("Read only", required=False)]


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new API token: what it is for, how long it lasts, and whether it may change things."""

    label: TokenLabel
    expires_in_days: TokenDays = TOKEN_DEFAULT_DAYS
    read_only: ReadOnly = False


# --- views ------------------------------------------------------------------------------


class AccountView(msgspec.Struct, kw_only=True):
    """An account as administrators see it (never its password hash)."""

    id: int
    email: str
    display_name: str
    is_active: bool
    is_admin: bool
    is_director: bool
    is_board: bool
    # False until the invitation is accepted.
    has_password: bool
    last_login_at: dt.datetime | None


class ProfileView(msgspec.Struct, kw_only=True):
    """What a person may change of their own account."""

    display_name: str
    timezone: str
    digest_frequency: str
    digest_weekday: str


class LinkHolder(msgspec.Struct, kw_only=True):
    """The account a set-password link is for, while the link is valid and unused."""

    id: int
    email: str
    display_name: str
    # The hash the link was made for: a password set by the link replaces only this one.
    password_hash: str


class SessionView(msgspec.Struct, kw_only=True):
    """One of a person's sign-in sessions, as their profile lists it."""

    handle: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    browser: str
    ip_address: str
    is_current: bool


class TokenView(msgspec.Struct, kw_only=True):
    """An API token as its owner sees it: never the token itself."""

    id: int
    label: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    read_only: bool
    state: str  # "active", "expired" or "revoked"


class NewToken(msgspec.Struct, kw_only=True):
    """A token just made: shown this once."""

    id: int
    label: str
    token: str
    expires_at: dt.datetime
    read_only: bool


class SecondFactorStatus(msgspec.Struct, kw_only=True):
    enabled: bool
    enabled_at: dt.datetime | None
    recovery_codes_left: int
    required: bool


class SecondFactorSetup(msgspec.Struct, kw_only=True):
    """What the enrolment page shows: the QR code, the secret as text, and the signed token
    that carries the secret back with the first code."""

    secret: str
    qr_svg: str
    enrolment: str


class AuditEventView(msgspec.Struct, kw_only=True):
    """One event of the trail as its reader sees it listed: no sequence number, since the
    gaps left by events the reader may not see would count them."""

    occurred_at: dt.datetime
    actor_label: str
    action: str
    entity_type: str
    entity_id: str
    summary: str


class AuditTrailView(msgspec.Struct, kw_only=True):
    """A page of the events its reader may see, newest first; `older_page` is the number of
    the next page, None on the last."""

    events: list[AuditEventView]
    page: int
    older_page: int | None
