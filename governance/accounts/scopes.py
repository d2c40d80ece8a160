"""Visibility as query conditions: the only place where they are written.

Each function answers "which rows of this kind may this viewer read?" as a Piccolo
condition, built from the decisions in `accounts/policy.py`, so that a query never fetches
a row its reader may not see, and a row its reader may not see is "not found", exactly like
one that does not exist, at the cost of the same single query. A few checks on one record
already in hand (may this person own this action?) are here too, as plain functions, so
that no other module compares visibilities itself.

The shape of every condition is one OR-clause per set of visibilities: the groups the
viewer is a member of (grouped by what they may read there), then every other group (what
the viewer reads as Director or Board member, nothing for anyone else).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from governance.accounts.policy import BOARD_READS, DIRECTOR_READS, GroupRole, Viewer, Visibility

# Serial ids start at 1: a list with this id in it matches no group, which keeps
# `not_in([])` (invalid SQL on some engines) out of the queries.
NO_GROUP = 0

# What each transparency edition counts, by the records' own visibility. The public
# edition counts what the Director may read, so that no figure the Director reads is
# drawn from Board-only records.
EDITION_COUNTS: dict[str, frozenset[str]] = {
    "board": BOARD_READS,
    "public": DIRECTOR_READS,
}


def _groups_by_visibilities(viewer: Viewer) -> dict[frozenset[str], list[int]]:
    by_visibilities: dict[frozenset[str], list[int]] = defaultdict(list)
    for group_id in viewer.group_roles:
        by_visibilities[viewer.readable_visibilities(group_id)].append(group_id)
    return by_visibilities


def _none(column: Any) -> Any:
    """A condition no row meets, in the column's own terms."""
    return column.is_in([NO_GROUP])


def readable(
    viewer: Viewer,
    group_column: Any,
    visibility_column: Any,
    *,
    outsiders_also: Any = None,
) -> Any:
    """The rows whose group and visibility this viewer may read.

    `outsiders_also` narrows what the viewer reads of groups they are not a member of
    (for example: reports only once submitted).
    """
    condition: Any = None
    for visibilities, group_ids in _groups_by_visibilities(viewer).items():
        if visibilities:
            clause = group_column.is_in(sorted(group_ids)) & visibility_column.is_in(
                sorted(visibilities)
            )
            condition = clause if condition is None else condition | clause
    outside = viewer.outsider_visibilities()
    if outside:
        clause = group_column.not_in(sorted(viewer.group_roles) or [NO_GROUP])
        clause = clause & visibility_column.is_in(sorted(outside))
        if outsiders_also is not None:
            clause = clause & outsiders_also
        condition = clause if condition is None else condition | clause
    return condition if condition is not None else _none(group_column)


def readable_in_group(viewer: Viewer, group_id: int, visibility_column: Any) -> Any:
    """The rows of one group's content this viewer may read (an agenda, its errata)."""
    visibilities = viewer.readable_visibilities(group_id)
    return visibility_column.is_in(sorted(visibilities) or [""])


def public_only(visibility_column: Any) -> Any:
    """The rows that may be published (public versions of approved minutes)."""
    return visibility_column == Visibility.PUBLIC


def not_public(visibility_column: Any) -> Any:
    return visibility_column != Visibility.PUBLIC


def counted_in_edition(visibility_column: Any, edition: str) -> Any:
    """The rows a transparency edition counts."""
    return visibility_column.is_in(sorted(EDITION_COUNTS[edition]))


def confidential_counted(visibility_column: Any, edition: str = "public") -> Any:
    """The confidential (not public) matters a number may count for the readers of that
    edition: for the public edition and public minutes, which the Director reads, only
    what the Director reads too (a count with the Board-only matters in it would tell the
    Director, by difference, that there are some); never the group-only ones."""
    return counted_in_edition(visibility_column, edition) & not_public(visibility_column)


def edition_visibilities(edition: str) -> list[str]:
    return sorted(EDITION_COUNTS[edition])


# --- one kind of record each ------------------------------------------------------------
# Each imports its tables when called: accounts sits below every other domain, and these
# conditions are about their rows, so the import points from the call, not the module.


def actions(viewer: Viewer) -> Any:
    """Action items: by group and visibility, and whatever the viewer owns."""
    from governance.actions.tables import ActionItem, ActionOwner

    owned = ActionItem.id.is_in(
        ActionOwner.select(ActionOwner.action).where(ActionOwner.user == viewer.user.id)
    )
    return owned | readable(viewer, ActionItem.group, ActionItem.visibility)


def agenda_items(viewer: Viewer) -> Any:
    """Agenda items of any group's meetings (calendars, digests, search)."""
    from governance.meetings.tables import AgendaItem

    return readable(viewer, AgendaItem.meeting.group, AgendaItem.visibility)


def decisions(viewer: Viewer) -> Any:
    """Decisions, as their agenda item's visibility and their meeting's group allow (the
    decision register)."""
    from governance.meetings.tables import Decision

    return readable(viewer, Decision.meeting.group, Decision.agenda_item.visibility)


def resolutions(viewer: Viewer) -> Any:
    """Written resolutions, by their group and visibility (a Board-only one never reaches
    the Director: not in a list, a count, the register or the minutes)."""
    from governance.resolutions.tables import WrittenResolution

    return readable(viewer, WrittenResolution.group, WrittenResolution.visibility)


# --- meetings ---


def proceedings(viewer: Viewer, group_column: Any) -> Any:
    """The groups whose proceedings this viewer may read (their meetings; each item as its
    visibility allows): the groups they are a member of, and every group for the Director
    and the Board."""
    if viewer.outsider_visibilities():
        return group_column.not_in([NO_GROUP])
    return group_column.is_in(sorted(viewer.group_roles) or [NO_GROUP])


def meetings(viewer: Viewer) -> Any:
    """Meetings of the groups whose proceedings this viewer may read."""
    from governance.meetings.tables import Meeting

    return proceedings(viewer, Meeting.group)


def reports(viewer: Viewer) -> Any:
    """Reports: all of their own groups' (drafts too); other groups' once submitted, at the
    visibilities the viewer's organisation role reads."""
    from governance.reports.tables import Report

    return readable(
        viewer, Report.group, Report.visibility, outsiders_also=Report.status == "submitted"
    )


def deliveries(viewer: Viewer) -> Any:
    """Deliveries whose report this viewer may read."""
    from governance.reports.tables import Delivery

    return readable(
        viewer,
        Delivery.report.group,
        Delivery.report.visibility,
        outsiders_also=Delivery.report.status == "submitted",
    )


def board_proposals(viewer: Viewer) -> Any:
    """Proposed Board responses this viewer may read: a current Board member's, of the
    deliveries whose report they may read. Nobody else reads them, not even the group that
    sent the report, and never the Director: the Board's deliberation is its own until the
    response is recorded (then the delivery says it)."""
    from governance.reports.tables import BoardResponseProposal

    if not viewer.user.is_board:
        return _none(BoardResponseProposal.id)
    report = BoardResponseProposal.delivery._.report
    return (BoardResponseProposal.delivery._.recipient == "board") & readable(
        viewer, report._.group, report._.visibility, outsiders_also=report._.status == "submitted"
    )


def documents(viewer: Viewer) -> Any:
    """Documents (papers and annexes) this viewer may read: their own visibility (which
    only narrows their holder's) and, in the same condition, what holds them as it is now:
    an agenda item's visibility, a report as `reports` reads it (other groups' only once
    submitted), a written resolution's visibility, draft minutes' annexes only for the
    group's chair and secretary, who alone read the draft's text. A document its reader
    may not read is not found, in the same one query as a document that does not exist."""
    from governance.documents.tables import Document

    item = Document.agenda_item.is_null() | readable(
        viewer, Document.group, Document.agenda_item.visibility
    )
    report = Document.report.is_null() | readable(
        viewer,
        Document.report.group,
        Document.report.visibility,
        outsiders_also=Document.report.status == "submitted",
    )
    resolution = Document.resolution.is_null() | readable(
        viewer, Document.group, Document.resolution.visibility
    )
    led = sorted(group_id for group_id in viewer.group_roles if viewer.leads(group_id))
    minutes = (
        Document.minutes.is_null()
        | (Document.minutes.status != "draft")
        | Document.group.is_in(led or [NO_GROUP])
    )
    own = readable(viewer, Document.group, Document.visibility)
    return own & item & report & resolution & minutes


def narrowed_visibilities(holder_visibility: str) -> list[str]:
    """The visibilities a document held by something of this visibility may have."""
    return [value for value in Visibility if narrows(holder_visibility, value)]


# --- search ---


def search_entries(viewer: Viewer) -> Any:
    """Rows of the search index (search.tables.SearchEntry) this viewer may read: each kind
    by the same rule as the records it copies, from the group, visibility and status the
    row carries. The search query applies it, so a hidden row is never matched, counted,
    ranked or shown."""
    from governance.actions.tables import ActionOwner
    from governance.search.tables import SearchEntry as Entry

    def kind(*names: str) -> Any:
        return Entry.kind.is_in(list(names))

    by_item = readable(viewer, Entry.group_id, Entry.visibility)
    owned = Entry.record_id.is_in(
        ActionOwner.select(ActionOwner.action).where(ActionOwner.user == viewer.user.id)
    )
    # Draft minutes are read by those who write them, the group's chair and secretary.
    led = [group_id for group_id in sorted(viewer.group_roles) if viewer.leads(group_id)]
    minutes_text = (Entry.status != "draft") | Entry.group_id.is_in(led or [NO_GROUP])
    submitted = readable(
        viewer, Entry.group_id, Entry.visibility, outsiders_also=Entry.status == "submitted"
    )
    # A paper's row carries the narrower of its and its holder's visibility, and its
    # holder's status: a report's annexes follow the report, draft minutes' the draft.
    paper = readable(
        viewer,
        Entry.group_id,
        Entry.visibility,
        outsiders_also=Entry.status.not_like("report:%") | (Entry.status == "report:submitted"),
    ) & ((Entry.status != "minutes:draft") | Entry.group_id.is_in(led or [NO_GROUP]))
    return (
        (kind("meeting") & proceedings(viewer, Entry.group_id))
        # A written resolution is read as scopes.resolutions reads it: group, visibility.
        | (kind("agenda_item", "decision", "resolution") & by_item)
        | (kind("document") & paper)
        | (kind("minutes") & by_item & minutes_text)
        | (kind("action") & (owned | by_item))
        | (kind("report", "response") & submitted)
    )


# --- the trail of changes and the outbox ---
# Audit events and outbox rows carry the group and visibility of the record they are about,
# recorded when they are written (core.audit.EventScope); their lists apply the reader's
# visibility to those like every other list: a Board-only record's events and emails are
# listed only for the readers of the Board line, a group-only record's only for the group.


def _scoped(viewer: Viewer, group_column: Any, visibility_column: Any) -> Any:
    """Rows about no group content (no visibility), and those about content this viewer
    reads: of their own groups, anything; of any other group or of the whole organisation
    (no group), the visibilities whose events they may see (`metadata_visibilities`)."""
    condition = visibility_column.is_null()
    for visibilities, group_ids in _groups_by_visibilities(viewer).items():
        condition = condition | (
            group_column.is_in(sorted(group_ids)) & visibility_column.is_in(sorted(visibilities))
        )
    outside = viewer.metadata_visibilities()
    if outside:
        elsewhere = group_column.not_in(sorted(viewer.group_roles) or [NO_GROUP])
        condition = condition | (
            (elsewhere | group_column.is_null()) & visibility_column.is_in(sorted(outside))
        )
    return condition


def audit_events(viewer: Viewer) -> Any:
    """Events of the audit trail this viewer may see listed."""
    from governance.core.tables import AuditEvent

    return _scoped(viewer, AuditEvent.group_id, AuditEvent.visibility)


def outbox(viewer: Viewer) -> Any:
    """Emails of the outbox this viewer (an administrator) may see listed and retry."""
    from governance.core.tables import OutboundEmail

    return _scoped(viewer, OutboundEmail.group_id, OutboundEmail.visibility)


# --- transparency ---
# A transparency report has an edition, not a visibility: the board edition counts
# Board-only matters, so it is read by the Board and, for a group's report, the group's
# current members; never by the Director as such. The public edition is read by anyone
# once published, and before that by the readers of the board edition and those who
# manage the report.


def transparency_readers(edition: str, published: bool) -> str:
    """The visibility whose readers read a transparency report of that edition (for its
    audit events and emails): a published public edition is anyone's; anything else, the
    Board's and the group's, never the Director's as such."""
    if edition == "public" and published:
        return Visibility.PUBLIC
    return Visibility.BOARD


def manages_transparency(viewer: Viewer | None, group_id: int | None) -> bool:
    """Generates, refreshes and writes the narrative of a group's transparency reports
    (its chair or secretary) or, with no group, the organisation's (a Board member or an
    administrator)."""
    if viewer is None:
        return False
    if group_id is None:
        return viewer.user.is_board or viewer.user.is_admin
    return viewer.leads(group_id)


def approves_transparency(viewer: Viewer | None, group_id: int | None) -> bool:
    """Approves and publishes: the group's chair; for the organisation, a Board member."""
    if viewer is None:
        return False
    if group_id is None:
        return viewer.user.is_board
    return viewer.group_roles.get(group_id) == GroupRole.CHAIR


def transparency_reports(viewer: Viewer | None) -> Any:
    """Transparency reports this reader may read (None: anyone, without signing in)."""
    from governance.transparency.tables import TransparencyReport

    published_public = (TransparencyReport.edition == "public") & (
        TransparencyReport.status == "published"
    )
    if viewer is None:
        return published_public
    if viewer.user.is_board:
        # Every board edition, and every public edition at any status.
        return published_public | TransparencyReport.edition.is_in(sorted(EDITION_COUNTS))
    condition = published_public | TransparencyReport.group.is_in(
        sorted(viewer.group_roles) or [NO_GROUP]
    )
    if manages_transparency(viewer, None):
        # An administrator manages the organisation's reports; reads its public edition.
        condition = condition | (
            TransparencyReport.group.is_null() & (TransparencyReport.edition == "public")
        )
    return condition


# --- checks on one record in hand -------------------------------------------------------


def may_read(viewer: Viewer, group_id: int, visibility: str) -> bool:
    """Whether this viewer may read content of that group at that visibility."""
    return visibility in viewer.readable_visibilities(group_id)


def reads_group_content(viewer: Viewer, group_id: int) -> bool:
    """Whether this viewer may read any of the group's content (members, Director, Board)."""
    return bool(viewer.readable_visibilities(group_id))


def may_read_report(viewer: Viewer, group_id: int, visibility: str, status: str) -> bool:
    if viewer.is_member_of(group_id):
        return True
    return status == "submitted" and visibility in viewer.outsider_visibilities()


def narrows(outer: str, inner: str) -> bool:
    """Whether `inner` is at most as widely read as `outer` (a paper of an agenda item, a
    follow-up of a report): whoever may read `inner` may read `outer`."""
    return _READERS[Visibility(inner)] <= _READERS[Visibility(outer)]


def is_board_only(visibility: str) -> bool:
    return visibility == Visibility.BOARD


# Who reads each visibility, as a set of kinds of reader; used to compare two visibilities.
_READERS: dict[Visibility, frozenset[str]] = {
    Visibility.PUBLIC: frozenset({"public", "member", "director", "board"}),
    Visibility.INTERNAL: frozenset({"member", "director", "board"}),
    Visibility.BOARD: frozenset({"member", "board"}),
    Visibility.GROUP: frozenset({"member"}),
}


# --- pulses -----------------------------------------------------------------------------


def pulses(viewer: Viewer) -> Any:
    """Pulses, by their group and the visibility their runs' results take."""
    from governance.pulses.tables import Pulse

    return readable(viewer, Pulse.group, Pulse.visibility)


def pulse_runs(viewer: Viewer) -> Any:
    """A pulse's runs: the results are read by the group, and by the Director and the Board
    at the run's visibility. Nobody reads a response."""
    from governance.pulses.tables import PulseRun

    return readable(viewer, PulseRun.pulse.group, PulseRun.visibility)


def reads_pulse_comments(viewer: Viewer, group_id: int) -> bool:
    """Free-text comments are read by the owning group's current members only."""
    return viewer.is_member_of(group_id)
