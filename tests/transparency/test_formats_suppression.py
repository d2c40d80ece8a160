"""The public edition's suppression on hand-made and random figures.

Figures stored with the rule of issue 16 (`small_numbers: "about people"`) hide only the
figures about people: their small counts are hidden and none can be worked out from what
is shown (the organisation's totals), while every count of the group's activity is shown
as it is, however small. Figures stored before (no rule) keep the earlier one, so a report
published then keeps its document and hash: every count from 1 to 4 is hidden, and none
can be worked out through any relation (a line's outcomes, a group's months, the
organisation's totals) by the narrowing any reader could do. The board edition hides
nothing."""

from __future__ import annotations

import random
from typing import Any

import pytest

from governance.transparency.editions import (
    EVERY_COUNT_NOTE,
    FEWER,
    SUPPRESSION_NOTE,
    WITHHELD,
    document,
    document_hash,
    present,
)
from governance.transparency.suppression import Cell, Relation, pinned

GROUP_COUNTS = (
    "meetings_held",
    "meetings_cancelled",
    "attendance_people",
    "meetings_with_quorum",
    "decisions",
    "decisions_with_quorum",
    "actions_opened",
    "actions_completed",
    "actions_dropped",
    "actions_overdue_at_end",
    "confidential_matters",
)
OUTCOMES = ("accepted", "partially_accepted", "declined", "noted", "pending")
PERIODIC = ("periodic_on_time", "periodic_late", "periodic_missed")
MONTHS = ("2026-07", "2026-08", "2026-09")


def line(
    recipient: str, outcomes: list[int], periodic: list[int], overdue: int = 0, owed: int = 0
) -> dict:
    return {
        "recipient": recipient,
        "recommendations": sum(outcomes),
        **dict(zip(OUTCOMES, outcomes, strict=True)),
        "periodic_due": sum(periodic) + owed,
        **dict(zip(PERIODIC, periodic, strict=True)),
        "overdue_responses": overdue,
        "median_days_to_acknowledge": 3.0,
        "median_days_to_respond": 9.5,
    }


def group(slug: str, counts: dict[str, int], months: list[int], lines: list[dict]) -> dict:
    return {
        "group_slug": slug,
        "group_name": slug.title(),
        "chair_names": [f"Chair of {slug}"],
        **{name: counts.get(name, 0) for name in GROUP_COUNTS},
        "actions_completed": sum(months),
        "attendance_rate": 0.75,
        "median_days_to_complete": 12.0,
        "lines": lines,
        "actions_completed_by_month": [[m, v] for m, v in zip(MONTHS, months, strict=True)],
    }


def content(scope: str, groups: list[dict], rule: str | None = None) -> dict[str, Any]:
    """Stored figures; without a rule, as they were stored before issue 16."""
    stored = {
        "scope": scope,
        "period": {"label": "2026-Q3", "starts_on": "2026-07-01", "ends_on": "2026-09-30"},
        "edition": "public",
        "generated_at": "2026-10-01T06:00:00+00:00",
        "groups": groups,
    }
    return stored if rule is None else {**stored, "small_numbers": rule}


ABOUT_PEOPLE = "about people"
# Written out here again: the only counts about people. Every other is the group's activity.
PEOPLE_COUNTS = ("attendance_people",)


def true_cells(data: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    cells: dict[tuple[str, str, str], int] = {}
    for g in data["groups"]:
        for name in GROUP_COUNTS:
            cells[(g["group_slug"], "", name)] = g[name]
        for ln in g["lines"]:
            for name in (
                "recommendations",
                "periodic_due",
                "overdue_responses",
                *OUTCOMES,
                *PERIODIC,
            ):
                cells[(g["group_slug"], ln["recipient"], name)] = ln[name]
        for month, value in g["actions_completed_by_month"]:
            cells[(g["group_slug"], "", f"month:{month}")] = value
    if data["scope"] == "organisation":
        for (_slug, recipient, name), value in list(cells.items()):
            key = ("organisation", recipient, name)
            cells[key] = cells.get(key, 0) + value
    return cells


def relations(data: dict[str, Any]) -> list[Relation]:
    """What a reader knows of how the counts add up, written out here again."""
    slugs = [g["group_slug"] for g in data["groups"]]
    sections = slugs + (["organisation"] if data["scope"] == "organisation" else [])
    result = []
    for s in sections:
        for recipient in ("director", "board"):
            result.append(
                Relation(
                    ((s, recipient, "recommendations"), *[(s, recipient, o) for o in OUTCOMES])
                )
            )
            result.append(
                Relation(
                    ((s, recipient, "periodic_due"), *[(s, recipient, p) for p in PERIODIC]),
                    exact=False,
                )
            )
            result.append(
                Relation(((s, recipient, "pending"), (s, recipient, "overdue_responses")), False)
            )
        result.append(
            Relation(((s, "", "actions_completed"), *[(s, "", f"month:{m}") for m in MONTHS]))
        )
        result.append(Relation(((s, "", "meetings_held"), (s, "", "meetings_with_quorum")), False))
        result.append(Relation(((s, "", "decisions"), (s, "", "decisions_with_quorum")), False))
    if data["scope"] == "organisation":
        keys = {(r, n) for (s, r, n) in true_cells(data) if s == "organisation"}
        for recipient, name in keys:
            result.append(
                Relation(
                    (("organisation", recipient, name), *[(s, recipient, name) for s in slugs])
                )
            )
    return result


def shown(data: dict[str, Any], edition: str) -> dict[tuple[str, str, str], Any]:
    doc = document(present(data, edition))
    values: dict[tuple[str, str, str], Any] = {}
    for section in ([doc["totals"]] if doc["totals"] else []) + doc["groups"]:
        for name, value in section["figures"].items():
            values[(section["slug"], "", name)] = value
        for ln in section["lines"]:
            for name, value in ln["figures"].items():
                values[(section["slug"], ln["recipient"], name)] = value
        for month in section["actions_completed_by_month"]:
            values[(section["slug"], "", f"month:{month['month']}")] = month["value"]
    return values


def assert_protected(data: dict[str, Any]) -> dict[tuple[str, str, str], Any]:
    truth = true_cells(data)
    values = shown(data, "public")
    cells = {}
    for key, value in truth.items():
        assert key in values, key
        if 0 < value < 5:
            assert values[key] in (FEWER, WITHHELD), (key, value, values[key])
        if values[key] in (FEWER, WITHHELD):
            cells[key] = Cell(value, values[key])
        else:
            assert values[key] == value, key
            cells[key] = Cell(value)
    assert pinned(cells, relations(data)) == []
    return values


def test_a_lone_hidden_part_takes_another_with_it() -> None:
    data = content(
        "wellbeing",
        [
            group(
                "wellbeing",
                {"meetings_held": 6},
                [3, 6, 0],
                [line("director", [2, 0, 9, 0, 0], [1, 0, 0])],
            )
        ],
    )
    values = assert_protected(data)
    assert values[("wellbeing", "director", "accepted")] == FEWER
    # 11 recommendations with 9 declined would give the 2 accepted away.
    assert WITHHELD in (
        values[("wellbeing", "director", "declined")],
        values[("wellbeing", "director", "recommendations")],
    )
    assert values[("wellbeing", "", "month:2026-07")] == FEWER
    assert WITHHELD in (
        values[("wellbeing", "", "month:2026-08")],
        values[("wellbeing", "", "actions_completed")],
    )
    assert values[("wellbeing", "", "meetings_held")] == 6


def test_fewer_than_five_is_a_range_a_total_can_close() -> None:
    """Two parts "fewer than 5" adding up to 8 are both 4."""
    data = content(
        "wellbeing",
        [group("wellbeing", {}, [4, 4, 0], [line("board", [4, 4, 0, 0, 0], [0, 0, 0])])],
    )
    values = assert_protected(data)
    months = [("wellbeing", "", f"month:{m}") for m in MONTHS]
    assert [values[key] for key in months[:2]] == [FEWER, FEWER]
    assert WITHHELD in [values[key] for key in [("wellbeing", "", "actions_completed"), *months]]


def test_the_organisations_totals_do_not_give_a_group_away() -> None:
    data = content(
        "organisation",
        [
            group(
                "a",
                {"meetings_cancelled": 2},
                [3, 6, 0],
                [line("director", [2, 0, 9, 0, 0], [0, 0, 0])],
            ),
            group(
                "b",
                {"meetings_cancelled": 7},
                [8, 0, 0],
                [line("director", [6, 0, 0, 0, 0], [0, 0, 0])],
            ),
        ],
    )
    values = assert_protected(data)
    cancelled = [values[(s, "", "meetings_cancelled")] for s in ("organisation", "b")]
    assert WITHHELD in cancelled  # 9 - 7 = 2
    # Rates and medians are the groups', never summed.
    assert "attendance_rate" not in {n for (s, _, n) in values if s == "organisation"}


def test_the_board_edition_hides_nothing() -> None:
    data = content(
        "organisation",
        [
            group(
                "a",
                {"meetings_cancelled": 2},
                [3, 6, 0],
                [line("director", [2, 0, 9, 0, 0], [1, 0, 0])],
            )
        ],
    )
    truth = true_cells(data)
    values = shown(data, "board")
    assert all(values[key] == value for key, value in truth.items())


def test_rates_and_medians_from_fewer_than_five_are_not_shown() -> None:
    few = group(
        "a", {"attendance_people": 4}, [1, 1, 1], [line("board", [1, 1, 1, 0, 1], [0, 0, 0])]
    )
    many = group(
        "b", {"attendance_people": 9}, [3, 3, 3], [line("board", [3, 3, 0, 0, 0], [0, 0, 0])]
    )
    values = shown(content("organisation", [few, many]), "public")
    assert values[("a", "", "attendance_rate")] == FEWER
    assert values[("a", "", "median_days_to_complete")] == FEWER  # 3 actions
    assert values[("a", "board", "median_days_to_respond")] == FEWER  # 3 responses
    assert values[("b", "", "attendance_rate")] == 0.75
    assert values[("b", "", "median_days_to_complete")] == 12.0
    assert values[("b", "board", "median_days_to_respond")] == 9.5


@pytest.mark.parametrize("seed", range(60))
def test_random_figures_never_give_a_small_count_away(seed: int) -> None:
    rng = random.Random(seed)
    choices = [0, 0, 1, 2, 3, 4, 5, 6, 8, 13]

    def random_line(recipient: str) -> dict:
        outcomes = [rng.choice(choices) for _ in OUTCOMES]
        periodic = [rng.choice(choices) for _ in PERIODIC]
        return line(recipient, outcomes, periodic, rng.randint(0, outcomes[-1]), rng.choice([0, 1]))

    def random_counts() -> dict[str, int]:
        counts = {name: rng.choice(choices) for name in GROUP_COUNTS}
        counts["meetings_with_quorum"] = rng.randint(0, counts["meetings_held"])
        counts["decisions_with_quorum"] = rng.randint(0, counts["decisions"])
        return counts

    def random_group(slug: str) -> dict:
        return group(
            slug,
            random_counts(),
            [rng.choice(choices) for _ in MONTHS],
            [
                line(
                    r,
                    [rng.choice(choices) for _ in OUTCOMES],
                    [rng.choice(choices) for _ in PERIODIC],
                    rng.choice(choices),
                )
                for r in ("director", "board")
            ],
        )

    count = rng.choice([1, 2, 3, 6])
    scope = "organisation" if count > 1 or seed % 2 else "g0"
    assert_protected(content(scope, [random_group(f"g{i}") for i in range(count)]))


# --- figures stored with the rule of issue 16: only figures about people are hidden -------


def assert_people_protected(data: dict[str, Any]) -> dict[tuple[str, str, str], Any]:
    """Every count of activity is shown as it is; a small count about people is hidden and
    cannot be worked out from the others (the organisation's totals)."""
    truth = true_cells(data)
    values = shown(data, "public")
    cells = {}
    for key, value in truth.items():
        if key[2] not in PEOPLE_COUNTS:
            assert values[key] == value, (key, value, values[key])
            cells[key] = Cell(value)
            continue
        if 0 < value < 5:
            assert values[key] in (FEWER, WITHHELD), (key, value, values[key])
        if values[key] in (FEWER, WITHHELD):
            cells[key] = Cell(value, values[key])
        else:
            assert values[key] == value, key
            cells[key] = Cell(value)
    assert pinned(cells, relations(data)) == []
    return values


def test_a_small_group_publishes_its_own_activity() -> None:
    small = group(
        "small",
        {"meetings_held": 2, "meetings_cancelled": 1, "decisions": 3, "attendance_people": 3},
        [1, 2, 0],
        [line("director", [1, 0, 1, 0, 1], [2, 1, 1], overdue=1, owed=1)],
    )
    data = content("small", [small], ABOUT_PEOPLE)
    values = assert_people_protected(data)
    assert values[("small", "", "meetings_held")] == 2
    assert values[("small", "", "month:2026-07")] == 1
    assert values[("small", "director", "periodic_on_time")] == 2
    assert values[("small", "director", "periodic_late")] == 1
    assert values[("small", "director", "periodic_missed")] == 1
    assert values[("small", "director", "periodic_due")] == 5  # one still owed
    # Medians of activity are shown, whatever the number of items behind them.
    assert values[("small", "", "median_days_to_complete")] == 12.0
    assert values[("small", "director", "median_days_to_respond")] == 9.5
    # The attendance is about three people: neither the count nor the rate is shown.
    assert values[("small", "", "attendance_people")] == FEWER
    assert values[("small", "", "attendance_rate")] == FEWER
    assert present(data, "public").notes == [SUPPRESSION_NOTE]


def test_the_totals_do_not_give_away_a_small_groups_people() -> None:
    """7 people in all and 6 in one group would say the other's 1."""
    few = group("a", {"attendance_people": 1, "meetings_held": 1}, [0, 1, 0], [])
    many = group("b", {"attendance_people": 6, "meetings_held": 6}, [3, 3, 0], [])
    values = assert_people_protected(content("organisation", [few, many], ABOUT_PEOPLE))
    assert values[("a", "", "attendance_people")] == FEWER
    people = [values[(s, "", "attendance_people")] for s in ("organisation", "b")]
    assert WITHHELD in people
    assert values[("organisation", "", "meetings_held")] == 7
    assert values[("a", "", "meetings_held")] == 1


@pytest.mark.parametrize("seed", range(30))
def test_random_figures_show_activity_and_hide_small_numbers_of_people(seed: int) -> None:
    rng = random.Random(seed)
    choices = [0, 0, 1, 2, 3, 4, 5, 6, 8, 13]

    def random_group(slug: str) -> dict:
        counts = {name: rng.choice(choices) for name in GROUP_COUNTS}
        counts["meetings_with_quorum"] = rng.randint(0, counts["meetings_held"])
        counts["decisions_with_quorum"] = rng.randint(0, counts["decisions"])
        lines = [
            line(
                r, [rng.choice(choices) for _ in OUTCOMES], [rng.choice(choices) for _ in PERIODIC]
            )
            for r in ("director", "board")
        ]
        return group(slug, counts, [rng.choice(choices) for _ in MONTHS], lines)

    count = rng.choice([1, 2, 3, 6])
    scope = "organisation" if count > 1 or seed % 2 else "g0"
    data = content(scope, [random_group(f"g{i}") for i in range(count)], ABOUT_PEOPLE)
    assert_people_protected(data)


# Computed by the code as it was before issue 16 (commit 2b1b357), over the figures of
# test_a_small_group_publishes_its_own_activity stored without a rule: a report published
# then must keep this document, and so this hash.
EARLIER_RULE_HASH = "9a57c94d0dabcae51ca297044702aa4db1c03283320f5df2a47b3d078a0496ba"


def test_figures_stored_before_the_rule_keep_their_document_and_hash() -> None:
    small = group(
        "small",
        {"meetings_held": 2, "meetings_cancelled": 1, "decisions": 3, "attendance_people": 3},
        [1, 2, 0],
        [line("director", [1, 0, 1, 0, 1], [2, 1, 1], overdue=1, owed=1)],
    )
    presented = present(content("small", [small]), "public")
    assert presented.notes == [EVERY_COUNT_NOTE]
    assert presented.groups[0].get("meetings_held").suppressed == FEWER
    assert presented.groups[0].get("median_days_to_complete").suppressed == FEWER
    assert document_hash(document(presented)) == EARLIER_RULE_HASH
