"""Jinja set-up shared by pages and email: where templates live and the helpers they use."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2.runtime import Context

from governance.core.markdown import render_markdown
from governance.core.urls import address_in

if TYPE_CHECKING:
    from litestar import Litestar

EN_DASH = "\u2013"  # between the two ends of a range, as typeset text has it
TEMPLATE_DIRECTORY = Path(__file__).resolve().parents[2] / "templates"
# Pages write the same moments again and again (a meeting's time on every view of it) and
# strftime costs microseconds each: the texts are kept, keyed by the moment and the zones
# (the text depends on nothing else), at most this many.
MOMENTS_KEPT = 4096


@functools.lru_cache(maxsize=MOMENTS_KEPT)
def format_datetime(
    value: dt.datetime | None, timezone: str = "UTC", reader_timezone: str | None = None
) -> str:
    """The one way a moment is written for people, on pages and in emails: "2 Dec 2026,
    20:29", followed by its zone ("(Europe/London)") unless the zone is the reader's own
    (`reader_timezone`; None when the reader's zone is not known, as in an email or on a
    public page: then the zone is always written)."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(timezone))
    text = local.strftime("%-d %b %Y, %H:%M")
    return text if timezone == reader_timezone else f"{text} ({timezone})"


@functools.lru_cache(maxsize=MOMENTS_KEPT)
def format_time_range(
    starts: dt.datetime,
    ends: dt.datetime,
    timezone: str = "UTC",
    reader_timezone: str | None = None,
) -> str:
    """A meeting's time, its zone written once at the end (unless it is the reader's own):
    "2 Dec 2026, 10:00 \u2013 11:30 (Europe/London)" (an en dash); an end on another day
    carries its date."""
    start_text = format_datetime(starts, timezone, timezone)
    local_start, local_end = (moment.astimezone(ZoneInfo(timezone)) for moment in (starts, ends))
    same_day = local_start.date() == local_end.date()
    end_text = (
        local_end.strftime("%H:%M") if same_day else format_datetime(ends, timezone, timezone)
    )
    text = f"{start_text} {EN_DASH} {end_text}"
    return text if timezone == reader_timezone else f"{text} ({timezone})"


def _reader_timezone(context: Context) -> str | None:
    """The signed-in reader's own zone, when the page is rendered for one."""
    request = context.get("request")
    user = request.scope.get("user") if request is not None else None
    zone = getattr(user, "timezone", None)
    return zone if isinstance(zone, str) else None


@jinja2.pass_context
def datetime_filter(context: Context, value: dt.datetime | None, timezone: str = "UTC") -> str:
    """`{{ moment | datetime(zone) }}`: the moment in `zone`, with the zone written when it is
    not the reader's own."""
    return format_datetime(value, timezone, _reader_timezone(context))


@jinja2.pass_context
def time_range_filter(
    context: Context, starts: dt.datetime, ends: dt.datetime, timezone: str = "UTC"
) -> str:
    """`{{ starts | time_range(ends, zone) }}`: from start to end, the zone written once."""
    return format_time_range(starts, ends, timezone, _reader_timezone(context))


def format_date(value: dt.date | None) -> str:
    if value is None:
        return ""
    return value.strftime("%-d %b %Y")


def humanize_choice(value: Any) -> str:
    return str(value).replace("_", " ").capitalize() if value is not None else ""


def url_for_in(app: Litestar) -> Callable[..., str]:
    """Litestar's `url_for` for this application's templates, with each address built once
    (`core.urls.address_in`).

    Bound to the application instead of reading it from the request through the context:
    Jinja gives a function that takes the context a copy of it, made for the call, whenever
    the call is inside a loop or a block (every link and form of a page), which cost a
    tenth of the meeting page's rendering."""

    def url_for(route_name: str, /, **path_parameters: Any) -> str:
        return address_in(app, route_name, path_parameters)

    return url_for


class SharedModuleTemplate(jinja2.Template):
    """A template whose `{% from ... import %}` by another template of the same environment
    uses its module made once, without Jinja's check of each render's globals against the
    template's (a set difference over a ChainMap, a fiftieth of a page's service time with
    its five imports)."""

    def _get_default_module(self, ctx: Context | None = None) -> jinja2.environment.TemplateModule:
        if ctx is not None and not ctx.globals_keys.difference(self.environment.globals):
            # Every global of the importing render is the environment's, which this
            # template's globals hold too: Jinja would find no new one and use the module
            # it made once.
            ctx = None
        return super()._get_default_module(ctx)


def add_template_helpers(environment: jinja2.Environment) -> None:
    environment.template_class = SharedModuleTemplate
    environment.filters["markdown"] = render_markdown
    environment.filters["datetime"] = datetime_filter
    environment.filters["time_range"] = time_range_filter
    environment.filters["date"] = format_date
    environment.filters["humanize"] = humanize_choice
