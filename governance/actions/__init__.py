"""Action items: who will do what by when, and their progress."""
