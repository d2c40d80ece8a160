"""JSON routes for transparency reports (DESIGN.md §8)."""

from __future__ import annotations

from litestar import Controller


class TransparencyApiController(Controller):
    path = "/api/v1"
    tags = ["transparency"]
