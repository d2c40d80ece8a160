"""The OpenAPI description of the commands (msgspec Structs) as the API decodes them.

Litestar describes a Struct's fields and the limits declared on each field, but leaves out two
things msgspec enforces when it decodes a body, so that a client following the description
was answered 400: a command that refuses unknown fields (`forbid_unknown_fields=True`) is not
marked `additionalProperties: false`, and the limits of a list's items (`list[RowIdValue]`:
each id at least 1) are dropped. This plugin, registered in `app.py` ahead of Litestar's own,
adds both. (It builds on Litestar's own Struct plugin, which is not public API: litestar is
pinned below 3 in pyproject.toml, and tests/test_schemathesis.py fails if this stops working.)
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


def _arrays(schema: Any) -> Iterator[Schema]:
    """The array schemas of a property: itself, or the branches of its `oneOf`."""
    if not isinstance(schema, Schema):
        return
    if schema.items is not None:
        yield schema
    for branch in (*(schema.one_of or ()), *(schema.any_of or ())):
        yield from _arrays(branch)


class CommandSchemaPlugin(StructSchemaPlugin):
    """Litestar's description of a Struct, with what msgspec also enforces."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = mi.type_info(field_definition.type_)
        assert isinstance(info, mi.StructType)
        if info.forbid_unknown_fields:
            schema.additional_properties = False
        for field in info.fields:
            limits = _item_limits(field.type)
            for array in _arrays((schema.properties or {}).get(field.encode_name)):
                if isinstance(array.items, Schema):
                    for name, value in limits.items():
                        setattr(array.items, name, value)
        return schema
