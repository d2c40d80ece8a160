"""The OpenAPI description of the commands (msgspec Structs) as the API decodes them.

Litestar describes a Struct's fields and the limits declared on each field, but leaves out
things msgspec enforces when it decodes a body, so that a client following the description
was answered 400: a command that refuses unknown fields (`forbid_unknown_fields=True`) is not
marked `additionalProperties: false`, the limits of a list's items (`list[RowIdValue]`: each
id at least 1) are dropped, and the keys of a map by id (`dict[RowIdValue, ...]`, the minutes
of each agenda item) are not said to be ids. This plugin, registered in `app.py` ahead of
Litestar's own, adds all three. (It builds on Litestar's Struct plugin, which is not public
API: litestar is pinned below 3 in pyproject.toml, and tests/test_schemathesis.py fails if
this stops working.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec.inspect as mi
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import Schema
from litestar.typing import FieldDefinition

# msgspec's name of a limit, and the OpenAPI schema's.
_NUMBER_LIMITS = {
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusive_minimum",
    "lt": "exclusive_maximum",
}
_TEXT_LIMITS = {"min_length": "min_length", "max_length": "max_length", "pattern": "pattern"}
_SEQUENCES = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)


def _unwrapped(field_type: mi.Type) -> mi.Type:
    """The type under any `Annotated` limits and any `| None`."""
    if isinstance(field_type, mi.Metadata):
        return _unwrapped(field_type.type)
    if isinstance(field_type, mi.UnionType):
        others = [t for t in field_type.types if not isinstance(t, mi.NoneType)]
        if len(others) == 1:
            return _unwrapped(others[0])
    return field_type


def _item_limits(field_type: mi.Type) -> dict[str, Any]:
    """The limits on each item of a list field, by the OpenAPI schema's attribute names."""
    sequence = _unwrapped(field_type)
    if not isinstance(sequence, _SEQUENCES):
        return {}
    item = _unwrapped(sequence.item_type)
    if isinstance(item, mi.IntType | mi.FloatType):
        names = _NUMBER_LIMITS
    elif isinstance(item, mi.StrType):
        names = _TEXT_LIMITS
    else:
        return {}
    return {
        openapi: getattr(item, limit)
        for limit, openapi in names.items()
        if getattr(item, limit) is not None
    }


def _positive_up_to(maximum: int) -> str:
    """A regular expression for the numbers 1 to `maximum` in decimal without leading
    zeros: what msgspec reads as an int key of at least 1 and at most `maximum`."""
    digits = str(maximum)
    branches = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for position, digit in enumerate(digits):
        lowest = 1 if position == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - position - 1
            branches.append(f"{digits[:position]}[{lowest}-{int(digit) - 1}][0-9]{{{rest}}}")
    branches.append(digits)
    return f"^({'|'.join(branches)})$"


def _key_names(field_type: mi.Type) -> Schema | None:
    """What the keys of a map by row id look like, as JSON object keys are strings."""
    mapping = _unwrapped(field_type)
    if not isinstance(mapping, mi.DictType):
        return None
    key = _unwrapped(mapping.key_type)
    if not isinstance(key, mi.IntType) or key.ge != 1 or key.le is None:
        return None
    return Schema(pattern=_positive_up_to(key.le))


def _branches(schema: Any) -> Iterator[Schema]:
    """A property's schema and the branches of its `oneOf` (a field that may be null)."""
    if not isinstance(schema, Schema):
        return
    yield schema
    for branch in (*(schema.one_of or ()), *(schema.any_of or ())):
        yield from _branches(branch)


class CommandSchemaPlugin(StructSchemaPlugin):
    """Litestar's description of a Struct, with what msgspec also enforces."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = mi.type_info(field_definition.type_)
        assert isinstance(info, mi.StructType)
        if info.forbid_unknown_fields:
            schema.additional_properties = False
        for field in info.fields:
            limits, keys = _item_limits(field.type), _key_names(field.type)
            for branch in _branches((schema.properties or {}).get(field.encode_name)):
                if isinstance(branch.items, Schema):
                    for name, value in limits.items():
                        setattr(branch.items, name, value)
                if keys is not None and branch.additional_properties is not None:
                    branch.property_names = keys
        return schema
