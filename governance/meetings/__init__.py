"""Meetings, agendas, attendance and quorum, minutes, decisions and calendars."""
