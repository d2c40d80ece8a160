"""Results with suppression: nothing from fewer than the threshold's responses, in a run or
a cut, including a cut that the run's total less the other cuts would give away; on every
route and in the CSV."""

from __future__ import annotations

import pytest

from governance.pulses import queries, results, services
from governance.pulses.schemas import NOT_STATED
from governance.transparency.suppression import FEWER, WITHHELD
from tests.factories import viewer_for
from tests.helpers import sign_in
from tests.pulses.conftest import answers_for, import_staff, launch, links, make_pulse, questions


def test_a_small_cut_is_hidden_and_so_is_what_would_give_it_away():
    hidden = results.hidden_cuts({"A": 6, "B": 4, NOT_STATED: 0}, 10, 5)
    assert hidden == {"B": FEWER, "A": WITHHELD}


def test_hidden_cuts_together_are_never_fewer_than_the_threshold():
    hidden = results.hidden_cuts({"A": 6, "B": 7, "C": 3, NOT_STATED: 0}, 16, 5)
    assert hidden["C"] == FEWER
    assert sum({"A": 6, "B": 7, "C": 3}[k] for k in hidden) >= 5
    assert results.hidden_cuts({"A": 5, "B": 5, NOT_STATED: 5}, 15, 5) == {}


def test_the_threshold_can_be_raised_never_lowered_below_three(tmp_path):
    from governance.settings import SettingsError, load_settings

    base = {"GOVERNANCE_SECRET_KEY": "k" * 32, "GOVERNANCE_DATA_DIR": str(tmp_path)}
    assert load_settings({**base, "GOVERNANCE_PULSE_MIN_RESPONSES": "8"}).pulse_min_responses == 8
    with pytest.raises(SettingsError):
        load_settings({**base, "GOVERNANCE_PULSE_MIN_RESPONSES": "2"})


async def _inclusion_run(cast, women: int, men: int) -> tuple[int, list]:
    await import_staff(women + men + 2)
    pulse_id = await make_pulse(cast, theme="inclusion")
    run_id = await launch(cast, pulse_id)
    qs = await questions(pulse_id)
    gender = next(q for q in qs if q.kind == "demographic")
    sent = sorted((await links(run_id)).values())
    for n, link in enumerate(sent[: women + men]):
        answer = "Woman" if n < women else "Man"
        await services.answer_pulse(
            link.rsplit("/", 1)[1],
            answers_for(qs, score=2 if n < women else 5, extra={f"q{gender.id}": answer}),
        )
    return run_id, qs


async def test_a_cut_of_four_shows_nothing_nor_does_its_complement(cast, client):
    run_id, _ = await _inclusion_run(cast, women=4, men=5)
    view = await queries.run_results(run_id, await viewer_for(cast.chair))
    assert not view.suppressed and view.run.responses == 9
    cuts = {cut.option: cut for cut in view.cuts if cut.question.startswith("How would")}
    assert cuts["Woman"].suppressed and cuts["Woman"].questions == []
    # Men alone would give the women's mean away (all less men): withheld too.
    assert cuts["Man"].suppressed and cuts["Man"].questions == []
    # The comments never sit next to a cut; none were given here.
    assert view.comments == []
    await sign_in(client, cast.chair)
    page = await client.get(f"/pulses/runs/{run_id}")
    assert page.status_code == 200 and "fewer than 5" in page.text
    csv = (await client.get(f"/pulses/runs/{run_id}/results.csv")).text
    woman_rows = [line for line in csv.splitlines() if "= Woman" in line]
    assert woman_rows and all(",2.0," not in line for line in woman_rows)
    assert any("fewer than 5" in line for line in woman_rows)
    api = (await client.get(f"/api/v1/pulses/runs/{run_id}/results")).json()
    api_cuts = {c["option"]: c for c in api["cuts"] if c["question"].startswith("How would")}
    assert api_cuts["Woman"]["questions"] == [] and api_cuts["Man"]["questions"] == []


async def test_a_run_below_the_threshold_shows_no_figure(cast, client):
    await import_staff(6)
    pulse_id = await make_pulse(cast)
    run_id = await launch(cast, pulse_id)
    qs = await questions(pulse_id)
    for link in sorted((await links(run_id)).values())[:4]:
        await services.answer_pulse(link.rsplit("/", 1)[1], answers_for(qs))
    view = await queries.run_results(run_id, await viewer_for(cast.chair))
    assert view.suppressed and view.questions == [] and view.cuts == [] and view.comments is None
    await sign_in(client, cast.chair)
    api = (await client.get(f"/api/v1/pulses/runs/{run_id}/results")).json()
    assert api["questions"] == [] and api["suppressed"] is True
    csv = (await client.get(f"/pulses/runs/{run_id}/results.csv")).text
    assert "fewer than 5" in csv and "4.0" not in csv
    trend = (await client.get(f"/api/v1/pulses/{pulse_id}/trend")).json()
    assert trend[0]["responses"] is None and all(v is None for v in trend[0]["means"].values())
