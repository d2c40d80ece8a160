"""Pages and API reads under load, measured with wrk, as ratios to /health in the same run.

For each configuration (SQLite with one worker; PostgreSQL with one and with two workers) it
builds a throwaway database with the demo data, starts `governance serve --no-scheduler`,
signs in a chair (a session cookie) and makes an API token, then runs wrk on each route in
turn: 1 thread, 16 connections, 5 s. It prints req/s, p50 and p99 latency, non-2xx answers
and the ratio to `/health` measured in that same run, then the SQL statements each route
costs (counted in-process on the same data: the engine counts what it sends). For the
dashboard it also prints the CPU each request cost the service, PostgreSQL and wrk (from
/proc), and from those the most two PostgreSQL workers can serve over one on this machine.

    .venv/bin/python scripts/bench_pages.py [--duration 5] [--connections 16]
        [--configs sqlite-1,postgres-1,postgres-2] [--postgres postgresql://postgres@127.0.0.1:5432]

Needs wrk (Debian: apt-get install wrk; `.ci/run` installs it). Traffic goes only to
127.0.0.1; servers are stopped, the data folders and the PostgreSQL databases removed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
# The query counts are taken in this process: from this checkout's code, as the server runs.
sys.path.insert(0, str(ROOT))
PASSWORD = "governance-demo"  # noqa: S105 - the documented demo password
EMAIL = "chair.wellbeing@example.org"
SLUG = "wellbeing"
READY_DEADLINE_SECONDS = 120
GOVERNANCE = [sys.executable, "-m", "governance.cli"]


@dataclass(frozen=True)
class Route:
    label: str
    path: str
    auth: str  # "none", "session" or "token"


@dataclass
class Figures:
    rate: float
    p50_ms: float
    p99_ms: float
    bad: int
    # CPU milliseconds per request of the service's processes, PostgreSQL's and wrk's (read
    # from /proc; None where it is not there).
    cpu_ms: tuple[float, float, float] | None = None


DASHBOARD = "dashboard, signed in"


def routes(meeting_id: int) -> list[Route]:
    return [
        Route("/health", "/health", "none"),
        Route("sign-in page (no session, no query)", "/login", "none"),
        Route("public /transparency (anonymous)", "/transparency", "none"),
        Route("dashboard, signed in", "/", "session"),
        Route("group page", f"/groups/{SLUG}", "session"),
        Route("meeting page", f"/meetings/{meeting_id}", "session"),
        Route("my actions", "/actions", "session"),
        Route("GET /api/v1/groups (token)", "/api/v1/groups", "token"),
        Route("GET /api/v1/meetings/{id} (token)", f"/api/v1/meetings/{meeting_id}", "token"),
    ]


def demo_data_and_token(env: dict[str, str]) -> str:
    """Fills the database `env` names with the demo data; an API token of the demo chair."""
    subprocess.run(
        [*GOVERNANCE, "init", "--demo"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )
    return subprocess.run(
        [*GOVERNANCE, "token", "create", EMAIL],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]


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


def sign_in(client: httpx.Client) -> None:
    login = client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', login.text)
    assert token, "no CSRF token on the sign-in page"
    form = {"email": EMAIL, "password": PASSWORD, "_csrf_token": token.group(1), "next": "/"}
    answer = client.post("/login", data=form)
    assert answer.status_code == 302, f"sign-in of {EMAIL}: {answer.status_code}"


def a_meeting_id(client: httpx.Client) -> int:
    page = client.get(f"/groups/{SLUG}/meetings").text
    found = re.search(r'href="/meetings/(\d+)"', page)
    assert found, "the demo group lists no meeting"
    return int(found.group(1))


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _processes(server: subprocess.Popen[bytes]) -> tuple[list[int], list[int]]:
    """The service's processes (the one started and its children) and PostgreSQL's."""
    service, postgres = [server.pid], []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat.split("(", 1)[1].rsplit(")", 1)
        if int(rest.split()[1]) == server.pid:
            service.append(int(entry.name))
        elif name == "postgres":
            postgres.append(int(entry.name))
    return service, postgres


def run_wrk_counting_cpu(
    base: str,
    route: Route,
    headers: dict[str, str],
    args: argparse.Namespace,
    server: subprocess.Popen[bytes],
) -> Figures:
    """As run_wrk, with the CPU each request cost the service, PostgreSQL and wrk."""
    if not Path("/proc/self/stat").exists():
        return run_wrk(base, route, headers, args)
    service, postgres = _processes(server)
    before = (_cpu_seconds(service), _cpu_seconds(postgres), _children_cpu())
    figures = run_wrk(base, route, headers, args)
    after = (_cpu_seconds(service), _cpu_seconds(postgres), _children_cpu())
    served = figures.rate * args.duration
    spent = [1000 * (b - a) / served for a, b in zip(before, after, strict=True)]
    figures.cpu_ms = (spent[0], spent[1], spent[2])
    return figures


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(base: str, route: Route, headers: dict[str, str], args: argparse.Namespace) -> Figures:
    command = ["wrk", "--threads=1", f"--connections={args.connections}"]
    command += [f"--duration={args.duration}s", "--timeout=10s", "--latency"]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    output = subprocess.run(
        [*command, base + route.path], check=True, capture_output=True, text=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Figures(
        rate,
        _latency_ms(output, "50%"),
        _latency_ms(output, "99%"),
        (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0),
    )


def _latency_ms(output: str, percentile: str) -> float:
    value, unit = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def query_counts(env: dict[str, str], meeting_id: int, token: str) -> dict[str, int]:
    """The SQL statements each route costs, counted in this process on the same database
    (a second request of each, so what is done once per process is not counted)."""
    os.environ.update(env)
    from litestar.testing import AsyncTestClient

    from governance.app import create_app
    from governance.core.db import get_engine

    logging.getLogger("httpx").setLevel(logging.WARNING)
    counts: dict[str, int] = {}
    async with AsyncTestClient(create_app()) as client:
        engine = get_engine()

        async def count(route: Route) -> None:
            headers = {"Authorization": f"Bearer {token}"} if route.auth == "token" else {}
            await client.get(route.path, headers=headers)
            before = engine.queries_run  # type: ignore[attr-defined]
            await client.get(route.path, headers=headers)
            counts[route.label] = engine.queries_run - before  # type: ignore[attr-defined]

        # Anonymous and token routes first, before this client holds a session cookie.
        for route in routes(meeting_id):
            if route.auth != "session":
                await count(route)
        login = await client.get("/login")
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', login.text)
        assert csrf, "no CSRF token on the sign-in page"
        form = {"email": EMAIL, "password": PASSWORD, "_csrf_token": csrf.group(1), "next": "/"}
        await client.post("/login", data=form)
        for route in routes(meeting_id):
            if route.auth == "session":
                await count(route)
    return counts


def measure(config: str, args: argparse.Namespace, folder: Path) -> dict[str, Figures]:
    engine, workers = config.split("-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVERNANCE_")}
    env |= {"GOVERNANCE_DATA_DIR": str(folder / config), "GOVERNANCE_LOG_LEVEL": "WARNING"}
    database = None
    if engine == "postgres":
        database = f"bench_pages_{uuid.uuid4().hex[:8]}"
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
        env["GOVERNANCE_DATABASE_URL"] = f"{args.postgres}/{database}"
    server = None
    try:
        token = demo_data_and_token(env)
        port = free_port()
        server = subprocess.Popen(
            [
                *GOVERNANCE,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-scheduler",
                "--workers",
                workers,
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, server)
        with httpx.Client(base_url=base) as client:
            sign_in(client)
            cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
            meeting_id = a_meeting_id(client)
        auth = {
            "none": {},
            "session": {"Cookie": cookie},
            "token": {"Authorization": f"Bearer {token}"},
        }
        figures = {
            r.label: run_wrk_counting_cpu(base, r, auth[r.auth], args, server)
            if r.label == DASHBOARD
            else run_wrk(base, r, auth[r.auth], args)
            for r in routes(meeting_id)
        }
        if config == args.configs[0]:
            counts = asyncio.run(query_counts(env, meeting_id, token))
            for label, count in counts.items():
                figures[label].__dict__["queries"] = count
        return figures
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if database:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", database], check=False)


def report(config: str, figures: dict[str, Figures], args: argparse.Namespace) -> None:
    health = figures["/health"].rate
    print(
        f"\n{config}: wrk 1 thread, {args.connections} connections, {args.duration} s per route, "
        f"{os.cpu_count()} CPUs"
    )
    print("| route | req/s | p50 ms | p99 ms | non-2xx | ratio to /health | queries |")
    print("|---|---|---|---|---|---|---|")
    for label, row in figures.items():
        queries = row.__dict__.get("queries", "")
        print(
            f"| {label} | {row.rate:.0f} | {row.p50_ms:.1f} | {row.p99_ms:.1f} | {row.bad} | "
            f"{row.rate / health:.3f} | {queries} |"
        )
    cpu = figures[DASHBOARD].cpu_ms
    if cpu is not None:
        service, postgres, wrk = cpu
        print(
            f"CPU per dashboard: service {service:.2f} ms, PostgreSQL {postgres:.2f} ms, "
            f"wrk {wrk:.2f} ms"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per route")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--configs", default="sqlite-1,postgres-1,postgres-2", type=lambda text: text.split(",")
    )
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="governance-pages-"))
    dashboards: dict[str, Figures] = {}
    try:
        for config in args.configs:
            figures = measure(config, args, folder)
            report(config, figures, args)
            dashboards[config] = figures[DASHBOARD]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if "postgres-1" in dashboards and "postgres-2" in dashboards:
        report_scaling(dashboards["postgres-1"], dashboards["postgres-2"])
    return 0


def report_scaling(one: Figures, two: Figures) -> None:
    """Two workers' dashboard rate over one's, and the most the CPUs allow: one busy
    worker serves 1/service requests a second; two can at best share all the CPUs among
    the service, PostgreSQL and wrk, so CPUs x service / (service + PostgreSQL + wrk)."""
    print(f"\nPostgreSQL dashboard, two workers / one: {two.rate / one.rate:.2f}")
    if one.cpu_ms is not None:
        service, postgres, wrk = one.cpu_ms
        # Two workers use two CPUs at most, and no more than there are.
        bound = min(2.0, (os.cpu_count() or 1) * service / (service + postgres + wrk))
        print(
            f"at most {bound:.2f} on {os.cpu_count()} CPUs with one worker's costs per request "
            f"(service {service:.2f} ms, PostgreSQL {postgres:.2f} ms, wrk {wrk:.2f} ms)"
        )


if __name__ == "__main__":
    sys.exit(main())
