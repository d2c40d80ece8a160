"""Pulse results tied to the record: the "Start a pulse" link for those who may start one,
and a run's results put on a coming meeting's agenda as a paper (a frozen snapshot with
only what the threshold allows, never the comments, read no wider than the run)."""

from __future__ import annotations

import datetime as dt

from governance.core.clock import utcnow
from governance.core.tables import AuditEvent
from governance.documents.tables import Document
from governance.meetings.schemas import AgendaItemDetails
from governance.meetings.services import add_agenda_item
from governance.pulses import services
from tests.factories import make_meeting, viewer_for
from tests.helpers import csrf_token, found, shown_after_refusal, sign_in
from tests.pulses.conftest import answers_for, import_staff, launch, links, make_pulse, questions


async def test_the_start_link_shows_only_to_those_who_may_start_a_pulse(cast, client):
    start = f'href="/groups/{cast.slug}/pulses/new"'
    for user, shown in (
        (cast.chair, True),
        (cast.secretary, True),
        (cast.member, False),
        (cast.director, False),
        (cast.board, False),
    ):
        await sign_in(client, user)
        page = await client.get("/pulses")
        assert page.status_code == 200
        assert (start in page.text) is shown and ("Start a pulse" in page.text) is shown


async def _answered_run(cast, *, theme="inclusion", visibility="internal", women=4, men=5):  # type: ignore[no-untyped-def]
    """A run where `women` and `men` answered (women scoring 2, men 5), each with a
    comment that must never leave the group."""
    await import_staff(women + men + 3)
    pulse_id = await make_pulse(cast, theme=theme, visibility=visibility)
    run_id = await launch(cast, pulse_id)
    qs = await questions(pulse_id)
    extra = {f"q{q.id}": "A private comment" for q in qs if q.kind == "comment"}
    gender = next((q for q in qs if q.kind == "demographic"), None)
    sent = sorted((await links(run_id)).values())
    for n, link in enumerate(sent[: women + men]):
        answer = dict(extra)
        if gender is not None:
            answer[f"q{gender.id}"] = "Woman" if n < women else "Man"
        form = answers_for(qs, score=2 if n < women else 5, extra=answer)
        await services.answer_pulse(link.rsplit("/", 1)[1], form)
    return run_id, sent[women + men :]


async def _post_paper(client, run_id: int, place: str):  # type: ignore[no-untyped-def]
    token = await csrf_token(client, f"/pulses/runs/{run_id}")
    return await client.post(
        f"/pulses/runs/{run_id}/paper", data={"place": place, "_csrf_token": token}
    )


async def test_the_chair_puts_a_snapshot_of_the_results_on_a_coming_meeting(cast, client):
    run_id, unanswered = await _answered_run(cast)
    meeting_id = await make_meeting(cast.slug, cast.chair, title="Coming meeting")
    await sign_in(client, cast.chair)
    page = await client.get(f"/pulses/runs/{run_id}")
    assert "Coming meeting" in page.text and f'value="{meeting_id}"' in page.text
    done = await _post_paper(client, run_id, str(meeting_id))
    assert done.status_code in (302, 303)
    document_id = int(done.headers["location"].rsplit("/", 1)[1])
    paper = found(await Document.objects().get(Document.id == document_id))
    assert paper.meeting == meeting_id and paper.agenda_item is None
    assert paper.media_type == "text/markdown" and paper.visibility == "internal"
    assert "run 1" in paper.title
    snapshot = (await client.get(f"/documents/{document_id}/content")).text
    assert "9 responses of 12 invited" in snapshot
    # The cut of four women shows nothing, nor the men's (it would give the women away);
    # the whole run's figures are there; no comment ever is.
    assert "Woman: not shown" in snapshot and "Man: not shown" in snapshot
    assert "mean 3.67" in snapshot
    assert "private comment" not in snapshot
    events = await AuditEvent.select(AuditEvent.action).where(
        (AuditEvent.entity_type == "document") & (AuditEvent.entity_id == str(document_id))
    )
    assert [e["action"] for e in events] == ["document.added"]
    # Frozen: a later answer changes the results page, not the paper.
    qs = await questions(paper_pulse_id := (await _pulse_of_run(run_id)))
    await services.answer_pulse(unanswered[0].rsplit("/", 1)[1], answers_for(qs, score=1))
    assert paper_pulse_id
    assert (await client.get(f"/documents/{document_id}/content")).text == snapshot
    assert "10 responses" in (await client.get(f"/pulses/runs/{run_id}")).text


async def _pulse_of_run(run_id: int) -> int:
    from governance.pulses.tables import PulseRun

    row = found(await PulseRun.select(PulseRun.pulse).where(PulseRun.id == run_id).first())
    return int(row["pulse"])


async def test_a_run_below_the_threshold_makes_a_paper_with_no_figure(cast, client):
    run_id, _ = await _answered_run(cast, women=2, men=2)
    meeting_id = await make_meeting(cast.slug, cast.chair)
    await sign_in(client, cast.chair)
    done = await _post_paper(client, run_id, str(meeting_id))
    document_id = int(done.headers["location"].rsplit("/", 1)[1])
    snapshot = (await client.get(f"/documents/{document_id}/content")).text
    assert "Not shown: fewer than 5 people answered" in snapshot
    assert "mean" not in snapshot and "Disagree" not in snapshot


async def test_a_board_only_run_makes_a_board_only_paper_the_director_never_sees(cast, client):
    run_id, _ = await _answered_run(cast, theme="wellbeing", visibility="board", women=0, men=6)
    meeting_id = await make_meeting(cast.slug, cast.chair, title="Board-facing meeting")
    await sign_in(client, cast.chair)
    done = await _post_paper(client, run_id, str(meeting_id))
    document_id = int(done.headers["location"].rsplit("/", 1)[1])
    paper = found(await Document.objects().get(Document.id == document_id))
    assert paper.visibility == "board"
    await sign_in(client, cast.board)
    assert (await client.get(f"/documents/{document_id}")).status_code == 200
    assert paper.title in (await client.get(f"/meetings/{meeting_id}")).text
    await sign_in(client, cast.director)
    assert (await client.get(f"/documents/{document_id}")).status_code == 404
    assert (await client.get(f"/documents/{document_id}/content")).status_code == 404
    meeting_page = await client.get(f"/meetings/{meeting_id}")
    assert meeting_page.status_code == 200
    assert paper.title not in meeting_page.text and "pulse-" not in meeting_page.text
    # Nor can the Director put it anywhere: the run is not there for them.
    assert (await _post_paper(client, run_id, str(meeting_id))).status_code == 404


async def test_a_paper_on_a_group_only_item_is_read_by_the_group_only(cast, client):
    run_id, _ = await _answered_run(cast, theme="wellbeing", women=0, men=5)
    meeting_id = await make_meeting(cast.slug, cast.chair)
    item_id = await add_agenda_item(
        meeting_id,
        AgendaItemDetails(title="Our own matters", visibility="group", notes=""),
        await viewer_for(cast.chair),
    )
    await sign_in(client, cast.chair)
    page = await client.get(f"/pulses/runs/{run_id}")
    assert f'value="{meeting_id}/{item_id}"' in page.text
    done = await _post_paper(client, run_id, f"{meeting_id}/{item_id}")
    document_id = int(done.headers["location"].rsplit("/", 1)[1])
    paper = found(await Document.objects().get(Document.id == document_id))
    assert paper.visibility == "group" and paper.agenda_item == item_id


async def test_only_a_coming_meeting_of_the_group_and_only_its_leader(cast, client):
    run_id, _ = await _answered_run(cast, theme="wellbeing", women=0, men=5)
    past = await make_meeting(
        cast.slug, cast.chair, starts_at=(utcnow() - dt.timedelta(days=3)).replace(microsecond=0)
    )
    await sign_in(client, cast.chair)
    for place in (str(past), "999999", "nonsense", "", f"{past}/x"):
        refused = await _post_paper(client, run_id, place)
        refused = await shown_after_refusal(client, refused)
        assert "There is a problem" in refused.text and 'href="#place"' in refused.text
    assert await Document.count() == 0
    coming = await make_meeting(cast.slug, cast.chair)
    for user, status in ((cast.member, 403), (cast.director, 403), (cast.stranger, 404)):
        await sign_in(client, user)
        assert (await _post_paper(client, run_id, str(coming))).status_code == status
        page = await client.get(f"/pulses/runs/{run_id}")
        assert "Add the results as a paper" not in page.text
    assert await Document.count() == 0


async def _draft(cast, title: str, route: str = "both") -> int:  # type: ignore[no-untyped-def]
    from governance.reports.schemas import ReportDraft
    from governance.reports.services import create_report

    draft = ReportDraft(kind="recommendation", title=title, body="Our advice.", route=route)
    return await create_report(cast.slug, draft, await viewer_for(cast.chair))


async def _post_annex(client, run_id: int, report_id: str):  # type: ignore[no-untyped-def]
    token = await csrf_token(client, f"/pulses/runs/{run_id}")
    return await client.post(
        f"/pulses/runs/{run_id}/annex", data={"report_id": report_id, "_csrf_token": token}
    )


async def test_a_draft_recommendation_quotes_the_results_with_no_suppressed_cut(cast, client):
    run_id, _ = await _answered_run(cast)
    report_id = await _draft(cast, "Flexible hours")
    await sign_in(client, cast.chair)
    page = await client.get(f"/pulses/runs/{run_id}")
    assert "Flexible hours (recommendation, draft)" in page.text
    # The Markdown to quote in the text holds the same figures, the cuts not shown.
    assert "Woman: not shown" in page.text and "mean 3.67" in page.text
    done = await _post_annex(client, run_id, str(report_id))
    assert done.status_code in (302, 303)
    document_id = int(done.headers["location"].rsplit("/", 1)[1])
    annex = found(await Document.objects().get(Document.id == document_id))
    assert annex.report == report_id and annex.visibility == "internal"
    content = (await client.get(f"/documents/{document_id}/content")).text
    assert "Woman: not shown" in content and "Man: not shown" in content
    headings = [line for line in content.splitlines() if line.startswith("####")]
    assert not any(": Woman" in h or ": Man" in h for h in headings)
    assert "private comment" not in content
    assert (await client.get(f"/reports/{report_id}")).status_code == 200
    assert annex.title in (await client.get(f"/reports/{report_id}")).text


async def test_an_annex_is_no_wider_than_the_run_nor_the_report(cast, client):
    run_id, _ = await _answered_run(cast, theme="wellbeing", visibility="board", women=0, men=5)
    report_id = await _draft(cast, "For everyone")
    await sign_in(client, cast.chair)
    done = await _post_annex(client, run_id, str(report_id))
    annex = found(
        await Document.objects().get(Document.id == int(done.headers["location"].rsplit("/", 1)[1]))
    )
    assert annex.visibility == "board"
    for refused in ("999999", "nonsense", ""):
        answer = await _post_annex(client, run_id, refused)
        answer = await shown_after_refusal(client, answer)
        assert 'href="#report_id"' in answer.text
    await sign_in(client, cast.member)
    assert (await _post_annex(client, run_id, str(report_id))).status_code == 403
    await sign_in(client, cast.director)
    assert (await _post_annex(client, run_id, str(report_id))).status_code == 404
    assert await Document.count() == 1
