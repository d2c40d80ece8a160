"""Demo accounts and memberships for `governance init --demo`. Safe to run twice."""

from __future__ import annotations

import datetime as dt

from governance.accounts.services import RoleChoice, create_user
from governance.accounts.tables import User
from governance.core.audit import SYSTEM
from governance.groups.services import (
    MembershipFields,
    add_membership,
    get_group,
    organisation_date,
)

DEMO_PASSWORD = "governance-demo"  # noqa: S105 - documented demo password, demo data only

DEMO_ACCOUNTS = (
    ("admin@example.org", "Ada Admin", RoleChoice(is_admin=True)),
    ("director@example.org", "Dana Director", RoleChoice(is_director=True)),
    ("board@example.org", "Bao Board", RoleChoice(is_board=True)),
    ("board2@example.org", "Beatriz Board", RoleChoice(is_board=True)),
    ("chair.wellbeing@example.org", "Wren Wellbeing (chair)", RoleChoice()),
    ("member.wellbeing@example.org", "Milo Wellbeing", RoleChoice()),
    ("chair.ndi@example.org", "Nia Inclusion (chair)", RoleChoice()),
    ("member.ndi@example.org", "Noor Inclusion", RoleChoice()),
)

DEMO_MEMBERSHIPS = (
    ("wellbeing", "chair.wellbeing@example.org", "chair"),
    ("wellbeing", "member.wellbeing@example.org", "member"),
    ("ndi", "chair.ndi@example.org", "chair"),
    ("ndi", "member.ndi@example.org", "member"),
)


async def seed_demo() -> int:
    """Creates whatever demo accounts and memberships are missing; returns how many accounts."""
    created = 0
    for email, name, roles in DEMO_ACCOUNTS:
        if not await User.exists().where(User.email == email):
            await create_user(email, name, roles, DEMO_PASSWORD, SYSTEM)
            created += 1
    if created:
        starts_on = organisation_date() - dt.timedelta(days=365)
        for slug, email, role in DEMO_MEMBERSHIPS:
            group = await get_group(slug)
            await add_membership(
                group["id"], email, MembershipFields(role, starts_on, None), SYSTEM
            )
    return created
