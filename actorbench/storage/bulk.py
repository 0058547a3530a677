"""Many GETs over many keep-alive connections from one thread: the library-scale pull.

A thread per connection costs ~2.8 ms of CPU per small file on this class of machine (GIL
hand-offs and context switches between dozens of threads, measured with perf), which made a
287-actor pull CPU-bound at twice s5cmd's time. Here one asyncio loop drives all connections:
latency is hidden by concurrency without paying for threads.

Only the happy path lives here: a 200 whose body has the advertised size and matches its ETag
lands in a temp file and is reported as ``Got``. Anything else (an error status, a dropped
connection, a short or corrupt body, a timeout, chunked encoding) is reported as ``Failed``
and the caller retries it on the ordinary path (``sync.transfer.download``), which owns
retries, back-off, 412 handling and error messages. Nothing here renames into a final path.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import ssl
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..fsutil import open_temp_for
from .hashing import is_multipart_etag, strip_etag
from .sigv4 import Signer

CHUNK = 256 * 1024
SMALL = 1024 * 1024  # bodies up to this size are read whole, then written off the loop
FILE_THREADS = 4
MAX_HEADER = 64 * 1024


@dataclass(frozen=True)
class GetJob:
    """Fetch ``key`` (pinned to ``etag`` with If-Match) for ``target``; ``tag`` is the caller's."""

    key: str
    etag: str
    target: Path
    tag: object = None


@dataclass(frozen=True)
class Got:
    """Verified bytes in ``tmp`` (beside ``job.target``); the caller renames it."""

    job: GetJob
    tmp: Path
    md5: str
    etag: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Failed:
    """Nothing was kept; ``moved`` bytes were reported through ``on_bytes`` (take them back)."""

    job: GetJob
    reason: str
    moved: int
    cancelled: bool = False


class _Broken(Exception):
    """This connection cannot be reused."""


Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class BulkGetter:
    """One event loop thread and a set of keep-alive connections, kept between runs.

    Usage::

        getter = BulkGetter("http", "127.0.0.1:9000", "/bucket", signer, connections=128)
        getter.warm(20)                       # connect while the caller lists and plans
        done = getter.start(jobs, on_result)  # a concurrent.futures.Future
        done.result()
    """

    def __init__(self, scheme: str, host: str, base_path: str, signer: Signer,
                 connections: int = 128, connect_timeout: float = 5.0,
                 read_timeout: float = 30.0) -> None:
        self.scheme, self.host, self.base_path, self.signer = scheme, host, base_path, signer
        self.connections = max(1, connections)
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        name, sep, port = host.rpartition(":")
        self._hostname = name if sep and port.isdigit() else host
        self._port = int(port) if sep and port.isdigit() else (
            443 if scheme == "https" else 80)
        self._ssl = ssl.create_default_context() if scheme == "https" else None
        self._idle: list[Conn] = []  # touched only on the loop thread
        self._connecting = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._files: ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        return f"BulkGetter({self.scheme}://{self.host}, connections={self.connections})"

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="actorbench-bulk",
                                 daemon=True).start()
                self._loop = loop
            return self._loop

    def warm(self, n: int) -> None:
        """Start opening up to ``n`` connections in the background (never blocks)."""
        loop = self._get_loop()
        loop.call_soon_threadsafe(self._warm, min(n, self.connections))

    def _warm(self, n: int) -> None:
        for _ in range(max(0, n - len(self._idle) - self._connecting)):
            self._connecting += 1
            asyncio.ensure_future(self._open_idle())

    async def _open_idle(self) -> None:
        try:
            conn = await self._connect()
        except (TimeoutError, OSError):
            return  # the real request will connect again and report
        finally:
            self._connecting -= 1
        self._park(conn)

    def _park(self, conn: Conn) -> None:
        if len(self._idle) < self.connections and not conn[1].is_closing():
            self._idle.append(conn)
        else:
            _close(conn[1])

    async def _connect(self) -> Conn:
        return await asyncio.wait_for(asyncio.open_connection(
            self._hostname, self._port, ssl=self._ssl, limit=CHUNK), self.connect_timeout)

    def start(self, jobs: Iterable[GetJob], on_result: Callable[[Got | Failed], None],
              on_bytes: Callable[[GetJob, int], None] | None = None,
              cancel: threading.Event | None = None) -> Future[None]:
        """Fetch every job; each gets exactly one ``on_result`` call, from the loop thread."""
        return asyncio.run_coroutine_threadsafe(
            self._main(list(jobs), on_result, on_bytes, cancel), self._get_loop())

    def run(self, jobs: Iterable[GetJob], on_result: Callable[[Got | Failed], None],
            on_bytes: Callable[[GetJob, int], None] | None = None,
            cancel: threading.Event | None = None) -> None:
        self.start(jobs, on_result, on_bytes, cancel).result()

    def close(self) -> None:
        """Close idle connections, stop the loop thread and the file threads."""
        with self._lock:
            loop, self._loop = self._loop, None
            files, self._files = self._files, None
        if files is not None:
            files.shutdown(wait=False)
        if loop is not None and not loop.is_closed():
            def stop() -> None:
                for conn in self._idle:
                    _close(conn[1])
                self._idle.clear()
                loop.stop()
            loop.call_soon_threadsafe(stop)

    async def _main(self, jobs: list[GetJob], on_result: Callable[[Got | Failed], None],
                    on_bytes: Callable[[GetJob, int], None] | None,
                    cancel: threading.Event | None) -> None:
        queue: deque[GetJob] = deque(jobs)
        workers = [self._worker(queue, on_result, on_bytes, cancel)
                   for _ in range(min(self.connections, len(jobs)))]
        await asyncio.gather(*workers)

    async def _worker(self, queue: deque[GetJob], on_result: Callable[[Got | Failed], None],
                      on_bytes: Callable[[GetJob, int], None] | None,
                      cancel: threading.Event | None) -> None:
        while queue:
            job = queue.popleft()
            if cancel is not None and cancel.is_set():
                on_result(Failed(job, "cancelled", 0, cancelled=True))
                continue
            on_result(await self._one(job, on_bytes, cancel))

    async def _one(self, job: GetJob, on_bytes: Callable[[GetJob, int], None] | None,
                   cancel: threading.Event | None) -> Got | Failed:
        """One job on an idle connection (a stale one is replaced once) or a new one."""
        moved = [0]

        def count(n: int) -> None:
            moved[0] += n
            if on_bytes:
                on_bytes(job, n)

        for attempt in (0, 1):
            reused = bool(self._idle) and attempt == 0
            conn = self._idle.pop() if reused else None
            try:
                if conn is None:
                    conn = await self._connect()
                result, keep = await asyncio.wait_for(self._get(conn, job, count, cancel),
                                                      self.read_timeout)
            except Exception as exc:  # noqa: BLE001 - any failure: the caller's ordinary path
                if conn is not None:
                    _close(conn[1])
                if reused and moved[0] == 0 and not isinstance(exc, TimeoutError):
                    continue  # the server closed an idle connection: once more on a new one
                return Failed(job, f"{type(exc).__name__}: {exc}".rstrip(": "), moved[0])
            if keep:
                self._park(conn)
            else:
                _close(conn[1])
            if isinstance(result, Failed):  # take back whatever was counted
                result = replace(result, moved=moved[0])
            return result
        raise AssertionError("unreachable")

    async def _get(self, conn: Conn, job: GetJob, count: Callable[[int], None],
                   cancel: threading.Event | None) -> tuple[Got | Failed, bool]:
        reader, writer = conn
        path = f"{self.base_path}/{job.key}"
        want = strip_etag(job.etag)
        signed = self.signer.sign("GET", self.host, path, {},
                                  {"If-Match": f'"{want}"'} if want else {})
        head = "".join(f"{k}: {v}\r\n" for k, v in signed.items())
        writer.write(f"GET {quote(path, safe='/-_.~')} HTTP/1.1\r\nHost: {self.host}\r\n"
                     f"{head}\r\n".encode())
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise _Broken(f"not an HTTP response: {lines[0][:60]!r}")
        status = int(parts[1])
        hdrs: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                hdrs[name.strip().lower()] = value.strip()
        if "content-length" not in hdrs or "transfer-encoding" in hdrs:
            raise _Broken("no Content-Length")  # chunked or close-delimited: the ordinary path
        size = int(hdrs["content-length"])
        keep = hdrs.get("connection", "").lower() != "close"
        if status != 200:
            if size <= MAX_HEADER:
                await reader.readexactly(size)
            else:
                keep = False
            return Failed(job, f"HTTP {status}", 0), keep
        etag = strip_etag(hdrs.get("etag"))
        loop = asyncio.get_running_loop()
        if size <= SMALL:  # the body in memory, the file work on a file thread
            body = await reader.readexactly(size)
            count(size)
            if cancel is not None and cancel.is_set():
                return Failed(job, "cancelled", 0, cancelled=True), keep
            tmp, got, mtime_ns = await loop.run_in_executor(self._file_pool(), _store,
                                                            job.target, body)
        else:  # stream: create the file off the loop (inode allocation can be slow), then write
            tmp, fd = await loop.run_in_executor(self._file_pool(), open_temp_for, job.target)
            try:
                got = await self._stream(reader, fd, size, count, cancel, self._file_pool())
                mtime_ns = os.fstat(fd).st_mtime_ns
            except BaseException:
                _unlink(tmp)
                raise
            finally:
                os.close(fd)
            if got is None:
                _unlink(tmp)
                return Failed(job, "cancelled", 0, cancelled=True), False
        if etag and not is_multipart_etag(etag) and got != etag:
            _unlink(tmp)
            return Failed(job, "content does not match its ETag", 0), keep
        return Got(job, tmp, got, etag or got, size, mtime_ns), keep

    @staticmethod
    async def _stream(reader: asyncio.StreamReader, fd: int, size: int,
                      count: Callable[[int], None], cancel: threading.Event | None,
                      files: ThreadPoolExecutor) -> str | None:
        """Body to ``fd`` in chunks; hashing and writing run on a file thread (both release
        the GIL), so big files hash on every core while the loop keeps reading."""
        loop = asyncio.get_running_loop()
        md5 = hashlib.md5(usedforsecurity=False)
        left = size
        while left:
            if cancel is not None and cancel.is_set():
                return None
            block = await reader.read(min(CHUNK, left))
            if not block:
                raise asyncio.IncompleteReadError(b"", left)
            await loop.run_in_executor(files, _write_and_hash, fd, block, md5)
            left -= len(block)
            count(len(block))
        return md5.hexdigest()

    def _file_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._files is None:
                self._files = ThreadPoolExecutor(FILE_THREADS,
                                                 thread_name_prefix="actorbench-files")
            return self._files


def _store(target: Path, body: bytes) -> tuple[Path, str, int]:
    """``body`` in a new temp file beside ``target``: the file, the MD5 and the mtime."""
    tmp, fd = open_temp_for(target)
    try:
        _write_all(fd, body)
        mtime_ns = os.fstat(fd).st_mtime_ns
    except BaseException:
        _unlink(tmp)
        raise
    finally:
        os.close(fd)
    return tmp, hashlib.md5(body, usedforsecurity=False).hexdigest(), mtime_ns


def _write_and_hash(fd: int, data: bytes, md5: Any) -> None:
    _write_all(fd, data)
    md5.update(data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()
