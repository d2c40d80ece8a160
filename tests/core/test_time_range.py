"""A meeting's time is written with its zone once, at the end, and not at all when the zone
is the reader's own (issue 16: "10:00 (Europe/London) to 11:00 (Europe/London)")."""

from __future__ import annotations

import datetime as dt

import jinja2

from governance.core.templating import add_template_helpers, format_time_range

UTC = dt.UTC
STARTS = dt.datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_a_range_within_a_day_writes_the_date_once_and_the_zone_once():
    text = format_time_range(STARTS, STARTS + dt.timedelta(hours=1, minutes=30), "Europe/London")

    assert text == "2 Dec 2026, 10:00 \u2013 11:30 (Europe/London)"


def test_the_readers_own_zone_is_not_written():
    ends = STARTS + dt.timedelta(hours=1)

    assert format_time_range(STARTS, ends, "Europe/London", "Europe/London") == (
        "2 Dec 2026, 10:00 \u2013 11:00"
    )


def test_a_range_past_midnight_in_its_zone_carries_the_end_date():
    starts = dt.datetime(2026, 12, 2, 21, 30, tzinfo=UTC)  # 22:30 in Paris

    text = format_time_range(starts, starts + dt.timedelta(hours=2), "Europe/Paris")

    assert text == "2 Dec 2026, 22:30 \u2013 3 Dec 2026, 00:30 (Europe/Paris)"


def test_pages_write_a_range_through_one_filter_with_the_zone_once():
    environment = jinja2.Environment(autoescape=True)
    add_template_helpers(environment)
    template = environment.from_string("{{ starts | time_range(ends, 'Asia/Tokyo') }}")

    text = template.render(starts=STARTS, ends=STARTS + dt.timedelta(hours=2))

    assert text == "2 Dec 2026, 19:00 \u2013 21:00 (Asia/Tokyo)"
    assert text.count("Asia/Tokyo") == 1
