"""The demo holds two closed runs per group, with answers enough to show results and a
trend, stored as real answers are."""

from __future__ import annotations

import pytest

from governance.demo import seed_demo
from governance.groups.services import seed_default_groups
from governance.pulses import queries
from governance.pulses.tables import Pulse, PulseResponse, PulseRun
from tests.factories import viewer_for

pytestmark = pytest.mark.slow


async def test_the_demo_has_two_runs_of_realistic_answers_per_group():
    await seed_default_groups()
    await seed_demo()
    await seed_demo()  # a second time adds nothing
    pulses = await Pulse.select(Pulse.id, Pulse.group, Pulse.created_by)
    assert len(pulses) == 2
    for pulse in pulses:
        runs = (
            await PulseRun.select(PulseRun.id, PulseRun.status)
            .where(PulseRun.pulse == pulse["id"])
            .order_by(PulseRun.number)
        )
        assert [run["status"] for run in runs] == ["closed", "closed"]
        chair = await viewer_for(pulse["created_by"])
        for run in runs:
            results = await queries.run_results(run["id"], chair)
            assert not results.suppressed and results.run.responses >= 8
            assert all(
                q.mean is not None and 1 <= q.mean <= 5
                for q in results.questions
                if q.kind == "scale"
            )
        points, chart = await queries.trend(pulse["id"], chair)
        assert len(points) == 2 and not chart.empty
    assert await PulseResponse.count() == 9 + 11 + 8 + 10
