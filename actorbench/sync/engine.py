"""Plan, then apply: concurrent pulls and pushes across many actors with one worker pool."""

from __future__ import annotations

import contextlib
import os
import queue
import stat
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .. import fsutil
from ..actors.registry import Registry, read_json
from ..errors import (
    ActorbenchError,
    Cancelled,
    DiskSpaceError,
    EnvironmentProblem,
    PreconditionFailed,
    RegistryError,
)
from ..fsutil import (
    AtomicBatch,
    atomic_write_json,
    clean_stale_temps,
    copy_atomic,
    file_lock,
    format_size,
    is_disk_full,
    syncfs,
)
from ..storage.base import ObjectInfo, ObjectStore
from ..storage.hashing import HashCache
from ..storage.layout import Layout, image_name_re
from ..storage.urls import format_s3_url
from .files import image_problem
from .manifest import Manifest, ManifestEntry
from .plan import PULLABLE, PUSHABLE, ActorPlan, Change, ImageStatus, plan_actor
from .progress import ProgressCallback, ProgressEvent, no_progress
from .summary import SyncSummary

#: up to this many actors, concurrent per-actor listings beat paging the library prefix
LIST_CONCURRENT_UP_TO = 64
#: what a typical actor holds; sizes the connections opened while a pull is being planned
IMAGES_PER_ACTOR = 20
#: actors per listing range: about one 1000-key page each
ACTORS_PER_PAGE = 1000 // (IMAGES_PER_ACTOR + 4)
#: verified downloads are made durable together (one syncfs), then renamed into place
COMMIT_BATCH = 256
COMMIT_IDLE_S = 0.05


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def conflict_path(path: Path, side: str) -> Path:
    return path.with_name(f"{path.stem}.conflict-{side}.png")


def parse_only(spec: str | None) -> set[int] | None:
    """``"0-9,12"`` -> {0..9, 12}; None means everything."""
    if spec is None or not spec.strip():
        return None
    out: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if hi < lo or hi - lo > 100000:
                    raise ValueError
                out.update(range(lo, hi + 1))
            else:
                out.add(int(part))
        except ValueError:
            raise ActorbenchError(f"--only {spec!r}: use indices and ranges like 0-9,12.") from None
    return out


@dataclass
class _ActorState:
    plan: ActorPlan  # the selection being applied
    full: ActorPlan  # every image of the actor
    manifest: Manifest
    hashes: HashCache
    summary: SyncSummary
    lock: threading.Lock
    done: set[int] = field(default_factory=set)  # indices transferred by this run


class SyncEngine:
    """Sync actors between ``data_dir`` and one bucket.

    Usage::

        engine = SyncEngine(store, layout, registry, region="us-west-1", workers=16)
        plans = engine.plan(["0002_european_35_female"])
        summaries = engine.pull(["0002_european_35_female"], progress=print)
    """

    def __init__(self, store: ObjectStore, layout: Layout, registry: Registry,
                 region: str = "us-west-1", workers: int = 16, connections: int = 128,
                 min_free: int = 0) -> None:
        self.store, self.layout, self.registry = store, layout, registry
        self.region, self.workers, self.connections = region, workers, connections
        self.min_free = min_free  # bytes a pull must leave free (``Settings.min_free``)

    # -- planning ---------------------------------------------------------------------
    def list_remote(self, names: list[str]) -> dict[str, list[ObjectInfo]]:
        """The S3 side of the plan, never a request per object.

        Up to ``LIST_CONCURRENT_UP_TO`` actors: one listing per actor, all at once (one round
        trip). More: the library prefix, cut at actor boundaries into ranges of about one page
        each (``start-after``), listed concurrently: the same number of pages as one paginated
        listing, in about one round trip instead of one per page.
        """
        out: dict[str, list[ObjectInfo]] = {n: [] for n in names}
        if len(names) > LIST_CONCURRENT_UP_TO:
            wanted = set(names)
            root = self.layout.prefix + "/"
            for infos in self._map(lambda r: list(self._list_range(root, *r)),
                                   _ranges(sorted(wanted), ACTORS_PER_PAGE)):
                for info in infos:
                    actor = info.key[len(root):].split("/", 1)[0]
                    if actor in wanted:
                        out[actor].append(info)
        elif len(names) == 1:
            out[names[0]] = list(self.store.list(self.layout.actor_prefix(names[0])))
        else:
            out.update(zip(names, self._map(
                lambda n: list(self.store.list(self.layout.actor_prefix(n))), names),
                strict=True))
        return out

    def _map(self, fn: Any, items: list[Any]) -> list[Any]:
        with ThreadPoolExecutor(max(1, min(len(items), self.workers))) as pool:
            return list(pool.map(fn, items))

    def _list_range(self, root: str, first: str | None, stop: str | None
                    ) -> Iterator[ObjectInfo]:
        """Keys of actors ``first`` (None: from the start) up to, not including, ``stop``."""
        end = root + stop if stop is not None else None
        for info in self.store.list(root, start_after=root + first if first else None):
            if end is not None and info.key >= end:
                return  # the next range's first actor: stop before paging on
            yield info

    def listed_indices(self, name: str, warnings: list[str] | None = None) -> set[int]:
        """Indices that ``response.json`` says exist (for the ``missing`` status).

        A malformed file or entry is a warning for this actor (added to ``warnings``), never
        a stop: its images on disk and in S3 sync all the same, and so do other actors'.
        """
        path = self.layout.response_json(name)
        where = f"{path}, actor {name!r}"
        problems = warnings if warnings is not None else []
        if not path.exists():
            return set()
        try:
            data = read_json(path)
        except RegistryError as exc:
            problems.append(f"{where}: {exc.problem}; its list of images was ignored")
            return set()
        urls = data.get("s3_urls", []) if isinstance(data, dict) else None
        if not isinstance(urls, list):
            problems.append(f"{where}: s3_urls must be a list of URLs; it was ignored")
            return set()
        out = set()
        pat = image_name_re(name)
        for i, url in enumerate(urls):
            # shown and parsed without a query string: a presigned signature never reaches a log
            bare = url.split("?", 1)[0] if isinstance(url, str) else ""
            if m := pat.match(unquote(bare.rsplit("/", 1)[-1])):
                out.add(int(m.group(1)))
            else:
                shown = repr(bare[:300]) if isinstance(url, str) else \
                    f"(a {type(url).__name__}, not a URL)"
                problems.append(f"{where}: s3_urls[{i}] {shown} is not an image of this actor "
                                f"({name}_<0-99999>.png); it was ignored")
        return out

    def plan(self, names: Iterable[str], remote: dict[str, list[ObjectInfo]] | None = None
             ) -> dict[str, ActorPlan]:
        names = [self.registry.get(n).name for n in names]
        remote = remote if remote is not None else self.list_remote(names)
        plans = {}
        for n in names:
            warnings: list[str] = []
            listed = self.listed_indices(n, warnings)
            plans[n] = plan_actor(self.layout, n, remote.get(n, []),
                                  Manifest.load(self.layout.manifest_path(n)), listed)
            plans[n].warnings.extend(warnings)
        return plans

    # -- applying ---------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self, names: list[str]) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for n in sorted(names):
                self.layout.actor_dir(n).mkdir(parents=True, exist_ok=True)
                stack.enter_context(file_lock(self.layout.lock_path(n), what=f"actor {n}"))
            yield

    def _prepare(self, names: list[str], direction: str, only: set[int] | None
                 ) -> dict[str, _ActorState]:
        for n in names:  # under the actor's lock: what a killed run left is nobody's now
            self.layout.training_dir(n).mkdir(parents=True, exist_ok=True)
            clean_stale_temps(self.layout.training_dir(n))  # images, response.json
            clean_stale_temps(self.layout.actor_dir(n))  # manifest, hash cache
        plans = self.plan(names)
        states = {}
        for n in names:
            plan = plans[n].select(only)
            states[n] = _ActorState(plan, plans[n], Manifest.load(self.layout.manifest_path(n)),
                                    HashCache(self.layout.hash_cache_path(n)),
                                    SyncSummary(n, direction, total=len(plan.changes),
                                                warnings=list(plans[n].warnings)),
                                    threading.Lock())
        return states

    def _refresh_baseline(self, st: _ActorState) -> None:
        """Images identical on both sides become the new common ancestor."""
        for ch in st.plan.by_status(ImageStatus.SYNCED):
            assert ch.local and ch.remote
            md5 = st.hashes.md5(ch.local.path)
            st.manifest.entries[ch.index] = ManifestEntry(ch.local.size, ch.local.mtime_ns, md5,
                                                          ch.remote.etag)

    def _run(self, names: list[str], direction: str, only: set[int] | None,
             prefer: str | None, progress: ProgressCallback,
             cancel: threading.Event | None, allow_invalid: bool = False
             ) -> dict[str, SyncSummary]:
        names = [self.registry.get(n).name for n in names]
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="actorbench-sync")
        bulk = self._bulk_getter() if direction == "pull" else None
        if bulk is not None:  # connect while the listing runs: -1 RTT
            bulk.warm(min(self.connections, IMAGES_PER_ACTOR * len(names)))
        elif (warm := getattr(self.store, "warm", None)) is not None:
            for _ in range(self.workers):
                pool.submit(warm, self.workers)
        with pool, self._locked(names):
            states = self._prepare(names, direction, only)
            jobs: list[tuple[str, Change, str]] = []
            for n, st in states.items():
                self._refresh_baseline(st)
                st.summary.unrecognised = [u.to_json() for u in st.full.unrecognised]
                for ch in st.plan.changes:
                    ch, action = self._decide(st, ch, direction, prefer, allow_invalid)
                    if action == "refused":
                        continue
                    if action == "skip":
                        st.summary.skipped += 1
                    elif action.startswith("conflict"):
                        st.summary.conflicts.append(ch.key)
                        if action == "conflict-keep":
                            jobs.append((n, ch, "conflict-remote"))
                    else:
                        jobs.append((n, ch, action))
                todo = [j for j in jobs if j[0] == n]
                progress(ProgressEvent("plan", n, files_total=len(todo),
                                       bytes_total=sum(j[1].size for j in todo)))
            if direction == "pull":
                self._check_space(jobs)
            _Apply(self, states, pool, bulk, progress, cancel).run(jobs)
            batch = AtomicBatch()  # every actor's records durable at once: one syncfs
            for n, st in states.items():
                if direction == "pull":
                    batch.add_dir(self.layout.training_dir(n))  # this run's renames
                st.manifest.last_sync = now_iso()
                st.manifest.save(batch.add_json)
                st.hashes.save(batch.add_json)
            try:
                batch.commit()
            except OSError as exc:  # what landed stays; the next sync re-checks it by content
                for n, st in states.items():
                    st.summary.warnings.append(
                        f"{self.layout.manifest_path(n)}: the record of this sync was not saved "
                        f"({exc.strerror or exc}); the next sync compares these images by "
                        "content again")
                    _note_environment(st.summary, exc, self.layout.data_dir)
            for n, st in states.items():
                if direction == "push" and not st.summary.cancelled:
                    self._record_push(n, st)
                progress(ProgressEvent("done", n, ok=st.summary.ok))
            return {n: st.summary for n, st in states.items()}

    def _bulk_getter(self) -> Any:
        make = getattr(self.store, "bulk_getter", None) if self.connections > 1 else None
        return make() if make is not None else None

    def _check_space(self, jobs: list[tuple[str, Change, str]]) -> None:
        """Refuse a pull, before it writes anything, that would leave less than ``min_free``
        free on a disk it writes to (each actor's folder may sit on its own filesystem)."""
        need: dict[int, list[Any]] = {}  # st_dev -> [folder, bytes]
        data_dev = self.layout.data_dir.stat().st_dev
        for n, ch, action in jobs:
            folder = self.layout.training_dir(n)
            dev = folder.stat().st_dev
            entry = need.setdefault(dev, [self.layout.data_dir if dev == data_dev else folder,
                                          0])
            entry[1] += ch.size
            if action == "download-overwrite" and ch.local is not None:
                entry[1] += ch.local.size  # the local side is kept as *.conflict-local.png
        for folder, nbytes in need.values():
            free = fsutil.free_bytes(folder)
            if free - nbytes >= self.min_free:
                continue
            leaves = (f"would leave {format_size(free - nbytes)}" if free >= nbytes
                      else f"only {format_size(free)} is free")
            raise DiskSpaceError(
                f"Not enough disk space in {folder}: the pull needs {format_size(nbytes)} and "
                f"{leaves}, below the {format_size(self.min_free)} margin "
                "(ACTORBENCH_MIN_FREE). Free space or pull fewer actors.")

    def _decide(self, st: _ActorState, ch: Change, direction: str, prefer: str | None,
                allow_invalid: bool) -> tuple[Change, str]:
        """One image's action, "skip", or "refused" (recorded in the summary as invalid).

        A file not fit to push is refused for upload unless ``allow_invalid``; an image name
        held by a symlink, fifo or folder is never read, nor written through or over.
        """
        problem = ""
        if ch.status is ImageStatus.INVALID and ch.compared is not None:
            problem, ch = ch.problem, replace(ch, status=ch.compared)
        action = (self._pull_action if direction == "pull" else self._push_action)(ch, prefer)
        if ch.local is not None:  # a regular file: only uploading it is in question
            if allow_invalid or not action.startswith("upload"):
                problem = ""
            elif not problem:  # a conflict or a remote delete pushed with --prefer local
                problem = st.hashes.checked(ch.local.path, ch.local.size, ch.local.mtime_ns,
                                            image_problem)
        if problem and action != "skip":
            st.summary.refuse(ch.key, problem)
            return ch, "refused"
        return ch, action

    @staticmethod
    def _pull_action(ch: Change, prefer: str | None) -> str:
        if ch.status in PULLABLE:
            return "download"
        if ch.status is ImageStatus.CONFLICT and ch.remote is not None:
            return "download-overwrite" if prefer == "remote" else "conflict-keep"
        if ch.status is ImageStatus.LOCAL_MODIFIED and prefer == "remote":
            return "download-overwrite"
        return "skip"

    @staticmethod
    def _push_action(ch: Change, prefer: str | None) -> str:
        if ch.status in PUSHABLE:
            return "upload"
        if ch.status is ImageStatus.CONFLICT:
            return "upload-overwrite" if prefer == "local" else "conflict"
        if ch.status is ImageStatus.DELETED_REMOTE and prefer == "local":
            return "upload"
        return "skip"

    def _do(self, st: _ActorState, ch: Change, action: str, progress: ProgressCallback,
            cancel: threading.Event | None) -> None:
        from .transfer import download, upload

        def on_bytes(k: int) -> None:
            progress(ProgressEvent("bytes", ch.actor, ch.key, nbytes=k))

        target = self.layout.image_path(ch.actor, ch.index)
        if action in ("download", "download-overwrite", "conflict-remote"):
            assert ch.remote is not None
            if action == "download-overwrite" and target.exists():  # never lose the local side
                copy_atomic(target, conflict_path(target, "local"))
            dest = conflict_path(target, "remote") if action == "conflict-remote" else target
            got = download(self.store, ch.key, dest, ch.remote.etag, on_bytes, cancel)
            if action == "conflict-remote":
                return
            with st.lock:
                st.hashes.remember(target.name, got.size, got.mtime_ns, got.md5)
                st.manifest.entries[ch.index] = ManifestEntry(got.size, got.mtime_ns, got.md5,
                                                              got.etag)
            return
        assert ch.local is not None
        md5 = st.hashes.md5(ch.local.path)
        expect = ch.remote.etag if ch.remote else (
            ch.base.etag if ch.status is ImageStatus.LOCAL_MODIFIED and ch.base else None)
        etag = upload(self.store, ch.key, ch.local.path, md5, expect, on_bytes, cancel)
        st_now = ch.local.path.stat()
        with st.lock:
            st.manifest.entries[ch.index] = ManifestEntry(st_now.st_size, st_now.st_mtime_ns,
                                                          md5, etag)

    def _record_push(self, name: str, st: _ActorState) -> None:
        """After uploads verify: response.json and actors.json list what S3 now holds.

        S3's content is known without another listing: what the plan listed, plus what this
        push uploaded (an object someone else adds meanwhile shows up at the next sync).
        """
        remote = {c.index for c in st.full.changes if c.remote is not None} | st.done
        urls = [format_s3_url(self.store.bucket, self.region, self.layout.image_key(name, i))
                for i in sorted(remote)]
        st.summary.s3_urls = urls
        pending = {c.index for c in st.full.changes if c.status in (
            ImageStatus.LOCAL_ONLY, ImageStatus.LOCAL_MODIFIED, ImageStatus.CONFLICT,
            ImageStatus.DELETED_REMOTE) or (c.status is ImageStatus.INVALID and c.local)}
        synced = pending <= st.done and not st.summary.conflicts and st.summary.failed == 0
        resp_path = self.layout.response_json(name)
        try:
            resp = read_json(resp_path) if resp_path.exists() else {}
            if not isinstance(resp, dict):
                raise RegistryError(resp_path, "must hold a JSON object")
        except RegistryError as exc:
            st.summary.error(str(resp_path), f"{exc} (left unchanged)")
        else:
            resp.update({"s3_urls": urls, "count": len(urls), "updated_at": now_iso()})
            try:
                atomic_write_json(resp_path, resp)
            except OSError as exc:  # a full disk: the uploads stand, the next push records them
                st.summary.error(str(resp_path), f"not updated ({_message(exc)})")
                _note_environment(st.summary, exc, self.layout.data_dir)

        def change(raw: dict[str, Any]) -> None:
            td = raw.get("training_data") if isinstance(raw.get("training_data"), dict) else {}
            td = dict(td)
            td.update({"s3_urls": urls, "count": len(urls), "synced": synced})
            td.setdefault("local_path", str(self.layout.training_dir(name)))
            td.setdefault("base_image_path", str(self.layout.base_image_path(name)))
            raw["training_data"] = td

        try:
            self.registry.update(name, change)
        except (ActorbenchError, OSError) as exc:
            st.summary.error(str(self.registry.path), _message(exc))
            _note_environment(st.summary, exc, self.layout.data_dir)

    def pull(self, names: Iterable[str], only: set[int] | None = None,
             prefer: str | None = None, progress: ProgressCallback = no_progress,
             cancel: threading.Event | None = None) -> dict[str, SyncSummary]:
        """Fetch S3-only and S3-modified images; local edits and conflicts are kept."""
        return self._run(list(names), "pull", only, prefer, progress, cancel)

    def push(self, names: Iterable[str], only: set[int] | None = None,
             prefer: str | None = None, progress: ProgressCallback = no_progress,
             cancel: threading.Event | None = None, allow_invalid: bool = False
             ) -> dict[str, SyncSummary]:
        """Upload local-only and locally modified images; never overwrite an S3 change.

        Files that are not sound PNGs (``ImageStatus.INVALID``) are refused and listed in the
        summary, unless ``allow_invalid``.
        """
        return self._run(list(names), "push", only, prefer, progress, cancel, allow_invalid)

    # -- cache ------------------------------------------------------------------------
    def clean(self, names: Iterable[str], dry_run: bool = False) -> dict[str, dict[str, Any]]:
        """Delete local copies only of images verified identical in S3."""
        names = [self.registry.get(n).name for n in names]
        out: dict[str, dict[str, Any]] = {}
        with self._locked(names):
            plans = self.plan(names)
            for n in names:
                safe = plans[n].by_status(ImageStatus.SYNCED)
                kept = [c for c in plans[n].changes if c.local and c.status is not
                        ImageStatus.SYNCED]
                freed = sum(c.local.size for c in safe if c.local)
                if not dry_run:
                    manifest = Manifest.load(self.layout.manifest_path(n))
                    for c in safe:
                        assert c.local
                        if not _is_regular(c.local.path):
                            continue  # replaced since it was verified: not what was checked
                        c.local.path.unlink(missing_ok=True)
                        manifest.entries.pop(c.index, None)
                    manifest.save()
                out[n] = {"actor": n, "deleted": len(safe), "bytes_freed": freed,
                          "kept": len(kept), "dry_run": dry_run,
                          "kept_keys": [c.key for c in kept]}
        return out

    def usage(self, names: Iterable[str]) -> dict[str, int]:
        """Bytes on local disk per actor (training images, base image, everything)."""
        out: dict[str, int] = defaultdict(int)
        for n in names:
            folder = self.layout.actor_dir(n)
            if folder.is_dir():
                out[n] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            else:
                out[n] = 0
        return dict(out)


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _message(exc: BaseException) -> str:
    if isinstance(exc, ActorbenchError):
        return str(exc)
    if is_disk_full(exc):  # the temp file's name would help nobody
        return f"not written: {exc.strerror}"  # type: ignore[attr-defined]
    return f"{type(exc).__name__}: {exc}"


def _note_environment(summary: SyncSummary, exc: BaseException, data_dir: Path) -> None:
    """Keep the first problem of the machine, not of the input, that stopped a transfer."""
    if summary.environment:
        return
    if is_disk_full(exc):
        summary.environment = (f"The disk holding {data_dir} is full "
                               f"({exc.strerror}).")  # type: ignore[attr-defined]
    elif isinstance(exc, EnvironmentProblem):
        summary.environment = str(exc)
    elif isinstance(exc, OSError):  # a folder that cannot be written, a failing disk
        where = f" ({exc.filename})" if exc.filename else ""
        summary.environment = f"{exc.strerror or exc}{where}."


class _Apply:
    """Carry out a plan's jobs and record each outcome in its actor's summary.

    Plain downloads go to the store's bulk getter when it has one (one thread, many
    connections); verified temp files are made durable in batches (one ``syncfs``), then
    renamed into place. Everything else, and every bulk job that did not succeed at once, runs
    on the thread pool through ``SyncEngine._do`` (retries, back-off, 412s, messages).
    """

    def __init__(self, engine: SyncEngine, states: dict[str, _ActorState],
                 pool: ThreadPoolExecutor, bulk: Any, progress: ProgressCallback,
                 cancel: threading.Event | None) -> None:
        self.engine, self.states, self.pool, self.bulk = engine, states, pool, bulk
        self.progress, self.cancel = progress, cancel
        self.results: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.outstanding = 0
        self.disk_full: OSError | None = None  # once it is, no more downloads are started

    def run(self, jobs: list[tuple[str, Change, str]]) -> None:
        from ..storage.bulk import Failed, GetJob, Got

        fast = [j for j in jobs if j[2] == "download"] if self.bulk is not None else []
        for job in jobs if not fast else [j for j in jobs if j[2] != "download"]:
            self._submit(job)
        reported: set[int] = set()
        if fast:
            self.outstanding += len(fast)
            bulk_jobs = [GetJob(ch.key, ch.remote.etag if ch.remote else "",
                                self.engine.layout.image_path(n, ch.index), (n, ch, action))
                         for n, ch, action in fast]

            def on_bytes(job: GetJob, k: int) -> None:
                self.progress(ProgressEvent("bytes", job.tag[1].actor, job.key,  # type: ignore[index]
                                            nbytes=k))

            done = self.bulk.start(bulk_jobs, lambda r: self.results.put(("bulk", r)),
                                   on_bytes, self.cancel)
            done.add_done_callback(lambda f: self.results.put(("bulk-end", f)))
        pending: list[Got] = []
        while self.outstanding:
            try:
                kind, item = self.results.get(timeout=COMMIT_IDLE_S if pending else None)
            except queue.Empty:
                self._commit(pending)
                continue
            if kind == "job":
                self.outstanding -= 1
                self._outcome(*item)
            elif kind == "bulk":
                reported.add(id(item.job))
                if isinstance(item, Got):
                    pending.append(item)
                    if len(pending) >= COMMIT_BATCH or len(pending) == self.outstanding:
                        self._commit(pending)  # a full batch, or nothing else to wait for
                    continue
                assert isinstance(item, Failed)
                n, ch, action = item.job.tag
                if item.moved:
                    self.progress(ProgressEvent("bytes", n, ch.key, nbytes=-item.moved))
                self.outstanding -= 1
                if item.cancelled:
                    self._outcome(n, ch, action, Cancelled())
                else:
                    self._submit((n, ch, action))  # the ordinary path retries and explains
            elif kind == "bulk-end" and item.exception() is not None:
                for job in bulk_jobs:  # a bug in the getter: its unreported jobs go the old way
                    if id(job) not in reported:
                        self.outstanding -= 1
                        self._submit(job.tag)  # type: ignore[arg-type]
        self._commit(pending)

    def _submit(self, job: tuple[str, Change, str]) -> None:
        if self.disk_full is not None and job[2] != "upload" and job[2] != "upload-overwrite":
            self._outcome(*job, self.disk_full)  # it would fail the same way, after a GET
            return
        self.outstanding += 1
        fut = self.pool.submit(self.engine._do, self.states[job[0]], job[1], job[2],
                               self.progress, self.cancel)
        fut.add_done_callback(lambda f: self.results.put(("job", (*job, f.exception()))))

    def _commit(self, batch: list[Any]) -> None:
        """Make a batch of verified temp files durable with one syncfs, then rename them."""
        if not batch:
            return
        syncfs(self.engine.layout.data_dir)
        for got in batch:
            n, ch, action = got.job.tag
            st = self.states[n]
            self.outstanding -= 1
            mtime_ns = got.mtime_ns  # a rename keeps it
            try:
                os.replace(got.tmp, got.job.target)
            except OSError as exc:
                with contextlib.suppress(FileNotFoundError):
                    got.tmp.unlink()
                self._outcome(n, ch, action, exc)
                continue
            with st.lock:
                st.hashes.remember(got.job.target.name, got.size, mtime_ns, got.md5)
                st.manifest.entries[ch.index] = ManifestEntry(got.size, mtime_ns, got.md5,
                                                              got.etag)
            self._outcome(n, ch, action, None)
        batch.clear()

    def _outcome(self, n: str, ch: Change, action: str, exc: BaseException | None) -> None:
        st = self.states[n]
        if exc is None:
            if action != "conflict-remote":
                st.done.add(ch.index)
                st.summary.transferred += 1
                st.summary.bytes += ch.size
            self.progress(ProgressEvent("file", n, ch.key, ok=True))
            return
        if isinstance(exc, Cancelled):
            st.summary.cancelled = True
            self.progress(ProgressEvent("file", n, ch.key, ok=False, error=str(exc)))
            return
        if isinstance(exc, PreconditionFailed):
            st.summary.conflicts.append(ch.key)
        else:
            st.summary.error(ch.key, _message(exc))
            _note_environment(st.summary, exc, self.engine.layout.data_dir)
            if is_disk_full(exc):
                self.disk_full = exc  # type: ignore[assignment]
        self.progress(ProgressEvent("file", n, ch.key, ok=False, error=_message(exc)))


def _ranges(names: list[str], per: int) -> list[tuple[str | None, str | None]]:
    """Sorted actor names cut into (start-after, stop) ranges of ``per`` actors each.

    The first range starts at the beginning of the prefix and the last runs to its end, so
    together they cover every key (objects of actors not asked for are filtered later).
    """
    starts = names[::per]
    out: list[tuple[str | None, str | None]] = []
    for i, first in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else None
        out.append((None if i == 0 else first, stop))  # "root/name" sorts before "root/name/"
    return out
