"""Plan, then apply: concurrent pulls and pushes across many actors with one worker pool."""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..actors.registry import Registry, read_json
from ..errors import ActorbenchError, Cancelled, PreconditionFailed, RegistryError
from ..fsutil import atomic_write_json, clean_stale_temps, file_lock, fsync_dir
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
                 region: str = "us-west-1", workers: int = 16) -> None:
        self.store, self.layout, self.registry = store, layout, registry
        self.region, self.workers = region, workers

    # -- planning ---------------------------------------------------------------------
    def list_remote(self, names: list[str]) -> dict[str, list[ObjectInfo]]:
        """The S3 side of the plan, never a request per object.

        Up to ``LIST_CONCURRENT_UP_TO`` actors: one listing per actor, all at once (one round
        trip). More: one paginated listing of the library prefix (~6 sequential pages for 287
        actors), filtered here.
        """
        out: dict[str, list[ObjectInfo]] = {n: [] for n in names}
        if len(names) > LIST_CONCURRENT_UP_TO:
            wanted = set(names)
            for info in self.store.list(self.layout.prefix + "/"):
                actor = info.key[len(self.layout.prefix) + 1:].split("/", 1)[0]
                if actor in wanted:
                    out[actor].append(info)
        elif len(names) == 1:
            out[names[0]] = list(self.store.list(self.layout.actor_prefix(names[0])))
        else:
            with ThreadPoolExecutor(min(len(names), self.workers)) as pool:
                listed = pool.map(lambda n: list(self.store.list(self.layout.actor_prefix(n))),
                                  names)
                out.update(zip(names, listed, strict=True))
        return out

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
        for n in names:
            self.layout.training_dir(n).mkdir(parents=True, exist_ok=True)
            clean_stale_temps(self.layout.training_dir(n))
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
        warm = getattr(self.store, "warm", None)
        if warm is not None:  # open the workers' connections while the listing runs: -1 RTT
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
            futures: dict[Future[Any], tuple[str, Change, str]] = {}
            for job in jobs:
                futures[pool.submit(self._do, states[job[0]], job[1], job[2], progress,
                                    cancel)] = job
            for fut in as_completed(futures):  # report each file as it lands
                n, ch, action = futures[fut]
                exc = fut.exception()
                st = states[n]
                if exc is None:
                    if action != "conflict-remote":
                        st.done.add(ch.index)
                        st.summary.transferred += 1
                        st.summary.bytes += ch.size
                    progress(ProgressEvent("file", n, ch.key, ok=True))
                    continue
                if isinstance(exc, Cancelled):
                    st.summary.cancelled = True
                    progress(ProgressEvent("file", n, ch.key, ok=False, error=str(exc)))
                    continue
                if isinstance(exc, PreconditionFailed):
                    st.summary.conflicts.append(ch.key)
                else:
                    st.summary.error(ch.key, _message(exc))
                progress(ProgressEvent("file", n, ch.key, ok=False, error=_message(exc)))
            for n, st in states.items():
                if direction == "pull":
                    fsync_dir(self.layout.training_dir(n))  # make this batch's renames durable
                st.manifest.last_sync = now_iso()
                st.manifest.save()
                st.hashes.save()
                if direction == "push" and not st.summary.cancelled:
                    self._record_push(n, st)
                progress(ProgressEvent("done", n, ok=st.summary.ok))
            return {n: st.summary for n, st in states.items()}

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
