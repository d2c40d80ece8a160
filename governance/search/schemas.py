"""The contracts of search: the query in, the results out, and every limit.

The page's form and the API's query string fill the same `SearchQuery`; both answer with
`SearchResults`. The query text is free text: no search syntax is offered, every word is
searched for as it is (queries.search_terms), so nothing a person types is an error.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec

from governance.core import contracts


class SearchKind(StrEnum):
    MEETING = "meeting"
    AGENDA_ITEM = "agenda_item"
    MINUTES = "minutes"
    DECISION = "decision"
    ACTION = "action"
    REPORT = "report"
    RESPONSE = "response"
    DOCUMENT = "document"
    RESOLUTION = "resolution"


SEARCH_KINDS: tuple[str, ...] = tuple(SearchKind)
KIND_LABELS: dict[str, str] = {
    SearchKind.MEETING: "Meeting",
    SearchKind.AGENDA_ITEM: "Agenda item",
    SearchKind.MINUTES: "Minutes",
    SearchKind.DECISION: "Decision",
    SearchKind.ACTION: "Action",
    SearchKind.REPORT: "Report",
    SearchKind.RESPONSE: "Response",
    SearchKind.DOCUMENT: "Document",
    SearchKind.RESOLUTION: "Written resolution",
}

QUERY_MAX_LENGTH = 200
# Words searched for at most; more words narrow nothing a person means and cost time.
MAX_TERMS = 12
DEFAULT_LIMIT = 20
MAX_LIMIT = 50
# How far the results can be paged: the cursor is the position of the next result.
MAX_CURSOR = 1000
SNIPPET_WORDS = 16

QueryText = Annotated[
    str,
    contracts.text(
        "Search for",
        max_length=QUERY_MAX_LENGTH,
        required_message="Type a word or two to search for.",
    ),
]
KindFilter = Annotated[
    str,
    contracts.choice("Kind", SEARCH_KINDS, required=False, description="Only records of this kind"),
]
GroupFilter = Annotated[
    str, contracts.text("Group", max_length=80, required=False, description="A group's slug")
]
FromFilter = Annotated[
    dt.date | None, contracts.labelled("From", required=False, description="On or after")
]
ToFilter = Annotated[
    dt.date | None, contracts.labelled("To", required=False, description="On or before")
]
Limit = Annotated[int, contracts.number("Results per page", minimum=1, maximum=MAX_LIMIT)]
Cursor = Annotated[int, contracts.number("Cursor", minimum=0, maximum=MAX_CURSOR)]


class SearchQuery(msgspec.Struct, kw_only=True):
    """What to search for, and where; empty filters mean any."""

    q: QueryText = ""
    kind: KindFilter = ""
    group: GroupFilter = ""
    date_from: FromFilter = None
    date_to: ToFilter = None
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = 0


# --- views ----------------------------------------------------------------------------------


class SearchHit(msgspec.Struct, kw_only=True):
    kind: str
    kind_label: str
    record_id: int
    title: str
    group_slug: str
    group_name: str
    date: str
    # HTML: the record's text escaped, with the matched words in <mark>.
    snippet_html: str
    url: str


class SearchResults(msgspec.Struct, kw_only=True):
    """One page of what this reader may read that matches, best first. There is no total:
    the page holds only readable rows, and `next_cursor` says whether more follow. It does
    not echo the query, so that every answer with no hits is the same answer."""

    hits: list[SearchHit]
    next_cursor: int | None = None
