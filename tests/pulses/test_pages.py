"""Pulse pages through the app: the answer form by link with no sign-in (second use and a
closed run refused clearly), the chair's pages, the roster upload, and who sees what."""

from __future__ import annotations

import re

from governance.pulses.tables import Pulse, PulseResponse
from tests.factories import make_user
from tests.helpers import csrf_token, shown_after_refusal, sign_in
from tests.pulses.conftest import import_staff, launch, links, make_pulse, questions, roster_csv


async def _answer(client, link: str, form: dict[str, str]):  # type: ignore[no-untyped-def]
    path = link.removeprefix("http://testserver")
    page = await client.get(path)
    assert page.status_code == 200
    token = await csrf_token(client, path)
    return await client.post(path, data={**form, "_csrf_token": token})


async def test_staff_answer_by_link_without_signing_in_and_once_only(cast, client):
    await import_staff(6)
    pulse_id = await make_pulse(cast, theme="inclusion")
    run_id = await launch(cast, pulse_id)
    qs = await questions(pulse_id)
    link = sorted((await links(run_id)).values())[0]
    form_page = await client.get(link.removeprefix("http://testserver"))
    assert "Prefer not to say" in form_page.text and "optional" in form_page.text.lower()
    form = {f"q{q.id}": "3" for q in qs if q.kind == "scale"}
    form.update({f"q{q.id}": "9" for q in qs if q.kind == "enps"})
    done = await _answer(client, link, form)
    assert done.status_code == 200 and "Thank you" in done.text
    assert await PulseResponse.count() == 1
    again = await client.get(link.removeprefix("http://testserver"))
    assert again.status_code == 410 and "used already" in again.text
    token = await csrf_token(client, "/login")
    second = await client.post(
        link.removeprefix("http://testserver"), data={**form, "_csrf_token": token}
    )
    assert second.status_code == 410 and await PulseResponse.count() == 1
    assert (await client.get("/pulse/answer/" + "a" * 64)).status_code == 404
    assert (await client.get("/pulse/answer/nonsense")).status_code == 404


async def test_a_bad_answer_shows_every_error(cast, client):
    await import_staff(5)
    pulse_id = await make_pulse(cast)
    run_id = await launch(cast, pulse_id)
    link = sorted((await links(run_id)).values())[0]
    refused = await _answer(client, link, {})
    assert refused.status_code == 422
    assert refused.text.count('class="error"') >= 5
    assert await PulseResponse.count() == 0


async def test_the_chair_creates_edits_and_launches_from_the_pages(cast, client):
    await import_staff(3)
    await sign_in(client, cast.chair)
    token = await csrf_token(client, f"/groups/{cast.slug}/pulses/new")
    bad = await client.post(
        f"/groups/{cast.slug}/pulses/new", data={"title": "", "theme": "nope", "_csrf_token": token}
    )
    bad = await shown_after_refusal(client, bad)
    assert await Pulse.count() == 0
    made = await client.post(
        f"/groups/{cast.slug}/pulses/new",
        data={
            "title": "Wellbeing check-in",
            "theme": "wellbeing",
            "cadence": "monthly",
            "visibility": "internal",
            "_csrf_token": token,
        },
    )
    assert made.status_code in (302, 303)
    pulse_path = made.headers["location"]
    page = await client.get(pulse_path)
    assert "My workload is manageable." in page.text and "Launch the run" in page.text
    pulse_id = int(pulse_path.rsplit("/", 1)[1])
    late = await client.post(
        f"/pulses/{pulse_id}/runs", data={"closes_on": "2000-01-01", "_csrf_token": token}
    )
    late = await shown_after_refusal(client, late)
    launched = await client.post(
        f"/pulses/{pulse_id}/runs", data={"closes_on": "", "_csrf_token": token}
    )
    launched = await shown_after_refusal(client, launched)


async def test_who_sees_the_pages(cast, client):
    await import_staff(5)
    pulse_id = await make_pulse(cast, visibility="board")
    run_id = await launch(cast, pulse_id)
    for user, status in (
        (cast.member, 200),
        (cast.board, 200),
        (cast.director, 404),
        (cast.stranger, 404),
    ):
        client.cookies.clear()
        await sign_in(client, user)
        assert (await client.get(f"/pulses/{pulse_id}")).status_code == status
        assert (await client.get(f"/pulses/runs/{run_id}")).status_code == status
        assert (await client.get(f"/api/v1/pulses/runs/{run_id}/results")).status_code == status
    client.cookies.clear()
    assert (await client.get(f"/pulses/runs/{run_id}")).status_code in (302, 303, 401)


async def test_the_admin_imports_the_roster_from_a_file(client):
    admin = await make_user(admin=True)
    await sign_in(client, admin)
    token = await csrf_token(client, "/pulses/roster")
    bad = await client.post(
        "/pulses/roster",
        data={"_csrf_token": token},
        files={"roster": ("staff.csv", b"email\nnot-an-address\n", "text/csv")},
    )
    assert bad.status_code == 422 and "Line 2" in bad.text
    good = await client.post(
        "/pulses/roster",
        data={"_csrf_token": token},
        files={"roster": ("staff.csv", roster_csv(4), "text/csv")},
    )
    assert good.status_code in (302, 303)
    assert re.search(r"4 addresses are invited", (await client.get("/pulses/roster")).text)
