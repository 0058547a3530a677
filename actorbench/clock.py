"""Timestamps as actorbench stores them: UTC, ISO 8601; records to the second, marks finer."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """``"2026-11-22T14:31:00+00:00"``: what every record's ``*_at`` field holds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def stamp() -> str:
    """UTC ISO 8601 to the microsecond: marks are ordered by it, so seconds are too coarse."""
    return datetime.now(UTC).isoformat(timespec="microseconds")
