"""Periodic transparency reports: figures from the records, two editions, approved and published."""
