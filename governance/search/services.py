"""Rebuilding the search index (a derived copy: no governance record changes, no audit)."""

from __future__ import annotations

from governance.core.db import write_transaction
from governance.search.indexer import rebuild_index


async def reindex_everything() -> int:
    """Rebuilds the whole index from the records in one transaction (searches meanwhile
    see the old index until it commits); the number of rows written."""
    async with write_transaction():
        return await rebuild_index()
