"""Helpers for pulse tests: a roster, a pulse from the library, a launched run, and the
links its invitees were sent (read from the outbox, as a person would from their email)."""

from __future__ import annotations

import datetime as dt
import json

from governance.core.clock import organisation_today
from governance.core.tables import OutboundEmail
from governance.pulses import services
from governance.pulses.schemas import NewPulse, NewRun
from tests.factories import make_user, viewer_for


def roster_csv(count: int, prefix: str = "staff") -> bytes:
    lines = ["email,name", *(f"{prefix}{n}@example.org,Staff {n}" for n in range(1, count + 1))]
    return ("\n".join(lines) + "\n").encode()


async def import_staff(count: int) -> None:
    admin = await make_user(admin=True)
    await services.import_roster(roster_csv(count), await viewer_for(admin))


async def make_pulse(cast, theme: str = "wellbeing", visibility: str = "internal") -> int:
    return await services.create_pulse(
        cast.group_id,
        NewPulse(title=f"{theme.title()} check-in", theme=theme, visibility=visibility),
        await viewer_for(cast.chair),
    )


async def launch(cast, pulse_id: int, days: int = 10) -> int:
    closes_on = organisation_today() + dt.timedelta(days=days)
    return await services.launch_run(
        pulse_id, NewRun(closes_on=closes_on), await viewer_for(cast.chair)
    )


async def links(run_id: int, template: str = "pulse_invitation") -> dict[str, str]:
    """Each recipient's link, from the outbox."""
    rows = await OutboundEmail.select(OutboundEmail.recipient, OutboundEmail.context).where(
        OutboundEmail.dedupe_key.like(f"pulse:run:{run_id}:%:{template}")
    )
    found = {}
    for row in rows:
        context = row["context"] if isinstance(row["context"], dict) else json.loads(row["context"])
        found[row["recipient"]] = context["link"]
    return found


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


async def questions(pulse_id: int):  # type: ignore[no-untyped-def]
    from governance.pulses.queries import questions_of

    return await questions_of(pulse_id)


def answers_for(qs, score: int = 4, extra: dict | None = None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A complete answer form: every scale `score`, eNPS 8, the first choice."""
    form = {}
    for q in qs:
        name = f"q{q.id}"
        if q.kind == "scale":
            form[name] = str(score)
        elif q.kind == "enps":
            form[name] = "8"
        elif q.kind == "choice":
            form[name] = q.options[0]
    form.update(extra or {})
    return form
