"""Which images of an actor a sync touches: ``--only 0-9,12`` and the UI's range box."""

from __future__ import annotations

from ..errors import ActorbenchError

#: a range wider than this is a typo, not a selection
MAX_RANGE = 100_000


def parse_only(spec: str | None) -> set[int] | None:
    """``"0-9,12"`` -> {0..9, 12}; None or blank means every image."""
    if spec is None or not spec.strip():
        return None
    out: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if lo < 0 or hi < lo or hi - lo > MAX_RANGE:
                    raise ValueError
                out.update(range(lo, hi + 1))
            else:
                value = int(part)
                if value < 0:
                    raise ValueError
                out.add(value)
        except ValueError:
            raise ActorbenchError(f"--only {spec!r}: use indices and ranges like 0-9,12.") from None
    return out


def format_only(indices: set[int] | None) -> str:
    """The inverse of :func:`parse_only`: {0,1,2,3,12} -> ``"0-3,12"``."""
    if indices is None:
        return ""
    parts: list[str] = []
    run: list[int] = []
    for i in sorted(indices):
        if run and i != run[-1] + 1:
            parts.append(_run(run))
            run = []
        run.append(i)
    if run:
        parts.append(_run(run))
    return ",".join(parts)


def _run(run: list[int]) -> str:
    return str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}"
