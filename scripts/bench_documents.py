"""Documents through the HTTP API of a real server (issue 12): upload and download
throughput (MiB/s), and how long a 40-page meeting pack takes to build and to serve again
from its cache, on SQLite and on PostgreSQL.

Makes a throwaway data folder (and with --database-url a throwaway database next to the one
named, dropped at the end), runs `governance init --demo`, gives the demo chair an API token,
starts `governance serve` (one worker, no scheduler) on a free port of 127.0.0.1, and then:

- uploads --files files of --size-mib MiB each (a PDF signature and random bytes, so no two
  are alike and none is stored twice) one request each, through
  POST /api/v1/meetings/{id}/documents, and downloads each through
  GET /api/v1/documents/{id}/content, reading the stream a chunk at a time;
- on a second meeting, uploads papers making a 40-page pack (cover and agenda, then PDFs
  of a few pages each, made here with WeasyPrint) and times GET /api/v1/meetings/{id}/pack:
  the first request builds the pack, the next ones are served from the cache.

    .venv/bin/python scripts/bench_documents.py
    .venv/bin/python scripts/bench_documents.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/postgres

Prints a table. Traffic goes only to 127.0.0.1; the server is stopped and everything it
made is removed at the end. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHAIR = "chair.wellbeing@example.org"
GROUP = "wellbeing"
READY_DEADLINE_SECONDS = 120
MIB = 1024 * 1024
PACK_PAGES = 40
PAGES_PER_PAPER = 4


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database-url",
        default="",
        help="postgresql://… of a server to create (and drop) a throwaway database on; "
        "SQLite in a temporary folder when omitted",
    )
    parser.add_argument("--files", type=int, default=5, help="files uploaded and downloaded")
    parser.add_argument("--size-mib", type=int, default=20, help="size of each file")
    parser.add_argument("--pack-runs", type=int, default=3, help="cached pack requests timed")
    return parser.parse_args()


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


async def _postgres(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


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


def paper_pdf(number: int, pages: int) -> bytes:
    """A paper of `pages` pages of text, made with WeasyPrint (as a word processor would)."""
    import logging

    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    paragraph = "The working group reviewed the figures for the quarter in detail. " * 30
    body = "".join(
        f'<section style="page-break-after: always"><h1>Paper {number}, page {page}</h1>'
        f"<p>{paragraph}</p></section>"
        for page in range(1, pages + 1)
    )
    return bytes(weasyprint.HTML(string=f"<html><body>{body}</body></html>").write_pdf())


def schedule(client: httpx.Client, title: str) -> int:
    starts = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).replace(microsecond=0)
    body = {
        "title": title,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
        "location": "Room 1",
    }
    response = client.post(f"/api/v1/groups/{GROUP}/meetings", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def upload(client: httpx.Client, meeting_id: int, name: str, data: bytes) -> int:
    files = {"file": (name, data, "application/pdf")}
    response = client.post(f"/api/v1/meetings/{meeting_id}/documents", files=files)
    assert response.status_code == 201, response.text
    return int(response.json()["documents"][0]["id"])


def throughput(client: httpx.Client, files: int, size_mib: int) -> dict[str, float]:
    meeting_id = schedule(client, "Throughput")
    blobs = [b"%PDF-1.7\n" + secrets.token_bytes(size_mib * MIB - 9) for _ in range(files)]
    started = time.perf_counter()
    ids = [upload(client, meeting_id, f"file-{n}.pdf", data) for n, data in enumerate(blobs)]
    up = time.perf_counter() - started
    started = time.perf_counter()
    received = 0
    for document_id in ids:
        with client.stream("GET", f"/api/v1/documents/{document_id}/content") as response:
            assert response.status_code == 200
            for chunk in response.iter_bytes():
                received += len(chunk)
    down = time.perf_counter() - started
    assert received == files * size_mib * MIB, received
    return {"up": files * size_mib / up, "down": files * size_mib / down}


def pack_timings(client: httpx.Client, runs: int) -> dict[str, Any]:
    from pypdf import PdfReader

    meeting_id = schedule(client, "Forty pages")
    # The cover and the agenda take two pages; the papers the rest.
    papers = (PACK_PAGES - 2) // PAGES_PER_PAPER
    sizes = [PAGES_PER_PAPER] * papers + [(PACK_PAGES - 2) % PAGES_PER_PAPER]
    for number, pages in enumerate([s for s in sizes if s], start=1):
        upload(client, meeting_id, f"paper-{number}.pdf", paper_pdf(number, pages))
    url = f"/api/v1/meetings/{meeting_id}/pack"
    started = time.perf_counter()
    first = client.get(url)
    built = time.perf_counter() - started
    assert first.status_code == 200, first.text
    cached = []
    for _ in range(runs):
        started = time.perf_counter()
        again = client.get(url)
        cached.append(time.perf_counter() - started)
        assert again.content == first.content
    pages = len(PdfReader(io.BytesIO(first.content)).pages)
    return {"pages": pages, "built": built, "cached": min(cached), "size": len(first.content)}


def serve_and_measure(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    governance = [sys.executable, "-m", "governance.cli"]
    quiet = {"env": env, "cwd": ROOT, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run([*governance, "init", "--demo"], **quiet)  # type: ignore[call-overload]
    token = subprocess.run(
        [*governance, "token", "create", CHAIR, "--label", "bench"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [*governance, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, server)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
            return {
                **throughput(client, args.files, args.size_mib),
                **pack_timings(client, args.pack_runs),
            }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> int:
    args = parse_args()
    folder = Path(tempfile.mkdtemp(prefix="governance-bench-documents-"))
    server_url = args.database_url.replace("postgres://", "postgresql://", 1)
    if server_url and not server_url.startswith("postgresql://"):
        raise SystemExit("--database-url must be a postgresql:// URL")
    name = f"governance_bench_{secrets.token_hex(4)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVERNANCE_")}
    env |= {"GOVERNANCE_DATA_DIR": str(folder / "data"), "GOVERNANCE_LOG_LEVEL": "WARNING"}
    if server_url:
        asyncio.run(_postgres(server_url, f'CREATE DATABASE "{name}"'))
        env["GOVERNANCE_DATABASE_URL"] = with_database(server_url, name)
    try:
        figures = serve_and_measure(args, env)
    finally:
        if server_url:
            asyncio.run(_postgres(server_url, f'DROP DATABASE IF EXISTS "{name}"'))
        shutil.rmtree(folder, ignore_errors=True)
    engine = "PostgreSQL" if server_url else "SQLite"
    print(f"{engine}, one worker, {os.cpu_count()} CPUs; {args.files} files of {args.size_mib} MiB")
    print(f"| {'measure':32} | {'figure':>14} |")
    print(f"|{'-' * 34}|{'-' * 16}|")
    print(f"| {'upload (API, multipart)':32} | {figures['up']:9.1f} MiB/s |")
    print(f"| {'download (API, streamed)':32} | {figures['down']:9.1f} MiB/s |")
    print(
        f"| {'pack of ' + str(figures['pages']) + ' pages, first (built)':32} | "
        f"{figures['built']:12.2f} s |"
    )
    print(f"| {'same pack again (cached)':32} | {figures['cached'] * 1000:11.0f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
