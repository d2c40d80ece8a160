"""Mixed read and write load on the embedded default, measured with wrk (issue 11, item 2).

Builds a throwaway SQLite data folder with the demo data, starts `governance serve` (one
worker, with its scheduler, on a free loopback port), signs in two chairs, and runs wrk
with one connection per thread: every fifth request a progress note on one of their
group's actions (a form POST with the session cookie and the CSRF token), the rest page
views (dashboard, group page, actions, an action). Prints the answers by status and the
latency of reads and writes. Exits 0 when the target is met (no error, and a write's p99
under a second), 1 if any answer was an error, 2 if only the latency target was missed.

    .venv/bin/python scripts/bench_load.py [--connections 32] [--duration 30] [--writes 0.2]

Needs wrk (Debian: apt-get install wrk). Traffic goes only to 127.0.0.1; the server is
stopped and the data folder removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
LUA_SCRIPT = Path(__file__).with_name("bench_load.lua")
PASSWORD = "governance-demo"  # noqa: S105 - the documented demo password
PEOPLE = {"chair.wellbeing@example.org": "wellbeing", "chair.ndi@example.org": "ndi"}
WRITE_P99_TARGET_MS = 1000.0
READY_DEADLINE_SECONDS = 120


@dataclass
class Result:
    statuses: dict[str, int] = field(default_factory=dict)
    latency: dict[str, dict[str, float]] = field(default_factory=dict)
    summary: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        failed = sum(
            n for key, n in self.statuses.items() if not key.split()[1].startswith(("2", "3"))
        )
        socket_errors = sum(self.summary.get(k, 0) for k in ("connect", "read", "write", "timeout"))
        return failed + socket_errors


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("governance serve stopped before it served a page")
        try:
            if httpx.get(f"{base}/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # polling for the server to answer, not waiting for a time
    raise SystemExit(f"{base} did not come up")


def signed_in_person(base: str, email: str, slug: str) -> dict[str, object]:
    """A session for `email`, its CSRF token, the pages it views and the open actions of
    its group that it may add progress notes to (each checked with one real note)."""
    with httpx.Client(base_url=base) as client:
        login = client.get("/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', login.text)
        assert token, "no CSRF token on the sign-in page"
        form = {"email": email, "password": PASSWORD, "_csrf_token": token.group(1), "next": "/"}
        signed_in = client.post("/login", data=form)
        assert signed_in.status_code == 302, f"sign-in of {email}: {signed_in.status_code}"
        csrf = next(value for name, value in client.cookies.items() if name.endswith("csrf"))
        listing = client.get(f"/groups/{slug}/actions").text
        actions = []
        for action_id in dict.fromkeys(re.findall(r'href="/actions/(\d+)"', listing)):
            note = {"body": "Load test: first note", "_csrf_token": csrf}
            if client.post(f"/actions/{action_id}/progress", data=note).status_code == 302:
                actions.append(int(action_id))
        assert actions, f"{email} has no open action to add notes to"
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    pages = ["/", f"/groups/{slug}", "/actions", f"/actions/{actions[0]}"]
    return {"cookie": cookie, "csrf": csrf, "actions": actions[:4], "pages": pages}


def lua_value(value: object) -> str:
    """A Lua literal for a JSON-like value (strings are JSON-quoted, which Lua reads)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {lua_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(lua_value(item) for item in value) + "}"
    return json.dumps(value)


def run_wrk(
    base: str, people: list[dict[str, object]], args: argparse.Namespace, folder: Path
) -> Result:
    script = folder / "load.lua"
    write_every = round(1 / args.writes)
    script.write_text(
        f"people = {lua_value(people)}\nwrite_every = {write_every}\n" + LUA_SCRIPT.read_text()
    )
    command = [
        "wrk",
        f"--threads={args.connections}",
        f"--connections={args.connections}",
        f"--duration={args.duration}s",
        "--timeout=10s",
        f"--script={script}",
        base,
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = Result()
    for line in output.splitlines():
        parts = line.split()
        if parts[:2] == ["BENCH", "status"]:
            result.statuses[f"{parts[2]} {parts[3]}"] = int(parts[4])
        elif parts[:2] == ["BENCH", "latency"]:
            names = ("count", "p50", "p99", "p999", "max")
            result.latency[parts[2]] = dict(zip(names, map(float, parts[3:]), strict=True))
        elif parts[:2] == ["BENCH", "summary"]:
            names = ("requests", "duration_us", "connect", "read", "write", "timeout", "status")
            result.summary = dict(zip(names, map(int, parts[2:]), strict=True))
    return result


def report(result: Result, args: argparse.Namespace) -> int:
    seconds = result.summary["duration_us"] / 1e6
    print(
        f"wrk: {args.connections} connections (one per thread), {args.duration} s, "
        f"1 in {round(1 / args.writes)} requests a write; one worker, SQLite, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"  {result.summary['requests']} answers, {result.summary['requests'] / seconds:.0f}/s")
    for key, count in sorted(result.statuses.items()):
        print(f"  {key:10} {count:8}")
    socket_errors = {k: result.summary[k] for k in ("connect", "read", "write", "timeout")}
    print(f"  socket errors: {socket_errors}")
    for kind, figures in sorted(result.latency.items()):
        print(
            f"  {kind:5} n={figures['count']:.0f}  p50 {figures['p50']:.0f} ms  "
            f"p99 {figures['p99']:.0f} ms  p99.9 {figures['p999']:.0f} ms  "
            f"max {figures['max']:.0f} ms"
        )
    write_p99 = result.latency.get("write", {}).get("p99", float("inf"))
    fast = write_p99 < WRITE_P99_TARGET_MS
    print(
        f"  errors: {result.errors}; write p99 {write_p99:.0f} ms "
        f"(target: 0 errors, p99 < {WRITE_P99_TARGET_MS:.0f} ms): "
        f"{'met' if fast and not result.errors else 'MISSED'}"
    )
    return 1 if result.errors else 0 if fast else 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=30, help="seconds")
    parser.add_argument("--writes", type=float, default=0.2, help="share of requests")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    folder = Path(tempfile.mkdtemp(prefix="governance-load-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVERNANCE_")}
    env |= {"GOVERNANCE_DATA_DIR": str(folder / "data"), "GOVERNANCE_LOG_LEVEL": "WARNING"}
    governance = [sys.executable, "-m", "governance.cli"]
    server = None
    outcome = 1
    try:
        subprocess.run(
            [*governance, "init", "--demo"],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port = free_port()
        server = subprocess.Popen(
            [*governance, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, server)
        people = [signed_in_person(base, email, slug) for email, slug in PEOPLE.items()]
        outcome = report(run_wrk(base, people, args, folder), args)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    return outcome


if __name__ == "__main__":
    sys.exit(main())
