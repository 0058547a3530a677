"""`actorbench ...`: status, pull, push, clean, usage, generate, report, doctor, discover,
versions, mark-good, train, demo, app.

Plain argparse: the CLI starts in ~0.1 s (typer and its pydantic-based coercion took another
~0.15-0.2 s per call, a third of a one-actor pull), and scripts call it often.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import ActorbenchError
from .context import WORKERS_HELP, CliContext, Exit, echo, emit
from .sync import clean, pull, push, status, usage


def generate(a: argparse.Namespace, ctx: CliContext) -> None:
    """Generate new training images from the base image (saved as local-only images)."""
    from ..generate import generate_images

    wb = ctx.workbench()
    r = generate_images(wb, a.actor, a.count, a.backend, a.seed, {"size": a.size})
    emit(r.to_json(), a.json, f"{r.actor}: generated {len(r.indices)} images "
          f"({', '.join(map(str, r.indices))}) with {r.backend} in {r.seconds:.1f} s; "
          "run `actorbench push` to upload them.")


def report(a: argparse.Namespace, ctx: CliContext) -> None:
    """Coverage report of the whole library (one S3 listing)."""
    from ..reports import build_report, write_csvs, write_html

    wb = ctx.workbench()
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
    emit({"totals": totals, "written": written}, a.json,
          human + "".join(f"\nwrote {w}" for w in written))


def doctor(a: argparse.Namespace, ctx: CliContext) -> None:
    """Check settings, credentials, bucket, region, clock, permissions, disk and actors."""
    from ..diagnostics import exit_code, format_table, run_from_env

    checks = run_from_env(ctx.overrides, write=a.write)
    code = exit_code(checks)
    emit({"checks": [c.to_json() for c in checks], "exit_code": code}, a.json,
          format_table(checks))
    if code:
        raise Exit(code)


def discover(a: argparse.Namespace, ctx: CliContext) -> None:
    """Add the actor folders found under the prefix to actors.json (existing entries kept)."""
    from ..sync.discover import discover as run

    wb = ctx.workbench()
    r = run(wb.store, wb.layout, wb.settings.registry_path, wb.settings.region,
            dry_run=a.dry_run)
    if wb.team is not None and r.written:  # the other workstations' next read adds them
        wb.team.registry.publish(r.added)
    emit(r.to_json(), a.json, r.summary())


def demo(a: argparse.Namespace, ctx: CliContext) -> None:
    """Build the demo world (287 actors) on a local S3 server; harmless to run twice."""
    s3_dir, force = a.s3_dir, a.force
    from ..demo import build_demo, start_rclone
    from ..workbench import Workbench

    with start_rclone(s3_dir, ctx.settings().bucket) as s3:
        settings = ctx.settings(env={**os.environ, **s3.env}).with_overrides(
            endpoint_url=s3.endpoint_url)
        wb = Workbench(settings)
        world = build_demo(wb.layout, wb.store, settings.region, force=force)
    echo(f"Demo world ready in {settings.data_dir}: 287 actors, "
               f"{len(world.names)} with images.")


def run_app(a: argparse.Namespace, ctx: CliContext) -> None:
    """Serve the dashboard with Voila on 127.0.0.1 behind a token (Ctrl-C stops everything)."""
    from .app import run_app as serve

    serve(a, lambda env: ctx.settings(env=env), echo)


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

    def command(fn: Callable[[argparse.Namespace, CliContext], None], name: str | None = None,
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
    from .team import add_commands

    add_commands(command)
    from .captions import add_commands as add_caption_commands

    add_caption_commands(command)
    from .faces import add_faces_command

    add_faces_command(command)
    p = command(demo, actors=False, json_out=False)
    p.add_argument("--s3-dir", type=Path, default=Path(".demo/s3"),
                   help="Folder the demo S3 server keeps.")
    p.add_argument("--force", action="store_true", help="Rebuild even if the demo exists.")
    from .app import add_app_arguments

    add_app_arguments(command(run_app, "app", actors=False, json_out=False))
    return ap


def main(argv: list[str] | None = None) -> None:
    ap = _parser()
    args = ap.parse_args(argv)
    if not getattr(args, "func", None):
        ap.print_help()
        sys.exit(2)
    ctx = CliContext({"data_dir": args.data_dir, "bucket": args.bucket, "prefix": args.prefix,
                      "region": args.region, "endpoint_url": args.endpoint_url,
                      "workers": args.global_workers})
    try:
        args.func(args, ctx)
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
