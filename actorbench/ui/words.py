"""Words, not codes: counts, sizes, times, plurals, statuses and a sync's progress as the pages
say them. Plain functions (no widget): the pages, the reports and the tests share them.

Usage::

    plural(1, "actor")                 # "1 actor"
    human_bytes(24 * 2**20)            # "24 MB"
    short_time("2026-11-22T13:05:00Z") # "22 Nov 14:05" (in the machine's time zone)
    meter = TransferMeter(); meter.update(event); meter.label()
    # "12 / 20 files · 24 / 40 MB · 8 MB/s · 3 s left"
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from ..sync.plan import LABELS, ImageStatus
from ..sync.progress import ProgressEvent
from ..text import plural as plural  # the one rule, shared with JupyterLab's reprs
from ..training.status import JobStatus

UNITS = ("B", "KB", "MB", "GB")
#: the Library's status of an actor, in words
LIBRARY_WORDS = {"synced": "Synced", "not_synced": "Not synced", "no_data": "No images"}


def _scale(n: float) -> tuple[float, str]:
    unit = UNITS[0]
    for unit in UNITS:
        if abs(n) < 1024 or unit == UNITS[-1]:
            break
        n /= 1024
    return n, unit


def _number(v: float, unit: str) -> str:
    if unit == "B":
        return f"{v:.0f}"
    text = f"{v:.1f}" if abs(v) < 10 else f"{v:.0f}"
    return text.removesuffix(".0")


def human_bytes(n: float) -> str:
    """``"512 B"``, ``"1.5 KB"``, ``"24 MB"``, ``"1.2 GB"`` (binary units, as disks count)."""
    v, unit = _scale(float(n))
    return f"{_number(v, unit)} {unit}"


def bytes_pair(done: float, total: float) -> str:
    """``"24 / 40 MB"``: both in the unit of ``total``."""
    _, unit = _scale(float(max(total, done)))
    k = 1024 ** UNITS.index(unit)
    return f"{_number(done / k, unit)} / {_number(total / k, unit)} {unit}"


def duration(seconds: float) -> str:
    """``"3 s"``, ``"2 min"``, ``"1 h 5 min"``."""
    s = max(0, math.ceil(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{round(s / 60)} min"
    h, m = divmod(round(s / 60), 60)
    return f"{h} h {m} min" if m else f"{h} h"


def percent(fraction: float | None) -> str:
    """``"75%"``; ``"—"`` when there is nothing to measure (no images)."""
    if fraction is None or fraction != fraction:  # None or NaN
        return "—"
    return f"{fraction:.0%}"


def short_time(value: object, tz: tzinfo | None = None, now: datetime | None = None) -> str:
    """``"22 Nov 14:05"`` in local time (``tz``, default the machine's); the year is added when
    it is not this year's. An ISO string, a datetime or a pandas Timestamp; a naive time is
    UTC (every record stores UTC); "" for nothing, the text itself when it is not a time."""
    if value is None or value != value:  # None, NaN, NaT
        return ""
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(tz)
    now = (now or datetime.now(UTC)).astimezone(tz)
    day = f"{dt.day} {dt:%b}" + ("" if dt.year == now.year else f" {dt.year}")
    return f"{day} {dt:%H:%M}"


def image_status_word(status: ImageStatus | str) -> str:
    """``"S3 only"`` for ``s3_only``: the palette's label."""
    try:
        return LABELS[ImageStatus(status)]
    except ValueError:
        return str(status)


def library_status_word(status: str) -> str:
    return LIBRARY_WORDS.get(status, str(status).replace("_", " ").capitalize())


def job_status_word(status: object) -> str:
    """``"In progress"`` for ``IN_PROGRESS``; a value no job status has is shown as it is."""
    known = JobStatus.parse(status)
    return known.value.replace("_", " ").capitalize() if known is not None else str(status)


def sentence(describe: str) -> str:
    """``"download 12, keep 1 conflict"`` -> ``"download 12 and keep 1 conflict"``."""
    head, sep, last = describe.rpartition(", ")
    return f"{head} and {last}" if sep else describe


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
            if ev.kind == "plan":
                self.files_total += ev.files_total
                self.bytes_total += ev.bytes_total
            elif ev.kind == "bytes":
                self.bytes_done = max(0, self.bytes_done + ev.nbytes)
            elif ev.kind == "file":
                self.files_done += 1
            elif ev.kind == "done" and self.files_done >= self.files_total:
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
