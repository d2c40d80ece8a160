"""Plumbing shared by every domain; nothing here knows a governance rule."""
