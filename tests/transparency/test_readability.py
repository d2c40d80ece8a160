"""Transparency reports read as what they say (issue 16): charts carry their values; the
Board's comparison is between published reports only."""

from __future__ import annotations

import re

from governance.transparency.charts import Chart, render_svg

VALUE_TEXT = re.compile(r'<text[^>]*class="value[^"]*"[^>]*>([^<]*)</text>')


def test_every_bar_is_labelled_with_its_value() -> None:
    rates = Chart(
        name="attendance",
        title="Attendance",
        alt="Attendance by group",
        headers=["Group", "Rate"],
        rows=[["A", "75%"], ["B", "50%"]],
        x_labels=["A", "B"],
        series=[("Attendance", [75.0, 50.0])],
        unit="%",
    )
    assert VALUE_TEXT.findall(render_svg(rates)) == ["75%", "50%"]
    counts = Chart(
        name="actions",
        title="Actions completed",
        alt="Actions completed per month",
        headers=["Month", "Actions"],
        rows=[["2026-07", "3"]],
        x_labels=["2026-07", "2026-08"],
        series=[("Wellbeing", [3.0, 0.0])],
        unit="actions",
    )
    assert VALUE_TEXT.findall(render_svg(counts))[:1] == ["3"]
    assert "<script" not in render_svg(counts)
