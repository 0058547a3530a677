"""The adapters of the sync's progress events: a tqdm bar (CLI, notebook) and ``TransferMeter``
(the dashboard's line of words). Domain code only calls a ``ProgressCallback``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..sync.progress import ProgressEvent, ProgressKind
from .words import bytes_pair, duration, human_bytes, plural

__all__ = ["TqdmProgress", "TransferMeter"]


class TqdmProgress:
    """Sync progress as one tqdm bar of bytes with a file count; ``enabled=False`` draws nothing.

    ``notebook=True`` takes ``tqdm.auto`` (a widget in JupyterLab, text elsewhere); else plain
    tqdm on ``file`` (the CLI's stderr). Events come from transfer threads: counting is locked.
    """

    def __init__(self, enabled: bool, file: Any = None, notebook: bool = False) -> None:
        self.bar: Any = None
        self.files = 0
        self.lock = threading.Lock()
        if enabled:
            if notebook:
                from tqdm.auto import tqdm
            else:
                from tqdm import tqdm
            self.bar = tqdm(total=0, unit="B", unit_scale=True, file=file, desc="sync")

    def __call__(self, ev: ProgressEvent) -> None:
        if self.bar is None:
            return
        with self.lock:
            if ev.kind == ProgressKind.PLAN:
                self.bar.total = (self.bar.total or 0) + ev.bytes_total
                self.bar.refresh()
            elif ev.kind == ProgressKind.BYTES:
                self.bar.update(ev.nbytes)
            elif ev.kind == ProgressKind.FILE:
                self.files += 1
                self.bar.set_postfix(files=self.files, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class TransferMeter:
    """Counts a sync's progress events into "12 / 20 files · 24 / 40 MB · 8 MB/s · 3 s left".

    Events come from the transfer threads: counting is locked. ``clock`` is for tests.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.files_done = self.files_total = 0
            self.bytes_done = self.bytes_total = 0
            self.started: float | None = None
            self.finished: float | None = None

    def update(self, ev: ProgressEvent) -> None:
        with self._lock:
            if self.started is None:
                self.started = self.clock()
            if ev.kind == ProgressKind.PLAN:
                self.files_total += ev.files_total
                self.bytes_total += ev.bytes_total
            elif ev.kind == ProgressKind.BYTES:
                self.bytes_done = max(0, self.bytes_done + ev.nbytes)
            elif ev.kind == ProgressKind.FILE:
                self.files_done += 1
            elif ev.kind == ProgressKind.DONE and self.files_done >= self.files_total:
                self.finished = self.clock()

    def rate(self) -> float | None:
        """Bytes per second so far; None before there is anything to measure."""
        if self.started is None or not self.bytes_done:
            return None
        elapsed = (self.finished or self.clock()) - self.started
        return self.bytes_done / elapsed if elapsed > 0.05 else None

    def label(self) -> str:
        if self.started is None:
            return ""
        parts = [f"{self.files_done} / {plural(self.files_total, 'file')}",
                 bytes_pair(min(self.bytes_done, self.bytes_total), self.bytes_total)]
        rate = self.rate()
        if rate:
            parts.append(f"{human_bytes(rate)}/s")
            left = self.bytes_total - self.bytes_done
            if left > 0 and self.finished is None:
                parts.append(f"{duration(left / rate)} left")
        return " · ".join(parts)
