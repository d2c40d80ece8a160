"""JSON routes for reports and deliveries (DESIGN.md §8)."""

from __future__ import annotations

from litestar import Controller


class ReportApiController(Controller):
    path = "/api/v1"
    tags = ["reports"]
