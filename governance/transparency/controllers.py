"""Transparency pages: the Board's reports page, a report in HTML, and the public list."""

from __future__ import annotations

from litestar import Controller


class TransparencyController(Controller):
    pass
