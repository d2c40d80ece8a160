"""JSON routes for meetings (DESIGN.md §8), with the same rules as the pages."""

from __future__ import annotations

from litestar import Controller


class MeetingApiController(Controller):
    path = "/api/v1"
    tags = ["meetings"]
