"""Reading submitted forms: each reader collects every field's error, so a form can be
re-rendered with all of them at once and nothing is changed until all are right."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import available_timezones

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TIMEZONES = frozenset(available_timezones())


class FormReader:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def raw(self, name: str) -> str:
        value = self.data.get(name, "")
        if isinstance(value, list):
            value = value[0] if value else ""
        return str(value).strip()

    def text(self, name: str, label: str, *, required: bool = True, max_length: int = 200) -> str:
        value = self.raw(name)
        if required and not value:
            self.error(name, f"{label} is required.")
        elif len(value) > max_length:
            self.error(name, f"{label} must be at most {max_length} characters.")
        elif "\x00" in value:
            # PostgreSQL refuses NUL in text; refuse it here, clearly, on every database.
            self.error(name, f"{label} contains a character that cannot be stored.")
        return value

    def email(self, name: str, label: str = "Email") -> str:
        value = self.text(name, label, max_length=320).lower()
        if value and not EMAIL_PATTERN.match(value):
            self.error(name, f"{label} must be an email address such as name@example.org.")
        return value

    def slug(self, name: str, label: str = "Short name") -> str:
        value = self.text(name, label, max_length=80).lower()
        if value and not SLUG_PATTERN.match(value):
            self.error(name, f"{label} may use lower-case letters, digits and single hyphens.")
        return value

    def choice(self, name: str, label: str, choices: Iterable[str], *, default: str = "") -> str:
        value = self.raw(name) or default
        allowed = list(choices)
        if value not in allowed:
            self.error(name, f"Choose one of: {', '.join(allowed)}.")
        return value

    def integer(
        self, name: str, label: str, *, minimum: int, maximum: int, default: int | None = None
    ) -> int:
        raw = self.raw(name)
        if not raw and default is not None:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.error(name, f"{label} must be a whole number.")
            return default or 0
        if not minimum <= value <= maximum:
            self.error(name, f"{label} must be between {minimum} and {maximum}.")
        return value

    def date(self, name: str, label: str, *, required: bool = True) -> dt.date | None:
        raw = self.raw(name)
        if not raw:
            if required:
                self.error(name, f"{label} is required.")
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            self.error(name, f"{label} must be a date (YYYY-MM-DD).")
            return None

    def boolean(self, name: str) -> bool:
        return self.raw(name).lower() in {"on", "true", "1", "yes"}

    def timezone(self, name: str, label: str = "Time zone") -> str:
        value = self.text(name, label, max_length=64)
        if value and value not in TIMEZONES:
            self.error(name, f"{label} must be a time zone such as Europe/London.")
        return value

    def password(self, name: str, label: str = "Password", *, min_length: int = 12) -> str:
        value = str(self.data.get(name, ""))
        if len(value) < min_length:
            self.error(name, f"{label} must be at least {min_length} characters.")
        elif len(value) > 1024:
            self.error(name, f"{label} must be at most 1024 characters.")
        return value
