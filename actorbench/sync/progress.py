"""Progress as plain events through a callback: tqdm, ipywidgets and tests adapt it."""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass


class ProgressKind(enum.StrEnum):
    PLAN = "plan"  # an actor's totals are known (``files_total``, ``bytes_total``)
    BYTES = "bytes"  # ``nbytes`` moved; negative when a retry takes them back
    FILE = "file"  # one file finished (``ok``, ``error``)
    DONE = "done"  # an actor finished (``ok``)


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a sync, for tqdm, ipywidgets and tests to adapt (see :class:`ProgressKind`)."""

    kind: ProgressKind
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

    def kinds(self, kind: ProgressKind | str) -> list[ProgressEvent]:
        with self._lock:
            return [e for e in self.events if e.kind == kind]
