"""Working groups, memberships and reporting lines."""
