"""One frozen settings object, read from GOVERNANCE_* environment variables."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class SettingsError(ValueError):
    """A setting has a value the service cannot use."""


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    base_url: str
    smtp_url: str | None
    mail_from: str
    timezone: str
    session_idle_minutes: int
    session_absolute_hours: int
    login_max_attempts: int
    login_window_minutes: int
    secure_cookies: bool
    log_level: str
    # Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed; none by default.
    trusted_proxies: tuple[Network, ...] = ()
    # Organisation roles ("admin", "director", "board", or "member" for everyone) whose
    # holders must sign in with a second factor; empty: nobody is made to.
    require_second_factor: frozenset[str] = frozenset()
    # Hours after which a message that may have been sent (the server died before saying)
    # is sent again, with the same Message-ID, unless an administrator decided first;
    # 0: only an administrator decides.
    mail_uncertain_resend_hours: int = 24
    # A copy of the database every night into <data folder>/backups (7 daily, 4 weekly).
    nightly_backups: bool = True
    # The largest paper (a document) one upload may be, in MiB.
    max_upload_mb: int = 25
    # How many Board members other than the proposer must concur before a proposed Board
    # response is recorded; 0: a majority of the current Board members, the proposer
    # counting as one of them (and always at least one other member).
    board_concurrences: int = 0
    # The fewest responses any pulse figure is drawn from (a run, a cut); never below 3.
    pulse_min_responses: int = 5
    # The organisation the service is run for, shown in every page's header and in emails;
    # empty: the service's own name only.
    org_name: str = ""
    # Its logo in the header: an http(s) address or a path the service serves
    # (/static/...); empty: no logo.
    org_logo_url: str = ""
    # The most connections each process (a web worker, the scheduler, a command) keeps
    # open to PostgreSQL. Few suffice: a request holds one only while a statement runs,
    # and PostgreSQL spends more per statement the more sessions take turns (measured:
    # README "Performance").
    database_pool_size: int = 4

    @property
    def is_https(self) -> bool:
        """Whether people reach the service over HTTPS (its base URL says so)."""
        return self.base_url.lower().startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from error
    if value <= 0:
        raise SettingsError(f"{name} must be greater than zero")
    return value


PULSE_THRESHOLD_FLOOR = 3


def _pulse_threshold(env: dict[str, str]) -> int:
    """The pulse reporting threshold: 5 by default, may be raised, never below 3."""
    value = _int(env, "GOVERNANCE_PULSE_MIN_RESPONSES", 5)
    if value < PULSE_THRESHOLD_FLOOR:
        raise SettingsError(
            f"GOVERNANCE_PULSE_MIN_RESPONSES must be at least {PULSE_THRESHOLD_FLOOR}"
        )
    return value


def _hours_or_never(env: dict[str, str], name: str, default: int = 24) -> int:
    """A number of hours, 0 meaning never."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise SettingsError(f"{name} must be a whole number of hours (0: never), not {raw!r}")
    return int(raw)


def _secure_cookies(env: dict[str, str]) -> bool:
    """Secure cookies when asked, and by default whenever the service is reached over HTTPS."""
    explicit = env.get("GOVERNANCE_SECURE_COOKIES", "").lower()
    if explicit:
        return explicit in {"1", "true", "yes"}
    return (env.get("GOVERNANCE_BASE_URL") or "").lower().startswith("https://")


def _switch(env: dict[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be on or off, not {raw!r}")


def _networks(env: dict[str, str], name: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR ranges, e.g. `10.0.0.2, 172.16.0.0/12`."""
    networks = []
    for entry in filter(None, (part.strip() for part in (env.get(name) or "").split(","))):
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as error:
            raise SettingsError(
                f"{name}: {entry!r} is not an address or a range such as 172.16.0.0/12"
            ) from error
    return tuple(networks)


def _count_or_majority(env: dict[str, str], name: str) -> int:
    """A number of people, empty or `majority` meaning the default rule (0)."""
    raw = (env.get(name) or "").strip().lower()
    if raw in {"", "majority"}:
        return 0
    if not (raw.isascii() and raw.isdigit()) or int(raw) == 0:
        raise SettingsError(f"{name} must be majority or a whole number above 0, not {raw!r}")
    return int(raw)


PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


def prepare_data_dir(settings: Settings) -> None:
    """Creates the data folder and its mail folder, readable by this account only (they
    hold the database, mail and keys), and makes the database files private too. Files the
    process creates later are private as well (umask). A folder that cannot be made is a
    SettingsError naming it."""
    os.umask(0o077)
    folders = [settings.data_dir, settings.mail_dir]
    if settings.is_sqlite:
        folders.insert(1, settings.sqlite_path.parent)
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIRECTORY)
            if folder in (settings.data_dir, settings.mail_dir):
                folder.chmod(PRIVATE_DIRECTORY)
        except OSError as error:
            raise SettingsError(
                f"cannot create the data folder {folder}: {error.strerror or error}"
            ) from error
    private = [settings.data_dir / "secret_key", *settings.mail_dir.glob("*.eml")]
    if settings.is_sqlite:
        base = settings.sqlite_path
        private += [base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-shm")]
    for path in private:
        if path.exists():
            path.chmod(PRIVATE_FILE)


def _secret_key(env: dict[str, str], data_dir: Path) -> str:
    if env.get("GOVERNANCE_SECRET_KEY"):
        return env["GOVERNANCE_SECRET_KEY"]
    # Generated once and kept beside the data, so a default install needs no set-up
    # and sessions and signed links survive restarts.
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIRECTORY)
    except OSError as error:
        raise SettingsError(
            f"cannot create the data folder {data_dir}: {error.strerror or error}"
        ) from error
    key = secrets.token_urlsafe(48)
    key_file.touch(mode=PRIVATE_FILE)
    key_file.write_text(key)
    key_file.chmod(PRIVATE_FILE)
    return key


def _logo_url(env: dict[str, str]) -> str:
    raw = (env.get("GOVERNANCE_ORG_LOGO_URL") or "").strip()
    if not raw:
        return ""
    parsed = urlparse(raw)
    absolute = parsed.scheme in {"http", "https"} and bool(parsed.netloc)
    own_path = not parsed.scheme and not parsed.netloc and raw.startswith("/")
    if not (absolute or own_path) or any(character in raw for character in '"<> '):
        raise SettingsError(
            "GOVERNANCE_ORG_LOGO_URL must be an http(s) address or a path such as "
            f"/static/logo.svg (got {raw!r})"
        )
    return raw


SECOND_FACTOR_ROLES = ("admin", "director", "board", "member")


def _required_second_factor(env: dict[str, str]) -> frozenset[str]:
    raw = (env.get("GOVERNANCE_REQUIRE_2FA") or "off").strip().lower()
    if raw in {"off", "no", "false", "0", "none"}:
        return frozenset()
    roles = frozenset(part.strip() for part in raw.split(",") if part.strip())
    unknown = sorted(roles - set(SECOND_FACTOR_ROLES))
    if unknown:
        raise SettingsError(
            f"GOVERNANCE_REQUIRE_2FA must be off or a list of {', '.join(SECOND_FACTOR_ROLES)}"
            f" (got {', '.join(unknown)})"
        )
    return roles


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("GOVERNANCE_DATA_DIR") or "./var").resolve()
    database_url = (
        env.get("GOVERNANCE_DATABASE_URL") or f"sqlite:///{data_dir / 'governance.sqlite3'}"
    )
    scheme = urlparse(database_url).scheme
    if scheme not in {"sqlite", "postgresql", "postgres"}:
        raise SettingsError("GOVERNANCE_DATABASE_URL must start with sqlite:/// or postgresql://")
    timezone = env.get("GOVERNANCE_TIMEZONE") or "Europe/London"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise SettingsError(f"GOVERNANCE_TIMEZONE {timezone!r} is not a known time zone") from error
    smtp_url = env.get("GOVERNANCE_SMTP_URL") or None
    if smtp_url and urlparse(smtp_url).scheme not in {"smtp", "smtps"}:
        raise SettingsError("GOVERNANCE_SMTP_URL must start with smtp:// or smtps://")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=_secret_key(env, data_dir),
        base_url=(env.get("GOVERNANCE_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        smtp_url=smtp_url,
        mail_from=env.get("GOVERNANCE_MAIL_FROM") or "Governance <governance@localhost>",
        mail_uncertain_resend_hours=_hours_or_never(env, "GOVERNANCE_MAIL_UNCERTAIN_RESEND_HOURS"),
        timezone=timezone,
        session_idle_minutes=_int(env, "GOVERNANCE_SESSION_IDLE_MINUTES", 60),
        session_absolute_hours=_int(env, "GOVERNANCE_SESSION_ABSOLUTE_HOURS", 12),
        login_max_attempts=_int(env, "GOVERNANCE_LOGIN_MAX_ATTEMPTS", 5),
        login_window_minutes=_int(env, "GOVERNANCE_LOGIN_WINDOW_MINUTES", 15),
        secure_cookies=_secure_cookies(env),
        log_level=(env.get("GOVERNANCE_LOG_LEVEL") or "INFO").upper(),
        trusted_proxies=_networks(env, "GOVERNANCE_TRUSTED_PROXIES"),
        require_second_factor=_required_second_factor(env),
        nightly_backups=_switch(env, "GOVERNANCE_NIGHTLY_BACKUPS", True),
        max_upload_mb=_int(env, "GOVERNANCE_MAX_UPLOAD_MB", 25),
        board_concurrences=_count_or_majority(env, "GOVERNANCE_BOARD_CONCURRENCES"),
        pulse_min_responses=_pulse_threshold(env),
        org_name=" ".join((env.get("GOVERNANCE_ORG_NAME") or "").split())[:200],
        org_logo_url=_logo_url(env),
        database_pool_size=_int(env, "GOVERNANCE_DATABASE_POOL_SIZE", 4),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
