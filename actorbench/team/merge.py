"""The merge rules of team mode: what a writer re-applies after it lost a compare-and-swap.

A writer reads a shared document and its ETag, merges its own change in, and writes with
``If-Match``; on 412 it reads again and merges again. The rules make that safe: merging a
change twice, or into a document that moved on, gives the same result, and no writer's change
is dropped.

* Versions merge by id: a version either side has is kept.
* A job's state only moves forward, ordered by ``(attempt, rank)``: LAUNCHING < IN_QUEUE <
  IN_PROGRESS < the final states. Among the final ones the answer that says more wins (LOST <
  LAUNCH_FAILED < CANCELLED < FAILED, TIMED_OUT < COMPLETED: a job RunPod completed before a
  cancel reached it did complete). A RunPod retry raises ``attempt``, so its IN_QUEUE is ahead
  of the FAILED it retries. The losing side still gives what the winner lacks (job id, LoRA
  URL, timings).
* "Mark as good" is one choice per actor, ordered by the bucket, not by a writer's clock: each
  mark carries ``revision``, one more than the mark it replaces, given inside the
  compare-and-swap (so the writer that got there last has the highest). A mark a document
  holds is only a candidate if ``valid`` accepts it (the ledger and registry check the
  version, where its LoRA lies and that ``marked_at`` is not in the future); ties (marks from
  before revisions) fall back to ``marked_at``, user, machine, version id. Saved parameters:
  the same, with ``saved_at``. Trigger words: the same, with ``at``; a setting dated beyond
  the clock skew is never kept (a stored one is replaced by any setting, a new one refused).
* New actors: the union by name; the entry stored first keeps its id.

Everything here works on the JSON documents (dicts), not on objects: pure and easy to test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..training.status import JobStatus

#: how far along a job is; a higher rank is never replaced by a lower one
RANK: dict[str, int] = {
    JobStatus.LAUNCHING: 0, JobStatus.IN_QUEUE: 1, JobStatus.IN_PROGRESS: 2,
    JobStatus.LOST: 3, JobStatus.LAUNCH_FAILED: 4, JobStatus.CANCELLED: 5,
    JobStatus.FAILED: 6, JobStatus.TIMED_OUT: 6, JobStatus.COMPLETED: 7,
}
#: fields the winning side of a version may lack and the other side may know
FILLED = ("job_id", "lora_url", "user", "machine", "estimate")
_EPOCH = datetime.min.replace(tzinfo=UTC)
#: how far ahead of this clock another workstation's stamp may be (NTP keeps them closer)
CLOCK_SKEW_S = 300.0


def rank(status: object) -> int:
    """A status's place in the forward order; -1 for a value no state has (an edited file)."""
    return RANK.get(str(status), -1)


def state_key(v: dict[str, Any]) -> tuple[int, int, float, str]:
    """The order a version's state moves forward in (a total order, so merges agree)."""
    attempt = v.get("attempt")
    progress = v.get("progress")
    frac = progress.get("progress") if isinstance(progress, dict) else None
    return (attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else 0,
            rank(v.get("status")),
            float(frac) if isinstance(frac, int | float) and not isinstance(frac, bool) else 0.0,
            str(v.get("status")))


def merge_version(stored: dict[str, Any], mine: dict[str, Any]) -> dict[str, Any]:
    """One version known to both sides: the one further along, completed by the other."""
    winner, other = (mine, stored) if state_key(mine) > state_key(stored) else (stored, mine)
    out = dict(winner)
    for name in FILLED:
        if out.get(name) is None and other.get(name) is not None:
            out[name] = other[name]
    timings = [t for t in (other.get("timings"), winner.get("timings")) if isinstance(t, dict)]
    if timings:
        out["timings"] = {k: v for t in timings for k, v in t.items()}
    return out


def _when(value: object) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return _EPOCH
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def revision(record: object) -> int:
    """A mark's or a save's place in the bucket's order; 0 for one written before revisions
    (or one whose revision is not a whole number >= 0)."""
    got = record.get("revision") if isinstance(record, dict) else None
    return got if isinstance(got, int) and not isinstance(got, bool) and got >= 0 else 0


def next_revision(*records: object) -> int:
    """The revision a new mark or save written over ``records`` (the stored ones) carries."""
    return max((revision(r) for r in records), default=0) + 1


def in_future(stamp: object, now: datetime | None = None, skew: float = CLOCK_SKEW_S) -> bool:
    """True when ``stamp`` is later than now plus the clock skew allowed between workstations."""
    now = now or datetime.now(UTC)
    return (_when(stamp) - now).total_seconds() > skew


def mark_key(mark: dict[str, Any]) -> tuple[int, datetime, str, str, str]:
    return (revision(mark), _when(mark.get("marked_at")), str(mark.get("user") or ""),
            str(mark.get("machine") or ""), str(mark.get("version_id") or ""))


Valid = Callable[[dict[str, Any]], bool]


def later_mark(a: dict[str, Any] | None, b: dict[str, Any] | None,
               valid: Valid | None = None) -> dict[str, Any] | None:
    """Of two "mark as good" records, the one that wins (None: no mark, or none ``valid``)."""
    a, b = ((m if isinstance(m, dict) and (valid is None or valid(m)) else None) for m in (a, b))
    if a is None or b is None:
        return a or b
    return b if mark_key(b) > mark_key(a) else a


def merge_ledger(stored: dict[str, Any] | None, mine: dict[str, Any],
                 valid: Callable[[dict[str, Any], list[dict[str, Any]]], bool] | None = None
                 ) -> dict[str, Any]:
    """An actor's ledger ``{"actor", "versions": [...], "good": mark}`` with ``mine`` merged
    in; each version's ``isGood`` follows the winning mark (one ``valid`` accepts, given the
    merged versions)."""
    stored = stored if isinstance(stored, dict) else {}
    by_id: dict[str, dict[str, Any]] = {}
    for v in list(stored.get("versions") or []) + list(mine.get("versions") or []):
        vid = v["id"]
        by_id[vid] = merge_version(by_id[vid], v) if vid in by_id else dict(v)
    merged = list(by_id.values())
    good = later_mark(stored.get("good"), mine.get("good"),
                      None if valid is None else lambda m: valid(m, merged))
    good_id = good.get("version_id") if good else None
    versions = [{**v, "isGood": v["id"] == good_id} for v in by_id.values()]
    out = {**stored, **{k: v for k, v in mine.items() if k not in stored}}
    out.update(versions=versions, good=good)
    return out


def merge_registry(stored: dict[str, Any] | None, mine: dict[str, Any],
                   valid: Callable[[str, dict[str, Any]], bool] | None = None) -> dict[str, Any]:
    """``{"actors": [entries added by actorbench], "validated": {name: mark},
    "triggers": {name: {"word", "at", "user", "revision"}}}`` merged; with ``valid``, a mark
    it refuses (given the actor's name) never wins; a trigger setting dated in the future
    (beyond ``CLOCK_SKEW_S``) never wins."""
    stored = stored if isinstance(stored, dict) else {}
    actors = [a for a in stored.get("actors") or [] if isinstance(a, dict)]
    names = {a.get("name") for a in actors}
    actors += [a for a in mine.get("actors") or [] if a.get("name") not in names]
    validated = stored.get("validated")
    validated = dict(validated) if isinstance(validated, dict) else {}
    for name, mark in (mine.get("validated") or {}).items():
        check = None if valid is None else (lambda m, n=name: valid(n, m))
        validated[name] = later_mark(validated.get(name), mark, check)
    triggers = stored.get("triggers")
    triggers = dict(triggers) if isinstance(triggers, dict) else {}
    for name, rec in (mine.get("triggers") or {}).items():  # the higher revision wins
        if not isinstance(rec, dict) or in_future(rec.get("at")):
            continue  # dated ahead of every clock: refused
        old = triggers.get(name)
        if (not isinstance(old, dict) or in_future(old.get("at"))
                or _trigger_key(rec) > _trigger_key(old)):
            triggers[name] = rec
    return {**stored, "actors": actors, "validated": validated,
            **({"triggers": triggers} if triggers else {})}


def _trigger_key(rec: dict[str, Any]) -> tuple[int, datetime, str]:
    """A trigger word's setting ``{"word", "at", "user", "revision"}``: ordered by revision
    (given inside the compare-and-swap, so by the bucket), then time, then user."""
    return revision(rec), _when(rec.get("at")), str(rec.get("user") or "")


def merge_params(stored: dict[str, Any] | None, mine: dict[str, Any]) -> dict[str, Any]:
    """Saved parameters ``{"params", "saved_at", "user", "machine", "revision"}``: the save
    with the higher revision wins; one stamped in the future is never kept."""
    if not isinstance(stored, dict) or in_future(stored.get("saved_at")):
        return mine

    def key(d: dict[str, Any]) -> tuple[int, datetime, str, str]:
        return (revision(d), _when(d.get("saved_at")), str(d.get("user") or ""),
                str(d.get("machine") or ""))

    return mine if key(mine) > key(stored) else stored
