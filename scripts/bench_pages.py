"""How fast the embedded default serves pages, next to Litestar serving a template with no
database at all (DESIGN.md §9).

Builds a throwaway SQLite database with the demo data, starts `governance serve` and a bare
Litestar app on loopback ports, signs in, and sends the same number of requests with the
same concurrency to each page. Prints requests per second and the median latency.

    .venv/bin/python scripts/bench_pages.py [--requests 2000] [--concurrency 8]

Traffic goes only to 127.0.0.1; both servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BARE_APP = textwrap.dedent(
    """
    from pathlib import Path
    from litestar import Litestar, get
    from litestar.plugins.jinja import JinjaTemplateEngine
    from litestar.response import Template
    from litestar.template.config import TemplateConfig

    @get("/page")
    async def page_without_database() -> Template:
        rows = [{"name": f"Member {n}", "role": "member"} for n in range(10)]
        return Template(template_name="page.html", context={"title": "Working group", "rows": rows})

    app = Litestar(
        [page_without_database],
        template_config=TemplateConfig(engine=JinjaTemplateEngine, directory=Path(".")),
    )
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until_up(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


async def hammer(
    client: httpx.AsyncClient, url: str, requests: int, concurrency: int
) -> tuple[float, float]:
    latencies: list[float] = []
    remaining = iter(range(requests))

    async def worker() -> None:
        for _ in remaining:
            started = time.perf_counter()
            response = await client.get(url)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return requests / elapsed, statistics.median(latencies) * 1000


async def sign_in(client: httpx.AsyncClient, base: str) -> None:
    login = await client.get(f"{base}/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', login.text)
    assert token, "no CSRF token on the sign-in page"
    response = await client.post(
        f"{base}/login",
        data={
            "email": "chair.wellbeing@example.org",
            "password": "governance-demo",
            "_csrf_token": token.group(1),
            "next": "/",
        },
    )
    assert response.status_code == 302, f"sign-in failed: {response.status_code}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="governance-bench-"))
    env = {**os.environ, "GOVERNANCE_DATA_DIR": str(data_dir), "GOVERNANCE_LOG_LEVEL": "WARNING"}
    env.pop("GOVERNANCE_DATABASE_URL", None)
    governance = [sys.executable, "-m", "governance.cli"]
    subprocess.run(
        [*governance, "init", "--demo"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    (data_dir / "bare_app.py").write_text(BARE_APP)
    (data_dir / "page.html").write_text(
        "<!doctype html><html><body><h1>{{ title }}</h1><table>"
        "{% for row in rows %}<tr><td>{{ row.name }}</td><td>{{ row.role }}</td></tr>"
        "{% endfor %}</table></body></html>"
    )

    app_port, bare_port = free_port(), free_port()
    servers = [
        subprocess.Popen(
            [*governance, "serve", "--port", str(app_port), "--no-scheduler"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bare_app:app",
                "--port",
                str(bare_port),
                "--log-level",
                "warning",
            ],
            cwd=data_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        base, bare = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
        await wait_until_up(f"{base}/health")
        await wait_until_up(f"{bare}/page")
        limits = httpx.Limits(max_connections=args.concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            await sign_in(client, base)
            slug_page = f"{base}/groups/wellbeing"
            rows = []
            for label, url in (
                ("bare Litestar template, no database", f"{bare}/page"),
                ("Governance /health (no database)", f"{base}/health"),
                ("Governance group page (signed in)", slug_page),
                ("Governance dashboard (signed in)", f"{base}/"),
                ("Governance meeting page (signed in)", f"{base}/meetings/12"),
            ):
                await hammer(client, url, min(200, args.requests), args.concurrency)  # warm up
                rate, median_ms = await hammer(client, url, args.requests, args.concurrency)
                rows.append((label, rate, median_ms))
        print(
            f"{args.requests} requests each, concurrency {args.concurrency}, "
            "one worker process, SQLite"
        )
        for label, rate, median_ms in rows:
            print(f"  {label:40} {rate:8.0f} req/s   median {median_ms:6.1f} ms")
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
