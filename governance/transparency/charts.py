"""Charts as SVG made on the server with pygal, from a presented report only.

Each chart comes with a text alternative and the table of the data it draws, so a reader
who cannot see it loses nothing. A suppressed figure is drawn as a gap, never as a value.

pygal always writes a small script (its tooltip configuration) and comments naming its web
site; both are removed, so the SVG runs nothing and links nowhere. The SVG carries its own
<style>: served alone it needs a Content-Security-Policy allowing inline styles
(`SVG_CONTENT_SECURITY_POLICY`); in the PDF it is a data: URI.
"""

from __future__ import annotations

import base64
import hashlib
import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import Any

from governance.transparency.editions import Figure, Presented
from governance.transparency.figures import ORGANISATION

CHART_NAMES = ("actions", "responses", "attendance")
SVG_MEDIA_TYPE = "image/svg+xml"
# An SVG with no script: its inline styles may apply, nothing else may load or run.
SVG_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'none'; frame-ancestors 'self'"
)
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
COLOURS = ("#1f4e8c", "#c26a1b", "#2e7d4f", "#7a3e9d", "#a1261b", "#4a6274")


@dataclass
class Chart:
    name: str
    title: str
    alt: str  # the text alternative: the chart in one or two sentences
    headers: list[str]
    rows: list[list[str]]  # the data table, as shown
    x_labels: list[str] = field(default_factory=list)
    series: list[tuple[str, list[float | None]]] = field(default_factory=list)
    unit: str = ""
    empty: bool = False

    def svg(self) -> str:
        return render_svg(self)

    def data_uri(self) -> str:
        encoded = base64.b64encode(self.svg().encode("utf-8")).decode("ascii")
        return f"data:{SVG_MEDIA_TYPE};base64,{encoded}"


def _value(figure: Figure | None, scale: float = 1.0) -> float | None:
    if figure is None or figure.value is None:
        return None
    return round(float(figure.value) * scale, 1)


def _sentence(parts: list[str]) -> str:
    return "; ".join(parts) + "." if parts else ""


def actions_chart(presented: Presented) -> Chart:
    sections = presented.groups
    months = [figure.metric for figure in sections[0].months] if sections else []
    series = []
    rows = []
    for month_index, month in enumerate(months):
        row = [month]
        for section in sections:
            figure = section.months[month_index] if month_index < len(section.months) else None
            row.append(figure.display if figure else "")
        rows.append(row)
    for section in sections:
        series.append((section.name, [_value(figure) for figure in section.months]))
    described = []
    for section in sections:
        values = ", ".join(f"{f.metric}: {f.display}" for f in section.months)
        described.append(f"{section.name}: {values}" if values else f"{section.name}: none")
    return Chart(
        name="actions",
        title="Actions completed per month",
        alt="Bar chart of actions completed per month. " + _sentence(described),
        headers=["Month", *[section.name for section in sections]],
        rows=rows,
        x_labels=months,
        series=series,
        unit="actions",
        empty=not months,
    )


@dataclass
class _Bar:
    """One place on a chart of two series: its label, its row in the data table, its
    words in the text alternative, and its two values."""

    label: str
    row: list[str]
    words: str
    first: float | None
    second: float | None


@dataclass(frozen=True)
class _TwoSeries:
    """A bar chart of two series over the same places."""

    name: str
    title: str
    alt: str  # the text alternative's first sentence; each bar's words follow
    headers: tuple[str, ...]
    series: tuple[str, str]
    unit: str

    def chart(self, bars: list[_Bar]) -> Chart:
        return Chart(
            name=self.name,
            title=self.title,
            alt=self.alt + " " + _sentence([bar.words for bar in bars]),
            headers=list(self.headers),
            rows=[bar.row for bar in bars],
            x_labels=[bar.label for bar in bars],
            series=[
                (self.series[0], [bar.first for bar in bars]),
                (self.series[1], [bar.second for bar in bars]),
            ],
            unit=self.unit,
            empty=not bars,
        )


RESPONSES_CHART = _TwoSeries(
    "responses",
    "Median days to acknowledge and to respond, per line",
    "Bar chart of the median days each line took to acknowledge and to respond.",
    ("Group", "Line", "Median days to acknowledge", "Median days to respond"),
    ("To acknowledge", "To respond"),
    "days",
)
ATTENDANCE_CHART = _TwoSeries(
    "attendance",
    "Attendance and quorum at meetings held",
    "Bar chart of the attendance rate and the share of meetings held with quorum.",
    ("Group", "Meetings held", "Attendance rate", "Meetings with quorum"),
    ("Attendance rate (%)", "Meetings with quorum (%)"),
    "%",
)


def responses_chart(presented: Presented) -> Chart:
    bars = []
    for section in presented.groups:
        for line in section.lines:
            ack = line.get("median_days_to_acknowledge")
            resp = line.get("median_days_to_respond")
            bars.append(
                _Bar(
                    line.name
                    if presented.scope != ORGANISATION
                    else f"{section.name}: {line.name}",
                    [section.name, line.name, ack.display, resp.display],
                    f"{section.name}, {line.name} line: {ack.display} to acknowledge, "
                    f"{resp.display} to respond",
                    _value(ack),
                    _value(resp),
                )
            )
    return RESPONSES_CHART.chart(bars)


def attendance_chart(presented: Presented) -> Chart:
    bars = []
    for section in presented.groups:
        rate = section.get("attendance_rate")
        share = section.get("meetings_quorum_share")
        held = section.get("meetings_held")
        bars.append(
            _Bar(
                section.name,
                [section.name, held.display, rate.display, share.display],
                f"{section.name}: attendance {rate.display}, meetings with quorum "
                f"{share.display}, meetings held {held.display}",
                _value(rate, 100),
                _value(share, 100),
            )
        )
    return ATTENDANCE_CHART.chart(bars)


def charts(presented: Presented) -> list[Chart]:
    return [actions_chart(presented), responses_chart(presented), attendance_chart(presented)]


def chart_named(presented: Presented, name: str) -> Chart | None:
    return next((chart for chart in charts(presented) if chart.name == name), None)


def _style() -> Any:
    from pygal.style import Style

    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1d2433",
        foreground_strong="#1d2433",
        foreground_subtle="#5b6475",
        colors=COLOURS,
        font_family="DejaVu Sans, Helvetica, Arial, sans-serif",
        title_font_size=15,
        label_font_size=11,
        major_label_font_size=11,
        legend_font_size=11,
        value_font_size=11,
        no_data_font_size=18,
    )


def render_svg(chart: Chart) -> str:
    import pygal  # loaded on first use: pages without charts need not import it

    config: dict[str, Any] = {
        "js": [],  # no script is fetched...
        "disable_xml_declaration": True,
        "width": 720,
        "height": 340,
        "style": _style(),
        "title": chart.title,
        "show_legend": len(chart.series) > 1,
        "legend_at_bottom": True,
        "x_label_rotation": 20 if len(chart.x_labels) > 4 else 0,
        "truncate_label": 40,
        # Each bar carries its value, so the chart reads without the table (issue 16).
        "print_values": True,
        "print_values_position": "top",
        "show_y_guides": True,
        "tooltip_fancy_mode": False,
        "range": (0, 100) if chart.unit == "%" else None,
        "no_data_text": "Nothing to draw: see the table" if chart.rows else "No data",
        "value_formatter": lambda value: f"{value:g}{'%' if chart.unit == '%' else ''}",
    }
    bar = pygal.Bar(**{key: value for key, value in config.items() if value is not None})
    # pygal names each chart with a random id; one made from the chart's data keeps the same
    # figures drawing the same SVG, byte for byte, in the page and in the PDF.
    fingerprint = json.dumps([chart.title, chart.x_labels, chart.series], sort_keys=True)
    bar.uuid = f"{chart.name}-{hashlib.sha256(fingerprint.encode()).hexdigest()[:16]}"
    bar.x_labels = chart.x_labels
    for name, values in chart.series:
        bar.add(name, values)
    root = bar.render_tree()
    return _clean(root)


def _clean(root: ElementTree.Element) -> str:
    """Removes every script (pygal writes one even with js=[]) and every comment."""
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag.rsplit("}", 1)[-1] == "script" or child.tag is ElementTree.Comment:
                parent.remove(child)
    ElementTree.register_namespace("", SVG_NAMESPACE)
    ElementTree.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return ElementTree.tostring(root, encoding="unicode")
