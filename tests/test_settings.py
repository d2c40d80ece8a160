"""Settings read from GOVERNANCE_* variables: defaults, and a clear refusal of a value the
service cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.settings import SettingsError, load_settings


@pytest.fixture
def base(tmp_path: Path) -> dict[str, str]:
    return {"GOVERNANCE_DATA_DIR": str(tmp_path), "GOVERNANCE_SECRET_KEY": "not-a-secret"}


def test_the_database_pool_holds_four_connections_unless_told(base: dict[str, str]):
    assert load_settings(base).database_pool_size == 4
    told = load_settings(base | {"GOVERNANCE_DATABASE_POOL_SIZE": "12"})
    assert told.database_pool_size == 12


@pytest.mark.parametrize("value", ["0", "-2", "four"])
def test_a_pool_without_connections_is_refused_by_name(base: dict[str, str], value: str):
    with pytest.raises(SettingsError, match="GOVERNANCE_DATABASE_POOL_SIZE"):
        load_settings(base | {"GOVERNANCE_DATABASE_POOL_SIZE": value})
