"""The sync façade: plan (pure diff) -> decide (a value) -> apply (concurrent, verified).

Each step lives in its own module: ``listing`` (the S3 side), ``plan`` (the diff),
``decide`` (the policy, as :class:`~.decide.Transfers`), ``apply`` (transfers and the one
commit path), ``records`` (``response.json`` and ``actors.json``), ``cache`` (clean, usage).
This class holds the collaborators and the per-actor locks, and runs the steps in order.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .. import fsutil
from ..actors.registry import Registry
from ..clock import now_iso
from ..errors import AccessRefused, DiskSpaceError
from ..fsutil import AtomicBatch, clean_stale_temps, dir_lock
from ..storage.base import ObjectInfo, ObjectStore
from ..storage.hashing import HashCache
from ..storage.layout import Layout
from ..units import format_size
from . import cache, listing, records
from .config import IMAGES_PER_ACTOR, SyncConfig
from .decide import Action, Direction, ImageCheck, Prefer, Transfers, decide
from .files import caption_problem, image_problem
from .manifest import Manifest, ManifestEntry
from .plan import ActorPlan, FileKind, ImageStatus, LocalFile, plan_actor
from .progress import ProgressCallback, ProgressEvent, ProgressKind, no_progress
from .summary import SyncSummary

if TYPE_CHECKING:  # apply (and transfer) are imported when a sync runs, not to plan
    from .apply import ActorRun


class SyncEngine:
    """Sync actors between ``data_dir`` and one bucket.

    Usage::

        engine = SyncEngine(store, layout, registry, region="us-west-1")
        plans = engine.plan(["0002_european_35_female"])
        engine.decide(["0002_european_35_female"], Direction.PULL)   # a dry run
        summaries = engine.pull(["0002_european_35_female"], progress=print)
    """

    def __init__(self, store: ObjectStore, layout: Layout, registry: Registry,
                 region: str = "us-west-1", config: SyncConfig | None = None) -> None:
        self.store, self.layout, self.registry = store, layout, registry
        self.region = region
        self.config = config or SyncConfig()

    # -- planning and deciding: nothing changes on disk or in S3 -----------------------------
    def list_remote(self, names: list[str]) -> dict[str, list[ObjectInfo]]:
        return listing.list_remote(self.store, self.layout, names, self.config)

    def listed_indices(self, name: str, warnings: list[str] | None = None) -> set[int]:
        return records.listed_indices(self.layout, name, warnings)

    def plan(self, names: Iterable[str], remote: dict[str, list[ObjectInfo]] | None = None
             ) -> dict[str, ActorPlan]:
        names = self._resolve(names)
        remote = remote if remote is not None else self.list_remote(names)
        return {n: self._plan_one(n, remote.get(n, []), Manifest.load(
            self.layout.manifest_path(n))) for n in names}

    def _plan_one(self, name: str, remote: list[ObjectInfo], manifest: Manifest,
                  hashes: HashCache | None = None) -> ActorPlan:
        warnings: list[str] = []
        listed = records.listed_indices(self.layout, name, warnings)
        plan = plan_actor(self.layout, name, remote, manifest, listed, hashes)
        plan.warnings.extend(warnings)
        return plan

    def decide(self, names: Iterable[str], direction: Direction | str,
               only: set[int] | None = None, prefer: Prefer | str | None = None,
               allow_invalid: bool = False) -> dict[str, Transfers]:
        """What a pull or push would do, per actor (``--dry-run``): nothing is written."""
        direction, prefer = Direction(direction), Prefer(prefer) if prefer else None
        names = self._resolve(names)
        remote = self.list_remote(names)
        out = {}
        for n in names:  # the hash cache is read, never written: a dry run leaves no trace
            hashes = HashCache(self.layout.hash_cache_path(n))
            plan = self._plan_one(n, remote.get(n, []),
                                  Manifest.load(self.layout.manifest_path(n)), hashes)
            out[n] = decide(plan.select(only), direction, prefer, _checker(hashes),
                            allow_invalid)
        return out

    # -- applying ---------------------------------------------------------------------------
    def pull(self, names: Iterable[str], only: set[int] | None = None,
             prefer: Prefer | str | None = None, progress: ProgressCallback = no_progress,
             cancel: threading.Event | None = None) -> dict[str, SyncSummary]:
        """Fetch S3-only and S3-modified images; local edits and conflicts are kept."""
        return self._run(list(names), Direction.PULL, only, prefer, progress, cancel)

    def push(self, names: Iterable[str], only: set[int] | None = None,
             prefer: Prefer | str | None = None, progress: ProgressCallback = no_progress,
             cancel: threading.Event | None = None, allow_invalid: bool = False
             ) -> dict[str, SyncSummary]:
        """Upload local-only and locally modified images; never overwrite an S3 change.

        Files that are not sound PNGs (``ImageStatus.INVALID``) are refused and listed in the
        summary, unless ``allow_invalid``.
        """
        return self._run(list(names), Direction.PUSH, only, prefer, progress, cancel,
                         allow_invalid)

    def _resolve(self, names: Iterable[str]) -> list[str]:
        return [self.registry.get(n).name for n in names]

    @contextlib.contextmanager
    def _locked(self, names: list[str]) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for n in sorted(names):
                stack.enter_context(dir_lock(self.layout.actor_dir(n), what=f"actor {n}"))
            yield

    def _run(self, names: list[str], direction: Direction, only: set[int] | None,
             prefer: Prefer | str | None, progress: ProgressCallback,
             cancel: threading.Event | None, allow_invalid: bool = False
             ) -> dict[str, SyncSummary]:
        from .apply import Applier

        names = self._resolve(names)
        prefer = Prefer(prefer) if prefer else None
        cfg = self.config
        pool = ThreadPoolExecutor(max_workers=cfg.workers, thread_name_prefix="actorbench-sync")
        bulk = self.store.bulk_getter() if (direction is Direction.PULL
                                            and cfg.connections > 1) else None
        if bulk is not None:  # connect while the listing runs: -1 RTT
            bulk.warm(min(cfg.connections, IMAGES_PER_ACTOR * len(names)))
        else:
            for _ in range(cfg.workers):
                pool.submit(self.store.warm, cfg.workers)
        if direction is Direction.PULL:  # actor folders spread over the disk (ext4)
            actors = self.layout.data_dir / "actors"
            actors.mkdir(parents=True, exist_ok=True)
            fsutil.spread_subfolders(actors)
        with pool, self._locked(names):
            denied: dict[str, AccessRefused] = {}
            runs = self._prepare(names, direction, only, prefer, allow_invalid, denied)
            for n, run in runs.items():
                moving = run.transfers.moving
                progress(ProgressEvent(ProgressKind.PLAN, n, files_total=len(moving),
                                       bytes_total=sum(t.size for t in moving)))
            if direction is Direction.PULL:
                self._check_space(runs)
            Applier(self.store, self.layout, runs, direction, pool, bulk, cfg, progress,
                    cancel).run()
            self._save_records(runs, direction)
            for n, run in runs.items():
                if direction is Direction.PUSH and not run.summary.cancelled:
                    records.record_push(self.layout, self.registry, self.store.bucket,
                                        self.region, run.full, run.done, run.summary)
                progress(ProgressEvent(ProgressKind.DONE, n, ok=run.summary.ok))
            out = {}
            for n in names:  # in the order asked; a refused listing: nothing was decided
                if n in runs:
                    out[n] = runs[n].summary
                    continue
                out[n] = summary = SyncSummary(n, direction)
                summary.error(self.layout.actor_prefix(n), str(denied[n]))
                records.note_environment(summary, denied[n], self.layout.data_dir)
                progress(ProgressEvent(ProgressKind.DONE, n, ok=False))
            return out

    def _prepare(self, names: list[str], direction: Direction, only: set[int] | None,
                 prefer: Prefer | None, allow_invalid: bool,
                 denied: dict[str, AccessRefused]) -> dict[str, ActorRun]:
        """Under the actors' locks: clean what a killed run left, plan, decide, and open each
        actor's records once (the plan and the run share the manifest and hash cache).
        An actor whose listing S3 refused goes to ``denied`` and gets no run."""
        from .apply import ActorRun

        remote = listing.list_remote(self.store, self.layout, names, self.config, denied)
        runs = {}
        for n in names:  # what a killed run left is nobody's now
            if n in denied:
                continue
            self.layout.training_dir(n).mkdir(parents=True, exist_ok=True)
            clean_stale_temps(self.layout.training_dir(n))  # images, response.json
            clean_stale_temps(self.layout.actor_dir(n))  # manifest, hash cache
            manifest = Manifest.load(self.layout.manifest_path(n))
            hashes = HashCache(self.layout.hash_cache_path(n))
            full = self._plan_one(n, remote.get(n, []), manifest, hashes)
            transfers = decide(full.select(only), direction, prefer, _checker(hashes),
                               allow_invalid)
            summary = SyncSummary(n, direction, total=len(transfers.items)
                                  + len(transfers.refused), warnings=list(full.warnings),
                                  captions=sum(1 for t in transfers.items
                                               if t.change.kind is FileKind.CAPTION)
                                  + sum(1 for r in transfers.refused if r.key.endswith(".txt")))
            summary.unrecognised = [u.to_json() for u in full.unrecognised]
            for r in transfers.refused:
                summary.refuse(r.key, r.reason)
            for t in transfers.items:
                if t.action is Action.SKIP:
                    summary.skipped += 1
                elif t.action in (Action.CONFLICT, Action.KEEP_BOTH):
                    summary.conflicts.append(t.key)
            run = ActorRun(transfers, full, manifest, hashes, summary)
            _refresh_baseline(run)
            runs[n] = run
        return runs

    def _check_space(self, runs: dict[str, ActorRun]) -> None:
        """Refuse a pull, before it writes anything, that would leave less than ``min_free``
        free on a disk it writes to (each actor's folder may sit on its own filesystem)."""
        need: dict[int, list[Any]] = {}  # st_dev -> [folder, bytes]
        data_dev = self.layout.data_dir.stat().st_dev
        for n, run in runs.items():
            folder = self.layout.training_dir(n)
            dev = folder.stat().st_dev
            entry = need.setdefault(dev, [self.layout.data_dir if dev == data_dev else folder,
                                          0])
            for t in run.transfers.moving:
                entry[1] += t.size
                if t.action is Action.OVERWRITE and t.change.local is not None:
                    entry[1] += t.change.local.size  # kept as *.conflict-local.png
        for folder, nbytes in need.values():
            free = fsutil.free_bytes(folder)
            if free - nbytes >= self.config.min_free:
                continue
            leaves = (f"would leave {format_size(free - nbytes)}" if free >= nbytes
                      else f"only {format_size(free)} is free")
            raise DiskSpaceError(
                f"Not enough disk space in {folder}: the pull needs {format_size(nbytes)} and "
                f"{leaves}, below the {format_size(self.config.min_free)} margin "
                "(ACTORBENCH_MIN_FREE). Free space or pull fewer actors.")

    def _save_records(self, runs: dict[str, ActorRun], direction: Direction) -> None:
        """Every actor's manifest and hash cache durable at once (one syncfs)."""
        batch = AtomicBatch()
        for n, run in runs.items():
            if direction is Direction.PULL:
                batch.add_dir(self.layout.training_dir(n))  # this run's renames
            run.manifest.last_sync = now_iso()
            run.manifest.save(batch.add_json)
            run.hashes.save(batch.add_json)
        try:
            batch.commit()
        except OSError as exc:  # what landed stays; the next sync re-checks it by content
            for n, run in runs.items():
                run.summary.warnings.append(
                    f"{self.layout.manifest_path(n)}: the record of this sync was not saved "
                    f"({exc.strerror or exc}); the next sync compares these images by "
                    "content again")
                records.note_environment(run.summary, exc, self.layout.data_dir)

    # -- cache ------------------------------------------------------------------------------
    def clean(self, names: Iterable[str], dry_run: bool = False) -> dict[str, dict[str, Any]]:
        """Delete local copies only of images verified identical in S3."""
        names = self._resolve(names)
        with self._locked(names):
            plans = self.plan(names)
            return {n: cache.clean(self.layout, plans[n], dry_run) for n in names}

    def usage(self, names: Iterable[str]) -> dict[str, int]:
        """Bytes on local disk per actor (training images, base image, everything)."""
        return {n: cache.usage(self.layout, n) for n in names}


def _checker(hashes: HashCache) -> ImageCheck:
    def check(local: LocalFile) -> str:
        fit = caption_problem if local.path.suffix == ".txt" else image_problem
        return hashes.checked(local.path, local.size, local.mtime_ns, fit)
    return check


def _refresh_baseline(run: ActorRun) -> None:
    """Images and captions identical on both sides become the new common ancestor."""
    for ch in run.transfers.items:
        if ch.change.status is ImageStatus.SYNCED:
            c = ch.change
            assert c.local and c.remote
            md5 = run.hashes.md5(c.local.path)
            run.manifest.of(c.kind)[c.index] = ManifestEntry(c.local.size, c.local.mtime_ns,
                                                             md5, c.remote.etag)
