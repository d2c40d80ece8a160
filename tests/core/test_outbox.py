"""The outbox: dedupe, delivery through a real SMTP server on loopback, retries, parking."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine

from governance.core.clock import utcnow
from governance.core.db import is_postgres, write_transaction
from governance.core.email import (
    MAX_TEMPORARY_ATTEMPTS,
    DeliveryReport,
    FileTransport,
    OutgoingEmail,
    SmtpTimeouts,
    SmtpTransport,
    deliver_outbox,
    queue_email,
    queue_emails,
    queued_keys,
    retry_parked,
)
from governance.core.tables import OutboundEmail
from governance.notifications.jobs import deliver_outbox_job
from tests.core.locking import rows_held
from tests.helpers import free_port, html_part, text_part

MAIL_FROM = "Governance <governance@example.org>"
REPO_ROOT = Path(__file__).resolve().parents[2]


def reset_context(name: str = "Ada", link: str = "http://testserver/account/set-password/x"):
    return {"display_name": name, "link": link, "valid_hours": 2}


async def queue(key: str = "test:1", recipient: str = "ada@example.org", **context) -> None:
    async with write_transaction():
        await queue_email(recipient, "password_reset", reset_context(**context), key)


async def only_row() -> dict:
    rows = await OutboundEmail.select()
    assert len(rows) == 1
    return rows[0]


def down() -> SmtpTransport:
    """A mail server that is not there: nothing listens on this port."""
    return SmtpTransport(f"smtp://127.0.0.1:{free_port()}", timeouts=SmtpTimeouts(greeting=5))


class Watching:
    """Passes each message on to a real transport, noting its Message-ID first."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.message_ids: list[str] = []

    async def send(self, message) -> None:
        self.message_ids.append(str(message["Message-ID"]))
        await self.inner.send(message)


async def test_same_dedupe_key_queues_one_row():
    async with write_transaction():
        first = await queue_email("ada@example.org", "password_reset", reset_context(), "k:1")
        second = await queue_email("ada@example.org", "password_reset", reset_context("B"), "k:1")
    async with write_transaction():
        third = await queue_email("ada@example.org", "password_reset", reset_context("C"), "k:1")

    assert (first, second, third) == (True, False, False)
    row = await only_row()
    assert row["status"] == "queued"
    assert row["attempts"] == 0


async def test_a_batch_queues_each_new_key_once_and_says_which():
    async with write_transaction():
        await queue_email("ada@example.org", "password_reset", reset_context(), "k:1")
    batch = [
        OutgoingEmail("ada@example.org", "password_reset", reset_context("B"), "k:1"),
        OutgoingEmail("bob@example.org", "password_reset", reset_context("Bob"), "k:2"),
        OutgoingEmail("cy@example.org", "password_reset", reset_context("Cy"), "k:3"),
    ]
    async with write_transaction():
        added = await queue_emails(batch)
    assert added == {"k:2", "k:3"}
    assert await queued_keys(["k:1", "k:2", "k:4"]) == {"k:1", "k:2"}
    rows = await OutboundEmail.select().order_by(OutboundEmail.dedupe_key)
    assert [(row["dedupe_key"], row["recipient"]) for row in rows] == [
        ("k:1", "ada@example.org"),
        ("k:2", "bob@example.org"),
        ("k:3", "cy@example.org"),
    ]
    assert {row["status"] for row in rows} == {"queued"}


async def test_a_rolled_back_change_queues_nothing():
    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with write_transaction():
            assert await queue_email("ada@example.org", "password_reset", reset_context(), "k:1")
            raise Abandoned

    assert await OutboundEmail.count() == 0


async def test_server_down_means_mail_waits_and_is_sent_once_later(smtp_sink):
    up = SmtpTransport(smtp_sink.url)
    with time_machine.travel(utcnow(), tick=False) as traveller:
        await queue()
        failed_at = utcnow()

        report = await deliver_outbox(down(), MAIL_FROM)

        assert (report.sent, report.retrying, report.parked) == (0, 1, 0)
        row = await only_row()
        assert row["status"] == "queued"
        assert row["attempts"] == 1
        assert row["last_error"]
        assert row["claimed_until"] is None
        assert row["next_attempt_at"] == failed_at + dt.timedelta(minutes=1)

        # Before the next attempt is due, even a working server gets nothing.
        traveller.shift(dt.timedelta(seconds=50))
        assert (await deliver_outbox(up, MAIL_FROM)).sent == 0
        assert smtp_sink.messages == []
        assert (await only_row())["attempts"] == 1

        traveller.shift(dt.timedelta(seconds=20))
        report = await deliver_outbox(up, MAIL_FROM)
        assert report.sent == 1
        assert len(smtp_sink.messages) == 1

        # Running again sends nothing more.
        assert (await deliver_outbox(up, MAIL_FROM)).sent == 0
        traveller.shift(dt.timedelta(days=1))
        assert (await deliver_outbox(up, MAIL_FROM)).sent == 0

    assert len(smtp_sink.messages) == 1
    row = await only_row()
    assert row["status"] == "sent"
    assert row["attempts"] == 2
    assert row["last_error"] == ""
    assert row["sent_at"] is not None
    assert row["message_id"] == smtp_sink.messages[0]["Message-ID"]


async def test_messages_go_in_the_order_they_fell_due(smtp_sink):
    """The oldest due message goes first, whatever order the database hands claimed rows
    back in (UPDATE ... RETURNING follows the table's storage, not the query's order)."""
    start = utcnow() - dt.timedelta(hours=1)
    for number in range(1, 6):
        await queue(f"order:{number}", f"reader{number}@example.org")
        # Queued later but due earlier: a retry that fell due before a new message.
        await OutboundEmail.update(
            {OutboundEmail.next_attempt_at: start - dt.timedelta(minutes=number)}
        ).where(OutboundEmail.dedupe_key == f"order:{number}")

    report = await deliver_outbox(SmtpTransport(smtp_sink.url), MAIL_FROM)

    assert report.sent == 5
    assert [str(message["To"]) for message in smtp_sink.messages] == [
        f"reader{number}@example.org" for number in range(5, 0, -1)
    ]


async def test_retry_delay_doubles_after_each_failure():
    with time_machine.travel(utcnow(), tick=False) as traveller:
        await queue()
        delays = []
        for _ in range(4):
            before = utcnow()
            await deliver_outbox(down(), MAIL_FROM)
            row = await only_row()
            delays.append(row["next_attempt_at"] - before)
            traveller.move_to(row["next_attempt_at"])

    assert delays == [dt.timedelta(minutes=minutes) for minutes in (1, 2, 4, 8)]
    assert (await only_row())["attempts"] == 4


async def test_temporary_refusal_is_retried_later(smtp_sink):
    smtp_sink.fail_with("451 4.3.0 try later")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        await queue()

        report = await deliver_outbox(SmtpTransport(smtp_sink.url), MAIL_FROM)

        assert report.retrying == 1
        row = await only_row()
        assert (row["status"], row["attempts"]) == ("queued", 1)
        assert "451" in row["last_error"]
        assert row["next_attempt_at"] > utcnow()

        smtp_sink.fail_with(None)
        traveller.shift(dt.timedelta(minutes=2))
        assert (await deliver_outbox(SmtpTransport(smtp_sink.url), MAIL_FROM)).sent == 1

    assert len(smtp_sink.messages) == 1
    assert (await only_row())["status"] == "sent"


async def test_permanent_refusal_is_parked_until_an_admin_retries(smtp_sink):
    smtp_sink.fail_with("550 5.1.1 no such user")
    await queue()

    report = await deliver_outbox(SmtpTransport(smtp_sink.url), MAIL_FROM)

    assert (report.sent, report.retrying, report.parked) == (0, 0, 1)
    row = await only_row()
    assert row["status"] == "parked"
    assert "550" in row["last_error"] and "no such user" in row["last_error"]
    smtp_sink.fail_with(None)
    with time_machine.travel(utcnow() + dt.timedelta(days=2)):
        assert (await deliver_outbox(SmtpTransport(smtp_sink.url), MAIL_FROM)).sent == 0
    assert smtp_sink.messages == []

    assert await retry_parked(row["id"]) is True
    requeued = await only_row()
    assert (requeued["status"], requeued["attempts"]) == ("queued", 0)
    assert (await deliver_outbox(SmtpTransport(smtp_sink.url), MAIL_FROM)).sent == 1
    assert len(smtp_sink.messages) == 1
    # Only parked rows can be requeued: a sent one stays sent.
    assert await retry_parked(row["id"]) is False
    assert (await only_row())["status"] == "sent"


async def test_too_many_temporary_failures_park_the_row():
    await queue()
    await OutboundEmail.update({OutboundEmail.attempts: MAX_TEMPORARY_ATTEMPTS - 1}, force=True)

    report = await deliver_outbox(down(), MAIL_FROM)

    assert report.parked == 1
    row = await only_row()
    assert (row["status"], row["attempts"]) == ("parked", MAX_TEMPORARY_ATTEMPTS)


async def test_unrenderable_row_is_parked_and_the_others_are_sent(smtp_sink):
    async with write_transaction():
        await queue_email("ada@example.org", "no_such_template", {}, "broken")
        await queue_email("bob@example.org", "password_reset", {"link": "x"}, "missing-values")
        await queue_email("cy@example.org", "password_reset", reset_context("Cy"), "fine")

    report = await deliver_outbox(SmtpTransport(smtp_sink.url), MAIL_FROM)

    assert (report.sent, report.parked) == (1, 2)
    assert [m["To"] for m in smtp_sink.messages] == ["cy@example.org"]
    rows = {row["dedupe_key"]: row for row in await OutboundEmail.select()}
    assert rows["broken"]["status"] == "parked"
    assert "no_such_template" in rows["broken"]["last_error"]
    assert rows["missing-values"]["status"] == "parked"
    assert rows["broken"]["claimed_until"] is None


async def test_two_deliveries_at_once_send_each_row_once(smtp_sink):
    recipients = [f"person{n}@example.org" for n in range(12)]
    for n, recipient in enumerate(recipients):
        await queue(f"k:{n}", recipient)
    transport = SmtpTransport(smtp_sink.url)

    def race() -> list[asyncio.Task]:
        return [
            asyncio.create_task(deliver_outbox(transport, MAIL_FROM, batch_size=3))
            for _ in range(2)
        ]

    if is_postgres():
        # Both deliveries find the same due rows and queue to claim them.
        async with rows_held("SELECT id FROM outbound_email FOR UPDATE") as held:
            tasks = race()
            await held.release_when_waiting(racers=2)
            reports = await asyncio.gather(*tasks)
    else:
        # IMMEDIATE transactions make SQLite claims take turns.
        reports = await asyncio.gather(*race())

    assert sum(report.sent for report in reports) == 12
    assert sorted(m["To"] for m in smtp_sink.messages) == sorted(recipients)
    assert len({m["Message-ID"] for m in smtp_sink.messages}) == 12
    assert await OutboundEmail.count().where(OutboundEmail.status == "sent") == 12
    assert (await deliver_outbox(transport, MAIL_FROM)).sent == 0
    assert len(smtp_sink.messages) == 12


async def test_message_is_multipart_with_a_stable_message_id_across_retries(smtp_sink):
    smtp_sink.fail_with("451 4.3.0 try later")
    watching = Watching(SmtpTransport(smtp_sink.url))
    with time_machine.travel(utcnow(), tick=False) as traveller:
        await queue(name="Zoë & <Co>")
        await deliver_outbox(watching, MAIL_FROM)
        smtp_sink.fail_with(None)
        traveller.shift(dt.timedelta(minutes=5))
        await deliver_outbox(watching, MAIL_FROM)

    assert len(watching.message_ids) == 2
    assert watching.message_ids[0] == watching.message_ids[1]
    (message,) = smtp_sink.messages
    row = await only_row()
    assert message["Message-ID"] == watching.message_ids[0] == row["message_id"]
    assert message["Message-ID"].endswith("@example.org>")
    assert message["From"] == MAIL_FROM
    assert message["Subject"] == "Set a new password for Governance"
    assert message.get_content_type() == "multipart/alternative"
    assert "Hello Zoë & <Co>," in text_part(message)
    assert "Hello Zoë &amp; &lt;Co&gt;," in html_part(message)
    assert "List-Unsubscribe" not in message


async def test_one_click_unsubscribe_header_when_the_email_has_one(smtp_sink):
    async with write_transaction():
        await queue_email(
            "ada@example.org",
            "password_reset",
            {**reset_context(), "unsubscribe_url": "http://testserver/unsubscribe/abc"},
            "k:1",
        )

    await deliver_outbox(SmtpTransport(smtp_sink.url), MAIL_FROM)

    (message,) = smtp_sink.messages
    assert message["List-Unsubscribe"] == "<http://testserver/unsubscribe/abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_without_smtp_each_message_becomes_an_eml_file(tmp_path):
    await queue("k:1", "ada@example.org", name="Ada")
    await queue("k:2", "bob@example.org", name="Bob")

    report = await deliver_outbox(FileTransport(tmp_path / "mail"), MAIL_FROM)

    assert report.sent == 2
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    # Mail holds confidential text: only the service's account may read it.
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    parsed = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    assert sorted(m["To"] for m in parsed) == ["ada@example.org", "bob@example.org"]
    sent_ids = {row["message_id"] for row in await OutboundEmail.select()}
    for message in parsed:
        assert message["Message-ID"] in sent_ids
        assert message["Date"]
        assert "Hello " in text_part(message)
        assert "<p>Hello " in html_part(message)


async def test_the_delivery_job_writes_eml_files_when_no_smtp_is_configured(mail_dir):
    assert "GOVERNANCE_SMTP_URL" not in os.environ
    await queue("job:1", "ada@example.org")
    before = set(mail_dir.glob("*.eml")) if mail_dir.exists() else set()

    report = await deliver_outbox_job()

    assert report.sent == 1
    new_files = set(mail_dir.glob("*.eml")) - before
    assert len(new_files) == 1
    message = email.message_from_bytes(new_files.pop().read_bytes(), policy=email.policy.default)
    assert message["Message-ID"] == (await only_row())["message_id"]
    assert (await deliver_outbox_job()).sent == 0


async def test_the_command_line_runs_the_delivery_job(mail_dir):
    """`governance jobs run deliver-outbox`, as a separate process on the same database."""
    await queue("cli:1", "ada@example.org")
    before = set(mail_dir.glob("*.eml")) if mail_dir.exists() else set()

    process = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "governance.cli", "jobs", "run", "deliver-outbox"],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert process.returncode == 0, process.stderr
    assert "1 sent" in process.stdout
    assert len(set(mail_dir.glob("*.eml")) - before) == 1
    assert (await only_row())["status"] == "sent"


class SlowServer:
    """A real SMTP server that takes a minute per message (time travels, nobody waits).

    Part way through, a second delivery worker runs, as the next scheduler tick or a
    `governance jobs run deliver-outbox` would while this one is still busy.
    """

    def __init__(self, url: str, traveller, other_worker_after: int) -> None:
        self.inner = SmtpTransport(url)
        self.traveller = traveller
        self.other_worker_after = other_worker_after
        self.sent = 0
        self.other_report: DeliveryReport | None = None

    async def send(self, message) -> None:
        self.traveller.shift(dt.timedelta(seconds=60))
        await self.inner.send(message)
        self.sent += 1
        if self.sent == self.other_worker_after:
            self.other_report = await deliver_outbox(self.inner, MAIL_FROM)


async def test_a_slow_batch_is_not_sent_twice_by_a_second_worker(smtp_sink):
    """After half an hour a batch's claim has lapsed for the rows not yet sent; another
    worker may take them then, and the first must not send them again."""
    recipients = [f"person{n}@example.org" for n in range(40)]
    with time_machine.travel(utcnow(), tick=False) as traveller:
        for n, recipient in enumerate(recipients):
            await queue(f"k:{n}", recipient)
        slow = SlowServer(smtp_sink.url, traveller, other_worker_after=32)

        report = await deliver_outbox(slow, MAIL_FROM, batch_size=50)

    assert slow.other_report is not None and slow.other_report.sent > 0
    assert report.sent + slow.other_report.sent == 40
    assert sorted(m["To"] for m in smtp_sink.messages) == sorted(recipients)
    assert await OutboundEmail.count().where(OutboundEmail.status == "sent") == 40
