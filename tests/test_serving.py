"""`governance serve --workers N`: each worker listens on its own socket, so the kernel
spreads connections among them; a worker that dies is replaced; SIGTERM stops them all.

Real processes on 127.0.0.1, watched through /proc (Linux, as on the service's machines)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from governance.serving import reuse_port_socket
from tests.helpers import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
# Only a guard against a hang: every wait below is for an event, however long it takes.
HANG_GUARD_SECONDS = 300.0
CONNECTIONS = 32


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "governance.cli", "serve", "--port", str(port), "--workers", "2"]


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc"),
]


def until(condition: Callable[[], object]) -> object:
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)  # polling for the event, not waiting for a time
    raise AssertionError("timed out")


def answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
    except httpx.HTTPError:
        return False


def children_of(parent: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # it ended while we looked
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.add(int(entry.name))
    return found


def listening_workers(parent: int, port: int) -> set[int]:
    """The children of `parent` that hold a socket listening on `port`."""
    listening = _sockets_on(port, state="0A")
    return {pid for pid in children_of(parent) if _socket_inodes_of(pid) & listening}


def _sockets_on(port: int, state: str) -> set[str]:
    """The inodes of the TCP sockets whose local port is `port`, in `state` (/proc's hex)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                inodes.add(fields[9])
    return inodes


def _socket_inodes_of(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    except OSError:
        pass  # it ended while we looked
    return inodes


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    # Output to a file, not a pipe: a pipe nobody reads fills up and blocks the process.
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [*serve_command(port), "--no-scheduler"],
            cwd=REPO_ROOT,
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        until(lambda: len(listening_workers(process.pid, port)) == 2)
        until(lambda: answers(port))
        yield process, port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            until(lambda: process.poll() is not None)


def test_each_worker_listens_on_its_own_socket_and_takes_part_of_the_connections(two_workers):
    process, port = two_workers
    workers = listening_workers(process.pid, port)
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(CONNECTIONS)]
    try:
        for client in clients:
            client.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for client in clients:
            assert client.recv(64).startswith(b"HTTP/1.1 200")
        held = {pid: _socket_inodes_of(pid) & _sockets_on(port, state="01") for pid in workers}
        # Connections are spread by a hash of their addresses: with 32 of them the chance
        # that one worker is given none is 2 in 2**32.
        assert sum(len(sockets) for sockets in held.values()) == CONNECTIONS
        assert all(held.values()), {pid: len(sockets) for pid, sockets in held.items()}
    finally:
        for client in clients:
            client.close()


def test_a_worker_that_dies_is_replaced_and_sigterm_stops_every_worker(two_workers):
    process, port = two_workers
    first, second = sorted(listening_workers(process.pid, port))
    os.kill(first, signal.SIGKILL)
    until(lambda: len(listening_workers(process.pid, port) - {first}) == 2)
    assert answers(port)
    workers = listening_workers(process.pid, port)
    assert second in workers

    process.send_signal(signal.SIGTERM)
    until(lambda: process.poll() is not None)
    assert process.returncode == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_port_already_in_use_stops_the_service_with_a_message():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [*serve_command(port), "--no-scheduler"],
            cwd=REPO_ROOT,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_SECONDS,
        )
    assert run.returncode != 0
    assert f"Cannot listen on 127.0.0.1:{port}" in run.stderr


async def test_a_workers_connections_send_small_answers_at_once():
    """TCP_NODELAY on each connection, as uvicorn's own socket gets: without it Nagle's
    algorithm holds a small answer until the client's delayed acknowledgement (40 ms)."""
    accepted: asyncio.Future[asyncio.BaseTransport] = asyncio.get_running_loop().create_future()

    class Accept(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.set_result(transport)

    sock = reuse_port_socket("127.0.0.1", 0)
    server = await asyncio.get_running_loop().create_server(Accept, sock=sock)
    try:
        _, writer = await asyncio.open_connection(*sock.getsockname())
        connection = (await accepted).get_extra_info("socket")
        assert connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        writer.close()
    finally:
        server.close()


def test_workers_that_cannot_start_stop_the_service_with_uvicorns_exit_code():
    """A database that cannot be reached fails each worker's start-up: the service stops
    (exit 3, as uvicorn's single server) instead of starting workers again for ever."""
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/governance"
    run = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [*serve_command(free_port()), "--no-scheduler"],
        cwd=REPO_ROOT,
        env={**os.environ, "GOVERNANCE_DATABASE_URL": unreachable},
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert run.returncode == 3, run.stderr
    assert "failed to start; stopping" in run.stderr


def ended(pid: int) -> bool:
    """Gone, or a zombie that nobody has reaped yet (its parent died)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_workers_stop_when_their_supervisor_is_killed(two_workers):
    process, port = two_workers
    workers = listening_workers(process.pid, port)
    process.kill()
    process.wait()
    until(lambda: all(ended(pid) for pid in workers))
    assert not answers(port)
