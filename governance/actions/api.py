"""JSON routes for action items (DESIGN.md §8)."""

from __future__ import annotations

from litestar import Controller


class ActionApiController(Controller):
    path = "/api/v1"
    tags = ["actions"]
