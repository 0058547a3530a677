"""`actorbench ...`: status, pull, push, clean, usage, demo, app, report, generate, train."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import typer

from .errors import ActorbenchError
from .settings import Settings
from .sync.engine import parse_only
from .sync.progress import ProgressEvent
from .workbench import Workbench

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Manage actors' training data and LoRA training.")
STATE: dict[str, Any] = {}

ActorsArg = typer.Argument(None, help="Actor names or ids.")
AllOpt = typer.Option(False, "--all", help="Every actor in the library.")
JsonOpt = typer.Option(False, "--json", help="Print JSON for scripts.")


@app.callback()
def _global(
    data_dir: Path = typer.Option(None, help="Data folder (default ./data)."),
    bucket: str = typer.Option(None, help="S3 bucket."),
    prefix: str = typer.Option(None, help="Key prefix of the training data."),
    region: str = typer.Option(None, help="AWS region."),
    endpoint_url: str = typer.Option(None, help="S3-compatible endpoint URL."),
    workers: int = typer.Option(None, help="Concurrent transfers."),
) -> None:
    STATE["overrides"] = {"data_dir": data_dir, "bucket": bucket, "prefix": prefix,
                          "region": region, "endpoint_url": endpoint_url, "workers": workers}


def _wb(workers: int | None = None) -> Workbench:
    settings = Settings.from_env().with_overrides(**STATE.get("overrides", {}))
    if workers:
        settings = settings.with_overrides(workers=workers)
    return Workbench(settings)


def _names(wb: Workbench, actors: list[str] | None, all_: bool) -> list[str]:
    if not actors and not all_:
        raise ActorbenchError("Name at least one actor (name or id), or pass --all.")
    return [a.name for a in wb.registry.resolve(actors or [], all_)]


class _TqdmProgress:
    """Adapts sync progress events to one tqdm bar of bytes (stderr)."""

    def __init__(self, enabled: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=0, unit="B", unit_scale=True, disable=not enabled,
                        file=sys.stderr, desc="sync")
        self.files = 0
        self.lock = threading.Lock()

    def __call__(self, ev: ProgressEvent) -> None:
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
        self.bar.close()


def _emit(result: dict[str, Any] | list[Any], as_json: bool, human: str) -> None:
    typer.echo(json.dumps(result, indent=2) if as_json else human)


def _sync(direction: str, actors: list[str] | None, all_: bool, only: str | None,
          prefer: str | None, workers: int | None, as_json: bool) -> None:
    wb = _wb(workers)
    names = _names(wb, actors, all_)
    progress = _TqdmProgress(enabled=sys.stderr.isatty() and not as_json)
    try:
        run = wb.engine.pull if direction == "pull" else wb.engine.push
        summaries = run(names, only=parse_only(only), prefer=prefer, progress=progress)
    finally:
        progress.close()
    out = [s.to_json() for s in summaries.values()]
    verb = "downloaded" if direction == "pull" else "uploaded"
    lines = [f"{s['actor']}: {s[verb]} {verb}, {s['skipped']} skipped, {s['failed']} failed, "
             f"{len(s['conflicts'])} conflicts (of {s['total']})"
             + "".join(f"\n  ! {e['key']}: {e['error']}" for e in s["errors"])
             + "".join(f"\n  ≠ conflict: {k}" for k in s["conflicts"]) for s in out]
    _emit(out[0] if len(out) == 1 else out, as_json, "\n".join(lines))
    if any(not s.ok for s in summaries.values()):
        raise typer.Exit(1)


@app.command()
def status(actors: list[str] = ActorsArg, all_: bool = AllOpt, as_json: bool = JsonOpt) -> None:
    """Show each image's status: synced, S3 only, local only, modified, conflict, missing."""
    wb = _wb()
    names = _names(wb, actors, all_)
    plans = wb.engine.plan(names)
    out = []
    for n, plan in plans.items():
        out.append({"actor": n, "counts": plan.counts(), "local_bytes": plan.local_bytes,
                    "remote_bytes": plan.remote_bytes,
                    "images": [{"index": c.index, "key": c.key, "status": c.status.value}
                               for c in plan.changes]})
    human = "\n".join(
        f"{o['actor']}: " + ", ".join(f"{k} {v}" for k, v in o["counts"].items() if v)
        for o in out)
    _emit(out[0] if len(out) == 1 else out, as_json, human or "nothing")


@app.command()
def pull(actors: list[str] = ActorsArg, all_: bool = AllOpt,
         only: str = typer.Option(None, help="Image indices, e.g. 0-9,12."),
         prefer: str = typer.Option(None, help="'remote' overwrites local edits (kept as "
                                               "*.conflict-local.png)."),
         workers: int = typer.Option(None), as_json: bool = JsonOpt) -> None:
    """Download S3-only and S3-modified images (local edits are never overwritten)."""
    if prefer not in (None, "remote"):
        raise ActorbenchError("pull --prefer takes only 'remote'.")
    _sync("pull", actors, all_, only, prefer, workers, as_json)


@app.command()
def push(actors: list[str] = ActorsArg, all_: bool = AllOpt,
         only: str = typer.Option(None, help="Image indices, e.g. 0-9,12."),
         prefer: str = typer.Option(None, help="'local' overwrites S3 in a conflict."),
         workers: int = typer.Option(None), as_json: bool = JsonOpt) -> None:
    """Upload local-only and locally modified images (an S3 change is never overwritten)."""
    if prefer not in (None, "local"):
        raise ActorbenchError("push --prefer takes only 'local'.")
    _sync("push", actors, all_, only, prefer, workers, as_json)


@app.command()
def clean(actors: list[str] = ActorsArg, all_: bool = AllOpt,
          dry_run: bool = typer.Option(False, "--dry-run"), as_json: bool = JsonOpt) -> None:
    """Delete local copies of images verified identical in S3 (never the only copy)."""
    wb = _wb()
    res = wb.engine.clean(_names(wb, actors, all_), dry_run=dry_run)
    out = list(res.values())
    human = "\n".join(f"{r['actor']}: {'would delete' if dry_run else 'deleted'} {r['deleted']}"
                      f" ({r['bytes_freed']:,} bytes), kept {r['kept']}" for r in out)
    _emit(out[0] if len(out) == 1 else out, as_json, human)


@app.command()
def usage(actors: list[str] = ActorsArg, all_: bool = AllOpt, as_json: bool = JsonOpt) -> None:
    """Local storage used per actor and in total."""
    wb = _wb()
    names = _names(wb, actors, all_ or not actors)
    res = wb.engine.usage(names)
    total = sum(res.values())
    _emit({"actors": res, "total": total}, as_json,
          "\n".join(f"{n}: {b:,} bytes" for n, b in res.items() if b) + f"\ntotal: {total:,}")


@app.command()
def generate(
    actor: str = typer.Argument(..., help="Actor name or id."),
    count: int = typer.Option(4, "--count", "-n", help="How many images."),
    backend: str = typer.Option("augment", help="augment or img2img."),
    seed: int = typer.Option(0, help="Seed: the same seed gives the same images."),
    size: int = typer.Option(1024, help="Output size in pixels (square)."),
    as_json: bool = JsonOpt,
) -> None:
    """Generate new training images from the base image (saved as local-only images)."""
    from .generate import generate_images

    wb = _wb()
    r = generate_images(wb, actor, count, backend, seed, {"size": size})
    _emit(r.to_json(), as_json, f"{r.actor}: generated {len(r.indices)} images "
          f"({', '.join(map(str, r.indices))}) with {r.backend} in {r.seconds:.1f} s; "
          "run `actorbench push` to upload them.")


@app.command()
def report(
    csv: Path = typer.Option(None, "--csv", help="Write the tables as CSV files in this folder."),
    html_file: Path = typer.Option(None, "--html", help="Write one self-contained HTML report."),
    as_json: bool = JsonOpt,
) -> None:
    """Coverage report of the whole library (one S3 listing)."""
    from .reports import build_report, write_csvs, write_html

    wb = _wb()
    r = build_report(wb.engine, wb.registry, wb.layout)
    written = []
    if csv:
        written += [str(p) for p in write_csvs(r, csv)]
    if html_file:
        written.append(str(write_html(r, html_file)))
    totals = {k: (v.item() if hasattr(v, "item") else v)
              for k, v in r.totals.iloc[0].to_dict().items()}
    human = "\n".join(f"{k:>22}: {v:.1%}" if k == "coverage" else f"{k:>22}: {v:,}"
                      for k, v in totals.items())
    _emit({"totals": totals, "written": written}, as_json,
          human + "".join(f"\nwrote {w}" for w in written))


@app.command()
def demo(
    s3_dir: Path = typer.Option(Path(".demo/s3"), help="Folder the demo S3 server keeps."),
    force: bool = typer.Option(False, help="Rebuild even if the demo exists."),
) -> None:
    """Build the demo world (287 actors) on a local S3 server; harmless to run twice."""
    from .demo import build_demo, start_rclone

    base = Settings.from_env().with_overrides(**STATE.get("overrides", {}))
    with start_rclone(s3_dir, base.bucket) as s3:
        settings = Settings.from_env(env={**os.environ, **s3.env}).with_overrides(
            **STATE.get("overrides", {}), endpoint_url=s3.endpoint_url)
        wb = Workbench(settings)
        world = build_demo(wb.layout, wb.store, settings.region, force=force)
    typer.echo(f"Demo world ready in {settings.data_dir}: 287 actors, "
               f"{len(world.names)} with images.")


@app.command("app")
def run_app(
    demo_world: bool = typer.Option(True, "--demo/--no-demo",
                                    help="Start a local S3 server seeded with the demo."),
    port: int = typer.Option(8866), s3_dir: Path = typer.Option(Path(".demo/s3")),
) -> None:
    """Serve the dashboard with Voila on 127.0.0.1 (Ctrl-C stops everything)."""
    from .demo import build_demo, start_rclone
    from .demo.runpod_fake import start_fake_runpod

    env = dict(os.environ)
    started: list[Any] = []
    # a plain `kill` must stop the servers too, not only Ctrl-C
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        if demo_world:
            base = Settings.from_env().with_overrides(**STATE.get("overrides", {}))
            s3 = start_rclone(s3_dir, base.bucket)
            started.append(s3)
            env.update(s3.env)
            settings = Settings.from_env(env=env).with_overrides(**STATE.get("overrides", {}))
            typer.echo("Preparing the demo world ...")
            build_demo(Workbench(settings).layout, Workbench(settings).store, settings.region)
            if not env.get("RUNPOD_ENDPOINT_ID"):
                rp = start_fake_runpod(speed=1.0)
                started.append(rp)
                env.update(rp.env)
        # the Voila kernel runs in notebooks/: hand it absolute paths
        settings = Settings.from_env(env=env).with_overrides(**STATE.get("overrides", {}))
        env["ACTORBENCH_DATA_DIR"] = str(Path(settings.data_dir).resolve())
        from .ui.serve import NOTEBOOK, voila_command

        if not NOTEBOOK.exists():
            raise ActorbenchError(f"{NOTEBOOK} not found: run from a checkout of actorbench.")
        cmd = voila_command(port)
        typer.echo(f"actorbench is serving on http://127.0.0.1:{port}  (Ctrl-C stops it)")
        proc = subprocess.Popen(cmd, env=env)
        try:
            proc.wait()
        except (KeyboardInterrupt, SystemExit):
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise
    finally:
        for s in reversed(started):
            s.stop()


def main() -> None:
    try:
        rc = app(standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except ActorbenchError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
