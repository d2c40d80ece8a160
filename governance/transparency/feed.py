"""The public index's Atom feed (RFC 4287): published public transparency reports and the
public versions of approved minutes, newest first. Only what `/transparency` lists, so only
what anyone may read; written with ElementTree, so every title is escaped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree

from governance.core.clock import date_in_zone
from governance.core.templating import format_date
from governance.core.urls import absolute_url
from governance.meetings.schemas import PublishedMinutesView
from governance.transparency.schemas import ReportSummaryView

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"
FEED_TITLE = "Governance: transparency reports and public minutes"
# A feed with no entry yet still needs an `updated`: the start of the epoch says "never".
NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    link: str
    updated: dt.datetime
    summary: str


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def report_entry(report: ReportSummaryView) -> FeedEntry:
    link = absolute_url("transparency:show", report_id=report.id)
    published = report.published_at or report.created_at
    return FeedEntry(
        id=link,
        title=f"Transparency report {report.period}: {report.scope_name} (version "
        f"{report.version})",
        link=link,
        updated=published,
        summary=f"Published on {format_date(date_in_zone(published))}.",
    )


def minutes_entry(minutes: PublishedMinutesView) -> FeedEntry:
    link = absolute_url("meetings:public", meeting_id=minutes.meeting_id)
    return FeedEntry(
        id=link,
        title=f"Minutes: {minutes.title} ({minutes.group_name}, "
        f"{format_date(date_in_zone(minutes.starts_at))})",
        link=link,
        updated=minutes.approved_at,
        summary=f"The public version of the approved minutes of {minutes.group_name}.",
    )


def _element(parent: ElementTree.Element, name: str, text: str = "", **attributes: str) -> None:
    child = ElementTree.SubElement(parent, f"{{{ATOM_NAMESPACE}}}{name}", attributes)
    if text:
        child.text = text


def atom_feed(
    reports: Sequence[ReportSummaryView], minutes: Sequence[PublishedMinutesView]
) -> bytes:
    """The feed document, entries newest first."""
    entries = sorted(
        [*(report_entry(r) for r in reports), *(minutes_entry(m) for m in minutes)],
        key=lambda entry: entry.updated,
        reverse=True,
    )
    ElementTree.register_namespace("", ATOM_NAMESPACE)
    feed = ElementTree.Element(f"{{{ATOM_NAMESPACE}}}feed")
    self_link = absolute_url("transparency:feed")
    _element(feed, "id", self_link)
    _element(feed, "title", FEED_TITLE)
    _element(feed, "updated", _stamp(entries[0].updated if entries else NEVER))
    _element(feed, "link", rel="self", href=self_link, type=ATOM_MEDIA_TYPE)
    _element(feed, "link", rel="alternate", href=absolute_url("transparency:index"))
    author = ElementTree.SubElement(feed, f"{{{ATOM_NAMESPACE}}}author")
    _element(author, "name", "Governance")
    for entry in entries:
        item = ElementTree.SubElement(feed, f"{{{ATOM_NAMESPACE}}}entry")
        _element(item, "id", entry.id)
        _element(item, "title", entry.title)
        _element(item, "updated", _stamp(entry.updated))
        _element(item, "link", rel="alternate", href=entry.link, type="text/html")
        _element(item, "summary", entry.summary)
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)


def by_group(
    minutes: Sequence[PublishedMinutesView],
) -> list[tuple[str, list[PublishedMinutesView]]]:
    """The minutes by group name (as listed: by group, newest meeting first)."""
    groups: dict[str, list[PublishedMinutesView]] = {}
    for item in minutes:
        groups.setdefault(item.group_name, []).append(item)
    return list(groups.items())
