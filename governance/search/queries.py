"""The search query: full text per engine, the reader's visibility inside it.

The one raw SQL of search besides its migration. The reader's visibility is the condition
`accounts.scopes.search_entries` writes, compiled into the same statement as the match, so
a row the reader may not read is never matched, ranked, counted or cut into a snippet: a
search for a hidden record's exact title answers exactly as a search for nonsense does.

What a person types is never search syntax: it is cut into words (letters and digits) and
each word is searched for as it is, all of them required. On SQLite each word becomes a
quoted FTS5 string; on PostgreSQL the words go to `plainto_tsquery`. Quotes, `*`, `NEAR(`,
`:`, `AND`, `-` are plain text or separators, never an error.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from piccolo.querystring import QueryString

from governance.accounts import scopes
from governance.accounts.policy import Viewer
from governance.core.contracts import refuse
from governance.core.db import get_engine, is_postgres
from governance.core.urls import path_for
from governance.search.indexer import HIGHLIGHT_END, HIGHLIGHT_START
from governance.search.schemas import (
    KIND_LABELS,
    MAX_CURSOR,
    MAX_TERMS,
    SNIPPET_WORDS,
    SearchHit,
    SearchKind,
    SearchQuery,
    SearchResults,
)

_WORD = re.compile(r"[^\W_]+")
MAX_TERM_LENGTH = 64
TEXT_SEARCH_CONFIG = "simple"  # no stemming, no stop words: the same words as on SQLite
_HEADLINE_OPTIONS = (
    f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, "
    f"MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}, MaxFragments=1, "
    'FragmentDelimiter=" … "'
)
_COLUMNS = """search_entry.kind, search_entry.record_id, search_entry.link_id,
    search_entry.occurred_on, search_entry.title, working_group.slug AS group_slug,
    working_group.name AS group_name"""


def full_text_schema(*, postgres: bool) -> list[str]:
    """The statements that add full text to the index's table (its migration runs them).

    SQLite: an FTS5 table over `search_entry`'s title and body (external content, so the
    text is stored once), kept in step by triggers in the writing transaction. PostgreSQL:
    a generated `tsvector` (title weighted above body) with a GIN index."""
    if postgres:
        return [
            f"""ALTER TABLE search_entry ADD COLUMN IF NOT EXISTS document tsvector
            GENERATED ALWAYS AS (
                setweight(to_tsvector('{TEXT_SEARCH_CONFIG}', title), 'A')
                || setweight(to_tsvector('{TEXT_SEARCH_CONFIG}', body), 'B')
            ) STORED""",
            "CREATE INDEX IF NOT EXISTS search_entry_document ON search_entry USING GIN (document)",
        ]
    add, remove = (
        "INSERT INTO search_text (rowid, title, body) VALUES (new.id, new.title, new.body);",
        "INSERT INTO search_text (search_text, rowid, title, body) "
        "VALUES ('delete', old.id, old.title, old.body);",
    )
    return [
        """CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5(
            title, body, content='search_entry', content_rowid='id',
            tokenize='unicode61 remove_diacritics 0')""",
        f"CREATE TRIGGER IF NOT EXISTS search_entry_added AFTER INSERT ON search_entry "
        f"BEGIN {add} END",
        f"CREATE TRIGGER IF NOT EXISTS search_entry_removed AFTER DELETE ON search_entry "
        f"BEGIN {remove} END",
        f"CREATE TRIGGER IF NOT EXISTS search_entry_changed AFTER UPDATE ON search_entry "
        f"BEGIN {remove} {add} END",
    ]


def search_terms(text: str) -> list[str]:
    """The words searched for: letters and digits only, lower-cased, each once."""
    terms: list[str] = []
    for word in _WORD.findall(text.lower()):
        word = word[:MAX_TERM_LENGTH]
        if word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def fts5_match(terms: list[str]) -> str:
    """An FTS5 query requiring every term, each a quoted string (terms hold no quotes)."""
    return " ".join(f'"{term}"' for term in terms)


def render_snippet(snippet: str) -> str:
    """The snippet as HTML: its text escaped, then the engine's highlight marks (which
    the index never stores, see indexer._clean) turned into <mark> elements."""
    escaped = html.escape(snippet, quote=True)
    return escaped.replace(HIGHLIGHT_START, "<mark>").replace(HIGHLIGHT_END, "</mark>")


def _filters(query: SearchQuery) -> QueryString:
    """The reader's filters (kind, group, dates) as SQL; TRUE when there are none."""
    parts: list[QueryString] = []
    if query.kind:
        parts.append(QueryString("search_entry.kind = {}", query.kind))
    if query.group:
        parts.append(QueryString("working_group.slug = {}", query.group))
    if query.date_from:
        parts.append(QueryString("search_entry.occurred_on >= {}", query.date_from.isoformat()))
    if query.date_to:
        parts.append(QueryString("search_entry.occurred_on <= {}", query.date_to.isoformat()))
    if not parts:
        return QueryString("1 = 1")
    return QueryString(" AND ".join("{}" for _ in parts), *parts)


def _sqlite_search(terms: list[str], condition: Any, query: SearchQuery) -> QueryString:
    return QueryString(
        f"""SELECT {_COLUMNS},
            snippet(search_text, -1, {{}}, {{}}, ' … ', {{}}) AS snippet
        FROM search_text
        JOIN search_entry ON search_entry.id = search_text.rowid
        JOIN working_group ON working_group.id = search_entry.group_id
        WHERE search_text MATCH {{}} AND {{}} AND {{}}
        ORDER BY bm25(search_text, 4.0, 1.0), search_entry.occurred_on DESC, search_entry.id
        LIMIT {{}} OFFSET {{}}""",
        HIGHLIGHT_START,
        HIGHLIGHT_END,
        SNIPPET_WORDS,
        fts5_match(terms),
        condition.querystring,
        _filters(query),
        query.limit + 1,
        query.cursor,
    )


def _postgres_search(terms: list[str], condition: Any, query: SearchQuery) -> QueryString:
    # The page is chosen first (rank, then date); only its rows get a headline.
    return QueryString(
        f"""SELECT hits.*, ts_headline({{}}, hits.title || ' ' || hits.body, hits.terms, {{}})
            AS snippet
        FROM (
            SELECT {_COLUMNS}, search_entry.body, terms,
                ts_rank(search_entry.document, terms) AS rank, search_entry.id
            FROM search_entry
            JOIN working_group ON working_group.id = search_entry.group_id,
                plainto_tsquery({{}}, {{}}) AS terms
            WHERE search_entry.document @@ terms AND {{}} AND {{}}
            ORDER BY rank DESC, search_entry.occurred_on DESC, search_entry.id
            LIMIT {{}} OFFSET {{}}
        ) AS hits
        ORDER BY hits.rank DESC, hits.occurred_on DESC, hits.id""",
        TEXT_SEARCH_CONFIG,
        _HEADLINE_OPTIONS,
        TEXT_SEARCH_CONFIG,
        " ".join(terms),
        condition.querystring,
        _filters(query),
        query.limit + 1,
        query.cursor,
    )


def _url(row: Mapping[str, Any]) -> str:
    kind, link_id = row["kind"], row["link_id"]
    if kind in {SearchKind.REPORT, SearchKind.RESPONSE}:
        return path_for("reports:show", report_id=link_id)
    if kind == SearchKind.ACTION:
        return path_for("actions:show", action_id=link_id)
    if kind == SearchKind.DOCUMENT:
        return path_for("documents:show", document_id=link_id)
    if kind == SearchKind.RESOLUTION:
        return path_for("resolutions:show", resolution_id=link_id)
    anchor = {SearchKind.AGENDA_ITEM: "#item-"}
    suffix = f"{anchor[kind]}{row['record_id']}" if kind in anchor else ""
    return path_for("meetings:show", meeting_id=link_id) + suffix


def _hit(row: Mapping[str, Any]) -> SearchHit:
    return SearchHit(
        kind=row["kind"],
        kind_label=KIND_LABELS.get(row["kind"], row["kind"]),
        record_id=row["record_id"],
        title=row["title"],
        group_slug=row["group_slug"],
        group_name=row["group_name"],
        date=row["occurred_on"],
        snippet_html=render_snippet(row["snippet"] or ""),
        url=_url(row),
    )


async def group_choices() -> list[dict[str, Any]]:
    """Every group's name and slug, for the group filter (group names are not secret)."""
    rows = await get_engine().run_querystring(
        QueryString("SELECT name, slug FROM working_group ORDER BY name")
    )
    return list(rows)


def query_errors(query: SearchQuery) -> dict[str, str]:
    """What is wrong with a query beyond its fields' own limits."""
    if query.date_from and query.date_to and query.date_from > query.date_to:
        return {"date_to": "To must be on or after From."}
    return {}


async def search(query: SearchQuery, viewer: Viewer) -> SearchResults:
    """One page of the matches this viewer may read, best first (one query). A query with
    no words in it (only punctuation) matches nothing, like one that finds nothing."""
    refuse(query_errors(query), "The search was not understood.")
    terms = search_terms(query.q)
    if not terms:
        return SearchResults(hits=[])
    engine = get_engine()
    condition = scopes.search_entries(viewer)
    build = _postgres_search if is_postgres(engine) else _sqlite_search
    rows = await engine.run_querystring(build(terms, condition, query))
    hits = [_hit(row) for row in rows[: query.limit]]
    more = len(rows) > query.limit and query.cursor + query.limit <= MAX_CURSOR
    return SearchResults(hits=hits, next_cursor=query.cursor + query.limit if more else None)
