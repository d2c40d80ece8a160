"""The rules of pulses: who may create, edit and launch them, the roster of staff, and
anonymous answers.

A group's chair or secretary creates a pulse from the library, edits its questions until
its first run, and launches runs; an admin imports the staff roster. Each of those writes
one audit event in its transaction. Answering needs no account, only an invitation's link,
and writes no audit event, no email and no time: the invitation is marked used, and the
response is stored with the run and the answers alone (see `tables.py`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import random
import uuid
from collections.abc import Mapping
from typing import Any

from governance.accounts import scopes
from governance.accounts.policy import Viewer
from governance.core.audit import EventScope, record_event
from governance.core.clock import organisation_today, utcnow
from governance.core.contracts import NO_ERRORS, field_errors, refuse, trimmed
from governance.core.db import one_row, write_transaction
from governance.core.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from governance.core.urls import absolute_url
from governance.documents import queries as documents_queries
from governance.documents import services as documents
from governance.documents.schemas import HolderKind, NewDocuments
from governance.documents.storage import BytesUpload
from governance.groups.tables import WorkingGroup
from governance.notifications import emails
from governance.pulses import queries, snapshot
from governance.pulses.schemas import (
    COMMENT_MAX_LENGTH,
    LIBRARY,
    MAX_OPTIONS,
    MAX_QUESTIONS,
    MAX_RUN_DAYS,
    OPTION_MAX_LENGTH,
    PREFER_NOT_TO_SAY,
    Kind,
    NewPulse,
    NewQuestion,
    NewRun,
    QuestionChange,
    ResultsAnnex,
    ResultsPaper,
    RosterImportView,
    RunResultsView,
)
from governance.pulses.tables import (
    Pulse,
    PulseInvitation,
    PulseQuestion,
    PulseResponse,
    PulseRun,
    StaffMember,
)
from governance.settings import get_settings

NEEDS_CORRECTING = "The pulse needs correcting. Nothing has been saved."
NOT_A_LEADER = "Only the group's chair or secretary can manage its pulses."
NO_PULSE = "There is no pulse at this address."
NO_QUESTION = "There is no such question."
LINK_UNKNOWN = "This link is not a valid check-in link."
LINK_USED = "This link has been used already: each link answers once, and your answer was kept."
RUN_CLOSED = "This check-in has closed; answers are no longer taken."
SCORED_KINDS = frozenset({Kind.SCALE, Kind.ENPS, Kind.CHOICE})
MAX_ROSTER_ROWS = 20000
MAX_ROSTER_BYTES = 2_000_000
INSERT_CHUNK = 500


def _scope(group_id: int, visibility: str) -> EventScope:
    return EventScope(group_id, visibility)


async def _pulse_of(pulse_id: int) -> dict[str, Any]:
    return await one_row(
        Pulse.select(Pulse.id, Pulse.group, Pulse.title, Pulse.visibility, Pulse.group.name).where(
            Pulse.id == pulse_id
        ),
        NO_PULSE,
    )


def _lead(viewer: Viewer, group_id: int, visibility: str, missing: str = NO_PULSE) -> None:
    """Only the group's chair or secretary: whoever may read the pulse learns the rule,
    anyone else learns nothing of it (the same answer as for a pulse that does not exist)."""
    if not viewer.leads(group_id):
        if scopes.may_read(viewer, group_id, visibility):
            raise PermissionDenied(NOT_A_LEADER)
        raise NotFoundError(missing)


async def _editable_pulse(pulse_id: int, viewer: Viewer) -> dict[str, Any]:
    pulse = await _pulse_of(pulse_id)
    _lead(viewer, pulse["group"], pulse["visibility"])
    await _refuse_if_run(pulse_id)
    return pulse


async def _refuse_if_run(pulse_id: int) -> None:
    if await PulseRun.exists().where(PulseRun.pulse == pulse_id):
        raise ConflictError("The questions cannot change once the pulse has run.")


async def _question_of(question_id: int, viewer: Viewer) -> dict[str, Any]:
    """The question with its pulse, in one query (a hidden one costs what a missing one
    does), once the viewer may change it."""
    question = await one_row(
        PulseQuestion.select(
            PulseQuestion.pulse,
            PulseQuestion.kind,
            PulseQuestion.pulse._.group.as_alias("group"),
            PulseQuestion.pulse._.visibility.as_alias("visibility"),
        ).where(PulseQuestion.id == question_id),
        NO_QUESTION,
    )
    _lead(viewer, question["group"], question["visibility"], NO_QUESTION)
    await _refuse_if_run(question["pulse"])
    return {**question, "id": question["pulse"]}


# --- pulses and their questions ---------------------------------------------------------


async def create_pulse(
    group_id: int, command: NewPulse, viewer: Viewer, unreadable: Mapping[str, str] = NO_ERRORS
) -> int:
    """A pulse of the group with an editable copy of its theme's library questions."""
    command = trimmed(command)
    if not viewer.leads(group_id):
        raise PermissionDenied(NOT_A_LEADER)
    refuse({**field_errors(command), **unreadable}, NEEDS_CORRECTING)
    async with write_transaction():
        if not await WorkingGroup.exists().where(WorkingGroup.id == group_id):
            raise NotFoundError("There is no working group at this address.")
        rows = await Pulse.insert(
            Pulse(
                group=group_id,
                title=command.title,
                theme=command.theme,
                cadence=command.cadence,
                visibility=command.visibility,
                created_by=viewer.user.id,
                created_at=utcnow(),
            )
        ).returning(Pulse.id)
        pulse_id = int(rows[0]["id"])
        await PulseQuestion.insert(
            *(
                PulseQuestion(
                    pulse=pulse_id, position=position, kind=kind, prompt=prompt, options=options
                )
                for position, (kind, prompt, options) in enumerate(LIBRARY[command.theme], 1)
            )
        )
        await record_event(
            viewer.user,
            "pulse.created",
            "pulse",
            pulse_id,
            f"Pulse {pulse_id} ({command.visibility}) from the {command.theme} library",
            _scope(group_id, command.visibility),
        )
    return pulse_id


def _options(kind: str, raw: str) -> tuple[list[str], str | None]:
    options = [line.strip() for line in raw.splitlines() if line.strip()]
    if kind == Kind.SCALE:
        if len(options) != 5:
            return options, "A scale needs five labels, one a line, from 1 to 5."
    elif kind in (Kind.CHOICE, Kind.DEMOGRAPHIC):
        if not 2 <= len(options) <= MAX_OPTIONS:
            return options, f"Give from 2 to {MAX_OPTIONS} options, one a line."
        if kind == Kind.DEMOGRAPHIC and PREFER_NOT_TO_SAY.casefold() in {
            o.casefold() for o in options
        }:
            return options, f"“{PREFER_NOT_TO_SAY}” is always offered; leave it out."
    elif options:
        return options, "This kind of question has no options."
    if any(len(option) > OPTION_MAX_LENGTH for option in options):
        return options, f"Each option can be at most {OPTION_MAX_LENGTH} characters."
    if len(set(options)) != len(options):
        return options, "Each option must be different."
    return options, None


async def change_question(
    question_id: int,
    command: QuestionChange,
    viewer: Viewer,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> int:
    """A question's new wording, before the first run; returns its pulse's id."""
    command = trimmed(command)
    pulse = question = await _question_of(question_id, viewer)
    errors = {**field_errors(command), **unreadable}
    options, problem = _options(question["kind"], command.options)
    if problem:
        errors.setdefault("options", problem)
    refuse(errors, NEEDS_CORRECTING)
    async with write_transaction():
        await PulseQuestion.update(
            {PulseQuestion.prompt: command.prompt, PulseQuestion.options: options}
        ).where(PulseQuestion.id == question_id)
        await record_event(
            viewer.user,
            "pulse.question_changed",
            "pulse",
            pulse["id"],
            f"Pulse {pulse['id']}: question {question_id} changed",
            _scope(pulse["group"], pulse["visibility"]),
        )
    return int(pulse["id"])


async def add_question(
    pulse_id: int, command: NewQuestion, viewer: Viewer, unreadable: Mapping[str, str] = NO_ERRORS
) -> int:
    command = trimmed(command)
    pulse = await _editable_pulse(pulse_id, viewer)
    errors = {**field_errors(command), **unreadable}
    options: list[str] = []
    if "kind" not in errors:
        options, problem = _options(command.kind, command.options)
        if problem:
            errors["options"] = problem
    kinds = [
        row["kind"]
        for row in await PulseQuestion.select(PulseQuestion.kind).where(
            PulseQuestion.pulse == pulse_id
        )
    ]
    if command.kind in SCORED_KINDS and sum(k in SCORED_KINDS for k in kinds) >= MAX_QUESTIONS:
        errors.setdefault("kind", f"A pulse has at most {MAX_QUESTIONS} questions.")
    if command.kind == Kind.COMMENT and Kind.COMMENT in kinds:
        errors.setdefault("kind", "A pulse has one free-text comment at most.")
    refuse(errors, NEEDS_CORRECTING)
    async with write_transaction():
        await PulseQuestion.insert(
            PulseQuestion(
                pulse=pulse_id,
                position=len(kinds) + 1,
                kind=command.kind,
                prompt=command.prompt,
                options=options,
            )
        )
        await record_event(
            viewer.user,
            "pulse.question_added",
            "pulse",
            pulse_id,
            f"Pulse {pulse_id}: a {command.kind} question added",
            _scope(pulse["group"], pulse["visibility"]),
        )
    return pulse_id


async def remove_question(question_id: int, viewer: Viewer) -> int:
    pulse = question = await _question_of(question_id, viewer)
    kinds = [
        row["kind"]
        for row in await PulseQuestion.select(PulseQuestion.kind).where(
            PulseQuestion.pulse == pulse["id"]
        )
    ]
    if question["kind"] in SCORED_KINDS and sum(k in SCORED_KINDS for k in kinds) <= 1:
        raise ConflictError("A pulse needs at least one question that is not a comment.")
    async with write_transaction():
        await PulseQuestion.delete().where(PulseQuestion.id == question_id)
        await record_event(
            viewer.user,
            "pulse.question_removed",
            "pulse",
            pulse["id"],
            f"Pulse {pulse['id']}: question {question_id} removed",
            _scope(pulse["group"], pulse["visibility"]),
        )
    return int(pulse["id"])


# --- the roster -------------------------------------------------------------------------


def _roster_rows(data: bytes) -> tuple[dict[str, str], list[str]]:
    """The file's addresses (email → name) and every row's problem, by line."""
    problems: list[str] = []
    if len(data) > MAX_ROSTER_BYTES:
        return {}, [f"The file is larger than {MAX_ROSTER_BYTES // 1_000_000} MB."]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return {}, ["The file is not UTF-8 text (save it as CSV UTF-8)."]
    rows = list(csv.reader(io.StringIO(text.replace("\x00", ""))))
    if not rows or [cell.strip().lower() for cell in rows[0][:1]] != ["email"]:
        return {}, ["Line 1: the first line must be the header: email,name"]
    if len(rows) - 1 > MAX_ROSTER_ROWS:
        return {}, [f"The file has more than {MAX_ROSTER_ROWS} rows."]
    found: dict[str, str] = {}
    for line, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        email = row[0].strip().lower()
        name = row[1].strip() if len(row) > 1 else ""
        if (
            len(email) > 320
            or email.count("@") != 1
            or " " in email
            or "." not in email.split("@")[1]
        ):
            problems.append(f"Line {line}: “{email[:80]}” is not an email address.")
        elif email in found:
            problems.append(f"Line {line}: {email} appears twice.")
        elif len(name) > 200:
            problems.append(f"Line {line}: the name is longer than 200 characters.")
        else:
            found[email] = name
    if not found and not problems:
        problems.append("The file has no addresses.")
    return found, problems


async def import_roster(data: bytes, viewer: Viewer) -> RosterImportView:
    """The staff roster becomes the file's addresses: new ones added, absent ones kept but
    no longer invited. A file with any bad row changes nothing and names every bad row."""
    if not viewer.user.is_admin:
        raise PermissionDenied("Only an admin can import the staff roster.")
    found, problems = _roster_rows(data)
    if problems:
        raise InvalidInput(
            "The file was not imported: correct these rows and import it again.",
            {"roster": "\n".join(problems)},
        )
    async with write_transaction():
        existing = {
            row["email"]: row
            for row in await StaffMember.select(
                StaffMember.id, StaffMember.email, StaffMember.active
            )
        }
        new = [email for email in found if email not in existing]
        back = [e for e in found if e in existing and not existing[e]["active"]]
        gone = [e for e, row in existing.items() if e not in found and row["active"]]
        now = utcnow()
        if new:
            await StaffMember.insert(
                *(StaffMember(email=e, name=found[e], active=True, added_at=now) for e in new)
            )
        if back:
            await StaffMember.update({StaffMember.active: True}).where(
                StaffMember.email.is_in(back)
            )
        if gone:
            await StaffMember.update({StaffMember.active: False}).where(
                StaffMember.email.is_in(gone)
            )
        await record_event(
            viewer.user,
            "pulse.roster_imported",
            "staff_roster",
            "",
            f"Staff roster imported: {len(new)} added, {len(back)} back, {len(gone)} removed",
        )
    return RosterImportView(
        added=len(new), reactivated=len(back), deactivated=len(gone), active=len(found)
    )


# --- runs -------------------------------------------------------------------------------


def invitation_token(run_id: int, staff_id: int) -> str:
    """The secret in an invitee's link: an HMAC of the run and the address's roster row,
    keyed from the secret key, so the reminder can send the same link again. Only its hash
    is stored."""
    key = hashlib.sha256(f"pulse-invitation:{get_settings().secret_key}".encode()).digest()
    return hmac.new(key, f"{run_id}:{staff_id}".encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def invitation_link(run_id: int, staff_id: int) -> str:
    return absolute_url("pulses:answer", token=invitation_token(run_id, staff_id))


async def _run_errors(pulse_id: int, command: NewRun) -> dict[str, str]:
    errors = field_errors(command)
    today = organisation_today()
    if "closes_on" not in errors and command.closes_on is not None:
        if command.closes_on <= today:
            errors["closes_on"] = "The run must close after today."
        elif command.closes_on > today + dt.timedelta(days=MAX_RUN_DAYS):
            errors["closes_on"] = f"A run lasts at most {MAX_RUN_DAYS} days."
    return errors


async def launch_run(
    pulse_id: int, command: NewRun, viewer: Viewer, unreadable: Mapping[str, str] = NO_ERRORS
) -> int:
    """A run open from today, with one single-use link per active staff address, each
    queued through the outbox in the same transaction."""
    pulse = await _pulse_of(pulse_id)
    _lead(viewer, pulse["group"], pulse["visibility"])
    refuse({**await _run_errors(pulse_id, command), **unreadable}, NEEDS_CORRECTING)
    async with write_transaction():
        if await PulseRun.exists().where(
            (PulseRun.pulse == pulse_id) & (PulseRun.status == "open")
        ):
            raise ConflictError("This pulse has a run open already; it must close first.")
        staff = (
            await StaffMember.select(StaffMember.id, StaffMember.email)
            .where(
                StaffMember.active == True  # noqa: E712
            )
            .order_by(StaffMember.id)
        )
        if not staff:
            raise ConflictError("The staff roster is empty: an admin imports it first.")
        number = await PulseRun.count().where(PulseRun.pulse == pulse_id) + 1
        rows = await PulseRun.insert(
            PulseRun(
                pulse=pulse_id,
                number=number,
                opens_on=organisation_today(),
                closes_on=command.closes_on,
                status="open",
                visibility=pulse["visibility"],
                invited=len(staff),
                launched_by=viewer.user.id,
                launched_at=utcnow(),
            )
        ).returning(PulseRun.id)
        run_id = int(rows[0]["id"])
        invites = await _invite(run_id, staff)
        await emails.pulse_invitations(invites, _about(pulse, command.closes_on))
        await record_event(
            viewer.user,
            "pulse.run_launched",
            "pulse_run",
            run_id,
            f"Pulse {pulse_id} run {number} launched to {len(staff)} staff",
            _scope(pulse["group"], pulse["visibility"]),
        )
    return run_id


async def _invite(run_id: int, staff: list[dict[str, Any]]) -> list[emails.PulseInvite]:
    """One invitation per address (only its token's hash is kept), in chunks."""
    for start in range(0, len(staff), INSERT_CHUNK):
        await PulseInvitation.insert(
            *(
                PulseInvitation(
                    run=run_id,
                    staff=member["id"],
                    token_hash=token_hash(invitation_token(run_id, member["id"])),
                )
                for member in staff[start : start + INSERT_CHUNK]
            )
        )
    return [
        emails.PulseInvite(run_id, m["id"], m["email"], invitation_link(run_id, m["id"]))
        for m in staff
    ]


def _about(pulse: Mapping[str, Any], closes_on: dt.date) -> emails.PulseAbout:
    return emails.PulseAbout(
        pulse["group"], pulse["group.name"], pulse["title"], closes_on, pulse["visibility"]
    )


# --- answering --------------------------------------------------------------------------


async def invitation_for(token: str) -> dict[str, Any]:
    """The open run a link answers, or a refusal that says why (unknown, used, closed)."""
    if len(token) != 64 or not token.isascii() or not token.isalnum():
        raise NotFoundError(LINK_UNKNOWN)
    invitation = (
        await PulseInvitation.select(
            PulseInvitation.id,
            PulseInvitation.used,
            PulseInvitation.run,
            PulseInvitation.run.status,
            PulseInvitation.run.closes_on,
            PulseInvitation.run.pulse,
        )
        .where(PulseInvitation.token_hash == token_hash(token))
        .first()
    )
    if invitation is None:
        raise NotFoundError(LINK_UNKNOWN)
    if invitation["run.status"] != "open" or invitation["run.closes_on"] < organisation_today():
        raise ConflictError(RUN_CLOSED)
    if invitation["used"]:
        raise ConflictError(LINK_USED)
    return invitation


def _answer(question: Mapping[str, Any], raw: str) -> tuple[Any, str | None]:
    kind, options = question["kind"], question["options"]
    raw = raw.strip()
    if kind == Kind.COMMENT:
        if len(raw) > COMMENT_MAX_LENGTH:
            return None, f"The comment can be at most {COMMENT_MAX_LENGTH} characters."
        return raw or None, None
    if kind == Kind.DEMOGRAPHIC:
        if not raw:
            return None, None
        if raw != PREFER_NOT_TO_SAY and raw not in options:
            return None, "Choose one of the options."
        return raw, None
    if not raw:
        return None, "Choose an answer."
    if kind == Kind.CHOICE:
        return (raw, None) if raw in options else (None, "Choose one of the options.")
    top = 5 if kind == Kind.SCALE else 10
    bottom = 1 if kind == Kind.SCALE else 0
    if not (raw.isascii() and raw.isdigit()) or not bottom <= int(raw) <= top:
        return None, f"Choose a number from {bottom} to {top}."
    return int(raw), None


async def answers_from(pulse_id: int, form: Mapping[str, str]) -> dict[str, Any]:
    """The answers to the pulse's questions, keyed by question id; every error at once."""
    questions = (
        await PulseQuestion.select(PulseQuestion.id, PulseQuestion.kind, PulseQuestion.options)
        .where(PulseQuestion.pulse == pulse_id)
        .output(load_json=True)
    )
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in questions:
        name = f"q{question['id']}"
        value, problem = _answer(question, str(form.get(name) or ""))
        if problem:
            errors[name] = problem
        elif value is not None:
            answers[str(question["id"])] = value
    refuse(errors, "Some answers need correcting. Nothing has been saved.")
    return answers


async def answer_pulse(token: str, form: Mapping[str, str]) -> None:
    """Stores one anonymous response and uses up the link, in one transaction.

    The response carries no trace of the invitation. So that the database does not tell
    by order either, every answer rewrites the run's responses in a shuffled order with
    new random ids (their rowids on SQLite, their place in the heap and their row versions
    on PostgreSQL stop following the order of answers), and touches every invitation of
    the run (their row versions all date from the latest answer, not each from its own).
    """
    invitation = await invitation_for(token)
    run_id = int(invitation["run"])
    answers = await answers_from(int(invitation["run.pulse"]), form)
    async with write_transaction():
        used = (
            await PulseInvitation.update({PulseInvitation.used: True})
            .where(
                (PulseInvitation.id == invitation["id"]) & (PulseInvitation.used == False)  # noqa: E712
            )
            .returning(PulseInvitation.id)
        )
        if not used:
            raise ConflictError(LINK_USED)
        await PulseInvitation.update({PulseInvitation.reminded: PulseInvitation.reminded}).where(
            PulseInvitation.run == run_id
        )
        kept = [
            row["answers"]
            for row in await PulseResponse.select(PulseResponse.answers)
            .where(PulseResponse.run == run_id)
            .output(load_json=True)
        ]
        kept.append(answers)
        random.SystemRandom().shuffle(kept)
        await PulseResponse.delete().where(PulseResponse.run == run_id)
        for start in range(0, len(kept), INSERT_CHUNK):
            await PulseResponse.insert(
                *(
                    PulseResponse(id=uuid.uuid4(), run=run_id, answers=stored)
                    for stored in kept[start : start + INSERT_CHUNK]
                )
            )


# --- tied to the record ---------------------------------------------------------------------

NOT_A_COMING_PLACE = "Choose a coming meeting of the group, or one of its agenda items."
PAPER_NEEDS_CORRECTING = "The paper needs correcting. Nothing has been added."


async def _paper_visibility(run_visibility: str, command: ResultsPaper, viewer: Viewer) -> str:
    """The narrower of the run's visibility and that of what will hold the paper: nobody
    reads the snapshot who may not read both the results and the agenda item."""
    holder_visibility = documents_queries.MEETING_VISIBILITY
    if command.agenda_item_id is not None:
        item = await documents_queries.holder(
            HolderKind.AGENDA_ITEM, command.agenda_item_id, viewer
        )
        holder_visibility = item["visibility"]
    return (
        run_visibility if scopes.narrows(holder_visibility, run_visibility) else holder_visibility
    )


async def put_results_on_agenda(
    run_id: int,
    command: ResultsPaper,
    viewer: Viewer,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> int:
    """The group's chair or secretary puts a snapshot of a run's results (what the
    threshold allows, frozen now) on a coming meeting of the group, as a paper of the
    meeting or of one of its items, through the documents services (which check, store
    and audit it like any upload). Returns the paper's document id."""
    view = await queries.run_results(run_id, viewer)
    _lead(viewer, view.group_id, view.run.visibility, queries.NO_RUN)
    errors = {**field_errors(command), **unreadable}
    places = await queries.agenda_places(view.group_id, viewer)
    chosen = (command.meeting_id, command.agenda_item_id)
    readable_fields = "meeting_id" not in errors and "agenda_item_id" not in errors
    if readable_fields and chosen not in {(p.meeting_id, p.agenda_item_id) for p in places}:
        errors["meeting_id"] = NOT_A_COMING_PLACE
    refuse(errors, PAPER_NEEDS_CORRECTING)
    paper = NewDocuments(
        title=f"Pulse results: {view.pulse_title}, run {view.run.number}",
        visibility=await _paper_visibility(view.run.visibility, command, viewer),
        agenda_item_id=command.agenda_item_id,
    )
    ids = await documents.add_documents(
        HolderKind.MEETING, command.meeting_id, [_snapshot(view)], paper, viewer
    )
    return ids[0]


def _snapshot(view: RunResultsView) -> BytesUpload:
    """The results as a file, made now: only the figures every reader of a paper or an
    annex may see, so never the comments."""
    view.comments = None
    content = snapshot.results_markdown(view, utcnow()).encode()
    return BytesUpload(snapshot.file_name(view), content)


NOT_A_DRAFT = "Choose a draft report of the group."


async def quote_results_in_report(
    run_id: int,
    command: ResultsAnnex,
    viewer: Viewer,
    unreadable: Mapping[str, str] = NO_ERRORS,
) -> int:
    """The group's chair or secretary quotes a run's results in one of the group's draft
    reports, as an annex (a snapshot made now, with only what the threshold allows), read
    no wider than both the run and the report. Returns the annex's document id."""
    view = await queries.run_results(run_id, viewer)
    _lead(viewer, view.group_id, view.run.visibility, queries.NO_RUN)
    errors = {**field_errors(command), **unreadable}
    drafts = {place.report_id for place in await queries.draft_places(view.group_id, viewer)}
    if "report_id" not in errors and command.report_id not in drafts:
        errors["report_id"] = NOT_A_DRAFT
    refuse(errors, PAPER_NEEDS_CORRECTING)
    report = await documents_queries.holder(HolderKind.REPORT, command.report_id, viewer)
    run_visibility = view.run.visibility
    annex = NewDocuments(
        title=f"Pulse results: {view.pulse_title}, run {view.run.number}",
        visibility=run_visibility
        if scopes.narrows(report["visibility"], run_visibility)
        else report["visibility"],
    )
    ids = await documents.add_documents(
        HolderKind.REPORT, command.report_id, [_snapshot(view)], annex, viewer
    )
    return ids[0]
