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
* "Mark as good" is one choice per actor: the later ``marked_at`` wins, ties broken by user,
  then machine, then version id. Saved parameters: the later ``saved_at`` wins, the same way.
* New actors: the union by name; the entry stored first keeps its id.

Everything here works on the JSON documents (dicts), not on objects: pure and easy to test.
"""

from __future__ import annotations

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


def mark_key(mark: dict[str, Any]) -> tuple[datetime, str, str, str]:
    return (_when(mark.get("marked_at")), str(mark.get("user") or ""),
            str(mark.get("machine") or ""), str(mark.get("version_id") or ""))


def later_mark(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """Of two "mark as good" records, the one that wins (None: no mark)."""
    if not isinstance(a, dict):
        return b if isinstance(b, dict) else None
    if not isinstance(b, dict):
        return a
    return b if mark_key(b) > mark_key(a) else a


def merge_ledger(stored: dict[str, Any] | None, mine: dict[str, Any]) -> dict[str, Any]:
    """An actor's ledger ``{"actor", "versions": [...], "good": mark}`` with ``mine`` merged
    in; each version's ``isGood`` follows the winning mark."""
    stored = stored if isinstance(stored, dict) else {}
    by_id: dict[str, dict[str, Any]] = {}
    for v in list(stored.get("versions") or []) + list(mine.get("versions") or []):
        vid = v["id"]
        by_id[vid] = merge_version(by_id[vid], v) if vid in by_id else dict(v)
    good = later_mark(stored.get("good"), mine.get("good"))
    good_id = good.get("version_id") if good else None
    versions = [{**v, "isGood": v["id"] == good_id} for v in by_id.values()]
    out = {**stored, **{k: v for k, v in mine.items() if k not in stored}}
    out.update(versions=versions, good=good)
    return out


def merge_registry(stored: dict[str, Any] | None, mine: dict[str, Any]) -> dict[str, Any]:
    """``{"actors": [entries added by actorbench], "validated": {name: mark},
    "triggers": {name: {"word", "at", "user"}}}`` merged."""
    stored = stored if isinstance(stored, dict) else {}
    actors = [a for a in stored.get("actors") or [] if isinstance(a, dict)]
    names = {a.get("name") for a in actors}
    actors += [a for a in mine.get("actors") or [] if a.get("name") not in names]
    validated = stored.get("validated")
    validated = dict(validated) if isinstance(validated, dict) else {}
    for name, mark in (mine.get("validated") or {}).items():
        validated[name] = later_mark(validated.get(name), mark)
    triggers = stored.get("triggers")
    triggers = dict(triggers) if isinstance(triggers, dict) else {}
    for name, rec in (mine.get("triggers") or {}).items():  # the later setting wins
        old = triggers.get(name)
        if not isinstance(old, dict) or _trigger_key(rec) > _trigger_key(old):
            triggers[name] = rec
    return {**stored, "actors": actors, "validated": validated,
            **({"triggers": triggers} if triggers else {})}


def _trigger_key(rec: dict[str, Any]) -> tuple[datetime, str]:
    """A trigger word's setting ``{"word", "at", "user"}``: ordered by time, then user."""
    return _when(rec.get("at")), str(rec.get("user") or "")


def merge_params(stored: dict[str, Any] | None, mine: dict[str, Any]) -> dict[str, Any]:
    """Saved parameters ``{"params", "saved_at", "user", "machine"}``: the later save wins."""
    if not isinstance(stored, dict):
        return mine

    def key(d: dict[str, Any]) -> tuple[datetime, str, str]:
        return (_when(d.get("saved_at")), str(d.get("user") or ""), str(d.get("machine") or ""))

    return mine if key(mine) > key(stored) else stored
