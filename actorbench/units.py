"""Quantities in words: the one size formatter and the one duration formatter.

Sizes are decimal (KB = 1000 bytes), as ``ACTORBENCH_MIN_FREE`` reads them, so "200 MB" means
what a person typed. A foundation module: the sync core's and the doctor's messages use it, and
``present.words`` serves it to the dashboard, the notebook and the CLI.

Usage::

    format_size(24_000_000)            # "24 MB"
    size_pair(24e6, 40e6)              # "24 / 40 MB"
    format_duration(3900)              # "1 h 5 min"
"""

from __future__ import annotations

import math

UNITS = ("B", "KB", "MB", "GB", "TB")


def _scale(n: float) -> tuple[float, str]:
    unit = UNITS[0]
    for unit in UNITS:
        if abs(n) < 1000 or unit == UNITS[-1]:
            break
        n /= 1000
    return n, unit


def _number(v: float, unit: str) -> str:
    if unit == "B":
        return f"{v:.0f}"
    text = f"{v:.1f}" if abs(v) < 10 else f"{v:.0f}"
    return text.removesuffix(".0")


def format_size(n: float) -> str:
    """``"512 B"``, ``"1.5 KB"``, ``"24 MB"``, ``"1.2 GB"`` (powers of 1000)."""
    v, unit = _scale(float(n))
    return f"{_number(v, unit)} {unit}"


def size_pair(done: float, total: float) -> str:
    """``"24 / 40 MB"``: both in the unit of ``total``."""
    _, unit = _scale(float(max(total, done)))
    k = 1000 ** UNITS.index(unit)
    return f"{_number(done / k, unit)} / {_number(total / k, unit)} {unit}"


def format_duration(seconds: float) -> str:
    """``"3 s"``, ``"2 min"``, ``"1 h 5 min"``."""
    s = max(0, math.ceil(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{round(s / 60)} min"
    h, m = divmod(round(s / 60), 60)
    return f"{h} h {m} min" if m else f"{h} h"
