"""Pulses: creating from the library, editing before the first run, the roster import,
launching, answering by a single-use link, reminders only to those who have not answered,
closing runs, and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.core.clock import organisation_today
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.core.tables import AuditEvent
from governance.pulses import jobs, queries, services
from governance.pulses.schemas import LIBRARY, NewQuestion, NewRun, QuestionChange
from governance.pulses.tables import PulseInvitation, PulseResponse, PulseRun, StaffMember
from tests.factories import make_user, viewer_for
from tests.pulses.conftest import (
    answers_for,
    import_staff,
    launch,
    links,
    make_pulse,
    questions,
    roster_csv,
    token_of,
)


async def test_a_pulse_starts_with_an_editable_copy_of_the_library(cast):
    pulse_id = await make_pulse(cast)
    qs = await questions(pulse_id)
    assert [q.prompt for q in qs] == [prompt for _, prompt, _ in LIBRARY["wellbeing"]]
    chair = await viewer_for(cast.chair)
    await services.change_question(
        qs[0].id,
        QuestionChange(prompt="My workload is fair.", options="\n".join(qs[0].options)),
        chair,
    )
    assert (await questions(pulse_id))[0].prompt == "My workload is fair."
    # The library itself is unchanged.
    assert LIBRARY["wellbeing"][0][1] == "My workload is manageable."
    assert await AuditEvent.count().where(AuditEvent.action == "pulse.question_changed") == 1


async def test_only_the_chair_or_secretary_manages_pulses(cast):
    with pytest.raises(PermissionDenied):
        await make_pulse_as(cast, cast.member)
    with pytest.raises(PermissionDenied):
        await make_pulse_as(cast, cast.director)


async def make_pulse_as(cast, user_id):  # type: ignore[no-untyped-def]
    from governance.pulses.schemas import NewPulse

    return await services.create_pulse(
        cast.group_id, NewPulse(title="X"), await viewer_for(user_id)
    )


async def test_bad_question_edits_name_every_problem(cast):
    pulse_id = await make_pulse(cast)
    qs = await questions(pulse_id)
    chair = await viewer_for(cast.chair)
    with pytest.raises(InvalidInput) as refused:
        await services.change_question(qs[0].id, QuestionChange(prompt="", options="a\nb"), chair)
    assert set(refused.value.field_errors) == {"prompt", "options"}
    with pytest.raises(InvalidInput) as refused:
        await services.add_question(
            pulse_id,
            NewQuestion(kind="demographic", prompt="Age?", options="Under 30\nPrefer not to say"),
            chair,
        )
    assert "always offered" in refused.value.field_errors["options"]
    with pytest.raises(InvalidInput):
        await services.add_question(pulse_id, NewQuestion(kind="comment", prompt="More?"), chair)


async def test_questions_are_frozen_once_a_run_starts(cast):
    await import_staff(3)
    pulse_id = await make_pulse(cast)
    await launch(cast, pulse_id)
    qs = await questions(pulse_id)
    with pytest.raises(ConflictError):
        await services.change_question(
            qs[0].id,
            QuestionChange(prompt="Changed", options="\n".join(qs[0].options)),
            await viewer_for(cast.chair),
        )


async def test_the_roster_import_stores_nothing_from_a_bad_file(cast):
    admin = await viewer_for(await make_user(admin=True))
    bad = b"email,name\ngood@example.org,Good\nnot-an-address,Bad\ngood@example.org,Twice\n"
    with pytest.raises(InvalidInput) as refused:
        await services.import_roster(bad, admin)
    problems = refused.value.field_errors["roster"]
    assert "Line 3" in problems and "Line 4" in problems
    assert await StaffMember.count() == 0
    with pytest.raises(InvalidInput):
        await services.import_roster(b"\xff\xfe", admin)
    with pytest.raises(PermissionDenied):
        await services.import_roster(roster_csv(2), await viewer_for(cast.chair))
    imported = await services.import_roster(roster_csv(3), admin)
    assert imported.added == 3
    again = await services.import_roster(roster_csv(2), admin)
    assert (again.added, again.deactivated, again.active) == (0, 1, 2)


async def test_a_run_sends_one_link_to_each_staff_address(cast):
    await import_staff(12)
    pulse_id = await make_pulse(cast)
    run_id = await launch(cast, pulse_id)
    sent = await links(run_id)
    assert len(sent) == 12 and len(set(sent.values())) == 12
    assert await PulseInvitation.count().where(PulseInvitation.run == run_id) == 12
    with pytest.raises(ConflictError):  # one open run at a time
        await launch(cast, pulse_id)
    with pytest.raises(InvalidInput):
        await services.launch_run(
            pulse_id, NewRun(closes_on=organisation_today()), await viewer_for(cast.chair)
        )


async def test_a_link_answers_once_and_the_answer_keeps_no_trace_of_it(cast):
    await import_staff(6)
    pulse_id = await make_pulse(cast)
    run_id = await launch(cast, pulse_id)
    qs = await questions(pulse_id)
    link = next(iter((await links(run_id)).values()))
    await services.answer_pulse(token_of(link), answers_for(qs))
    with pytest.raises(ConflictError) as refused:
        await services.answer_pulse(token_of(link), answers_for(qs))
    assert "used already" in refused.value.message
    assert await PulseResponse.count() == 1
    with pytest.raises(NotFoundError):
        await services.answer_pulse("0" * 64, answers_for(qs))
    # Answering writes no audit event and no email.
    assert await AuditEvent.count().where(AuditEvent.action.like("pulse.answer%")) == 0


async def test_a_bad_answer_names_every_question_and_uses_nothing(cast):
    await import_staff(5)
    pulse_id = await make_pulse(cast)
    run_id = await launch(cast, pulse_id)
    link = next(iter((await links(run_id)).values()))
    qs = await questions(pulse_id)
    with pytest.raises(InvalidInput) as refused:
        await services.answer_pulse(token_of(link), {f"q{qs[0].id}": "9"})
    scored = [q for q in qs if q.kind in ("scale", "enps", "choice")]
    assert set(refused.value.field_errors) == {f"q{q.id}" for q in scored}
    assert await PulseInvitation.count().where(PulseInvitation.used == True) == 0  # noqa: E712


async def test_a_closed_run_refuses_answers(cast):
    await import_staff(5)
    pulse_id = await make_pulse(cast)
    run_id = await launch(cast, pulse_id, days=3)
    link = next(iter((await links(run_id)).values()))
    report = await jobs.pulse_sweep(organisation_today() + dt.timedelta(days=4))
    assert report.closed == 1
    with pytest.raises(ConflictError) as refused:
        await services.answer_pulse(token_of(link), answers_for(await questions(pulse_id)))
    assert "closed" in refused.value.message
    assert await AuditEvent.count().where(AuditEvent.action == "pulse.run_closed") == 1
    assert (await jobs.pulse_sweep(organisation_today() + dt.timedelta(days=5))).closed == 0


async def test_one_reminder_goes_only_to_those_who_have_not_answered(cast):
    await import_staff(6)
    pulse_id = await make_pulse(cast)
    run_id = await launch(cast, pulse_id, days=5)
    sent = await links(run_id)
    qs = await questions(pulse_id)
    answered = sorted(sent)[:2]
    for email in answered:
        await services.answer_pulse(token_of(sent[email]), answers_for(qs))
    # Three days before close: nothing yet.
    assert (await jobs.pulse_sweep(organisation_today() + dt.timedelta(days=2))).reminded == 0
    two_before = organisation_today() + dt.timedelta(days=3)
    assert (await jobs.pulse_sweep(two_before)).reminded == 4
    reminded = set(await links(run_id, "pulse_reminder"))
    assert reminded == set(sent) - set(answered)
    # Once only, whatever the job's runs.
    assert (await jobs.pulse_sweep(two_before)).reminded == 0
    assert (await jobs.pulse_sweep(two_before + dt.timedelta(days=1))).reminded == 0
    # The reminder's link is the invitation's: it still answers once.
    one = sorted(reminded)[0]
    assert (await links(run_id, "pulse_reminder"))[one] == sent[one]


async def test_one_bad_run_does_not_stop_the_job(cast, monkeypatch):
    await import_staff(5)
    first = await launch(cast, await make_pulse(cast), days=1)
    second = await launch(cast, await make_pulse(cast, theme="inclusion"), days=1)
    original = jobs._remind

    async def broken(run):  # type: ignore[no-untyped-def]
        if run["id"] == first:
            raise RuntimeError("a bad row")
        return await original(run)

    monkeypatch.setattr(jobs, "_remind", broken)
    report = await jobs.pulse_sweep()
    assert report.failed == 1 and report.reminded == 5
    assert set(await links(second, "pulse_reminder"))


async def test_results_of_the_owning_group_include_comments(cast):
    await import_staff(6)
    pulse_id = await make_pulse(cast)
    run_id = await launch(cast, pulse_id)
    qs = await questions(pulse_id)
    comment = next(q for q in qs if q.kind == "comment")
    for n, link in enumerate(sorted((await links(run_id)).values())[:5]):
        await services.answer_pulse(
            token_of(link), answers_for(qs, score=1 + n, extra={f"q{comment.id}": f"note {n}"})
        )
    results = await queries.run_results(run_id, await viewer_for(cast.member))
    assert not results.suppressed and results.run.responses == 5
    assert results.questions[0].mean == 3.0
    assert results.response_rate == pytest.approx(83.3)
    assert results.comments == [f"note {n}" for n in range(5)]
    director = await queries.run_results(run_id, await viewer_for(cast.director))
    assert director.comments is None and director.questions[0].mean == 3.0
    enps = next(q for q in results.questions if q.kind == "enps")
    assert enps.enps == 0  # everyone answered 8: passives


async def test_visibility_of_runs(cast):
    await import_staff(5)
    board_pulse = await make_pulse(cast, visibility="board")
    run_id = await launch(cast, board_pulse)
    await queries.run_results(run_id, await viewer_for(cast.board))
    for outsider in (cast.director, cast.stranger, cast.other_group_member, cast.former):
        with pytest.raises(NotFoundError):
            await queries.run_results(run_id, await viewer_for(outsider))
        with pytest.raises(NotFoundError):
            await queries.pulse_page(board_pulse, await viewer_for(outsider))
        assert (await queries.pulse_list(await viewer_for(outsider))).pulses == []
    group_pulse = await make_pulse(cast, visibility="group")
    group_run = await launch(cast, group_pulse)
    with pytest.raises(NotFoundError):
        await queries.run_results(group_run, await viewer_for(cast.board))
    assert await PulseRun.count() == 2
