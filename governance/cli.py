"""The `governance` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import io
import sys
from collections.abc import Awaitable, Callable
from typing import Any


def _run(coroutine_factory: Callable[[], Awaitable[int]]) -> int:
    from governance.core.db import open_database

    async def main() -> int:
        async with open_database():
            return await coroutine_factory()

    return asyncio.run(main())


async def record_reporting_history() -> None:
    """Records the reporting periods' history (DESIGN.md §3) right after migrating, so an
    upgraded database has it before anything serves a page; the scheduler's
    `reporting-periods` job keeps it up to date from then on."""
    from governance.reports.services import record_periods

    print(await record_periods())


async def apply_migrations(verbose: bool = False) -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    output = io.StringIO()
    with contextlib.redirect_stdout(sys.stdout if verbose else output):
        result = await run_forwards(app_name="all")
    if not result.success:
        print(output.getvalue(), file=sys.stderr)
        raise SystemExit(f"Migrations failed: {result.message}")


def cmd_init(args: argparse.Namespace) -> int:
    async def init() -> int:
        from governance.groups.services import seed_default_groups

        await apply_migrations(verbose=args.verbose)
        created = await seed_default_groups()
        print(f"Database ready; {len(created)} working group(s) created.")
        if args.demo:
            from governance.demo import seed_demo

            accounts = await seed_demo()
            print(f"Demo data ready; {accounts} demo account(s) created.")
            # The demo backdates some records in place: index them as they ended up.
            from governance.search.services import reindex_everything

            await reindex_everything()
        await record_reporting_history()
        return 0

    return _run(init)


def cmd_migrate(args: argparse.Namespace) -> int:
    async def migrate() -> int:
        await apply_migrations(verbose=True)
        await record_reporting_history()
        return 0

    return _run(migrate)


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    from governance.scheduler import IN_PROCESS_ENV
    from governance.serving import serve

    # Each web process runs the scheduler unless told not to; the lease lets only one of
    # them (or a separate `governance scheduler`) run jobs at a time.
    os.environ[IN_PROCESS_ENV] = "0" if args.no_scheduler else "1"
    serve(args.host, args.port, args.workers)
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise SystemExit("The two passwords are not the same.")
    return first


def cmd_user_create(args: argparse.Namespace) -> int:
    from governance.accounts.services import RoleChoice, create_user
    from governance.core.errors import ServiceError
    from governance.core.forms import EMAIL_PATTERN

    email = args.email.strip().lower()
    if not EMAIL_PATTERN.match(email):
        print(f"{args.email!r} is not an email address.", file=sys.stderr)
        return 2
    password = _read_password(args.password_stdin)
    if len(password) < 12:
        print("The password must be at least 12 characters.", file=sys.stderr)
        return 2
    roles = RoleChoice(
        is_admin=args.admin,
        is_director="director" in (args.role or []),
        is_board="board" in (args.role or []),
    )

    async def create() -> int:
        try:
            user_id = await create_user(email, args.name or email.split("@")[0], roles, password)
        except ServiceError as error:
            print(error.message, file=sys.stderr)
            return 1
        print(f"Created user {user_id}: {email}")
        return 0

    return _run(create)


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from governance.accounts.services import revoke_token
    from governance.core.errors import ServiceError

    async def revoke() -> int:
        try:
            await revoke_token(args.token_id, None)
        except ServiceError as error:
            print(error.message, file=sys.stderr)
            return 1
        print(f"Revoked API token {args.token_id}")
        return 0

    return _run(revoke)


def cmd_token_list(args: argparse.Namespace) -> int:
    from governance.accounts.queries import list_tokens_of

    async def show() -> int:
        tokens = await list_tokens_of(args.email)
        if tokens is None:
            print(f"No account with the email {args.email}.", file=sys.stderr)
            return 1
        for token in tokens:
            expires = f"{token.expires_at:%Y-%m-%d}" if token.expires_at else "never"
            access = "read-only" if token.read_only else "read-write"
            print(f"{token.id}\t{token.state}\t{access}\texpires {expires}\t{token.label}")
        return 0

    return _run(show)


def cmd_token_create(args: argparse.Namespace) -> int:
    from governance.accounts.services import issue_api_token
    from governance.core.errors import ServiceError

    async def create() -> int:
        try:
            print(
                await issue_api_token(
                    args.email, args.label, args.expires_in_days, read_only=args.read_only
                )
            )
        except ServiceError as error:
            print(error.message, file=sys.stderr)
            return 1
        return 0

    return _run(create)


def cmd_search_reindex(args: argparse.Namespace) -> int:
    from governance.search.services import reindex_everything

    async def reindex() -> int:
        written = await reindex_everything()
        print(f"Search index rebuilt: {written} entries.")
        return 0

    return _run(reindex)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from governance.core.audit import verify_chain
    from governance.integrity import mismatched_records

    async def verify() -> int:
        verdict = await verify_chain()
        if verdict.intact:
            print(f"Audit chain intact: {verdict.events_checked} events checked.")
            # Written down outside the system, the head shows later whether events were
            # removed from the end together with the head row.
            print(f"Head: event {verdict.head_sequence}, hash {verdict.head_hash or '-'}")
        else:
            print(
                f"Audit chain broken at sequence {verdict.first_bad_sequence}: {verdict.problem}.",
                file=sys.stderr,
            )
        # The frozen records are checked either way: a broken chain is no reason to hide
        # an altered report.
        mismatches = await mismatched_records()
        for mismatch in mismatches:
            print(f"Mismatch: {mismatch.kind} {mismatch.id}: {mismatch.problem}.", file=sys.stderr)
        if verdict.intact and not mismatches:
            print("Frozen records intact: every stored hash matches its content.")
        return 0 if verdict.intact and not mismatches else 1

    return _run(verify)


def cmd_scheduler(args: argparse.Namespace) -> int:
    import logging

    from governance.scheduler import run_until_signalled
    from governance.settings import get_settings

    logging.basicConfig(
        level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    async def run() -> int:
        await run_until_signalled()
        return 0

    return _run(run)


def cmd_jobs_list(args: argparse.Namespace) -> int:
    from governance.core.clock import utcnow
    from governance.core.templating import format_datetime
    from governance.scheduler import lease_status, next_runs
    from governance.settings import get_settings

    zone = get_settings().timezone

    async def show() -> int:
        print(f"{'job':16} {'trigger':22} {'next run (' + zone + ')':26} what it does")
        for job, next_run in next_runs():
            when = format_datetime(next_run, zone) if next_run else "never"
            print(f"{job.name:16} {job.trigger!s:22} {when:26} {job.does}")
        lease = await lease_status()
        if not lease or not lease["holder"]:
            print("\nLease: no scheduler has held it yet.")
        elif lease["expires_at"] <= utcnow():
            print(f"\nLease: free (last held by {lease['holder']}).")
        else:
            until = format_datetime(lease["expires_at"], zone)
            print(f"\nLease: held by {lease['holder']} until {until}.")
        return 0

    return _run(show)


def cmd_jobs_run(args: argparse.Namespace) -> int:
    from governance.scheduler import JOBS

    if args.name not in JOBS:
        print(f"No job named {args.name!r}. Jobs: {', '.join(JOBS)}", file=sys.stderr)
        return 2
    job = JOBS[args.name]

    async def run() -> int:
        # Every job is idempotent, so running one by hand beside a scheduler is safe.
        result = await job.run()
        print(f"{args.name}: {result}")
        return 0

    return _run(run)


def cmd_report_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from governance.core.errors import ServiceError
    from governance.transparency.queries import build_report_file

    built: list[bytes] = []

    async def build() -> int:
        scope = "organisation" if args.all else args.group
        try:
            built.append(await build_report_file(scope, args.period, args.edition, args.format))
        except ServiceError as error:
            print(error.message, file=sys.stderr)
            return 1
        return 0

    if _run(build) != 0:
        return 1
    if args.output == "-":
        sys.stdout.buffer.write(built[0])
    else:
        Path(args.output).write_bytes(built[0])
        print(f"Wrote {args.output} ({len(built[0]):,} bytes).", file=sys.stderr)
    return 0


def _progress_printer() -> Callable[[str], None]:
    """Progress on stderr for long runs: rewritten in place on a terminal, otherwise a line
    at most every few seconds (logs stay short)."""
    import time

    on_terminal = sys.stderr.isatty()
    last = [0.0]

    def show(message: str) -> None:
        now = time.monotonic()
        if on_terminal:
            print(f"\r{message[:78]:78}", end="", file=sys.stderr, flush=True)
        elif now - last[0] >= 5:
            print(message, file=sys.stderr, flush=True)
            last[0] = now

    return show


def _end_progress() -> None:
    if sys.stderr.isatty():
        print(file=sys.stderr)


def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from governance.operations.backups import BackupError, create_backup
    from governance.settings import get_settings, prepare_data_dir

    prepare_data_dir(get_settings())
    try:
        made = create_backup(Path(args.output) if args.output else None, _progress_printer())
    except BackupError as error:
        _end_progress()
        print(f"governance: {error.message}", file=sys.stderr)
        return 1
    _end_progress()
    print(f"Backup written to {made.path} ({made.size:,} bytes, {made.engine}).")
    print(f"SHA-256: {made.sha256}")
    return 0


def cmd_backup_verify(args: argparse.Namespace) -> int:
    from pathlib import Path

    from governance.operations.backups import BackupError, verify_backup

    try:
        checked = verify_backup(Path(args.file))
    except BackupError as error:
        print(f"governance: {error.message}", file=sys.stderr)
        return 1
    print(f"{args.file}: {checked.detail}.")
    print(f"Audit chain: {checked.audit}")
    return 0 if checked.audit_intact is not False else 1


def cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from governance.operations.backups import BackupError
    from governance.operations.restore import restore_backup

    async def restore() -> int:
        try:
            verdict = await restore_backup(Path(args.file), _progress_printer())
        except BackupError as error:
            _end_progress()
            print(f"governance: {error.message}", file=sys.stderr)
            return 1
        _end_progress()
        print(f"Restored {args.file}.")
        if not verdict.intact:
            print(
                f"Audit chain broken at sequence {verdict.first_bad_sequence}: {verdict.problem}.",
                file=sys.stderr,
            )
            return 1
        print(f"Audit chain intact: {verdict.events_checked} events checked.")
        return 0

    return _run(restore)


def cmd_person_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from governance.core.errors import ServiceError
    from governance.operations.queries import person_id, personal_data, personal_data_json

    exported: list[bytes] = []

    async def export() -> int:
        try:
            exported.append(personal_data_json(await personal_data(await person_id(args.email))))
        except ServiceError as error:
            print(f"governance: {error.message}", file=sys.stderr)
            return 1
        return 0

    if _run(export) != 0:
        return 1
    output = Path(args.output or f"personal-data-{args.email.strip().lower()}.json")
    output.touch(mode=0o600)
    output.write_bytes(exported[0])
    print(f"Wrote everything held about {args.email} to {output}.")
    return 0


def cmd_person_erase(args: argparse.Namespace) -> int:
    from governance.core.audit import SYSTEM
    from governance.core.errors import ServiceError
    from governance.operations.services import erase_person

    async def erase() -> int:
        try:
            outcome = await erase_person(args.email, SYSTEM)
        except ServiceError as error:
            print(f"governance: {error.message}", file=sys.stderr)
            return 1
        print(f"Erased: {args.email} is now {outcome.pseudonym}.")
        print("Changed:", *(f"  - {line}" for line in outcome.changed), sep="\n")
        print("Kept, and why:", *(f"  - {line}" for line in outcome.kept), sep="\n")
        return 0

    return _run(erase)


def _add_person_commands(commands: Any) -> None:
    person = commands.add_parser("person", help="a person's data").add_subparsers(
        dest="person_command", required=True
    )
    export = person.add_parser("export", help="write everything held about a person (JSON)")
    export.add_argument("email")
    export.add_argument("-o", "--output", help="the file (default: personal-data-EMAIL.json)")
    export.set_defaults(handler=cmd_person_export)
    erase = person.add_parser(
        "erase", help="replace a deactivated person's name and email by a pseudonym"
    )
    erase.add_argument("email")
    erase.set_defaults(handler=cmd_person_erase)


def _add_backup_commands(commands: Any) -> None:
    backup = commands.add_parser(
        "backup", help="copy the database while the service runs (or: backup verify FILE)"
    )
    backup.add_argument("-o", "--output", help="the file (default: <data folder>/backups/…)")
    backup.set_defaults(handler=cmd_backup)
    backup_commands = backup.add_subparsers(dest="backup_command")
    verify = backup_commands.add_parser("verify", help="open a backup file and check it")
    verify.add_argument("file")
    verify.set_defaults(handler=cmd_backup_verify)
    restore = commands.add_parser("restore", help="restore a backup into an empty database")
    restore.add_argument("file")
    restore.set_defaults(handler=cmd_restore)


def _add_database_commands(commands: Any) -> None:
    init = commands.add_parser("init", help="apply migrations and seed the working groups")
    init.add_argument(
        "--demo", action="store_true", help="also add demo accounts and sample activity"
    )
    init.add_argument("--verbose", action="store_true", help="show each migration")
    init.set_defaults(handler=cmd_init)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(
        handler=cmd_migrate
    )


def _add_service_commands(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the web service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--no-scheduler", action="store_true", help="do not run scheduled jobs in this process"
    )
    serve.set_defaults(handler=cmd_serve)
    commands.add_parser(
        "scheduler", help="run the scheduled jobs alone (until SIGTERM or SIGINT)"
    ).set_defaults(handler=cmd_scheduler)

    jobs = commands.add_parser("jobs", help="scheduled jobs").add_subparsers(
        dest="jobs_command", required=True
    )
    jobs.add_parser("list", help="list the jobs").set_defaults(handler=cmd_jobs_list)
    run = jobs.add_parser("run", help="run one job now")
    run.add_argument("name")
    run.set_defaults(handler=cmd_jobs_run)


def _add_account_commands(commands: Any) -> None:
    user = commands.add_parser("user", help="manage accounts").add_subparsers(
        dest="user_command", required=True
    )
    create = user.add_parser("create", help="create an account")
    create.add_argument("email")
    create.add_argument("--name")
    create.add_argument("--admin", action="store_true")
    create.add_argument("--role", action="append", choices=["director", "board"])
    create.add_argument("--password-stdin", action="store_true")
    create.set_defaults(handler=cmd_user_create)

    token = commands.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", required=True
    )
    token_create = token.add_parser("create", help="print a new API token for a user")
    token_create.add_argument("email")
    token_create.add_argument("--label", default="command line")
    token_create.add_argument(
        "--expires-in-days", type=int, default=90, help="from 1 to 365 (default 90)"
    )
    token_create.add_argument(
        "--read-only", action="store_true", help="refused every method that changes things"
    )
    token_create.set_defaults(handler=cmd_token_create)
    token_revoke = token.add_parser("revoke", help="revoke an API token by its id")
    token_revoke.add_argument("token_id", type=int)
    token_revoke.set_defaults(handler=cmd_token_revoke)
    token_list = token.add_parser("list", help="list a user's API tokens (never the tokens)")
    token_list.add_argument("email")
    token_list.set_defaults(handler=cmd_token_list)


def _add_record_commands(commands: Any) -> None:
    audit = commands.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    audit.add_parser("verify", help="check the hash chain").set_defaults(handler=cmd_audit_verify)
    search = commands.add_parser("search", help="the search index").add_subparsers(
        dest="search_command", required=True
    )
    search.add_parser("reindex", help="rebuild the index from the records").set_defaults(
        handler=cmd_search_reindex
    )
    report = commands.add_parser("report", help="transparency reports").add_subparsers(
        dest="report_command", required=True
    )
    report_build = report.add_parser(
        "build", help="compute and render a transparency report now, without storing it"
    )
    report_scope = report_build.add_mutually_exclusive_group(required=True)
    report_scope.add_argument("--group", metavar="SLUG", help="one working group")
    report_scope.add_argument(
        "--all", action="store_true", help="the organisation, with a section per group"
    )
    report_build.add_argument("--period", required=True, help="a quarter (2026-Q3) or a year")
    report_build.add_argument("--edition", required=True, choices=["board", "public"])
    report_build.add_argument("--format", required=True, choices=["html", "pdf", "csv", "json"])
    report_build.add_argument("-o", "--output", required=True, help="a file, or - for stdout")
    report_build.set_defaults(handler=cmd_report_build)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="governance", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    _add_database_commands(commands)
    _add_service_commands(commands)
    _add_account_commands(commands)
    _add_record_commands(commands)
    _add_backup_commands(commands)
    _add_person_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    from governance.settings import SettingsError

    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SettingsError as error:
        # A setting the service cannot use, or a data folder it cannot create: one line
        # that names it, not a traceback.
        print(f"governance: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
