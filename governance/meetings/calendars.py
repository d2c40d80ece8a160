"""iCalendar: one meeting, a group's feed, and a personal feed at a secret URL."""

from __future__ import annotations

from litestar import Controller


class CalendarController(Controller):
    path = "/calendar"
