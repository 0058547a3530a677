"""Apply decided transfers: concurrent, verified, and one commit path for every download.

Plain downloads go to the store's bulk getter when it has one (one thread, many connections);
everything else, and every bulk job that did not succeed at once, runs on the thread pool
through :meth:`Applier._transfer` (retries, back-off, 412s, messages). Both paths hand back a
verified temp file; :meth:`Applier._commit` makes a batch of them durable with one ``syncfs``,
renames them into place and records them in the manifest and hash cache. ``outstanding`` is
changed only by ``_begin`` and ``_end``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Cancelled, PreconditionFailed, is_disk_full
from ..fsutil import copy_atomic, syncfs
from ..storage.base import BulkGetter, ObjectStore
from ..storage.hashing import HashCache
from ..storage.layout import Layout
from ..storage.retry import MAX_ATTEMPTS
from .config import SyncConfig
from .decide import Action, Direction, Transfer, Transfers
from .manifest import Manifest, ManifestEntry
from .plan import ActorPlan, FileKind, ImageStatus
from .progress import ProgressCallback, ProgressEvent, ProgressKind
from .records import describe, note_environment
from .summary import SyncSummary
from .transfer import Fetched, download, upload


def conflict_path(path: Path, side: str) -> Path:
    """Where the losing side of a conflict is kept: ``{name}_{i}.conflict-{side}.png``
    (``.txt`` for a caption)."""
    return path.with_name(f"{path.stem}.conflict-{side}{path.suffix}")


def free_conflict_path(path: Path, side: str) -> Path:
    """``conflict_path``, or ``….conflict-{side}-2.png`` (3, …) if that is taken: a local
    version kept aside is never replaced by the next one kept aside."""
    first = conflict_path(path, side)
    n = 2
    candidate = first
    while candidate.exists() or candidate.is_symlink():
        candidate = path.with_name(f"{path.stem}.conflict-{side}-{n}{path.suffix}")
        n += 1
    return candidate


def stat_key(path: Path) -> tuple[int, int] | None:
    """(size, mtime_ns) of what is at ``path`` now, without following a link; None if nothing."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns


@dataclass
class ActorRun:
    """One actor's sync in progress: its decision, its records, its summary."""

    transfers: Transfers
    full: ActorPlan  # every image of the actor, not only the selection
    manifest: Manifest
    hashes: HashCache
    summary: SyncSummary
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: set[int] = field(default_factory=set)  # indices transferred by this run


@dataclass(frozen=True)
class _Landed:
    """A verified temp file waiting for the committer."""

    transfer: Transfer
    fetched: Fetched
    target: Path
    #: what the target held when the transfer was decided (None: nothing); if it holds
    #: something else at commit time, the local side changed during the run
    expect: tuple[int, int] | None = None


class Applier:
    """Carry out the moving transfers of many actors; record each outcome in its summary."""

    def __init__(self, store: ObjectStore, layout: Layout, runs: dict[str, ActorRun],
                 direction: Direction, pool: ThreadPoolExecutor, bulk: BulkGetter | None,
                 config: SyncConfig, progress: ProgressCallback,
                 cancel: threading.Event | None) -> None:
        self.store, self.layout, self.runs, self.direction = store, layout, runs, direction
        self.pool, self.bulk, self.config = pool, bulk, config
        self.progress, self.cancel = progress, cancel
        self.results: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.outstanding = 0
        self.disk_full: OSError | None = None  # once it is, no more downloads are started

    # -- counting: the only two places ``outstanding`` changes -----------------------------
    def _begin(self, n: int = 1) -> None:
        self.outstanding += n

    def _end(self) -> None:
        self.outstanding -= 1

    def run(self) -> None:
        from ..storage.bulk import Failed, GetJob, Got

        jobs = [t for run in self.runs.values() for t in run.transfers.moving]
        fast = [t for t in jobs if t.action is Action.DOWNLOAD] if self.bulk else []
        for t in jobs if not fast else [t for t in jobs if t.action is not Action.DOWNLOAD]:
            self._submit(t)
        reported: set[int] = set()
        bulk_jobs: list[GetJob] = []
        if fast:
            assert self.bulk is not None
            self._begin(len(fast))
            bulk_jobs = [GetJob(t.key, t.change.remote.etag if t.change.remote else "",
                                self._target(t), t) for t in fast]

            def on_bytes(job: GetJob, k: int) -> None:
                t: Transfer = job.tag  # type: ignore[assignment]
                self.progress(ProgressEvent(ProgressKind.BYTES, t.actor, t.key, nbytes=k))

            done = self.bulk.start(bulk_jobs, lambda r: self.results.put(("bulk", r)),
                                   on_bytes, self.cancel)
            done.add_done_callback(lambda f: self.results.put(("bulk-end", f)))
        pending: list[_Landed] = []
        while self.outstanding:
            try:
                kind, item = self.results.get(
                    timeout=self.config.commit_idle_s if pending else None)
            except queue.Empty:
                self._commit(pending)
                continue
            if kind == "landed":
                pending.append(item)
            elif kind == "done":
                self._end()
                self._outcome(*item)
            elif kind == "bulk":
                reported.add(id(item.job))
                t = item.job.tag
                if isinstance(item, Got):
                    pending.append(_Landed(t, Fetched(item.tmp, item.md5, item.etag, item.size,
                                                      item.mtime_ns), item.job.target,
                                           _planned(t)))
                else:
                    assert isinstance(item, Failed)
                    if item.moved:
                        self.progress(ProgressEvent(ProgressKind.BYTES, t.actor, t.key,
                                                    nbytes=-item.moved))
                    self._end()
                    if item.cancelled:
                        self._outcome(t, Cancelled())
                    else:  # the ordinary path retries and explains, within the object's cap
                        self._submit(t, item)
            elif kind == "bulk-end" and item.exception() is not None:
                for job in bulk_jobs:  # a bug in the getter: its unreported jobs go the old way
                    if id(job) not in reported:
                        self._end()
                        self._submit(job.tag)  # type: ignore[arg-type]
            if pending and (len(pending) >= self.config.commit_batch
                            or len(pending) == self.outstanding):
                self._commit(pending)  # a full batch, or nothing else to wait for
        self._commit(pending)

    def _target(self, t: Transfer) -> Path:
        path = (self.layout.caption_path(t.actor, t.change.index)
                if t.change.kind is FileKind.CAPTION
                else self.layout.image_path(t.actor, t.change.index))
        return conflict_path(path, "remote") if t.action is Action.KEEP_BOTH else path

    def _submit(self, t: Transfer, bulk_failed: Any = None) -> None:
        """Run ``t`` on the pool; after a bulk ``Failed``, with what is left of its attempts."""
        if self.disk_full is not None and self.direction is Direction.PULL:
            self._outcome(t, self.disk_full)  # it would fail the same way, after a GET
            return
        self._begin()
        fut = self.pool.submit(self._transfer, t, bulk_failed)

        def finished(f: Any) -> None:
            exc = f.exception()
            if exc is None and f.result() is not None:
                self.results.put(("landed", f.result()))
            else:
                self.results.put(("done", (t, exc)))

        fut.add_done_callback(finished)

    def _transfer(self, t: Transfer, bulk_failed: Any = None) -> _Landed | None:
        """On a pool thread: one download (a verified temp file) or one upload (recorded)."""
        ch, run = t.change, self.runs[t.actor]

        def on_bytes(k: int) -> None:
            self.progress(ProgressEvent(ProgressKind.BYTES, ch.actor, ch.key, nbytes=k))

        if self.direction is Direction.PULL:
            assert ch.remote is not None
            target = self._target(t)
            planned = _planned(t)
            if t.action is Action.OVERWRITE and target.exists():  # never lose the local side
                copy_atomic(target, free_conflict_path(target, "local"))
                planned = stat_key(target)
            spent = max(1, bulk_failed.requests) if bulk_failed is not None else 0
            got = download(self.store, ch.key, target, ch.remote.etag, on_bytes, self.cancel,
                           attempts=max(1, MAX_ATTEMPTS - spent),
                           wait_first=bulk_failed.retry_after if bulk_failed else None)
            return _Landed(t, got, target, planned)
        assert ch.local is not None
        before = ch.local.path.stat()  # what is hashed and uploaded is this version
        md5 = run.hashes.md5(ch.local.path)
        expect = ch.remote.etag if ch.remote else (
            ch.base.etag if ch.status is ImageStatus.LOCAL_MODIFIED and ch.base else None)
        etag = upload(self.store, ch.key, ch.local.path, md5, expect, on_bytes, self.cancel)
        with run.lock:  # an edit saved during the upload has another mtime: it stays pending
            run.manifest.of(ch.kind)[ch.index] = ManifestEntry(before.st_size,
                                                               before.st_mtime_ns, md5, etag)
        return None

    def _commit(self, batch: list[_Landed]) -> None:
        """Make verified temp files durable with one syncfs, rename them, record them."""
        if not batch:
            return
        syncfs(self.layout.data_dir)
        for landed in batch:
            t, got = landed.transfer, landed.fetched
            run = self.runs[t.actor]
            self._end()
            target = landed.target
            edited = t.action is not Action.KEEP_BOTH and stat_key(target) != landed.expect
            if edited:  # the local file changed during the run: S3's version goes aside
                target = free_conflict_path(target, "remote")
            try:
                os.replace(got.tmp, target)
            except OSError as exc:
                with contextlib.suppress(FileNotFoundError):
                    got.tmp.unlink()
                self._outcome(t, exc)
                continue
            if edited:
                run.summary.conflicts.append(t.key)
                self.progress(ProgressEvent(ProgressKind.FILE, t.actor, t.key, ok=False,
                                            error="changed locally during the sync: S3's "
                                                  f"version kept as {target.name}"))
                continue
            if t.action is not Action.KEEP_BOTH:  # the conflict copy is not the image
                with run.lock:  # (the manifest's size, mtime and MD5 are the hash cache's
                    # entry too: ``classify`` trusts an unchanged size and mtime; a second
                    # copy in .hash-cache.json would cost a file per actor on a first pull)
                    run.manifest.of(t.change.kind)[t.change.index] = ManifestEntry(
                        got.size, got.mtime_ns, got.md5, got.etag)
            self._outcome(t, None)
        batch.clear()

    def _outcome(self, t: Transfer, exc: BaseException | None) -> None:
        run = self.runs[t.actor]
        if exc is None:
            if t.action is not Action.KEEP_BOTH:
                if t.change.kind is FileKind.IMAGE:  # (what S3 now holds, for records)
                    run.done.add(t.change.index)
                run.summary.transferred += 1
                run.summary.bytes += t.size
            self.progress(ProgressEvent(ProgressKind.FILE, t.actor, t.key, ok=True))
            return
        if isinstance(exc, Cancelled):
            run.summary.cancelled = True
            self.progress(ProgressEvent(ProgressKind.FILE, t.actor, t.key, ok=False,
                                        error=str(exc)))
            return
        if isinstance(exc, PreconditionFailed):
            run.summary.conflicts.append(t.key)
        else:
            run.summary.error(t.key, describe(exc))
            note_environment(run.summary, exc, self.layout.data_dir)
            if is_disk_full(exc):
                self.disk_full = exc  # type: ignore[assignment]
        self.progress(ProgressEvent(ProgressKind.FILE, t.actor, t.key, ok=False,
                                    error=describe(exc)))


def _planned(t: Transfer) -> tuple[int, int] | None:
    """What the plan saw at the image's path (None: no local file)."""
    local = t.change.local
    return (local.size, local.mtime_ns) if local is not None else None
