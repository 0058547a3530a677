"""Who did it, from where, and when: the stamp on every launch and every mark."""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Who:
    """A person at a workstation: ``ACTORBENCH_USER`` (default the OS user) and the host name."""

    user: str
    machine: str

    def as_dict(self) -> dict[str, str]:
        return {"user": self.user, "machine": self.machine}

    def __str__(self) -> str:
        return f"{self.user}@{self.machine}"


def who_of(settings: Any) -> Who:
    """The ``Who`` for these settings (``settings.user`` over the OS user)."""
    user = getattr(settings, "user", None)
    if not user:
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no USER variables and no passwd entry (a bare container)
            user = "unknown"
    return Who(str(user), socket.gethostname() or "unknown")


def stamp() -> str:
    """UTC ISO 8601 to the microsecond: marks are ordered by it, so seconds are too coarse."""
    return datetime.now(UTC).isoformat(timespec="microseconds")
