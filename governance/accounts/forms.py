"""Account forms: what each one accepts, with a message for every wrong value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from governance.accounts.services import DIGEST_FREQUENCIES, WEEKDAYS, RoleChoice
from governance.core.forms import FormReader


@dataclass(frozen=True)
class LoginForm:
    email: str
    password: str


def read_login(data: Mapping[str, Any]) -> tuple[LoginForm, dict[str, str]]:
    reader = FormReader(data)
    email = reader.email("email")
    password = str(data.get("password", ""))
    if not password:
        reader.error("password", "Password is required.")
    return LoginForm(email, password), reader.errors


def read_new_password(data: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    reader = FormReader(data)
    password = reader.password("password")
    if reader.ok and password != str(data.get("password_confirm", "")):
        reader.error("password_confirm", "The two passwords are not the same.")
    return password, reader.errors


def read_roles(reader: FormReader) -> RoleChoice:
    return RoleChoice(
        is_admin=reader.boolean("is_admin"),
        is_director=reader.boolean("is_director"),
        is_board=reader.boolean("is_board"),
    )


@dataclass(frozen=True)
class InvitationForm:
    email: str
    display_name: str
    roles: RoleChoice


def read_invitation(data: Mapping[str, Any]) -> tuple[InvitationForm, dict[str, str]]:
    reader = FormReader(data)
    form = InvitationForm(
        email=reader.email("email"),
        display_name=reader.text("display_name", "Name"),
        roles=read_roles(reader),
    )
    return form, reader.errors


@dataclass(frozen=True)
class UserEditForm:
    display_name: str
    roles: RoleChoice


def read_user_edit(data: Mapping[str, Any]) -> tuple[UserEditForm, dict[str, str]]:
    reader = FormReader(data)
    return UserEditForm(reader.text("display_name", "Name"), read_roles(reader)), reader.errors


@dataclass(frozen=True)
class ProfileForm:
    display_name: str
    timezone: str
    digest_frequency: str
    digest_weekday: str


def read_profile(data: Mapping[str, Any]) -> tuple[ProfileForm, dict[str, str]]:
    reader = FormReader(data)
    form = ProfileForm(
        display_name=reader.text("display_name", "Name"),
        timezone=reader.timezone("timezone"),
        digest_frequency=reader.choice("digest_frequency", "Digest", DIGEST_FREQUENCIES),
        digest_weekday=reader.choice("digest_weekday", "Weekday", WEEKDAYS, default="monday"),
    )
    return form, reader.errors
