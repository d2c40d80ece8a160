"""The workflow of a transparency report: generate, refresh, write the narrative, approve,
publish; who may do each; who reads which edition; a published report never changes;
regenerating a published period makes a new version that names the one it supersedes."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.core.tables import AuditEvent, OutboundEmail
from governance.transparency import queries, services
from governance.transparency.editions import document, present
from governance.transparency.formats import verify
from governance.transparency.schemas import GenerateReport, NarrativeChange
from governance.transparency.tables import TransparencyReport
from tests.factories import viewer_for
from tests.transparency.transparency_data import Record, build_record, clock, london

__all__ = ["clock"]


@pytest.fixture
async def record(clock: None) -> Record:
    return await build_record()


async def _published(record: Record, edition: str = "public", scope: str = "wellbeing") -> int:
    maker = record.chair if scope != "organisation" else record.board
    viewer = await viewer_for(maker)
    generated = await services.generate_report(
        GenerateReport(scope=scope, period="2026-Q3", edition=edition), viewer
    )
    await services.approve_report(generated.report_id, viewer)
    await services.publish_report(generated.report_id, viewer)
    return generated.report_id


async def _events(action: str) -> list[dict]:
    return await AuditEvent.select().where(AuditEvent.action == action)


async def test_the_chair_generates_approves_and_publishes(record: Record) -> None:
    chair = await viewer_for(record.chair)
    generated = await services.generate_report(
        GenerateReport(scope="wellbeing", period="2026-Q3", edition="public"), chair
    )
    assert generated.created
    row = await queries.get_report(generated.report_id, chair)
    assert (row.status, row.version, row.supersedes) == ("draft", 1, None)
    assert row.content["groups"][0]["group_slug"] == "wellbeing"
    assert row.content["period"]["label"] == "2026-Q3"

    await services.update_narrative(
        generated.report_id, NarrativeChange(narrative="We met **six** times."), chair
    )
    await services.approve_report(generated.report_id, chair)
    digest = await services.publish_report(generated.report_id, chair)

    row = await queries.get_report(generated.report_id, None)  # anyone reads it now
    assert row.status == "published"
    assert row.content_hash == digest and len(digest) == 64
    assert row.published_by == record.chair and row.published_at is not None
    assert row.approved_by == record.chair
    # The hash covers the published document, narrative included, and can be checked.
    presented = present(row.content, "public")
    doc = document(presented, version=1, narrative="We met **six** times.")
    # ... and the audit chain's head at publication (its hash only, in the public edition).
    doc["audit_chain_head"] = {"hash": row.audit_head_hash}
    assert verify(doc, digest)
    assert not verify({**doc, "narrative": "Something else."}, digest)

    for action in ("transparency.generated", "transparency.narrative_updated"):
        assert len(await _events(action)) == 1
    (published_event,) = await _events("transparency.published")
    assert digest in published_event["summary"]
    # The head recorded is the event right before the one recording the publication.
    assert row.audit_head_sequence == published_event["sequence"] - 1
    assert row.audit_head_hash == published_event["previous_hash"]
    assert published_event["actor_id"] == record.chair
    # Every active Board member is told, once.
    mail = (
        await OutboundEmail.select()
        .where(OutboundEmail.template == "transparency_published")
        .output(load_json=True)
    )
    assert sorted(m["recipient"] for m in mail) == ["tr-board2@example.org", "tr-board@example.org"]
    assert all(m["context"]["sha256"] == digest for m in mail)


async def test_who_may_generate(record: Record) -> None:
    for person in (record.member, record.director, record.board, record.stranger, record.admin):
        with pytest.raises(PermissionDenied):
            await services.generate_report(
                GenerateReport(scope="wellbeing", period="2026-Q3", edition="public"),
                await viewer_for(person),
            )
    for person in (record.chair, record.secretary):
        await services.generate_report(
            GenerateReport(scope="wellbeing", period="2026-Q3", edition="board"),
            await viewer_for(person),
        )
    # The organisation: a Board member or an administrator; not a chair, not the Director.
    for person in (record.chair, record.director, record.member):
        with pytest.raises(PermissionDenied):
            await services.generate_report(
                GenerateReport(scope="organisation", period="2026-Q3", edition="public"),
                await viewer_for(person),
            )
    await services.generate_report(
        GenerateReport(scope="organisation", period="2026-Q3", edition="public"),
        await viewer_for(record.board),
    )
    admin_made = await services.generate_report(
        GenerateReport(scope="organisation", period="2026-Q3", edition="board"),
        await viewer_for(record.admin),
    )
    # An administrator is not a content role: the board edition they made is not theirs to read.
    with pytest.raises(NotFoundError):
        await queries.get_report(admin_made.report_id, await viewer_for(record.admin))


async def test_bad_input_is_refused_with_field_errors(record: Record) -> None:
    chair = await viewer_for(record.chair)
    with pytest.raises(InvalidInput) as bad_period:
        await services.generate_report(
            GenerateReport(scope="wellbeing", period="2026-H1", edition="public"), chair
        )
    assert "period" in bad_period.value.field_errors
    with pytest.raises(InvalidInput) as bad_edition:
        await services.generate_report(
            GenerateReport(scope="wellbeing", period="2026-Q3", edition="secret"), chair
        )
    assert "edition" in bad_edition.value.field_errors
    with pytest.raises(InvalidInput) as bad_scope:
        await services.generate_report(
            GenerateReport(scope="no-such-group", period="2026-Q3", edition="public"), chair
        )
    assert "scope" in bad_scope.value.field_errors
    with pytest.raises(InvalidInput):
        await services.generate_report(
            GenerateReport(scope="wellbeing", period="2027-Q1", edition="public"), chair
        )  # not begun
    assert await TransparencyReport.count() == 0


async def test_only_the_chair_approves_and_publishes_a_group_report(record: Record) -> None:
    secretary = await viewer_for(record.secretary)
    generated = await services.generate_report(
        GenerateReport(scope="wellbeing", period="2026-Q3", edition="board"), secretary
    )
    for person in (record.secretary, record.member, record.board):
        with pytest.raises((PermissionDenied, NotFoundError)):
            await services.approve_report(generated.report_id, await viewer_for(person))
    chair = await viewer_for(record.chair)
    with pytest.raises(ConflictError):  # approved before it is published
        await services.publish_report(generated.report_id, chair)
    await services.approve_report(generated.report_id, chair)
    with pytest.raises(PermissionDenied):
        await services.publish_report(generated.report_id, secretary)
    await services.publish_report(generated.report_id, chair)


async def test_a_board_member_approves_the_organisation_report(record: Record) -> None:
    admin = await viewer_for(record.admin)
    generated = await services.generate_report(
        GenerateReport(scope="organisation", period="2026-Q3", edition="public"), admin
    )
    with pytest.raises(PermissionDenied):
        await services.approve_report(generated.report_id, admin)
    # A group's chair does not read the organisation's drafts at all.
    with pytest.raises(NotFoundError):
        await services.approve_report(generated.report_id, await viewer_for(record.chair))
    board = await viewer_for(record.board2)
    await services.approve_report(generated.report_id, board)
    await services.publish_report(generated.report_id, board)
    row = await queries.get_report(generated.report_id, None)
    assert row.group is None and row.scope == "organisation"
    assert [g["group_slug"] for g in row.content["groups"]] == ["ndi", "wellbeing"]


async def test_a_period_is_approved_only_after_it_ends_with_figures_counted_after(
    record: Record,
) -> None:
    chair = await viewer_for(record.chair)
    running = await services.generate_report(
        GenerateReport(scope="wellbeing", period="2026-Q4", edition="public"), chair
    )
    with pytest.raises(ConflictError, match="has not ended"):
        await services.approve_report(running.report_id, chair)
    # Figures of the third quarter counted on its last day are refreshed before approval.
    with time_machine.travel(london(2026, 9, 30, 18), tick=False):
        early = await services.generate_report(
            GenerateReport(scope="wellbeing", period="2026-Q3", edition="public"), chair
        )
    with pytest.raises(ConflictError, match="before the period ended"):
        await services.approve_report(early.report_id, chair)
    refreshed = await services.refresh_report(early.report_id, chair)
    assert refreshed == services.Generated(early.report_id, created=False)
    await services.approve_report(early.report_id, chair)


async def test_changing_an_approved_report_withdraws_the_approval(record: Record) -> None:
    chair = await viewer_for(record.chair)
    generated = await services.generate_report(
        GenerateReport(scope="wellbeing", period="2026-Q3", edition="public"), chair
    )
    await services.approve_report(generated.report_id, chair)
    await services.update_narrative(
        generated.report_id, NarrativeChange(narrative="Second thoughts."), chair
    )
    row = await queries.get_report(generated.report_id, chair)
    assert (row.status, row.approved_by) == ("draft", None)
    await services.approve_report(generated.report_id, chair)
    again = await services.generate_report(
        GenerateReport(scope="wellbeing", period="2026-Q3", edition="public"), chair
    )
    assert again == services.Generated(generated.report_id, created=False)
    assert (await queries.get_report(generated.report_id, chair)).status == "draft"
    assert await TransparencyReport.count() == 1


async def test_a_published_report_never_changes(record: Record) -> None:
    report_id = await _published(record)
    before = await TransparencyReport.select().where(TransparencyReport.id == report_id).first()
    chair = await viewer_for(record.chair)
    attempts = [
        services.refresh_report(report_id, chair),
        services.update_narrative(
            report_id, NarrativeChange(narrative="Rewritten history."), chair
        ),
        services.approve_report(report_id, chair),
        services.publish_report(report_id, chair),
    ]
    for attempt in attempts:
        with pytest.raises(ConflictError):
            await attempt
    # Refused as well for the others who could change it before.
    for person in (record.secretary, record.board):
        with pytest.raises(ConflictError):
            await services.update_narrative(
                report_id, NarrativeChange(narrative="x"), await viewer_for(person)
            )
    after = await TransparencyReport.select().where(TransparencyReport.id == report_id).first()
    assert after == before
    assert len(await _events("transparency.published")) == 1


async def test_regenerating_a_published_period_makes_a_new_version(record: Record) -> None:
    first = await _published(record)
    chair = await viewer_for(record.chair)
    second = await services.generate_report(
        GenerateReport(scope="wellbeing", period="2026-Q3", edition="public"), chair
    )
    assert second.created and second.report_id != first
    row = await queries.get_report(second.report_id, chair)
    assert (row.version, row.supersedes, row.status) == (2, first, "draft")
    # Until the new version is published, the public sees version 1, not yet superseded.
    public_first = await queries.report_rendition(first, None)
    assert public_first.facts.superseded_by_version is None
    with pytest.raises(NotFoundError):
        await queries.get_report(second.report_id, None)
    # Generating again refreshes the draft version 2: still one new version.
    again = await services.generate_report(
        GenerateReport(scope="wellbeing", period="2026-Q3", edition="public"), chair
    )
    assert again == services.Generated(second.report_id, created=False)
    await services.approve_report(second.report_id, chair)
    await services.publish_report(second.report_id, chair)
    newer = await queries.report_rendition(second.report_id, None)
    older = await queries.report_rendition(first, None)
    assert (newer.facts.version, newer.facts.supersedes_version) == (2, 1)
    assert older.facts.superseded_by_version == 2
    assert newer.document["supersedes_version"] == 1
    assert verify(newer.document, newer.sha256)
    # Version 1 is untouched and still verifies.
    assert verify(older.document, older.sha256)
    third = await services.generate_report(
        GenerateReport(scope="wellbeing", period="2026-Q3", edition="public"), chair
    )
    third_row = await queries.get_report(third.report_id, chair)
    assert (third_row.version, third_row.supersedes) == (3, second.report_id)


async def test_who_reads_which_edition(record: Record) -> None:
    chair = await viewer_for(record.chair)
    board_draft = (
        await services.generate_report(
            GenerateReport(scope="wellbeing", period="2026-Q3", edition="board"), chair
        )
    ).report_id
    public_draft = (
        await services.generate_report(
            GenerateReport(scope="wellbeing", period="2026-Q3", edition="public"), chair
        )
    ).report_id
    org_board = (
        await services.generate_report(
            GenerateReport(scope="organisation", period="2026-Q3", edition="board"),
            await viewer_for(record.board),
        )
    ).report_id
    org_public = (
        await services.generate_report(
            GenerateReport(scope="organisation", period="2026-Q3", edition="public"),
            await viewer_for(record.board),
        )
    ).report_id
    readers = {
        "chair": (record.chair, {board_draft, public_draft}),
        "member": (record.member, {board_draft, public_draft}),
        "board": (record.board, {board_draft, public_draft, org_board, org_public}),
        # The Director never reads a board edition, nor a public one before it is published.
        "director": (record.director, set()),
        "other group": (record.other_chair, set()),
        "stranger": (record.stranger, set()),
        "admin": (record.admin, {org_public}),
    }
    for name, (person, expected) in readers.items():
        viewer = await viewer_for(person)
        listed = {row.id for row in await queries.list_reports(viewer)}
        assert listed == expected, name
        for report_id in {board_draft, public_draft, org_board, org_public} - expected:
            with pytest.raises(NotFoundError):
                await queries.get_report(report_id, viewer)
    assert await queries.list_reports(None) == []

    await services.approve_report(public_draft, chair)
    await services.publish_report(public_draft, chair)
    await services.approve_report(board_draft, chair)
    await services.publish_report(board_draft, chair)
    director = await viewer_for(record.director)
    assert {row.id for row in await queries.list_reports(director)} == {public_draft}
    with pytest.raises(NotFoundError):
        await queries.get_report(board_draft, director)
    assert [row.id for row in await queries.list_reports(None)] == [public_draft]


async def test_the_job_creates_each_periods_drafts_once(record: Record) -> None:
    from governance.transparency.jobs import create_transparency_drafts

    # The first day of the fourth quarter: the third quarter's drafts, for both groups and
    # the organisation, in both editions.
    with time_machine.travel(london(2026, 10, 1, 6), tick=True):
        first = await create_transparency_drafts()
        second = await create_transparency_drafts()
    assert len(first.created) == 6 and first.present == 0
    assert second.created == [] and second.present == 6
    rows = await TransparencyReport.select(
        TransparencyReport.group, TransparencyReport.period, TransparencyReport.edition
    )
    assert sorted((r["group"] or 0, r["period"], r["edition"]) for r in rows) == sorted(
        (group, "2026-Q3", edition)
        for group in (0, record.group_id, record.other_group_id)
        for edition in ("board", "public")
    )
    events = await _events("transparency.generated")
    assert len(events) == 6 and all(e["actor_label"] == "system" for e in events)

    # A draft made on demand is never duplicated; on 1 January the quarter and the year.
    with time_machine.travel(london(2027, 1, 1, 6), tick=True):
        await services.generate_report(
            GenerateReport(scope="wellbeing", period="2026-Q4", edition="public"),
            await viewer_for(record.chair),
        )
        new_year = await create_transparency_drafts()
        again = await create_transparency_drafts()
    assert len(new_year.created) == 11 and new_year.present == 1
    assert again.created == []
    periods = [r["period"] for r in await TransparencyReport.select(TransparencyReport.period)]
    assert periods.count("2026-Q4") == 6 and periods.count("2026") == 6


async def test_the_job_skips_groups_begun_after_the_period(record: Record) -> None:
    from governance.transparency.jobs import create_transparency_drafts
    from tests.factories import make_group

    with time_machine.travel(london(2026, 10, 20, 9), tick=False):
        await make_group(slug="late", name="A group begun in October")
    with time_machine.travel(london(2026, 10, 21, 6), tick=True):
        report = await create_transparency_drafts()
    assert not any(entry.startswith("late ") for entry in report.created)
    assert len(report.created) == 6


async def test_a_report_stays_readable_when_figures_are_checked_again(record: Record) -> None:
    """The board edition keeps every figure; the public one shows the group's activity
    however small (issue 16) and counts only public and internal records."""
    chair = await viewer_for(record.chair)
    board = await services.generate_report(
        GenerateReport(scope="wellbeing", period="2026-Q3", edition="board"), chair
    )
    public = await services.generate_report(
        GenerateReport(scope="wellbeing", period="2026-Q3", edition="public"), chair
    )
    board_item = await queries.report_rendition(board.report_id, chair)
    public_item = await queries.report_rendition(public.report_id, chair)
    wellbeing_board = board_item.presented.groups[0]
    wellbeing_public = public_item.presented.groups[0]
    assert wellbeing_board.get("meetings_cancelled").display == "1"
    assert wellbeing_public.get("meetings_cancelled").display == "1"
    assert wellbeing_board.get("decisions").value == 7  # one on a Board-only item
    assert wellbeing_public.get("decisions").value == 6
    assert dt.date.fromisoformat(public_item.presented.ends_on) == dt.date(2026, 9, 30)
