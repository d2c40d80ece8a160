"""The OpenAPI description says what msgspec enforces when it decodes a command."""

from __future__ import annotations

import re

from litestar import Litestar

from governance.core.contracts import MAX_ROW_ID
from governance.core.openapi import _positive_up_to


def _schemas(app: Litestar) -> dict[str, dict]:
    return app.openapi_schema.to_schema()["components"]["schemas"]


def test_commands_refuse_unknown_fields_and_views_do_not_say_so(app: Litestar) -> None:
    schemas = _schemas(app)
    assert schemas["NewAction"]["additionalProperties"] is False
    assert schemas["MinutesDraft"]["additionalProperties"] is False
    assert "additionalProperties" not in schemas["ActionView"]


def test_ids_in_a_list_are_positive_row_ids(app: Litestar) -> None:
    owners = _schemas(app)["NewAction"]["properties"]["owner_ids"]
    assert owners["items"] == {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}
    # A field that may be left out (null) keeps the limits in its array branch.
    patch = _schemas(app)["ActionPatch"]["properties"]["owner_ids"]
    [array] = [branch for branch in patch["oneOf"] if branch.get("type") == "array"]
    assert array["items"]["minimum"] == 1


def test_the_keys_of_a_map_by_id_are_row_ids(app: Litestar) -> None:
    items = _schemas(app)["MinutesDraft"]["properties"]["items"]
    key = re.compile(items["propertyNames"]["pattern"])
    for good in ("1", "9", "10", "999999999", "1999999999", "2147483647"):
        assert key.match(good), good
    for bad in ("0", "007", "-1", "+5", " 5", "2147483648", "9999999999", "٣", "x"):
        assert not key.match(bad), bad


def test_numbers_up_to_a_maximum() -> None:
    for maximum in (1, 5, 10, 99, 100, 300, 4096):
        pattern = re.compile(_positive_up_to(maximum))
        matched = [n for n in range(0, maximum * 2 + 20) if pattern.match(str(n))]
        assert matched == list(range(1, maximum + 1)), maximum
