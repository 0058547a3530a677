"""Words, not codes: counts, sizes, times, plurals, statuses and a sync's progress as the pages
say them. Plain functions (no widget): the pages, the reports and the tests share them.

Usage::

    plural(1, "actor")                 # "1 actor"
    human_bytes(24_000_000)            # "24 MB"
    short_time("2026-11-22T13:05:00Z") # "22 Nov 14:05" (in the machine's time zone)
"""

from __future__ import annotations

import numbers
from datetime import UTC, datetime, tzinfo

from ..actors.registry import LibraryStatus
from ..sync.plan import LABELS, ImageStatus
from ..training.status import JobStatus
from ..units import format_duration, format_size, size_pair

#: the one size formatter and the one duration formatter (``actorbench.units``), by the names
#: the pages call them
human_bytes, bytes_pair, duration = format_size, size_pair, format_duration


def plural(n: int, word: str, many: str | None = None) -> str:
    """``"1 actor"``, ``"2 actors"``, ``"0 actors"``; ``many`` for irregular words."""
    n = int(n)
    return f"{n} {word if n == 1 else (many or word + 's')}"


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
    """``"Not synced yet"`` for ``not_synced``: ``LibraryStatus.label``."""
    try:
        return LibraryStatus(status).label
    except ValueError:
        return str(status).replace("_", " ").capitalize()


def facet_word(value: str) -> str:
    """A facet as the pages say it: ``east_asian`` -> ``"East Asian"``, ``female`` ->
    ``"Female"``."""
    return str(value).replace("_", " ").title()


def job_status_word(status: object) -> str:
    """``"In progress"`` for ``IN_PROGRESS``; a value no job status has is shown as it is."""
    known = JobStatus.parse(status)
    return known.value.replace("_", " ").capitalize() if known is not None else str(status)


def sentence(describe: str) -> str:
    """``"download 12, keep 1 conflict"`` -> ``"download 12 and keep 1 conflict"``."""
    head, sep, last = describe.rpartition(", ")
    return f"{head} and {last}" if sep else describe

def money(value: object) -> str:
    """``"$1.25"``; ``"under $0.01"`` for a few seconds of GPU; ``"—"`` for no number."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or value != value:
        return "—"
    v = float(value)
    return "under $0.01" if 0 < v < 0.005 else f"${v:,.2f}"
