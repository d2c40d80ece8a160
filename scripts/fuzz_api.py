"""A longer schemathesis run over every operation of the API, for the five roles.

The test suite runs tests/test_schemathesis.py with a few requests an operation; this runs
the same test with many more, and, with --seed, other requests than the suite's (which are
the same on every run). Each failure is printed with a curl command that reproduces it.

    .venv/bin/python scripts/fuzz_api.py [--examples 50] [--seed 7] [--role chair]

Everything happens in-process on a throwaway SQLite database (PostgreSQL if
GOVERNANCE_TEST_DATABASE_URL names one), as in the test suite. Exits non-zero on a failure.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50, help="requests drawn per operation")
    parser.add_argument("--seed", type=int, help="draw other requests than the test suite's")
    parser.add_argument(
        "--role",
        choices=["chair", "member", "director", "board", "admin"],
        help="only this role (all five by default)",
    )
    args = parser.parse_args()
    env = {**os.environ, "GOVERNANCE_FUZZ_EXAMPLES": str(args.examples), "PYTHONPATH": str(ROOT)}
    if args.seed is not None:
        env["GOVERNANCE_FUZZ_SEED"] = str(args.seed)
    selection = f"every_operation and {args.role}" if args.role else "every_operation"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "tests/test_schemathesis.py",
        "-k",
        selection,
    ]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    elapsed = time.perf_counter() - started
    seed = "the suite's requests" if args.seed is None else f"seed {args.seed}"
    print(f"{args.examples} examples an operation, {seed}: {elapsed:.0f} s")
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
