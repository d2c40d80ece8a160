"""One bad item never stops a scheduled job.

Every job (reminders, digests, the reporting schedule, transparency drafts, outbox
delivery) walks through many items. Each item is processed inside `skipping(...)` of the
job's report: an item that raises is logged with what it is (its id), counted, and skipped,
and the job goes on with the next. The job's summary says how many were skipped, and the
scheduler logs a warning for a run that skipped any.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

# Enough to find the bad rows in the log summary without a huge line.
MAX_NAMED_FAILURES = 20


@dataclass
class SkippedItems:
    """What a job could not process: how many items, and the first few of them by id."""

    failed: int = 0
    failed_items: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def skipping(self, item: str) -> Iterator[None]:
        """Runs the block for one item; if it raises, logs the item and the error, counts
        it, and carries on after the block. Cancellation is not caught."""
        try:
            yield
        except Exception:
            logger.exception("Skipped %s: it could not be processed", item)
            self.count_failure(item)

    def count_failure(self, item: str) -> None:
        self.failed += 1
        if len(self.failed_items) < MAX_NAMED_FAILURES:
            self.failed_items.append(item)

    def add_failures(self, other: SkippedItems) -> None:
        for item in other.failed_items:
            self.count_failure(item)
        self.failed += other.failed - len(other.failed_items)

    def failures_summary(self) -> str:
        if not self.failed:
            return "0 failed"
        return f"{self.failed} failed ({', '.join(self.failed_items)})"
