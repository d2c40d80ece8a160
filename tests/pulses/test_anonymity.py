"""Anonymous by construction: the response table has no column that could identify its
respondent, and the stored rows cannot be linked to invitations by order, row version or
time, on SQLite and on PostgreSQL."""

from __future__ import annotations

from governance.core.db import get_engine, is_postgres
from governance.pulses import services
from governance.pulses.tables import RESPONSE_COLUMNS, PulseInvitation, PulseResponse
from tests.pulses.conftest import answers_for, import_staff, launch, links, make_pulse, questions

IDENTIFYING = ("user", "email", "token", "invitation", "staff", "person", "ip", "agent")
TIME_TYPES = ("date", "time", "timestamp", "timestamptz")


async def _columns(table: str) -> list[tuple[str, str, str]]:
    """(name, type, default) of each column, from the database itself."""
    engine = get_engine()
    if is_postgres(engine):
        rows = await engine.run_ddl(
            "SELECT column_name, data_type, COALESCE(column_default, '') AS d "
            f"FROM information_schema.columns WHERE table_name = '{table}'"
        )
        return [(r["column_name"], r["data_type"].lower(), r["d"]) for r in rows]
    rows = await engine.run_ddl(f"PRAGMA table_info({table})")
    return [(r["name"], r["type"].lower(), str(r["dflt_value"] or "")) for r in rows]


async def test_the_response_table_has_no_column_that_identifies_the_respondent():
    columns = await _columns("pulse_response")
    assert sorted(name for name, _, _ in columns) == sorted(RESPONSE_COLUMNS)
    for name, kind, default in columns:
        assert not any(word in name for word in IDENTIFYING), name
        assert not any(word in kind for word in TIME_TYPES), (name, kind)
        assert "now" not in default.lower() and "current" not in default.lower(), name
    # The primary key is not a number that counts answers.
    id_type = next(kind for name, kind, _ in columns if name == "id")
    assert "int" not in id_type and "serial" not in id_type


async def test_the_invitation_table_says_whether_it_was_used_but_never_when():
    columns = await _columns("pulse_invitation")
    assert not any(any(word in kind for word in TIME_TYPES) for _, kind, _ in columns)
    assert not any("response" in name for name, _, _ in columns)


async def _physical_order() -> list[dict]:
    """The responses in the order the database keeps them (rowid; the heap's ctid)."""
    engine = get_engine()
    order = "ctid" if is_postgres(engine) else "rowid"
    rows = await engine.run_ddl(f"SELECT answers FROM pulse_response ORDER BY {order}")
    import json

    return [
        r["answers"] if isinstance(r["answers"], dict) else json.loads(r["answers"]) for r in rows
    ]


async def test_stored_rows_cannot_be_linked_by_order_or_row_version(cast):
    await import_staff(12)
    pulse_id = await make_pulse(cast)
    run_id = await launch(cast, pulse_id)
    qs = await questions(pulse_id)
    comment = next(q for q in qs if q.kind == "comment")
    sent = sorted((await links(run_id)).values())
    answered = sent[:8]
    # Each answer is told apart by its comment: its place in the order of answering.
    for n, link in enumerate(answered):
        await services.answer_pulse(
            link.rsplit("/", 1)[1], answers_for(qs, extra={f"q{comment.id}": f"answer {n}"})
        )
    stored = [row[str(comment.id)] for row in await _physical_order()]
    assert sorted(stored) == [f"answer {n}" for n in range(8)]
    # Shuffled on every answer (8! orders: equal to the order of answering by chance once
    # in 40320 runs), under random ids.
    assert stored != [f"answer {n}" for n in range(8)]
    ids = [row["id"] for row in await PulseResponse.select(PulseResponse.id)]
    assert len({str(i) for i in ids}) == 8
    # No answer holds anything but answers to the pulse's questions.
    for row in await PulseResponse.select(PulseResponse.answers).output(load_json=True):
        assert set(row["answers"]) <= {str(q.id) for q in qs}
    engine = get_engine()
    if is_postgres(engine):
        # Every response and every invitation of the run is a row version of the last
        # answer's transaction: which invitation went with which response is not there.
        responses = await engine.run_ddl("SELECT DISTINCT xmin::text AS x FROM pulse_response")
        invitations = await engine.run_ddl(
            f"SELECT DISTINCT xmin::text AS x FROM pulse_invitation WHERE run = {run_id}"
        )
        assert len(responses) == 1 and responses == invitations
    used = await PulseInvitation.count().where(PulseInvitation.used == True)  # noqa: E712
    assert used == 8
