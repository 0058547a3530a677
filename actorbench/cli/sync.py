"""`actorbench status | pull | push | clean | usage`: the sync commands."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ..errors import ActorbenchError
from ..terminal import inert
from .context import CliContext, Exit, actor_names, echo, emit

if TYPE_CHECKING:  # the rest when a command runs: `actorbench --help` imports none of it
    from ..workbench import Workbench


def _dry_run(wb: Workbench, names: list[str], direction: str, only: set[int] | None,
             prefer: str | None, allow_invalid: bool, as_json: bool) -> None:
    """What the sync would do, decided and printed; nothing changes on disk or in S3."""
    decided = wb.engine.decide(names, direction, only, prefer, allow_invalid)
    out = [t.to_json() for t in decided.values()]
    lines = [f"{o['actor']}: would {o['summary']}"
             + "".join(f"\n  {a['action']:<10} {a['key']}" for a in o["actions"])
             + "".join(f"\n  refused    {r['key']}: {r['reason']}" for r in o["refused"])
             for o in out]
    emit(out[0] if len(out) == 1 else out, as_json, "\n".join(lines))


def _sync(ctx: CliContext, direction: str, actors: list[str] | None, all_: bool, only: str | None,
          prefer: str | None, workers: int | None, as_json: bool,
          allow_invalid: bool = False, dry_run: bool = False) -> None:
    from ..present.progress import TqdmProgress
    from ..sync.selection import parse_only
    from ..sync.summary import transferred_verb

    wb = ctx.workbench(workers)
    names = actor_names(wb, actors, all_)
    if dry_run:
        _dry_run(wb, names, direction, parse_only(only), prefer, allow_invalid, as_json)
        return
    progress = TqdmProgress(enabled=sys.stderr.isatty() and not as_json, file=sys.stderr)
    try:
        if direction == "pull":
            summaries = wb.engine.pull(names, only=parse_only(only), prefer=prefer,
                                       progress=progress)
        else:
            summaries = wb.engine.push(names, only=parse_only(only), prefer=prefer,
                                       progress=progress, allow_invalid=allow_invalid)
    finally:
        progress.close()
    out = [s.to_json() for s in summaries.values()]
    verb = transferred_verb(direction)
    lines = [f"{s['actor']}: {s[verb]} {verb}, {s['skipped']} skipped, {s['failed']} failed, "
             f"{len(s['conflicts'])} conflicts (of {s['total']})"
             + _error_lines(s["errors"])
             + "".join(f"\n  ⚠ {w}" for w in s.get("warnings", []))
             + "".join(f"\n  ≠ conflict: {k}" for k in s["conflicts"])
             + "".join(f"\n  ✗ not {verb}: {i['key']}: {i['reason']}"
                       for i in s.get("invalid", []))
             + _unrecognised_lines(s.get("unrecognised", [])) for s in out]
    emit(out[0] if len(out) == 1 else out, as_json, "\n".join(lines))
    if stopped := next((s.environment for s in summaries.values() if s.environment), ""):
        done = sum(s.transferred for s in summaries.values())
        failed = sum(s.failed for s in summaries.values())
        echo(f"error: {stopped} {done} {verb}, {failed} failed; what landed is kept: run it "
             "again once that is fixed.", err=True)
        raise Exit(3)
    if any(not s.ok for s in summaries.values()):
        raise Exit(1)


def _error_lines(errors: list[dict[str, str]]) -> str:
    """One line per failed key; a message shared by many keys (a full disk) is one line."""
    by_message: dict[str, list[str]] = {}
    for e in errors:
        by_message.setdefault(e["error"], []).append(e["key"])
    out = ""
    for message, keys in by_message.items():
        if len(keys) <= 3:
            out += "".join(f"\n  ! {k}: {message}" for k in keys)
        else:
            names = sorted((k.rsplit("/", 1)[-1] for k in keys), key=lambda n: (len(n), n))
            out += f"\n  ! {len(keys)} files ({', '.join(names[:3])}, ...): {message}"
    return out


def status(a: argparse.Namespace, ctx: CliContext) -> None:
    """Show each image's status (synced, S3 only, local only, modified, conflict, missing,
    invalid) and any file that is not a training image."""
    wb = ctx.workbench()
    names = actor_names(wb, a.actors, a.all)
    plans = wb.engine.plan(names)
    out: list[dict[str, Any]] = []
    for n, plan in plans.items():
        captions = {c.index: c for c in plan.captions}
        out.append({"actor": n, "counts": plan.counts(), "local_bytes": plan.local_bytes,
                    "remote_bytes": plan.remote_bytes,
                    "images": [{"index": c.index, "key": c.key, "status": c.status.value,
                                **({"reason": c.problem} if c.problem else {}),
                                **_caption_json(captions.get(c.index))}
                               for c in plan.changes],
                    "unrecognised": [u.to_json() for u in plan.unrecognised],
                    "warnings": list(plan.warnings)})
    human = "\n".join(
        f"{o['actor']}: " + ", ".join(f"{k} {v}" for k, v in o["counts"].items() if v)
        + _caption_counts(o["images"])
        + "".join(f"\n  ✗ invalid: {i['key']}: {i['reason']}" for i in o["images"]
                  if i["status"] == "invalid")
        + "".join(f"\n  ✗ invalid caption: {i['caption']['key']}: {i['caption']['reason']}"
                  for i in o["images"] if i.get("caption", {}).get("status") == "invalid")
        + _unrecognised_lines(o["unrecognised"])
        + "".join(f"\n  ⚠ {w}" for w in o["warnings"]) for o in out)
    emit(out[0] if len(out) == 1 else out, a.json, human or "nothing")


def _caption_json(c: Any) -> dict[str, Any]:
    """An image's caption state, for ``status --json`` (nothing if it has no caption)."""
    if c is None:
        return {}
    return {"caption": {"key": c.key, "status": c.status.value,
                        **({"reason": c.problem} if c.problem else {})}}


def _caption_counts(images: list[dict[str, Any]]) -> str:
    """``; captions: synced 3, local_only 1`` (nothing if no image has a caption)."""
    from collections import Counter

    c = Counter(i["caption"]["status"] for i in images if "caption" in i)
    return ("; captions: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))) if c else ""


def _unrecognised_lines(items: list[dict[str, str]]) -> str:
    shown = items[:200]  # a bucket may hold 100,000 odd files: the rest are counted
    rest = len(items) - len(shown)
    return "".join(f"\n  ? unrecognised {'in S3' if u['where'] == 's3' else 'locally'}: "
                   f"{inert(u['name'])}: {inert(u['reason'])}" for u in shown) + (
        f"\n  ? and {rest} more unrecognised file(s)" if rest else "")


def pull(a: argparse.Namespace, ctx: CliContext) -> None:
    """Download S3-only and S3-modified images (local edits are never overwritten)."""
    if a.prefer not in (None, "remote"):
        raise ActorbenchError("pull --prefer takes only 'remote'.")
    _sync(ctx, "pull", a.actors, a.all, a.only, a.prefer, a.workers, a.json, dry_run=a.dry_run)


def push(a: argparse.Namespace, ctx: CliContext) -> None:
    """Upload local-only and locally modified images (an S3 change is never overwritten)."""
    if a.prefer not in (None, "local"):
        raise ActorbenchError("push --prefer takes only 'local'.")
    _sync(ctx, "push", a.actors, a.all, a.only, a.prefer, a.workers, a.json, a.allow_invalid,
          a.dry_run)


def clean(a: argparse.Namespace, ctx: CliContext) -> None:
    """Delete local copies of images verified identical in S3 (never the only copy)."""
    wb = ctx.workbench()
    dry_run = a.dry_run
    res = wb.engine.clean(actor_names(wb, a.actors, a.all), dry_run=dry_run)
    out = list(res.values())
    human = "\n".join(f"{r['actor']}: {'would delete' if dry_run else 'deleted'} {r['deleted']}"
                      f" ({r['bytes_freed']:,} bytes), kept {r['kept']}" for r in out)
    emit(out[0] if len(out) == 1 else out, a.json, human)


def usage(a: argparse.Namespace, ctx: CliContext) -> None:
    """Local storage used per actor and in total."""
    wb = ctx.workbench()
    names = actor_names(wb, a.actors, a.all or not a.actors)
    res = wb.engine.usage(names)
    total = sum(res.values())
    emit({"actors": res, "total": total}, a.json,
          "\n".join(f"{n}: {b:,} bytes" for n, b in res.items() if b) + f"\ntotal: {total:,}")
