"""The access policy of DESIGN.md §1, in one place.

Who is signed in (`CurrentUser`), what they hold in each group (`Viewer`), and which
visibilities they may read. Services build their queries with these so that a list never
fetches a row its reader may not see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from governance.core.clock import today_in

VISIBILITIES = ("public", "internal", "board", "group")
GROUP_ROLES = ("chair", "secretary", "member")
ORGANISATION_ROLES = ("admin", "director", "board")
LEADING_ROLES = frozenset({"chair", "secretary"})


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    display_name: str
    is_admin: bool
    is_director: bool
    is_board: bool
    timezone: str
    session_id: str | None = None

    @property
    def actor_id(self) -> int:
        return self.id

    @property
    def actor_label(self) -> str:
        return self.email

    @property
    def organisation_roles(self) -> list[str]:
        held = [("admin", self.is_admin), ("director", self.is_director), ("board", self.is_board)]
        return [role for role, holds in held if holds]

    @classmethod
    def from_row(cls, row: dict[str, Any], session_id: str | None = None) -> CurrentUser:
        return cls(
            id=row["id"],
            email=row["email"],
            display_name=row["display_name"],
            is_admin=row["is_admin"],
            is_director=row["is_director"],
            is_board=row["is_board"],
            timezone=row["timezone"],
            session_id=session_id,
        )


@dataclass(frozen=True)
class Viewer:
    """A signed-in user with the group roles they hold today."""

    user: CurrentUser
    group_roles: dict[int, str] = field(default_factory=dict)

    def is_member_of(self, group_id: int) -> bool:
        return group_id in self.group_roles

    def leads(self, group_id: int) -> bool:
        return self.group_roles.get(group_id) in LEADING_ROLES

    def readable_visibilities(self, group_id: int) -> frozenset[str]:
        """Visibilities of a group's content this viewer may read (published public aside)."""
        if self.is_member_of(group_id):
            return frozenset(VISIBILITIES)
        if self.user.is_board:
            return frozenset({"public", "internal", "board"})
        if self.user.is_director:
            # Never "board": the Director learns nothing of the independence channel.
            return frozenset({"public", "internal"})
        return frozenset()


def membership_is_current(starts_on: dt.date, ends_on: dt.date | None, on: dt.date) -> bool:
    """A membership gives access from its first day to the end of its last day."""
    return starts_on <= on and (ends_on is None or on <= ends_on)


ROLE_RANK = {"chair": 0, "secretary": 1, "member": 2}


def strongest_roles(memberships: list[dict[str, Any]], on: dt.date) -> dict[int, str]:
    """The highest role held today in each group, from membership rows."""
    roles: dict[int, str] = {}
    for membership in memberships:
        if not membership_is_current(membership["starts_on"], membership["ends_on"], on):
            continue
        group_id = membership["group"]
        held = roles.get(group_id)
        if held is None or ROLE_RANK[membership["role"]] < ROLE_RANK[held]:
            roles[group_id] = membership["role"]
    return roles


def organisation_today(timezone: str) -> dt.date:
    return today_in(timezone)
