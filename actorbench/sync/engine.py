"""Plan, then apply: concurrent pulls and pushes across many actors with one worker pool."""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..actors.registry import Registry, read_json
from ..errors import ActorbenchError, Cancelled, PreconditionFailed, RegistryError
from ..fsutil import AtomicBatch, atomic_write_json, clean_stale_temps, file_lock, syncfs
from ..storage.base import ObjectInfo, ObjectStore
from ..storage.hashing import HashCache
from ..storage.layout import Layout
from ..storage.urls import format_s3_url
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
                 region: str = "us-west-1", workers: int = 16, connections: int = 128) -> None:
        self.store, self.layout, self.registry = store, layout, registry
        self.region, self.workers, self.connections = region, workers, connections

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

    def listed_indices(self, name: str) -> set[int]:
        """Indices that ``response.json`` says exist (for the ``missing`` status)."""
        path = self.layout.response_json(name)
        if not path.exists():
            return set()
        try:
            data = read_json(path)
        except RegistryError:
            return set()
        out = set()
        urls = data.get("s3_urls", []) if isinstance(data, dict) else []
        for url in urls if isinstance(urls, list) else []:
            key = str(url).split("?", 1)[0]
            tail = key.rsplit("/", 1)[-1]
            if tail.startswith(name + "_") and tail.endswith(".png"):
                with contextlib.suppress(ValueError):
                    out.add(int(tail[len(name) + 1:-4]))
        return out

    def plan(self, names: Iterable[str], remote: dict[str, list[ObjectInfo]] | None = None
             ) -> dict[str, ActorPlan]:
        names = [self.registry.get(n).name for n in names]
        remote = remote if remote is not None else self.list_remote(names)
        return {n: plan_actor(self.layout, n, remote.get(n, []),
                              Manifest.load(self.layout.manifest_path(n)),
                              self.listed_indices(n)) for n in names}

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
                                    SyncSummary(n, direction, total=len(plan.changes)),
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
             cancel: threading.Event | None) -> dict[str, SyncSummary]:
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
                for ch in st.plan.changes:
                    action = (self._pull_action if direction == "pull" else self._push_action)(
                        ch, prefer)
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
            _Apply(self, states, pool, bulk, progress, cancel).run(jobs)
            batch = AtomicBatch()  # every actor's records durable at once: one syncfs
            for n, st in states.items():
                if direction == "pull":
                    batch.add_dir(self.layout.training_dir(n))  # this run's renames
                st.manifest.last_sync = now_iso()
                st.manifest.save(batch.add_json)
                st.hashes.save(batch.add_json)
            batch.commit()
            for n, st in states.items():
                if direction == "push" and not st.summary.cancelled:
                    self._record_push(n, st)
                progress(ProgressEvent("done", n, ok=st.summary.ok))
            return {n: st.summary for n, st in states.items()}

    def _bulk_getter(self) -> Any:
        make = getattr(self.store, "bulk_getter", None) if self.connections > 1 else None
        return make() if make is not None else None

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
            if action == "download-overwrite" and target.exists():
                shutil.copy2(target, conflict_path(target, "local"))  # never lose the local side
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
            ImageStatus.DELETED_REMOTE)}
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
            atomic_write_json(resp_path, resp)

        def change(raw: dict[str, Any]) -> None:
            td = raw.get("training_data") if isinstance(raw.get("training_data"), dict) else {}
            td = dict(td)
            td.update({"s3_urls": urls, "count": len(urls), "synced": synced})
            td.setdefault("local_path", str(self.layout.training_dir(name)))
            td.setdefault("base_image_path", str(self.layout.base_image_path(name)))
            raw["training_data"] = td

        try:
            self.registry.update(name, change)
        except ActorbenchError as exc:
            st.summary.error(str(self.registry.path), str(exc))

    def pull(self, names: Iterable[str], only: set[int] | None = None,
             prefer: str | None = None, progress: ProgressCallback = no_progress,
             cancel: threading.Event | None = None) -> dict[str, SyncSummary]:
        """Fetch S3-only and S3-modified images; local edits and conflicts are kept."""
        return self._run(list(names), "pull", only, prefer, progress, cancel)

    def push(self, names: Iterable[str], only: set[int] | None = None,
             prefer: str | None = None, progress: ProgressCallback = no_progress,
             cancel: threading.Event | None = None) -> dict[str, SyncSummary]:
        """Upload local-only and locally modified images; never overwrite an S3 change."""
        return self._run(list(names), "push", only, prefer, progress, cancel)

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


def _message(exc: BaseException) -> str:
    if isinstance(exc, ActorbenchError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


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
