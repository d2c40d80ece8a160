"""Report pages: drafting, submitting, the trail across both lines, and each line's inbox."""

from __future__ import annotations

from litestar import Controller


class ReportController(Controller):
    pass
