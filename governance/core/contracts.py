"""Typed commands: every limit declared once, on the command, and every field's error found
in one round.

A domain's `schemas.py` declares each use case's command as a `msgspec.Struct` whose fields
carry their limits as `msgspec.Meta`, built here (`text`, `number`, `choice`, `row_ids`,
`labelled`). The limits live in `Meta.extra`, where this module reads them, and in
`Meta.extra_json_schema`, where the OpenAPI description shows them. They are deliberately
not msgspec's own constraints: msgspec stops at the first broken constraint while decoding,
and a person correcting a form (or a client reading a 422) must see every field's error at
once. So msgspec checks the *shape* of a JSON body (a 400 for a string where a date goes),
and `field_errors` checks the limits, for the API and for the pages alike, with the same
words. `read_form` fills the same command from a submitted HTML form.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import msgspec
import msgspec.inspect as mi

from governance.core.errors import InvalidInput

# The largest id a Serial column holds (PostgreSQL int4).
MAX_ROW_ID = 2_147_483_647
DEFAULT_MESSAGE = "Some values need correcting. Nothing has been saved."
# No field errors: the default of a service's `unreadable` (the fields an adapter could not
# read from a form, reported by the service with every other error, after it authorises).
NO_ERRORS: Mapping[str, str] = MappingProxyType({})

CommandT = TypeVar("CommandT", bound=msgspec.Struct)

# A row id in a body: a number no row can have is a shape error (400), like a path id that
# the database driver could not bind.
RowIdValue = Annotated[int, msgspec.Meta(ge=1, le=MAX_ROW_ID)]


@dataclass(frozen=True)
class Rule:
    """What one field accepts. `label` names the field in every message."""

    label: str
    required: bool = False
    max_length: int | None = None
    one_line: bool = False
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    max_items: int | None = None
    required_message: str = ""


def _meta(rule: Rule, description: str, schema: dict[str, Any]) -> msgspec.Meta:
    extra_schema = {key: value for key, value in schema.items() if value is not None}
    json_schema: dict[str, Any] = {"description": description or rule.label}
    if extra_schema:
        json_schema["extra"] = extra_schema
    return msgspec.Meta(extra={"rule": rule}, extra_json_schema=json_schema)


def text(
    label: str,
    *,
    max_length: int,
    required: bool = True,
    one_line: bool = True,
    description: str = "",
    required_message: str = "",
) -> msgspec.Meta:
    """A string: one line (a title, a name: no control characters, trimmed) or, with
    `one_line=False`, free text (line breaks allowed)."""
    rule = Rule(
        label,
        required=required,
        max_length=max_length,
        one_line=one_line,
        required_message=required_message,
    )
    return _meta(
        rule, description, {"max_length": max_length, "min_length": 1 if required else None}
    )


def number(label: str, *, minimum: int, maximum: int, description: str = "") -> msgspec.Meta:
    """A whole number in a range."""
    rule = Rule(label, minimum=minimum, maximum=maximum)
    return _meta(rule, description, {"minimum": minimum, "maximum": maximum})


def choice(
    label: str,
    choices: Iterable[str],
    *,
    description: str = "",
    required: bool = True,
    message: str = "",
) -> msgspec.Meta:
    """One of a fixed list of strings (a StrEnum's values); with `required=False`, also
    empty (a filter meaning "any"). `message` replaces "Choose one of: …"."""
    values = tuple(str(value) for value in choices)
    rule = Rule(label, choices=values, required=required, required_message=message)
    return _meta(rule, description, {"enum": list(values)})


def row_ids(
    label: str, *, max_items: int, required: bool = True, required_message: str = ""
) -> msgspec.Meta:
    """A list of row ids (owners, attendees), each a positive id, at most `max_items`."""
    rule = Rule(
        label,
        required=required,
        minimum=1,
        maximum=MAX_ROW_ID,
        max_items=max_items,
        required_message=required_message,
    )
    return _meta(rule, "", {"max_items": max_items, "min_items": 1 if required else None})


def items(label: str, *, max_items: int, description: str = "") -> msgspec.Meta:
    """A list of nested commands (the actions of a response), at most `max_items`; each
    item's own fields carry their limits."""
    rule = Rule(label, max_items=max_items)
    return _meta(rule, description, {"max_items": max_items})


def labelled(label: str, *, description: str = "", required: bool = True) -> msgspec.Meta:
    """A field with no limit beyond its type (a date, a flag): its label for messages."""
    return _meta(Rule(label, required=required), description, {})


# --- checking ---------------------------------------------------------------------------


def _control_characters(value: str, *, allow_line_breaks: bool) -> bool:
    # Free text keeps its line breaks ("\r\n" from a browser, which `trimmed` writes as
    # "\n") and tabs (pasted tables); a one-line text keeps none.
    allowed = {"\n", "\r", "\t"} if allow_line_breaks else set()
    return (
        any(unicodedata.category(c) in {"Cc", "Cs"} and c not in allowed for c in value)
        or "\u2028" in value
        or "\u2029" in value
    )


def text_error(value: str, rule: Rule) -> str | None:
    """Why this string breaks its rule, if it does."""
    if rule.required and not value.strip():
        return rule.required_message or f"{rule.label} is required."
    if rule.max_length is not None and len(value) > rule.max_length:
        return f"{rule.label} must be at most {rule.max_length} characters."
    if "\x00" in value:
        # PostgreSQL cannot store a NUL character in text; refuse it on every database.
        return f"{rule.label} contains a character that cannot be stored."
    if _control_characters(value, allow_line_breaks=not rule.one_line):
        if rule.one_line:
            return f"{rule.label} must be on one line, without control characters."
        return f"{rule.label} contains a control character that cannot be stored."
    return None


def _number_error(value: int, rule: Rule) -> str | None:
    low = rule.minimum if rule.minimum is not None else value
    high = rule.maximum if rule.maximum is not None else value
    if not low <= value <= high:
        return f"{rule.label} must be between {low} and {high}."
    return None


def _ids_error(values: list[Any], rule: Rule) -> str | None:
    if rule.required and not values:
        return rule.required_message or f"Choose at least one: {rule.label.lower()}."
    if rule.max_items is not None and len(set(values)) > rule.max_items:
        return f"{rule.label}: at most {rule.max_items}."
    if any(not isinstance(v, int) or not 1 <= v <= MAX_ROW_ID for v in values):
        return f"{rule.label}: choose from the list."
    return None


def value_error(value: Any, rule: Rule) -> str | None:
    """Why this value breaks its rule, if it does (None passes an optional field)."""
    if value is None:
        return rule.required_message or f"{rule.label} is required."
    if rule.choices:
        if value in rule.choices or (value == "" and not rule.required):
            return None
        return rule.required_message or f"Choose one of: {', '.join(rule.choices)}."
    if isinstance(value, str):
        return text_error(value, rule)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _number_error(value, rule)
    if isinstance(value, list) and rule.max_items is not None:
        return _ids_error(value, rule)
    return None


@dataclass(frozen=True)
class FieldSpec:
    name: str
    rule: Rule | None
    type: Any
    required: bool
    optional: bool
    default: Any


def _unwrap(type_info: Any) -> tuple[Any, Rule | None, bool]:
    """The field's type, its rule, and whether None is allowed."""
    rule = None
    optional = False
    if isinstance(type_info, mi.UnionType):
        others = [t for t in type_info.types if not isinstance(t, mi.NoneType)]
        optional = len(others) < len(type_info.types)
        type_info = others[0] if len(others) == 1 else type_info
    if isinstance(type_info, mi.Metadata):
        rule = (type_info.extra or {}).get("rule")
        type_info = type_info.type
    if isinstance(type_info, mi.UnionType):
        others = [t for t in type_info.types if not isinstance(t, mi.NoneType)]
        optional = optional or len(others) < len(type_info.types)
        type_info = others[0] if len(others) == 1 else type_info
    return type_info, rule, optional


@cache
def field_specs(command_type: type[msgspec.Struct]) -> tuple[FieldSpec, ...]:
    info = mi.type_info(command_type)
    assert isinstance(info, mi.StructType)
    specs = []
    for struct_field in info.fields:
        type_info, rule, optional = _unwrap(struct_field.type)
        default = struct_field.default
        if default is mi.NODEFAULT and struct_field.default_factory is not mi.NODEFAULT:
            default = struct_field.default_factory()
        specs.append(
            FieldSpec(struct_field.name, rule, type_info, struct_field.required, optional, default)
        )
    return tuple(specs)


def field_errors(command: msgspec.Struct, prefix: str = "") -> dict[str, str]:
    """Every field's error, by field name (nested commands as `items.0.title`)."""
    errors: dict[str, str] = {}
    for spec in field_specs(type(command)):
        value = getattr(command, spec.name)
        name = f"{prefix}{spec.name}"
        if isinstance(value, list) and value and isinstance(value[0], msgspec.Struct):
            if spec.rule is not None and spec.rule.max_items and len(value) > spec.rule.max_items:
                errors[name] = f"{spec.rule.label}: at most {spec.rule.max_items}."
            for index, item in enumerate(value):
                errors.update(field_errors(item, f"{name}.{index}."))
            continue
        if isinstance(value, msgspec.Struct):
            errors.update(field_errors(value, f"{name}."))
            continue
        if value is None and spec.optional:
            continue
        if spec.rule is None:
            if value is None:
                errors[name] = f"{spec.name.replace('_', ' ').capitalize()} is required."
            continue
        message = value_error(value, spec.rule)
        if message:
            errors[name] = message
    return errors


def trimmed(command: CommandT) -> CommandT:
    """The command with its one-line texts trimmed of surrounding spaces, and its free
    texts' line breaks written as "\n" (a browser sends a textarea's as "\r\n")."""
    changes = {}
    for spec in field_specs(type(command)):
        value = getattr(command, spec.name)
        if spec.rule is None or spec.rule.max_length is None or not isinstance(value, str):
            continue
        if spec.rule.one_line:
            tidy = value.strip()
        else:
            tidy = value.replace("\r\n", "\n").replace("\r", "\n")
        if tidy != value:
            changes[spec.name] = tidy
    return msgspec.structs.replace(command, **changes) if changes else command


def refuse(errors: Mapping[str, str], message: str = DEFAULT_MESSAGE) -> None:
    """Raises one InvalidInput carrying every field's error, if there are any."""
    if errors:
        raise InvalidInput(message, dict(errors))


def checked(command: CommandT, message: str = DEFAULT_MESSAGE) -> CommandT:
    """The command trimmed, or InvalidInput with every field's error."""
    command = trimmed(command)
    refuse(field_errors(command), message)
    return command


# --- reading a submitted form into a command --------------------------------------------


def ascii_int(raw: str) -> int | None:
    """A whole number written in ASCII digits (optionally signed); None for anything else.
    `str.isdigit` also accepts "²" and "①", which `int()` then refuses."""
    body = raw[1:] if raw[:1] in {"-", "+"} else raw
    if not body or not body.isascii() or not body.isdigit():
        return None
    return int(raw)


def row_id(raw: str) -> int | None:
    """The one reader of a row id written in text (a file name, a form field's name or
        value): ASCII digits only, within what a row can have; None for anything else, which
        the caller answers as not found or as a field's error. "\u0661" (an Arabic-Indic one,
    which `int()` reads) is not id 1."""
    if not raw or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ROW_ID else None


def form_values(data: Mapping[str, Any], name: str) -> list[str]:
    """Every value of a field that may be sent several times (checkboxes)."""
    getall = getattr(data, "getall", None)
    if getall is not None:
        values = getall(name, [])
    else:
        values = data.get(name, [])
        values = values if isinstance(values, list) else [values]
    return [str(value) for value in values]


def _first(data: Mapping[str, Any], name: str) -> str | None:
    values = form_values(data, name)
    return values[0] if values else None


def _label(spec: FieldSpec) -> str:
    return spec.rule.label if spec.rule else spec.name.replace("_", " ").capitalize()


class _Unreadable(Exception):
    pass


def _local_datetime(raw: str, timezone: str) -> dt.datetime:
    """A `datetime-local` input, in the reader's zone, as UTC."""
    moment = dt.datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(dt.UTC)


def _convert(spec: FieldSpec, raw: str, timezone: str) -> Any:
    label = _label(spec)
    kind = spec.type
    if isinstance(kind, mi.IntType):
        value = ascii_int(raw.strip())
        if value is None:
            raise _Unreadable(f"{label} must be a whole number.")
        return value
    if isinstance(kind, mi.DateType):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            raise _Unreadable(f"{label} must be a date (YYYY-MM-DD).") from None
    if isinstance(kind, mi.DateTimeType):
        try:
            return _local_datetime(raw.strip(), timezone)
        except (ValueError, OverflowError):
            raise _Unreadable(f"{label} must be a date and time.") from None
    return raw


def _read_field(spec: FieldSpec, data: Mapping[str, Any], timezone: str) -> Any:
    kind = spec.type
    if isinstance(kind, mi.BoolType):
        raw = _first(data, spec.name)
        return (raw or "").strip().lower() in {"on", "true", "1", "yes"}
    if isinstance(kind, mi.ListType):
        items = [v.strip() for v in form_values(data, spec.name) if v.strip()]
        if isinstance(kind.item_type, mi.IntType):
            numbers = [ascii_int(v) for v in items]
            if any(n is None for n in numbers):
                raise _Unreadable(f"{_label(spec)}: choose from the list.")
            return numbers
        return items
    raw = _first(data, spec.name)
    if raw is None or not raw.strip():
        # Left empty: the command's default, if it has one.
        if not spec.required:
            return spec.default
        return "" if isinstance(kind, mi.StrType) else None
    return _convert(spec, raw, timezone)


def read_form(
    command_type: type[CommandT],
    data: Mapping[str, Any],
    *,
    timezone: str = "UTC",
    **given: Any,
) -> tuple[CommandT, dict[str, str]]:
    """The command a form fills, and every field's error (unreadable values and broken
    limits), in one round. Fields in `given` come from the page, not the form (a path id).
    An unreadable field is None (a list: empty) in the command: act on it only when there
    are no errors."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in field_specs(command_type):
        if spec.name in given:
            values[spec.name] = given[spec.name]
            continue
        try:
            values[spec.name] = _read_field(spec, data, timezone)
        except _Unreadable as error:
            # None, or an empty list for a list: a service reading the command before it
            # refuses the errors must not trip over a value of the wrong type.
            values[spec.name] = [] if isinstance(spec.type, mi.ListType) else None
            errors[spec.name] = str(error)
    command = trimmed(command_type(**values))
    for name, message in field_errors(command).items():
        errors.setdefault(name, message)
    return command, errors


def command_from_form(
    command_type: type[CommandT],
    data: Mapping[str, Any],
    *,
    timezone: str = "UTC",
    message: str = DEFAULT_MESSAGE,
    **given: Any,
) -> CommandT:
    """`read_form`, raising one InvalidInput with every field's error if there are any."""
    command, errors = read_form(command_type, data, timezone=timezone, **given)
    refuse(errors, message)
    return command


# --- confirming an irreversible step -----------------------------------------------------

UNDERSTOOD = "understood"


class Confirmation(msgspec.Struct, kw_only=True):
    """A person's "I understand this cannot be undone", ticked on the page that takes an
    irreversible step (submitting a report, approving minutes...). A use case that takes one
    refuses the step until it is ticked; the API's callers confirm by calling, and give none."""

    understood: Annotated[bool, labelled("I understand this cannot be undone")] = False


def unconfirmed(confirmation: Confirmation | None, what_cannot_be_undone: str) -> dict[str, str]:
    """The field error of a confirmation left unticked (none for the API's callers), saying
    what cannot be undone."""
    if confirmation is None or confirmation.understood:
        return {}
    return {UNDERSTOOD: f"Tick the box to confirm that you understand: {what_cannot_be_undone}"}
