"""The organisation's name and logo (settings) in the header and in emails, and the
service's favicon (issue 16)."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from governance.core.email import render_email
from governance.settings import SettingsError, load_settings
from tests.accounts.test_transport_security import environment, served


def test_the_name_and_logo_are_read_from_the_settings(tmp_path) -> None:
    base = {"GOVERNANCE_DATA_DIR": str(tmp_path), "GOVERNANCE_SECRET_KEY": "k"}
    assert (load_settings(base).org_name, load_settings(base).org_logo_url) == ("", "")
    settings = load_settings(
        {
            **base,
            "GOVERNANCE_ORG_NAME": "  Rights   Watch ",
            "GOVERNANCE_ORG_LOGO_URL": "/static/logo.svg",
        }
    )
    assert (settings.org_name, settings.org_logo_url) == ("Rights Watch", "/static/logo.svg")
    assert load_settings({**base, "GOVERNANCE_ORG_LOGO_URL": "https://example.org/l.png"})
    for bad in ("javascript:alert(1)", "logo.svg", '/static/x" onerror="alert(1)'):
        with pytest.raises(SettingsError, match="GOVERNANCE_ORG_LOGO_URL"):
            load_settings({**base, "GOVERNANCE_ORG_LOGO_URL": bad})


async def test_every_page_links_the_favicon(client: httpx.AsyncClient) -> None:
    login = await client.get("/login")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login.text
    icon = await client.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert icon.text.lstrip().startswith("<svg")


async def test_the_header_shows_the_organisation(app: Litestar) -> None:
    settings = {
        "GOVERNANCE_ORG_NAME": "Rights Watch",
        "GOVERNANCE_ORG_LOGO_URL": "/static/logo.svg",
    }
    async with served(app, **settings) as client:
        login = await client.get("/login")
    assert '<span class="brand-organisation">Rights Watch</span>' in login.text
    assert '<img class="brand-logo" src="/static/logo.svg" alt=""' in login.text


def test_emails_name_the_organisation() -> None:
    with environment(GOVERNANCE_ORG_NAME="Rights Watch"):
        mail = render_email(
            "password_reset",
            {"link": "https://x.example/r", "valid_hours": 2, "display_name": "Ria"},
        )
    assert "the working-group service of Rights Watch" in mail.html
