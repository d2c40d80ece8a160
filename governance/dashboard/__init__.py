"""The signed-in person's home page: what is theirs, per role. It reads every domain."""
