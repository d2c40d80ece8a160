"""Exports of the record: printable minutes (HTML and PDF), attendance and decisions as CSV."""

from __future__ import annotations

from litestar import Controller


class ExportController(Controller):
    path = "/meetings"
