"""How many messages reach a misbehaving mail server more than once (issue 11, item 3).

Starts fault-injecting SMTP servers on 127.0.0.1 (aiosmtpd) that store every message as a
real server would and then misbehave, queues messages in a throwaway SQLite database and
runs the outbox against them in the three fault modes the issue found mail sent twice in:

1. slow: the server answers the final dot late. First within what RFC 5321 allows (the
   client waits), then later than the client waits (its reply timeout scaled down to
   --patience seconds, as a server slower than ten minutes would be): no reply in time
   after the final dot means "may have been sent".
2. killed: `governance scheduler` runs in its own process and is killed with SIGKILL while
   the server holds its first message; a successor scheduler takes the lease over once it
   expires and sends the rest.
3. died: the server stores each message and drops the connection before its 250.

After each mode the delivery job runs again a few times (as the schedule would) and the
script counts, by Message-ID, the copies each server stored. It prints one line per mode
and a total, and stops by itself (about a minute: the killed scheduler's lease runs out
after 30 s). Only an administrator's decision (or GOVERNANCE_MAIL_UNCERTAIN_RESEND_HOURS)
sends a message that may have been sent again; the script shows that case apart.

    .venv/bin/python scripts/smtp_faults.py [--messages 10] [--delay 1.5] [--patience 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[1]
MAIL_FROM = "Governance <governance@example.org>"
REPEATS = 3  # delivery runs after each fault, as the schedule's next ticks would


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=10, help="messages per mode")
    parser.add_argument("--delay", type=float, default=1.5, help="slow server's delay, s")
    parser.add_argument("--patience", type=float, default=0.5, help="scaled reply timeout, s")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class FaultyHandler:
    """Stores each message, then: "ok" replies 250; "slow" replies after `delay` seconds;
    "hold" replies once `release` is set; "die" drops the connection instead of replying."""

    mode: str
    delay: float = 0.0
    stored: list[str] = field(default_factory=list)  # Message-IDs, one per copy stored
    first_stored: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.stored.append(str(message["Message-ID"]))
        self.first_stored.set()
        if self.mode == "die":
            server.transport.abort()
        elif self.mode == "slow":
            await asyncio.sleep(self.delay)  # the fault being injected: a slow server
        elif self.mode == "hold":
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        return "250 Message accepted for delivery"

    def copies(self) -> Counter[str]:
        return Counter(self.stored)


class FaultyServer:
    def __init__(self, mode: str, delay: float = 0.0) -> None:
        self.port = free_port()
        self.handler = FaultyHandler(mode, delay)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultyServer:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.handler.release.set()
        self.controller.stop()


@dataclass
class Outcome:
    mode: str
    messages: int
    delivered: int = 0  # distinct messages the server(s) stored
    more_than_once: int = 0  # of those, stored twice or more
    uncertain: int = 0  # recorded as "may have been sent", waiting for a decision
    note: str = ""

    def line(self) -> str:
        return (
            f"{self.mode:<34} {self.messages:>4} queued  {self.delivered:>4} delivered  "
            f"{self.more_than_once:>3} more than once  {self.uncertain:>3} may have been sent"
            + (f"  ({self.note})" if self.note else "")
        )


def count(outcome: Outcome, *servers: FaultyServer) -> Outcome:
    copies: Counter[str] = Counter()
    for server in servers:
        copies.update(server.handler.copies())
    outcome.delivered = len(copies)
    outcome.more_than_once = sum(1 for n in copies.values() if n > 1)
    return outcome


async def queue(prefix: str, messages: int) -> None:
    from governance.core.db import write_transaction
    from governance.core.email import queue_email

    context = {"display_name": "Ada", "link": "http://127.0.0.1/x", "valid_hours": 2}
    async with write_transaction():
        for n in range(messages):
            await queue_email(f"{prefix}{n}@example.org", "password_reset", context, f"{prefix}{n}")


async def uncertain_count() -> int:
    from governance.core.tables import OutboundEmail

    return int(await OutboundEmail.count().where(OutboundEmail.status == "uncertain"))


async def empty_outbox() -> None:
    from governance.core.tables import OutboundEmail, SchedulerLease

    await OutboundEmail.delete(force=True)
    await SchedulerLease.delete(force=True)


async def deliver(url: str, repeats: int = 1, **timeouts: float) -> None:
    from governance.core.email import SmtpTimeouts, SmtpTransport, deliver_outbox

    transport = SmtpTransport(url, timeouts=SmtpTimeouts(**timeouts))
    for _ in range(repeats):
        await deliver_outbox(transport, MAIL_FROM)


async def slow_mode(args: argparse.Namespace) -> list[Outcome]:
    outcomes = []
    with FaultyServer("slow", args.delay) as server:
        await queue("slow", args.messages)
        await deliver(server.url, REPEATS)
        outcome = Outcome(f"slow reply ({args.delay:g} s), RFC waits", args.messages)
        outcome.uncertain = await uncertain_count()
        outcomes.append(count(outcome, server))
    await empty_outbox()
    with FaultyServer("slow", args.delay) as server:
        await queue("slower", args.messages)
        await deliver(server.url, REPEATS, data_termination=args.patience)
        outcome = Outcome(f"slower than the client ({args.patience:g} s)", args.messages)
        outcome.uncertain = await uncertain_count()
        # Let the server finish its last replies before it stops.
        await asyncio.sleep(args.delay)
        outcomes.append(count(outcome, server))
    await empty_outbox()
    return outcomes


async def killed_mode(args: argparse.Namespace) -> Outcome:
    from governance.core.email import OUTBOX_CLAIMANT
    from governance.core.tables import SchedulerLease
    from governance.scheduler import Lease

    await queue("killed", args.messages)
    with FaultyServer("hold") as held, FaultyServer("ok") as healthy:
        env = {**os.environ, "GOVERNANCE_SMTP_URL": held.url}
        process = subprocess.Popen(
            [sys.executable, "-m", "governance.cli", "scheduler"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await asyncio.to_thread(held.handler.first_stored.wait, 120)
            process.send_signal(signal.SIGKILL)
            await asyncio.to_thread(process.wait)
        finally:
            if process.poll() is None:
                process.kill()
        killed_at = time.monotonic()
        successor = Lease(holder="successor")
        # The dead holder's lease runs out in the database: asked for as a new scheduler does.
        while not await successor.acquire():  # noqa: ASYNC110 - polling the lease row
            await asyncio.sleep(0.5)
        token = OUTBOX_CLAIMANT.set(successor.holder)
        try:
            await deliver(healthy.url, REPEATS)
        finally:
            OUTBOX_CLAIMANT.reset(token)
        waited = time.monotonic() - killed_at
        lease = await SchedulerLease.select().first()
        outcome = Outcome("scheduler killed mid-send", args.messages)
        outcome.uncertain = await uncertain_count()
        outcome.note = f"rest sent {waited:.0f} s after the kill; lease held by {lease['holder']}"
        held.handler.release.set()
        result = count(outcome, held, healthy)
    await empty_outbox()
    return result


async def died_mode(args: argparse.Namespace) -> list[Outcome]:
    from governance.core.email import resend_uncertain
    from governance.core.tables import OutboundEmail

    with FaultyServer("die") as server:
        await queue("died", args.messages)
        await deliver(server.url, REPEATS)
        outcome = count(Outcome("stored, died before its 250", args.messages), server)
        outcome.uncertain = await uncertain_count()
        # An administrator decides they did not arrive (they did: the server has them).
        for row in await OutboundEmail.select(OutboundEmail.id):
            await resend_uncertain(row["id"])
        server.handler.mode = "ok"
        await deliver(server.url, REPEATS)
        decided = count(Outcome("  ... then an admin sends again", args.messages), server)
        ids = {row["message_id"] for row in await OutboundEmail.select(OutboundEmail.message_id)}
        same = set(server.handler.copies()) == ids
        decided.note = f"by decision; same Message-ID on each copy: {'yes' if same else 'no'}"
    await empty_outbox()
    return [outcome, decided]


async def run(args: argparse.Namespace) -> int:
    from governance.cli import apply_migrations
    from governance.core.db import open_database

    async with open_database():
        await apply_migrations()
        outcomes = [*await slow_mode(args), await killed_mode(args), *await died_mode(args)]
    for outcome in outcomes:
        print(outcome.line())
    faults = [o for o in outcomes if not o.mode.startswith("  ")]
    twice = sum(o.more_than_once for o in faults)
    print(f"delivered more than once without an administrator's decision: {twice}")
    return 1 if twice else 0


def main() -> int:
    args = parse_args()
    # The outbox logs every fault it meets; here they are the point, and counted below.
    logging.basicConfig(level=logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="governance-smtp-faults-") as folder:
        os.environ["GOVERNANCE_DATA_DIR"] = folder
        os.environ["GOVERNANCE_DATABASE_URL"] = f"sqlite:///{folder}/governance.sqlite3"
        os.environ["GOVERNANCE_SECRET_KEY"] = secrets.token_hex(32)
        os.environ["GOVERNANCE_LOG_LEVEL"] = "CRITICAL"
        os.environ.pop("GOVERNANCE_SMTP_URL", None)
        sys.path.insert(0, str(ROOT))
        return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
