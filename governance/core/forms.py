"""Shapes of values that several forms accept: an email address, a short name, a time zone.
(Reading forms into commands, with every field's error at once, is `core.contracts`.)"""

from __future__ import annotations

import re
from zoneinfo import available_timezones

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TIMEZONES = frozenset(available_timezones())
# The zones most readers want, offered first in a zone picker; the rest follow in order.
_COMMON_ZONE_NAMES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Brussels",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Zurich",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Africa/Johannesburg",
    "Africa/Cairo",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/Bogota",
    "America/Mexico_City",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "UTC",
)
COMMON_TIMEZONES = tuple(zone for zone in _COMMON_ZONE_NAMES if zone in TIMEZONES)
# Every zone a person may choose: the common ones first, then all the others by name.
TIMEZONE_CHOICES = COMMON_TIMEZONES + tuple(sorted(TIMEZONES - set(COMMON_TIMEZONES)))
