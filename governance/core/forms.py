"""Shapes of values that several forms accept: an email address, a short name, a time zone.
(Reading forms into commands, with every field's error at once, is `core.contracts`.)"""

from __future__ import annotations

import re
from zoneinfo import available_timezones

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TIMEZONES = frozenset(available_timezones())
