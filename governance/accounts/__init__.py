"""Users, sessions, sign-in, invitations, roles and the access policy."""
