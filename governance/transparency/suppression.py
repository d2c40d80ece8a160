"""Keeping small counts from being worked out of the others (secondary suppression).

The public edition shows a count from 1 to 4 as "fewer than 5". That alone is not enough
where counts add up: a line's recommendations are the sum of their outcomes, a group's
actions completed the sum of its months, the organisation's totals the sums of its groups.
With the total and all parts but one shown, the hidden one is a subtraction away; with
"fewer than 5" meaning 1 to 4, a total of 8 over two hidden parts says both are 4.

So the reader's view is modelled: a shown cell is its value, a cell shown as "fewer than 5"
is somewhere from 1 to 4, a withheld cell anything from 0. Each relation (total = sum of
its parts) narrows the hidden cells' ranges until nothing changes; a small count whose
range has closed to one value can be worked out. For each such count, one more shown cell
is withheld: the nearest to what gives it away (in its relations, or in those of the hidden
cells that are themselves worked out), a positive part before a zero part before a total.
When no small count can be worked out any more, each withheld cell that protects nothing
is shown again.

Relations that are only "at least" (a line's periodic reports due include those still
owed; meetings held include those with quorum) narrow in one direction. Only exact values
are protected: a reader may still learn that a hidden count is, say, 3 or 4.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from governance.transparency.figures import PUBLIC_THRESHOLD

FEWER = f"fewer than {PUBLIC_THRESHOLD}"
WITHHELD = "withheld"
# Narrowing ends by itself on figures that keep their relations (every range holds the
# true value and only shrinks); this bounds the work on figures that break one.
STEPS_PER_RELATION = 200

Key = tuple[str, str, str]  # (section, line or "", metric or "month:2026-07")


@dataclass(frozen=True)
class Relation:
    """total = the sum of parts; or, when not exact, total >= the sum of parts (a line's
    periodic reports due include those still owed; meetings held include those with
    quorum)."""

    keys: tuple[Key, ...]  # the total first
    exact: bool = True

    @property
    def total(self) -> Key:
        return self.keys[0]

    @property
    def parts(self) -> tuple[Key, ...]:
        return self.keys[1:]


@dataclass
class Cell:
    value: int
    hidden: str = ""  # "", FEWER or WITHHELD
    # The smallest count shown; pulses use their own (GOVERNANCE_PULSE_MIN_RESPONSES).
    threshold: int = PUBLIC_THRESHOLD

    @property
    def small(self) -> bool:
        return 0 < self.value < self.threshold


def primary(value: int) -> str:
    return FEWER if 0 < value < PUBLIC_THRESHOLD else ""


class _View:
    """What a reader can tell of each cell: its lowest and highest possible value."""

    def __init__(self, cells: dict[Key, Cell], relations: list[Relation]) -> None:
        self.cells = cells
        self.relations = relations
        self.by_cell: dict[Key, list[int]] = {}
        for index, relation in enumerate(relations):
            for key in relation.keys:
                self.by_cell.setdefault(key, []).append(index)
        self.low: dict[Key, float] = {}
        self.high: dict[Key, float] = {}

    def reset(self) -> None:
        for key, cell in self.cells.items():
            self.low[key], self.high[key] = self.start(cell)
        self.narrow(range(len(self.relations)))

    @staticmethod
    def start(cell: Cell) -> tuple[float, float]:
        if not cell.hidden:
            return cell.value, cell.value
        if cell.hidden == FEWER:
            return 1, cell.threshold - 1
        return 0, math.inf

    def narrow(self, relation_indexes: range | list[int]) -> set[Key]:
        """Narrows through the given relations and any they touch; returns what changed."""
        queue = deque(relation_indexes)
        queued = set(queue)
        changed: set[Key] = set()
        low, high = self.low, self.high
        steps = 0
        limit = STEPS_PER_RELATION * (len(self.relations) + 1)
        while queue and steps < limit:
            steps += 1
            index = queue.popleft()
            queued.discard(index)
            relation = self.relations[index]
            total, parts = relation.total, relation.parts
            parts_low = sum(low[p] for p in parts)
            finite_high = sum(high[p] for p in parts if high[p] != math.inf)
            infinite_highs = sum(1 for p in parts if high[p] == math.inf)
            for key in relation.keys:
                if not self.cells[key].hidden:
                    continue
                if key == total:
                    new_low = parts_low
                    new_high = math.inf if infinite_highs or not relation.exact else finite_high
                else:
                    own_infinite = high[key] == math.inf
                    others_high = (
                        math.inf
                        if infinite_highs - own_infinite
                        else finite_high - (0 if own_infinite else high[key])
                    )
                    new_low = low[total] - others_high if relation.exact else 0
                    new_high = high[total] - (parts_low - low[key])
                # Figures that break a relation (a mistake elsewhere) must not send the
                # narrowing round in circles: a contradicting bound is not taken.
                new_low = min(new_low, high[key])
                new_high = max(new_high, low[key])
                moved = False
                if new_low > low[key]:
                    low[key], moved = new_low, True
                if new_high < high[key]:
                    high[key], moved = new_high, True
                if moved:
                    changed.add(key)
                    for other in self.by_cell.get(key, []):
                        if other != index and other not in queued:
                            queue.append(other)
                            queued.add(other)
        return changed

    def worked_out(self, key: Key) -> bool:
        return self.cells[key].hidden != "" and self.low[key] >= self.high[key]


def pinned(cells: dict[Key, Cell], relations: list[Relation]) -> list[Key]:
    """The small counts hidden in `cells` that a reader could work out exactly."""
    view = _View(cells, _usable(cells, relations))
    view.reset()
    return sorted(key for key, cell in cells.items() if cell.small and view.worked_out(key))


def _usable(cells: dict[Key, Cell], relations: list[Relation]) -> list[Relation]:
    """Relations over the cells there are: a cell not among them (a line a group does not
    have) is left out; a total that is not there makes the relation useless."""
    kept = []
    for relation in relations:
        if relation.total not in cells:
            continue
        keys = tuple(key for key in relation.keys if key in cells)
        if len(keys) > 1:
            kept.append(Relation(keys, relation.exact))
    return kept


def _rank(cells: dict[Key, Cell], relation: Relation, key: Key) -> tuple[int, int]:
    value = cells[key].value
    return (2 if key == relation.total else (0 if value > 0 else 1)), value


def _cell_to_withhold(view: _View, key: Key, taken: set[Key]) -> Key | None:
    cells = view.cells
    seen = {key}
    frontier = [key]
    while frontier:
        candidates: list[tuple[tuple[int, int], Key]] = []
        following = []
        for current in frontier:
            for index in view.by_cell.get(current, []):
                relation = view.relations[index]
                for other in relation.keys:
                    if other in seen or other in taken:
                        continue
                    seen.add(other)
                    if not cells[other].hidden:
                        candidates.append((_rank(cells, relation, other), other))
                    elif view.worked_out(other):
                        following.append(other)
        if candidates:
            return min(candidates)[1]
        frontier = following
    # Everything near is hidden already: say less of a cell shown as "fewer than 5".
    for index in view.by_cell.get(key, []):
        for other in view.relations[index].keys:
            if cells[other].hidden == FEWER and other not in taken:
                return other
    return None


def suppress(cells: dict[Key, Cell], relations: list[Relation]) -> None:
    """Withholds cells (in place) until no small count can be worked out, then shows again
    each withheld cell that protects nothing. Cells hold their primary suppression."""
    relations = _usable(cells, relations)
    view = _View(cells, relations)
    while True:
        view.reset()
        stuck = [key for key, cell in cells.items() if cell.small and view.worked_out(key)]
        chosen: set[Key] = set()
        touched: set[Key] = set()
        for key in sorted(stuck):
            # One sharing a relation with a cell just chosen may be freed by it: it waits
            # for the next round rather than costing another cell now.
            if key in touched:
                continue
            choice = _cell_to_withhold(view, key, chosen)
            if choice is not None:
                chosen.add(choice)
                for index in view.by_cell.get(choice, []) + view.by_cell.get(key, []):
                    touched.update(view.relations[index].keys)
        if not chosen:
            break
        for key in chosen:
            cells[key].hidden = WITHHELD
    _show_what_protects_nothing(view)


def _show_what_protects_nothing(view: _View) -> None:
    """Showing a cell only adds to what a reader knows, so the ranges narrowed with it
    hidden stay true once it is shown: each trial narrows from there, through the
    relations it touches only, and is undone if a small count becomes known."""
    cells = view.cells
    view.reset()
    already = {key for key, cell in cells.items() if cell.small and view.worked_out(key)}
    withheld = sorted(
        (key for key, cell in cells.items() if cell.hidden == WITHHELD and not cell.small),
        key=lambda key: (-cells[key].value, key),
    )
    for key in withheld:
        saved_low, saved_high = dict(view.low), dict(view.high)
        cells[key].hidden = ""
        view.low[key] = view.high[key] = cells[key].value
        changed = view.narrow(view.by_cell.get(key, []))
        if any(
            cells[other].small and view.worked_out(other) and other not in already
            for other in changed
        ):
            cells[key].hidden = WITHHELD
            view.low, view.high = saved_low, saved_high
