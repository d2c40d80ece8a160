"""Demo pulses: a staff roster, and per group a pulse from the library with two runs of
realistic answers (the first closed a quarter ago, the second closed last week), made
through the services so that they are stored exactly as real ones are."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from governance.accounts.policy import Viewer
from governance.core.clock import organisation_today
from governance.pulses import services
from governance.pulses.queries import questions_of
from governance.pulses.schemas import Kind, NewPulse, NewRun, QuestionView
from governance.pulses.tables import Pulse, PulseInvitation, PulseRun, StaffMember

DEMO_STAFF = 14
DEMO_COMMENTS = (
    "The new rota for field returns has helped a lot.",
    "Too many deadlines land in the same week at the end of the quarter.",
    "It would help to have a quiet room in the office.",
    "I appreciate the check-ins after difficult missions.",
)
# (title, theme, answers per run, each run's mean scale score)
DEMO_PULSES = {
    "wellbeing": ("Quarterly wellbeing check-in", "wellbeing", (9, 11), (3.1, 3.6)),
    "ndi": ("Inclusion pulse", "inclusion", (8, 10), (3.4, 3.7)),
}


def demo_roster() -> bytes:
    rows = ["email,name", *(f"staff{n:02d}@example.org,Staff member {n}" for n in range(1, 15))]
    return ("\n".join(rows) + "\n").encode()


def _answers(questions: list[QuestionView], mean: float, chance: random.Random) -> dict[str, str]:
    form: dict[str, str] = {}
    for question in questions:
        name = f"q{question.id}"
        if question.kind == Kind.SCALE:
            form[name] = str(min(5, max(1, round(chance.gauss(mean, 0.9)))))
        elif question.kind == Kind.ENPS:
            form[name] = str(min(10, max(0, round(chance.gauss(mean * 2, 1.8)))))
        elif question.kind == Kind.CHOICE:
            form[name] = chance.choice(question.options)
        elif question.kind == Kind.DEMOGRAPHIC:
            form[name] = chance.choice([*question.choices, ""])
        elif question.kind == Kind.COMMENT and chance.random() < 0.3:
            form[name] = chance.choice(DEMO_COMMENTS)
    return form


async def _run(pulse_id: int, chair: Viewer, answers: int, mean: float, ago: int) -> None:
    """A run answered by `answers` of the staff, then dated `ago` days back and closed."""
    # The same demo every time: made-up answers, not a secret.
    chance = random.Random(pulse_id * 100 + ago)  # noqa: S311
    run_id = await services.launch_run(
        pulse_id, NewRun(closes_on=organisation_today() + dt.timedelta(days=14)), chair
    )
    questions = await questions_of(pulse_id)
    staff = await PulseInvitation.select(PulseInvitation.staff).where(PulseInvitation.run == run_id)
    for row in chance.sample(staff, answers):
        token = services.invitation_token(run_id, row["staff"])
        await services.answer_pulse(token, _answers(questions, mean, chance))
    closes_on = organisation_today() - dt.timedelta(days=ago)
    await PulseRun.update(
        {
            PulseRun.opens_on: closes_on - dt.timedelta(days=14),
            PulseRun.closes_on: closes_on,
            PulseRun.status: "closed",
        }
    ).where(PulseRun.id == run_id)


async def seed_demo_pulses(groups: dict[str, tuple[dict[str, Any], Viewer]], admin: Viewer) -> None:
    """`groups`: each slug's group row and its chair. Does nothing for a group with a pulse."""
    if not await StaffMember.exists():
        await services.import_roster(demo_roster(), admin)
    for slug, (group, chair) in groups.items():
        if slug not in DEMO_PULSES or await Pulse.exists().where(Pulse.group == group["id"]):
            continue
        title, theme, answers, means = DEMO_PULSES[slug]
        pulse_id = await services.create_pulse(
            group["id"], NewPulse(title=title, theme=theme, cadence="quarterly"), chair
        )
        await _run(pulse_id, chair, answers[0], means[0], ago=90)
        await _run(pulse_id, chair, answers[1], means[1], ago=7)
