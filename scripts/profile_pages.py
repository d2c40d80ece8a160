"""Where a page's time goes, in this process: each route's SQL statements and a cProfile of
many requests, driven through the ASGI app (no network, no load generator).

    .venv/bin/python scripts/profile_pages.py [--requests 300] [--route dashboard] [--sql]

Builds a throwaway SQLite database with the demo data (as scripts/bench_pages.py does), signs
in the demo chair, then for each route prints the statements it sends (with --sql) and the
functions that took the most time over --requests requests. Figures under cProfile are
inflated; compare routes and changes with each other, and measure speed with bench_pages.py.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scripts.bench_pages import EMAIL, PASSWORD, SLUG, demo_data_and_token, routes  # noqa: E402


def prepare(folder: Path) -> tuple[dict[str, str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVERNANCE_")}
    env |= {"GOVERNANCE_DATA_DIR": str(folder), "GOVERNANCE_LOG_LEVEL": "WARNING"}
    token = demo_data_and_token(env)
    return env, token


async def profile(env: dict[str, str], token: str, args: argparse.Namespace) -> None:
    os.environ.update(env)
    import httpx
    import jinja2

    from governance.app import create_app
    from governance.core.db import get_engine

    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = create_app()
    # The app runs in this thread and loop (not in a test client's own thread), so the
    # profile sees the application's work.
    transport = httpx.ASGITransport(app=app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        engine = get_engine()
        statements: list[str] = []
        original = engine.run_querystring

        async def recording(querystring: Any, *a: Any, **k: Any) -> Any:
            frozen = getattr(querystring, "_frozen_compiled_strings", None)
            statements.append(frozen[0] if frozen else str(querystring))
            return await original(querystring, *a, **k)

        engine.run_querystring = recording  # type: ignore[method-assign]
        rendering = [0.0]
        original_render = jinja2.Template.render

        def timed_render(template: Any, *a: Any, **k: Any) -> str:
            started = time.perf_counter()
            try:
                return original_render(template, *a, **k)
            finally:
                rendering[0] += time.perf_counter() - started

        jinja2.Template.render = timed_render  # type: ignore[method-assign]
        login = await client.get("/login")
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', login.text)
        assert csrf
        await client.post(
            "/login",
            data={"email": EMAIL, "password": PASSWORD, "_csrf_token": csrf.group(1), "next": "/"},
        )
        meetings = (await client.get(f"/groups/{SLUG}/meetings")).text
        found = re.search(r'href="/meetings/(\d+)"', meetings)
        assert found, "the demo group lists no meeting"
        meeting_id = int(found.group(1))
        for route in routes(meeting_id):
            if args.route and args.route not in route.label:
                continue
            headers = {"Authorization": f"Bearer {token}"} if route.auth == "token" else {}
            await client.get(route.path, headers=headers)
            statements.clear()
            response = await client.get(route.path, headers=headers)
            print(
                f"\n== {route.label} {route.path}: {response.status_code}, "
                f"{len(statements)} statements"
            )
            if args.sql:
                for sql in statements:
                    print("   ", " ".join(sql.split())[:400])
            rendering[0] = 0.0
            started = time.perf_counter()
            for _ in range(args.requests):
                await client.get(route.path, headers=headers)
            plain = (time.perf_counter() - started) / args.requests * 1000
            rendered = rendering[0] / args.requests * 1000
            print(
                f"   {plain:.2f} ms a request (this client's own work included), "
                f"{rendered:.2f} ms of it rendering templates, {len(response.content)} bytes"
            )
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            for _ in range(args.requests):
                await client.get(route.path, headers=headers)
            profiler.disable()
            elapsed = time.perf_counter() - started
            print(f"   {elapsed / args.requests * 1000:.2f} ms a request under cProfile")
            if args.top:
                pstats.Stats(profiler).sort_stats(args.sort).print_stats(*args.only, args.top)
                if args.callers:
                    pstats.Stats(profiler).sort_stats(args.sort).print_callers(args.callers)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--route", default="", help="routes whose label holds this")
    parser.add_argument("--sql", action="store_true")
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--sort", default="cumulative", help="cumulative or tottime")
    parser.add_argument(
        "--only", action="append", default=[], help="functions whose file or name matches (a regex)"
    )
    parser.add_argument("--callers", default="", help="show who calls functions matching this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env, token = prepare(Path(folder))
        asyncio.run(profile(env, token, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
