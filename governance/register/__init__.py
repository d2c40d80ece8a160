"""The decision register: every decision a reader may read, per group and for the
organisation, with its outcome, votes, quorum and the actions that came of it. Reads only."""
