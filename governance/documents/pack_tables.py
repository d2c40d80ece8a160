"""The meeting pack's cache: which built pack (a stored content, by SHA-256) answers which
cache key. The key is a SHA-256 over everything a pack is made of (documents/pack.py
`cache_key`), so readers who see the same thing share a row, any change makes a new one,
and several web processes share the cache through the database."""

from __future__ import annotations

from piccolo.columns import BigInt, Serial, Timestamptz, Varchar
from piccolo.table import Table


class MeetingPack(Table, tablename="meeting_pack"):
    id = Serial(primary_key=True)
    cache_key = Varchar(length=64, unique=True, index=True)
    # The built PDF, stored like any document content (DocumentContent, DocumentBlob).
    sha256 = Varchar(length=64)
    size = BigInt(default=0)
    page_count = BigInt(default=0)
    created_at = Timestamptz()
