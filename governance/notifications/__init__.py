"""Email: the outbox delivery job, reminders and digests."""
