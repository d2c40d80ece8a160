"""Written resolutions: motions a working group decides between meetings, by its members'
votes, recorded as decisions and listed in the next meeting's minutes."""
