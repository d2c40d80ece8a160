"""compute_figures costs the same number of queries with a little data and with ten times
more, for one group and for the whole organisation."""

from __future__ import annotations

from governance.transparency.metrics import compute_figures
from tests.helpers import QueryCounter
from tests.transparency.test_metrics import build_dataset, clock  # noqa: F401 - fixture

# Groups, chairs, meeting counts, held meetings, memberships, attendance, decisions,
# confidential matters, four action figures, reporting lines, periodic reports, deliveries,
# and the pulse summary (runs, their questions, their responses).
QUERIES = 18


async def _counts(count_queries: QueryCounter, scopes: list[str]) -> list[int]:
    counts = []
    for scope in scopes:
        for label in ("2026-Q3", "2026"):
            for edition in ("board", "public"):
                with count_queries() as counter:
                    await compute_figures(scope, label, edition)
                counts.append(counter.count)
    return counts


async def test_the_number_of_queries_does_not_grow_with_the_data(
    clock: None,  # noqa: F811 - the fixture
    count_queries: QueryCounter,
) -> None:
    small = await build_dataset(seed=31, groups=2, scale=1)
    scopes = ["organisation", small.slugs[0]]
    before = await _counts(count_queries, scopes)
    assert before == [QUERIES] * len(before)

    # Ten times the meetings, actions and reports of each group, in five times the groups.
    await build_dataset(seed=32, groups=10, scale=10)
    after = await _counts(count_queries, scopes)
    assert after == before
    figures = await compute_figures("organisation", "2026", "board")
    assert len(figures.groups) == 12
    assert sum(g.actions_opened for g in figures.groups) > 10 * sum(
        g.actions_opened for g in figures.groups if g.group_slug in small.slugs
    )


async def test_an_organisation_without_groups_costs_the_same(
    clock: None,  # noqa: F811 - the fixture
    count_queries: QueryCounter,
) -> None:
    with count_queries() as counter:
        figures = await compute_figures("organisation", "2026-Q3", "board")
    assert figures.groups == []
    assert counter.count == QUERIES
