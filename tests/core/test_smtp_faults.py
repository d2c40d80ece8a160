"""Mail never twice (issue 11, item 3), against real SMTP servers on loopback that store a
message and then misbehave: a slow reply to the final dot, a reply that never comes, a
connection dropped before the reply, and a scheduler killed while it sends. Every wait is
for an event (the server has stored the message, the process has gone), never a time."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine

from governance.core.clock import utcnow
from governance.core.db import write_transaction
from governance.core.email import (
    OUTBOX_CLAIMANT,
    RFC_5321_TIMEOUTS,
    SmtpTimeouts,
    SmtpTransport,
    deliver_outbox,
    queue_email,
)
from governance.core.tables import AuditEvent, OutboundEmail, SchedulerLease
from governance.scheduler import Lease
from tests.factories import make_user
from tests.helpers import FaultySmtp, SmtpSink, found, post_form, sign_in

MAIL_FROM = "Governance <governance@example.org>"
REPO_ROOT = Path(__file__).resolve().parents[2]
HOUR = dt.timedelta(hours=1)


async def queue(key: str, recipient: str = "ada@example.org") -> None:
    context = {"display_name": "Ada", "link": "http://testserver/x", "valid_hours": 2}
    async with write_transaction():
        await queue_email(recipient, "password_reset", context, key)


async def row(key: str) -> dict:
    return found(await OutboundEmail.select().where(OutboundEmail.dedupe_key == key).first())


@pytest.fixture
def faulty():
    servers: list[FaultySmtp] = []

    def start(mode: str) -> FaultySmtp:
        server = FaultySmtp(mode)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def test_the_client_waits_as_long_as_rfc_5321_says():
    # §4.5.3.2: 5 minutes for the greeting, MAIL and RCPT, 2 for DATA, 10 after the final dot.
    assert SmtpTransport("smtp://127.0.0.1:25").timeouts == RFC_5321_TIMEOUTS
    assert (
        SmtpTimeouts(greeting=300, mail=300, rcpt=300, data_initiation=120, data_termination=600)
        == RFC_5321_TIMEOUTS
    )


async def test_a_slow_reply_to_the_final_dot_is_waited_for_and_sent_once(faulty):
    server = faulty("slow")
    await queue("slow:1")
    delivery = asyncio.create_task(deliver_outbox(SmtpTransport(server.url), MAIL_FROM))

    await server.wait_until_stored()
    assert not delivery.done()  # still waiting for the server's verdict
    during = await row("slow:1")
    assert during["status"] == "queued" and during["sending_since"] is not None
    server.release()
    report = await delivery

    assert (report.sent, report.uncertain, report.retrying) == (1, 0, 0)
    assert (await deliver_outbox(SmtpTransport(server.url), MAIL_FROM)).sent == 0
    assert list(server.copies().values()) == [1]
    assert (await row("slow:1"))["status"] == "sent"


async def test_no_reply_in_time_after_the_final_dot_may_have_been_sent_and_is_not_resent(
    faulty,
):
    server = faulty("slow")
    await queue("late:1")
    # A client less patient than the server (the server never answers until released).
    impatient = SmtpTransport(server.url, timeouts=SmtpTimeouts(data_termination=0.2))

    report = await deliver_outbox(impatient, MAIL_FROM)

    assert (report.sent, report.uncertain, report.retrying) == (0, 1, 0)
    email_row = await row("late:1")
    assert email_row["status"] == "uncertain"
    assert email_row["last_error"].startswith("May have been sent")
    server.release()
    assert (await deliver_outbox(SmtpTransport(server.url), MAIL_FROM)).sent == 0
    assert list(server.copies().values()) == [1]


async def _uncertain_after_a_dropped_connection(faulty) -> tuple[FaultySmtp, dict]:
    server = faulty("die")
    await queue("die:1")
    report = await deliver_outbox(SmtpTransport(server.url), MAIL_FROM)
    assert (report.sent, report.uncertain, report.retrying, report.parked) == (0, 1, 0, 0)
    email_row = await row("die:1")
    assert email_row["status"] == "uncertain" and email_row["message_id"]
    # Runs of the delivery job leave it alone: the server may have it.
    again = await deliver_outbox(SmtpTransport(server.url), MAIL_FROM)
    assert (again.sent, again.uncertain) == (0, 0)
    assert list(server.copies().values()) == [1]
    return server, email_row


async def test_a_server_that_stored_and_died_is_resent_only_on_an_admins_decision(faulty, client):
    server, email_row = await _uncertain_after_a_dropped_connection(faulty)
    admin = await make_user("admin@example.org", "Admin", admin=True)
    await sign_in(client, admin)
    page = await client.get("/admin/outbox")
    assert "May have been sent" in page.text and "send again" in page.text

    decided = await post_form(client, f"/admin/outbox/{email_row['id']}/resend")
    assert decided.status_code in {302, 303}
    assert (await post_form(client, f"/admin/outbox/{email_row['id']}/resend")).status_code == 404
    [event] = await AuditEvent.select().where(AuditEvent.action == "outbox.resent")
    assert event["entity_id"] == str(email_row["id"])

    server.handler.mode = "slow"
    server.release()  # the server is well again
    report = await deliver_outbox(SmtpTransport(server.url), MAIL_FROM)
    assert report.sent == 1
    # The copy has the first Message-ID, so the receiving side can recognise it.
    assert server.copies() == {email_row["message_id"]: 2}


async def test_an_admin_who_finds_it_arrived_records_it_as_sent(faulty, client):
    server, email_row = await _uncertain_after_a_dropped_connection(faulty)
    admin = await make_user("admin@example.org", "Admin", admin=True)
    await sign_in(client, admin)
    decided = await post_form(client, f"/admin/outbox/{email_row['id']}/settle")
    assert decided.status_code in {302, 303}
    assert (await row("die:1"))["status"] == "sent"
    assert await AuditEvent.count().where(AuditEvent.action == "outbox.settled") == 1
    server.handler.mode = "slow"
    server.release()
    assert (await deliver_outbox(SmtpTransport(server.url), MAIL_FROM)).sent == 0
    assert list(server.copies().values()) == [1]


async def test_only_an_admin_decides(faulty, client):
    _, email_row = await _uncertain_after_a_dropped_connection(faulty)
    member = await make_user("member@example.org", "Member")
    await sign_in(client, member)
    refused = await post_form(client, f"/admin/outbox/{email_row['id']}/resend")
    assert refused.status_code in {302, 303, 403}
    assert (await row("die:1"))["status"] == "uncertain"


async def test_an_uncertain_message_is_resent_after_the_configured_delay(faulty):
    server, email_row = await _uncertain_after_a_dropped_connection(faulty)
    server.handler.mode = "slow"
    server.release()
    transport = SmtpTransport(server.url)
    with time_machine.travel(utcnow() + 23 * HOUR, tick=False):
        early = await deliver_outbox(transport, MAIL_FROM, resend_uncertain_after=24 * HOUR)
        never = await deliver_outbox(transport, MAIL_FROM, resend_uncertain_after=None)
    assert (early.sent, never.sent) == (0, 0)
    with time_machine.travel(utcnow() + 25 * HOUR, tick=False):
        late = await deliver_outbox(transport, MAIL_FROM, resend_uncertain_after=24 * HOUR)
    assert (late.resent_after_delay, late.sent) == (1, 1)
    assert server.copies() == {email_row["message_id"]: 2}


async def test_taking_the_lease_over_releases_the_dead_holders_claims_at_once(faulty):
    """A holder claimed three rows and died while sending the first: the successor sends
    the other two at once (their claims had half an hour to run) and not the first."""
    sink = SmtpSink()
    sink.start()
    try:
        for n in range(3):
            await queue(f"claimed:{n}", f"person{n}@example.org")
        dead = Lease(holder="dead")
        assert await dead.acquire()
        token = OUTBOX_CLAIMANT.set("dead")
        try:
            from governance.core.email import _begin_send, _claim_due

            claimed = await _claim_due(utcnow(), 50, "dead")
            assert len(claimed) == 3
            assert await _begin_send(claimed[0])
        finally:
            OUTBOX_CLAIMANT.reset(token)
        with time_machine.travel(utcnow() + dt.timedelta(seconds=31), tick=False):
            successor = Lease(holder="successor")
            assert await successor.acquire()
            token = OUTBOX_CLAIMANT.set("successor")
            try:
                report = await deliver_outbox(SmtpTransport(sink.url), MAIL_FROM)
            finally:
                OUTBOX_CLAIMANT.reset(token)
        assert report.sent == 2
        assert (await row("claimed:0"))["status"] == "uncertain"
        assert sorted(str(m["To"]) for m in sink.messages) == [
            "person1@example.org",
            "person2@example.org",
        ]
    finally:
        sink.stop()


@pytest.mark.slow
async def test_a_killed_scheduler_sends_nothing_twice(faulty):
    """`governance scheduler` is killed (SIGKILL) while the server holds its first message;
    the next scheduler releases its claims as soon as it takes the lease: the second
    message goes at once, the first (which the server has) is left for a decision."""
    server = faulty("slow")
    await queue("kill:1", "first@example.org")
    await queue("kill:2", "second@example.org")
    env = {**os.environ, "GOVERNANCE_SMTP_URL": server.url}
    process = subprocess.Popen(  # noqa: ASYNC220 - a real process, to be killed
        [sys.executable, "-m", "governance.cli", "scheduler"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await server.wait_until_stored()
        process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(process.wait)
    finally:
        if process.poll() is None:
            process.kill()
    lease = found(await SchedulerLease.select().first())
    sink = SmtpSink()
    sink.start()
    try:
        with time_machine.travel(lease["expires_at"] + dt.timedelta(seconds=1), tick=False):
            assert await Lease(holder="successor").acquire()
            report = await deliver_outbox(SmtpTransport(sink.url), MAIL_FROM)
    finally:
        sink.stop()
    server.release()
    assert report.sent == 1
    assert [str(m["To"]) for m in sink.messages] == ["second@example.org"]
    assert (await row("kill:1"))["status"] == "uncertain"
    assert [str(m["To"]) for m in server.messages] == ["first@example.org"]
