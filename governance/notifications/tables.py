"""Tables of the notifications domain: each user's digest record."""

from __future__ import annotations

from piccolo.columns import ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table

from governance.accounts.tables import User


class DigestRecord(Table, tablename="digest_record"):
    """The last digest period considered for a user, and when one was last sent.

    `last_period` is the local date of the last period the digest job looked at for this user
    (whether or not there was anything to send); `last_sent_at` is when a digest was last
    queued, the start of "decisions since my last digest".
    """

    id = Serial(primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, unique=True, index=True)
    last_period = Varchar(length=10, default="", index=True)
    last_checked_at = Timestamptz()
    last_sent_at = Timestamptz(null=True, default=None)
