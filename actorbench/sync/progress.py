"""Progress as plain events through a callback: tqdm, ipywidgets and tests adapt it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressEvent:
    """``kind``: ``plan`` (totals known), ``bytes`` (``nbytes`` moved; negative on a retry),
    ``file`` (one file finished, ``ok`` and ``error``), ``done`` (actor finished)."""

    kind: str
    actor: str
    key: str = ""
    nbytes: int = 0
    files_total: int = 0
    bytes_total: int = 0
    ok: bool = True
    error: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


def no_progress(event: ProgressEvent) -> None:
    """The default callback: ignore everything."""


class ProgressRecorder:
    """Collects events (thread-safe); handy in tests and for totals."""

    def __init__(self) -> None:
        self.events: list[ProgressEvent] = []
        self._lock = threading.Lock()

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:
            self.events.append(event)

    def kinds(self, kind: str) -> list[ProgressEvent]:
        with self._lock:
            return [e for e in self.events if e.kind == kind]
