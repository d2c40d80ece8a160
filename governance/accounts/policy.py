"""The access policy of DESIGN.md §1, in one place: the vocabulary and the decisions.

Who is signed in (`CurrentUser`), what they hold in each group (`Viewer`), and which
visibilities they may read. The query conditions built from these decisions are written
once, in `accounts/scopes.py`, so that a list never fetches a row its reader may not see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any


class Visibility(StrEnum):
    """Who may read a piece of group content."""

    PUBLIC = "public"  # anyone, once the minutes or report holding it are published
    INTERNAL = "internal"  # the group's members, the Director and the Board
    BOARD = "board"  # the group's members and the Board; never the Director
    GROUP = "group"  # the group's current members only

    @property
    def label(self) -> str:
        return VISIBILITY_LABELS[self]


VISIBILITY_LABELS: Mapping[Visibility, str] = {
    Visibility.PUBLIC: "Public: may be published",
    Visibility.INTERNAL: "Internal: members, the Director and the Board",
    Visibility.BOARD: "Board: members and the Board, never the Director",
    Visibility.GROUP: "Group: current members only",
}


class GroupRole(StrEnum):
    CHAIR = "chair"
    SECRETARY = "secretary"
    MEMBER = "member"


class OrganisationRole(StrEnum):
    ADMIN = "admin"  # manages accounts and groups, not content
    DIRECTOR = "director"
    BOARD = "board"


class Line(StrEnum):
    """A reporting line's recipient body: each group reports to both."""

    DIRECTOR = "director"
    BOARD = "board"

    @property
    def label(self) -> str:
        return LINE_LABELS[self]


LINE_LABELS: Mapping[Line, str] = {Line.DIRECTOR: "Executive Director", Line.BOARD: "Board"}

# Plain tuples of the values, for choices in forms, schemas and migrations.
VISIBILITIES: tuple[str, ...] = tuple(Visibility)
GROUP_ROLES: tuple[str, ...] = tuple(GroupRole)
ORGANISATION_ROLES: tuple[str, ...] = tuple(OrganisationRole)
LINES: tuple[str, ...] = tuple(Line)
LEADING_ROLES = frozenset({GroupRole.CHAIR, GroupRole.SECRETARY})
ROLE_RANK: Mapping[str, int] = {GroupRole.CHAIR: 0, GroupRole.SECRETARY: 1, GroupRole.MEMBER: 2}

# What the Director and the Board read of a group they are not members of. The Director
# never reads "board": the Board's independence channel.
DIRECTOR_READS = frozenset({Visibility.PUBLIC, Visibility.INTERNAL})
BOARD_READS = frozenset({Visibility.PUBLIC, Visibility.INTERNAL, Visibility.BOARD})
MEMBER_READS = frozenset(Visibility)
NOTHING: frozenset[str] = frozenset()
# What an administrator sees of the trail's metadata and of the outbox (events and emails,
# never content) about records they are no reader of: what the Director reads too, so that
# holding the admin role beside another adds nothing of the Board's or a group's own.
ADMIN_METADATA = DIRECTOR_READS


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
    # Set when the request came with a read-only API token: unsafe methods are refused.
    read_only: bool = False
    # Set when the person holds a role that must sign in with a second factor and has not
    # enrolled one yet: nothing but enrolment (and signing out) is open to them.
    must_enrol_second_factor: bool = False

    @property
    def actor_id(self) -> int:
        return self.id

    @property
    def actor_label(self) -> str:
        return self.email

    @property
    def organisation_roles(self) -> list[str]:
        held = [
            (OrganisationRole.ADMIN, self.is_admin),
            (OrganisationRole.DIRECTOR, self.is_director),
            (OrganisationRole.BOARD, self.is_board),
        ]
        return [str(role) for role, holds in held if holds]

    def holds_any_of(self, roles: Iterable[str]) -> bool:
        """Whether this person holds one of these organisation roles ("member" is anyone
        with an account)."""
        held = {*self.organisation_roles, "member"}
        return any(role in held for role in roles)

    def acts_for(self, line: str) -> bool:
        """Whether this person answers for that reporting line."""
        return (line == Line.DIRECTOR and self.is_director) or (
            line == Line.BOARD and self.is_board
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any], session_id: str | None = None) -> CurrentUser:
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

    @cached_property
    def query_shape(self) -> tuple[Any, ...]:
        """Everything about this viewer that a visibility condition is built from (the
        key under which `core.db.PreparedSelect` keeps a query built for them): who they
        are, their organisation roles and their group roles. Made once per viewer, as a
        page runs a score of prepared selects for the same one."""
        user = self.user
        roles = tuple(sorted(self.group_roles.items()))
        return (user.id, user.is_admin, user.is_director, user.is_board, roles)

    def is_member_of(self, group_id: int) -> bool:
        return group_id in self.group_roles

    def leads(self, group_id: int) -> bool:
        return self.group_roles.get(group_id) in LEADING_ROLES

    def readable_visibilities(self, group_id: int) -> frozenset[str]:
        """Visibilities of a group's content this viewer may read (published public aside)."""
        if self.is_member_of(group_id):
            return MEMBER_READS
        return self.outsider_visibilities()

    def metadata_visibilities(self) -> frozenset[str]:
        """Visibilities of records outside this viewer's groups whose events and emails they
        may see listed (the audit trail, the outbox)."""
        extra = ADMIN_METADATA if self.user.is_admin else NOTHING
        return self.outsider_visibilities() | extra

    def outsider_visibilities(self) -> frozenset[str]:
        """What this viewer reads of a group they are not a member of."""
        if self.user.is_board:
            return BOARD_READS
        if self.user.is_director:
            return DIRECTOR_READS
        return NOTHING


def membership_is_current(starts_on: dt.date, ends_on: dt.date | None, on: dt.date) -> bool:
    """A membership gives access from its first day to the end of its last day."""
    return starts_on <= on and (ends_on is None or on <= ends_on)


def strongest_roles(memberships: Iterable[Mapping[str, Any]], on: dt.date) -> dict[int, str]:
    """The highest role held on that day in each group, from membership rows."""
    roles: dict[int, str] = {}
    for membership in memberships:
        if not membership_is_current(membership["starts_on"], membership["ends_on"], on):
            continue
        group_id = membership["group"]
        held = roles.get(group_id)
        if held is None or ROLE_RANK[membership["role"]] < ROLE_RANK[held]:
            roles[group_id] = membership["role"]
    return roles
