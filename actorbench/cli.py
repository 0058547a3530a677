"""`actorbench ...`: status, pull, push, clean, usage, generate, report, doctor, discover,
demo, app.

Plain argparse: the CLI starts in ~0.1 s (typer and its pydantic-based coercion took another
~0.15-0.2 s per call, a third of a one-actor pull), and scripts call it often.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ActorbenchError
from .settings import Settings
from .sync.progress import ProgressEvent
from .sync.selection import parse_only
from .workbench import Workbench

STATE: dict[str, Any] = {}
WORKERS_HELP = ("At most N transfers at once (default: 128 connections for downloads, 32 "
                "threads for the rest; ACTORBENCH_CONNECTIONS, ACTORBENCH_WORKERS).")


class Exit(Exception):  # noqa: N818 - like typer.Exit: leave with a code, nothing to print
    def __init__(self, code: int) -> None:
        self.code = code


def echo(text: str, err: bool = False) -> None:
    print(text, file=sys.stderr if err else sys.stdout, flush=True)


def _wb(workers: int | None = None) -> Workbench:
    overrides = dict(STATE.get("overrides", {}))
    glob = overrides.pop("workers", None)
    workers = workers if workers is not None else glob
    settings = Settings.from_env().with_overrides(**overrides)
    if workers is not None:  # "at most N transfers at once", whichever path it takes
        settings = settings.with_overrides(workers=min(workers, 256),
                                           connections=min(workers, 512))
    return Workbench(settings)


def _names(wb: Workbench, actors: list[str] | None, all_: bool) -> list[str]:
    if not actors and not all_:
        raise ActorbenchError("Name at least one actor (name or id), or pass --all.")
    return [a.name for a in wb.registry.resolve(actors or [], all_)]


class _TqdmProgress:
    """Adapts sync progress events to one tqdm bar of bytes (stderr)."""

    def __init__(self, enabled: bool) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=0, unit="B", unit_scale=True, file=sys.stderr, desc="sync")
        self.files = 0
        self.lock = threading.Lock()

    def __call__(self, ev: ProgressEvent) -> None:
        if self.bar is None:
            return
        with self.lock:
            if ev.kind == "plan":
                self.bar.total = (self.bar.total or 0) + ev.bytes_total
                self.bar.refresh()
            elif ev.kind == "bytes":
                self.bar.update(ev.nbytes)
            elif ev.kind == "file":
                self.files += 1
                self.bar.set_postfix(files=self.files, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _emit(result: dict[str, Any] | list[Any], as_json: bool, human: str) -> None:
    echo(json.dumps(result, indent=2) if as_json else human)


def _dry_run(wb: Workbench, names: list[str], direction: str, only: set[int] | None,
             prefer: str | None, allow_invalid: bool, as_json: bool) -> None:
    """What the sync would do, decided and printed; nothing changes on disk or in S3."""
    decided = wb.engine.decide(names, direction, only, prefer, allow_invalid)
    out = [t.to_json() for t in decided.values()]
    lines = [f"{o['actor']}: would {o['summary']}"
             + "".join(f"\n  {a['action']:<10} {a['key']}" for a in o["actions"])
             + "".join(f"\n  refused    {r['key']}: {r['reason']}" for r in o["refused"])
             for o in out]
    _emit(out[0] if len(out) == 1 else out, as_json, "\n".join(lines))


def _sync(direction: str, actors: list[str] | None, all_: bool, only: str | None,
          prefer: str | None, workers: int | None, as_json: bool,
          allow_invalid: bool = False, dry_run: bool = False) -> None:
    wb = _wb(workers)
    names = _names(wb, actors, all_)
    if dry_run:
        _dry_run(wb, names, direction, parse_only(only), prefer, allow_invalid, as_json)
        return
    progress = _TqdmProgress(enabled=sys.stderr.isatty() and not as_json)
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
    verb = "downloaded" if direction == "pull" else "uploaded"
    lines = [f"{s['actor']}: {s[verb]} {verb}, {s['skipped']} skipped, {s['failed']} failed, "
             f"{len(s['conflicts'])} conflicts (of {s['total']})"
             + _error_lines(s["errors"])
             + "".join(f"\n  ⚠ {w}" for w in s.get("warnings", []))
             + "".join(f"\n  ≠ conflict: {k}" for k in s["conflicts"])
             + "".join(f"\n  ✗ not {verb}: {i['key']}: {i['reason']}"
                       for i in s.get("invalid", []))
             + _unrecognised_lines(s.get("unrecognised", [])) for s in out]
    _emit(out[0] if len(out) == 1 else out, as_json, "\n".join(lines))
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


def status(a: argparse.Namespace) -> None:
    """Show each image's status (synced, S3 only, local only, modified, conflict, missing,
    invalid) and any file that is not a training image."""
    wb = _wb()
    names = _names(wb, a.actors, a.all)
    plans = wb.engine.plan(names)
    out: list[dict[str, Any]] = []
    for n, plan in plans.items():
        out.append({"actor": n, "counts": plan.counts(), "local_bytes": plan.local_bytes,
                    "remote_bytes": plan.remote_bytes,
                    "images": [{"index": c.index, "key": c.key, "status": c.status.value,
                                **({"reason": c.problem} if c.problem else {})}
                               for c in plan.changes],
                    "unrecognised": [u.to_json() for u in plan.unrecognised],
                    "warnings": list(plan.warnings)})
    human = "\n".join(
        f"{o['actor']}: " + ", ".join(f"{k} {v}" for k, v in o["counts"].items() if v)
        + "".join(f"\n  ✗ invalid: {i['key']}: {i['reason']}" for i in o["images"]
                  if i["status"] == "invalid")
        + _unrecognised_lines(o["unrecognised"])
        + "".join(f"\n  ⚠ {w}" for w in o["warnings"]) for o in out)
    _emit(out[0] if len(out) == 1 else out, a.json, human or "nothing")


def _unrecognised_lines(items: list[dict[str, str]]) -> str:
    from .sync.files import printable

    return "".join(f"\n  ? unrecognised {'in S3' if u['where'] == 's3' else 'locally'}: "
                   f"{printable(u['name'])}: {u['reason']}" for u in items)


def pull(a: argparse.Namespace) -> None:
    """Download S3-only and S3-modified images (local edits are never overwritten)."""
    if a.prefer not in (None, "remote"):
        raise ActorbenchError("pull --prefer takes only 'remote'.")
    _sync("pull", a.actors, a.all, a.only, a.prefer, a.workers, a.json, dry_run=a.dry_run)


def push(a: argparse.Namespace) -> None:
    """Upload local-only and locally modified images (an S3 change is never overwritten)."""
    if a.prefer not in (None, "local"):
        raise ActorbenchError("push --prefer takes only 'local'.")
    _sync("push", a.actors, a.all, a.only, a.prefer, a.workers, a.json, a.allow_invalid,
          a.dry_run)


def clean(a: argparse.Namespace) -> None:
    """Delete local copies of images verified identical in S3 (never the only copy)."""
    wb = _wb()
    dry_run = a.dry_run
    res = wb.engine.clean(_names(wb, a.actors, a.all), dry_run=dry_run)
    out = list(res.values())
    human = "\n".join(f"{r['actor']}: {'would delete' if dry_run else 'deleted'} {r['deleted']}"
                      f" ({r['bytes_freed']:,} bytes), kept {r['kept']}" for r in out)
    _emit(out[0] if len(out) == 1 else out, a.json, human)


def usage(a: argparse.Namespace) -> None:
    """Local storage used per actor and in total."""
    wb = _wb()
    names = _names(wb, a.actors, a.all or not a.actors)
    res = wb.engine.usage(names)
    total = sum(res.values())
    _emit({"actors": res, "total": total}, a.json,
          "\n".join(f"{n}: {b:,} bytes" for n, b in res.items() if b) + f"\ntotal: {total:,}")


def generate(a: argparse.Namespace) -> None:
    """Generate new training images from the base image (saved as local-only images)."""
    from .generate import generate_images

    wb = _wb()
    r = generate_images(wb, a.actor, a.count, a.backend, a.seed, {"size": a.size})
    _emit(r.to_json(), a.json, f"{r.actor}: generated {len(r.indices)} images "
          f"({', '.join(map(str, r.indices))}) with {r.backend} in {r.seconds:.1f} s; "
          "run `actorbench push` to upload them.")


def report(a: argparse.Namespace) -> None:
    """Coverage report of the whole library (one S3 listing)."""
    from .reports import build_report, write_csvs, write_html

    wb = _wb()
    r = build_report(wb.engine, wb.registry, wb.layout)
    written = []
    if a.csv:
        written += [str(p) for p in write_csvs(r, a.csv)]
    if a.html:
        written.append(str(write_html(r, a.html)))
    totals = {k: (v.item() if hasattr(v, "item") else v)
              for k, v in r.totals.iloc[0].to_dict().items()}
    human = "\n".join(f"{k:>22}: {v:.1%}" if k == "coverage" else f"{k:>22}: {v:,}"
                      for k, v in totals.items())
    _emit({"totals": totals, "written": written}, a.json,
          human + "".join(f"\nwrote {w}" for w in written))


def doctor(a: argparse.Namespace) -> None:
    """Check settings, credentials, bucket, region, clock, permissions, disk and actors."""
    from .doctor import exit_code, format_table, run_from_env

    checks = run_from_env(STATE.get("overrides", {}), write=a.write)
    code = exit_code(checks)
    _emit({"checks": [c.to_json() for c in checks], "exit_code": code}, a.json,
          format_table(checks))
    if code:
        raise Exit(code)


def discover(a: argparse.Namespace) -> None:
    """Add the actor folders found under the prefix to actors.json (existing entries kept)."""
    from .discover import discover as run

    wb = _wb()
    r = run(wb.store, wb.layout, wb.settings.registry_path, wb.settings.region,
            dry_run=a.dry_run)
    _emit(r.to_json(), a.json, r.summary())


def demo(a: argparse.Namespace) -> None:
    """Build the demo world (287 actors) on a local S3 server; harmless to run twice."""
    s3_dir, force = a.s3_dir, a.force
    from .demo import build_demo, start_rclone

    base = Settings.from_env().with_overrides(**STATE.get("overrides", {}))
    with start_rclone(s3_dir, base.bucket) as s3:
        settings = Settings.from_env(env={**os.environ, **s3.env}).with_overrides(
            **STATE.get("overrides", {}), endpoint_url=s3.endpoint_url)
        wb = Workbench(settings)
        world = build_demo(wb.layout, wb.store, settings.region, force=force)
    echo(f"Demo world ready in {settings.data_dir}: 287 actors, "
               f"{len(world.names)} with images.")


def run_app(a: argparse.Namespace) -> None:
    """Serve the dashboard with Voila on 127.0.0.1 behind a token (Ctrl-C stops everything)."""
    from .appcmd import run_app as serve

    def settings_for(env: dict[str, str]) -> Settings:
        return Settings.from_env(env=env).with_overrides(**STATE.get("overrides", {}))

    serve(a, settings_for, echo)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="actorbench",
                                 description="Manage actors' training data and LoRA training.")
    g = ap.add_argument_group("where")
    g.add_argument("--data-dir", type=Path, help="Data folder (default ./data).")
    g.add_argument("--bucket", help="S3 bucket.")
    g.add_argument("--prefix", help="Key prefix of the training data.")
    g.add_argument("--region", help="AWS region.")
    g.add_argument("--endpoint-url", help="S3-compatible endpoint URL.")
    g.add_argument("--workers", type=int, dest="global_workers", metavar="N",
                   help=WORKERS_HELP)
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    def command(fn: Callable[[argparse.Namespace], None], name: str | None = None,
                actors: bool = True, json_out: bool = True) -> argparse.ArgumentParser:
        doc = (fn.__doc__ or "").strip()
        p = sub.add_parser(name or fn.__name__, help=doc, description=doc)
        p.set_defaults(func=fn)
        if actors:
            p.add_argument("actors", nargs="*", help="Actor names or ids.")
            p.add_argument("--all", action="store_true", help="Every actor in the library.")
        if json_out:
            p.add_argument("--json", action="store_true", help="Print JSON for scripts.")
        return p

    command(status)
    for fn, side in ((pull, "'remote' overwrites local edits (kept as *.conflict-local.png)."),
                     (push, "'local' overwrites S3 in a conflict.")):
        p = command(fn)
        p.add_argument("--only", help="Image indices, e.g. 0-9,12.")
        p.add_argument("--prefer", help=side)
        p.add_argument("--workers", type=int, metavar="N", help=WORKERS_HELP)
        p.add_argument("--dry-run", action="store_true",
                       help="Print what would move (and --json lists each action); change "
                            "nothing.")
    p.add_argument("--allow-invalid", action="store_true",
                   help="Upload images that fail the PNG check too (truncated, too large ...).")
    command(clean).add_argument("--dry-run", action="store_true", help="Only say what would go.")
    command(usage)
    p = command(generate, actors=False)
    p.add_argument("actor", help="Actor name or id.")
    p.add_argument("--count", "-n", type=int, default=4, help="How many images.")
    p.add_argument("--backend", default="augment", help="augment or img2img.")
    p.add_argument("--seed", type=int, default=0, help="The same seed gives the same images.")
    p.add_argument("--size", type=int, default=1024, help="Output size in pixels (square).")
    p = command(report, actors=False)
    p.add_argument("--csv", type=Path, help="Write the tables as CSV files in this folder.")
    p.add_argument("--html", type=Path, help="Write one self-contained HTML report.")
    command(doctor, actors=False).add_argument(
        "--write", action="store_true",
        help="Also put (and remove) a scratch object under the prefix.")
    command(discover, actors=False).add_argument(
        "--dry-run", action="store_true", help="Only say what would be added.")
    p = command(demo, actors=False, json_out=False)
    p.add_argument("--s3-dir", type=Path, default=Path(".demo/s3"),
                   help="Folder the demo S3 server keeps.")
    p.add_argument("--force", action="store_true", help="Rebuild even if the demo exists.")
    from .appcmd import add_app_arguments

    add_app_arguments(command(run_app, "app", actors=False, json_out=False))
    return ap


def main(argv: list[str] | None = None) -> None:
    ap = _parser()
    args = ap.parse_args(argv)
    if not getattr(args, "func", None):
        ap.print_help()
        sys.exit(2)
    STATE["overrides"] = {"data_dir": args.data_dir, "bucket": args.bucket,
                          "prefix": args.prefix, "region": args.region,
                          "endpoint_url": args.endpoint_url, "workers": args.global_workers}
    try:
        args.func(args)
    except ActorbenchError as exc:  # 2: bad input; 3: the environment (EnvironmentProblem)
        echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:  # a full disk, a folder that cannot be written: the machine's
        where = f" ({exc.filename})" if exc.filename else ""
        echo(f"error: {exc.strerror or exc}{where}.", err=True)
        sys.exit(3)
    except Exit as exc:
        sys.exit(exc.code)
    except KeyboardInterrupt:
        echo("aborted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
