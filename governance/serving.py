"""The web processes: one uvicorn server, or several workers that each listen on a socket of
their own.

Why not uvicorn's own `--workers`: its supervisor binds one listening socket and hands it to
every worker, and whichever worker wakes first accepts a whole burst of new connections
(measured with `wrk`'s 16 connections: one worker took all of them and ran at 100% while
the other idled, so two workers served no more than one). Here each worker binds its own
socket with `SO_REUSEPORT`, and the kernel spreads new connections across the workers'
sockets. Where the platform has no `SO_REUSEPORT`, uvicorn's supervisor is used.
"""

from __future__ import annotations

import ctypes
import logging
import logging.config
import multiprocessing
import os
import signal
import socket
import sys
import threading
from multiprocessing.context import SpawnProcess
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG, STARTUP_FAILURE

APP = "governance.app:create_app"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
logger = logging.getLogger("uvicorn.error")
# Spawned, not forked: each worker imports the app afresh, as uvicorn's own workers do.
_spawn = multiprocessing.get_context("spawn")


# X-Forwarded-For/-Proto are believed by the service itself, from the addresses in
# GOVERNANCE_TRUSTED_PROXIES only (core/security.py); uvicorn's own handling would believe
# them from 127.0.0.1 (or $FORWARDED_ALLOW_IPS) first.
_SERVER_OPTIONS: dict[str, Any] = {"factory": True, "proxy_headers": False, "log_level": "info"}


def serve(host: str, port: int, workers: int) -> None:
    """Serves until SIGINT or SIGTERM."""
    if workers > 1 and hasattr(socket, "SO_REUSEPORT"):
        WorkersOnOwnSockets(host, port, workers).run()
    else:
        uvicorn.run(APP, host=host, port=port, workers=workers, **_SERVER_OPTIONS)


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port that other sockets of this user may bind too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not left at 0: asyncio sets TCP_NODELAY only on connections of a
    # socket that says it is TCP; without it Nagle's algorithm held answers for 40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def stop_with_supervisor(supervisor: int) -> None:
    """On Linux, asks the kernel to send this worker SIGTERM when its supervisor dies, even
    by SIGKILL, so that no worker goes on serving alone (uvicorn's workers would)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:  # it died before the kernel was asked
        raise SystemExit(0)


def run_worker(host: str, port: int, supervisor: int) -> None:
    """One worker process: its own listening socket, one uvicorn server on it."""
    stop_with_supervisor(supervisor)
    try:
        sock = reuse_port_socket(host, port)
    except OSError as error:
        logger.error("Cannot listen on %s:%d: %s", host, port, error)
        raise SystemExit(STARTUP_FAILURE) from error
    uvicorn.Server(uvicorn.Config(APP, host=host, port=port, **_SERVER_OPTIONS)).run([sock])


class WorkersOnOwnSockets:
    """Starts the workers, starts a worker again when one dies, and stops them all on SIGINT
    or SIGTERM, or when one could not start (then exiting with uvicorn's code for that, 3).
    The parent holds the address bound (without listening, so it is given no connection)
    for as long as it runs, so no other program takes the port between a worker's death and
    its replacement, and a port already in use is reported at once."""

    def __init__(self, host: str, port: int, workers: int) -> None:
        self.host, self.port, self.count = host, port, workers
        self.should_stop = threading.Event()
        self.failed_to_start = False

    def run(self) -> None:
        logging.config.dictConfig(LOGGING_CONFIG)  # the supervisor logs as uvicorn's does
        try:
            address = reuse_port_socket(self.host, self.port)
        except OSError as error:
            logger.error("Cannot listen on %s:%d: %s", self.host, self.port, error)
            raise SystemExit(STARTUP_FAILURE) from error
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, lambda *_: self.should_stop.set())
        logger.info(
            "Governance on http://%s:%d: %d workers, each on its own socket",
            self.host,
            self.port,
            self.count,
        )
        workers = [self._start_worker() for _ in range(self.count)]
        try:
            # Polled, as uvicorn's supervisor polls: a signal only sets the event.
            while not self.should_stop.wait(0.5):
                workers = [self._alive_or_replaced(worker) for worker in workers]
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.join()
            address.close()
        if self.failed_to_start:
            raise SystemExit(STARTUP_FAILURE)  # as uvicorn exits when its one server cannot

    def _start_worker(self) -> SpawnProcess:
        worker = _spawn.Process(target=run_worker, args=(self.host, self.port, os.getpid()))
        worker.start()
        return worker

    def _alive_or_replaced(self, worker: SpawnProcess) -> SpawnProcess:
        if worker.is_alive() or self.should_stop.is_set():
            return worker
        worker.join()
        if worker.exitcode == STARTUP_FAILURE:
            # It failed before serving (the app, its settings or the socket): a new worker
            # would fail the same way, so the service stops rather than loop.
            logger.error("Worker %s failed to start; stopping.", worker.pid)
            self.failed_to_start = True
            self.should_stop.set()
            return worker
        logger.warning(
            "Worker %s stopped (exit %s); starting another.", worker.pid, worker.exitcode
        )
        return self._start_worker()
