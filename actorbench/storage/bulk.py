"""Many GETs over many keep-alive connections from one thread: the library-scale pull.

A thread per connection costs ~2.8 ms of CPU per small file on this class of machine (GIL
hand-offs and context switches between dozens of threads, measured with perf), which made a
287-actor pull CPU-bound at twice s5cmd's time. Here one asyncio loop drives all connections
through aiohttp (its HTTP parser is C; nothing is parsed by hand): latency is hidden by
concurrency without paying for threads. TLS, ``AWS_CA_BUNDLE`` and the proxy are the lean
store's (``net``); requests are signed by ``sigv4``.

Only the happy path lives here: a 200 whose body has the advertised size and matches its ETag
lands in a temp file and is reported as ``Got``. Anything else (an error status, a dropped
connection, a short or corrupt body, a timeout, chunked encoding) is reported as ``Failed``
and the caller retries it on the ordinary path (``sync.transfer.download``), which owns
retries, back-off, 412 handling and error messages. ``Failed.requests`` says how many requests
this path spent, so the object's total stays within ``retry.MAX_ATTEMPTS``. Nothing here
renames into a final path.

One piece (~370 lines) on purpose: the getter, its event loop's jobs and the off-loop file
writes share one connection pool and one cancellation; the pure helpers are at the bottom.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import aiohttp
from yarl import URL

from ..fsutil import open_temp_for
from .hashing import is_multipart_etag, strip_etag, valid_etag
from .loopthread import LoopThread
from .retry import retry_after
from .sigv4 import Signer

CHUNK = 256 * 1024
SMALL = 1024 * 1024  # bodies up to this size are read whole, then written off the loop
FILE_THREADS = 4
MAX_ERROR_BODY = 64 * 1024  # an error answer up to this size is read, keeping the connection
#: idle connections are kept this long (S3 closes them after ~20 s)
KEEPALIVE_S = 15.0


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
    """Nothing was kept; ``moved`` bytes were reported through ``on_bytes`` (take them back).

    ``requests`` it may have cost (0: none left this machine); ``retry_after`` is the
    server's ``Retry-After`` in seconds, if it gave one."""

    job: GetJob
    reason: str
    moved: int
    cancelled: bool = False
    requests: int = 1
    retry_after: float | None = None


@dataclass(frozen=True)
class _Target:
    """Where GETs go; replaced whole when the store learns the bucket's region."""

    scheme: str
    host: str
    base_path: str
    signer: Signer
    proxy: URL | None
    proxy_auth: aiohttp.BasicAuth | None


class BulkGetter:
    """One event loop thread and an aiohttp session (up to ``connections`` keep-alive
    connections), kept between runs.

    Usage::

        getter = BulkGetter("http", "127.0.0.1:9000", "/bucket", signer, connections=128)
        getter.warm(20)                       # connect while the caller lists and plans
        done = getter.start(jobs, on_result)  # a concurrent.futures.Future
        done.result()
    """

    def __init__(self, scheme: str, host: str, base_path: str, signer: Signer,
                 connections: int = 128, connect_timeout: float = 5.0,
                 read_timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None,
                 proxy: str | None = None) -> None:
        self.connections = max(1, connections)
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self._ssl = ssl_context if ssl_context is not None else (
            ssl.create_default_context() if scheme == "https" else None)
        self.retarget(scheme, host, base_path, signer, proxy)
        self._warmed = (0, 0.0)  # (connections, when): no new warm-up while they are alive
        self._thread = LoopThread("actorbench-bulk")
        self._lock = threading.Lock()
        self._files: ThreadPoolExecutor | None = None

    def retarget(self, scheme: str, host: str, base_path: str, signer: Signer,
                 proxy: str | None = None) -> None:
        """Send later GETs to ``scheme://host/base_path``, signed by ``signer``."""
        auth = None
        if proxy:
            parts = urlsplit(proxy)
            if parts.username:
                auth = aiohttp.BasicAuth(unquote(parts.username), unquote(parts.password or ""))
                proxy = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        self._target = _Target(scheme, host, base_path, signer, URL(proxy) if proxy else None,
                               auth)

    @property
    def host(self) -> str:
        return self._target.host

    def __repr__(self) -> str:
        t = self._target
        return f"BulkGetter({t.scheme}://{t.host}, connections={self.connections})"

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        return self._thread.loop()

    def _session(self) -> aiohttp.ClientSession:
        """The session, made on the loop thread on first use."""
        state = self._thread
        if state.client is None or state.client.closed:
            connector = aiohttp.TCPConnector(limit=self.connections, limit_per_host=0,
                                             ssl=self._ssl if self._ssl is not None else True,
                                             keepalive_timeout=KEEPALIVE_S, ttl_dns_cache=300)
            state.client = aiohttp.ClientSession(
                connector=connector, auto_decompress=False,
                skip_auto_headers=("Accept-Encoding",), cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout,
                                              sock_read=self.read_timeout))
        return state.client

    def warm(self, n: int) -> None:
        """Start opening up to ``n`` connections in the background (never blocks): a HEAD on
        the bucket each, which leaves an open connection in the pool."""
        n = min(n, self.connections)
        had, when = self._warmed
        if n <= had and time.monotonic() - when < KEEPALIVE_S / 2:
            return
        self._warmed = (n, time.monotonic())
        asyncio.run_coroutine_threadsafe(self._warm(n), self._get_loop())

    async def _warm(self, n: int) -> None:
        session = self._session()
        t = self._target
        path = t.base_path or "/"
        headers = t.signer.sign("HEAD", t.host, path, {}, {})
        headers["Host"] = t.host

        async def one() -> None:
            with contextlib.suppress(Exception):  # the real request will connect and report
                async with session.head(_url(t, path), headers=headers, proxy=t.proxy,
                                        proxy_auth=t.proxy_auth,
                                        allow_redirects=False) as resp:
                    await resp.read()

        await asyncio.gather(*(one() for _ in range(n)))

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
        """Close the connections, stop the loop thread and the file threads."""
        with self._lock:
            files, self._files = self._files, None
        if files is not None:
            files.shutdown(wait=False)
        self._thread.stop()

    async def _main(self, jobs: list[GetJob], on_result: Callable[[Got | Failed], None],
                    on_bytes: Callable[[GetJob, int], None] | None,
                    cancel: threading.Event | None) -> None:
        queue: deque[GetJob] = deque(jobs)
        session = self._session()
        workers = [self._worker(session, queue, on_result, on_bytes, cancel)
                   for _ in range(min(self.connections, len(jobs)))]
        await asyncio.gather(*workers)

    async def _worker(self, session: aiohttp.ClientSession, queue: deque[GetJob],
                      on_result: Callable[[Got | Failed], None],
                      on_bytes: Callable[[GetJob, int], None] | None,
                      cancel: threading.Event | None) -> None:
        while queue:
            job = queue.popleft()
            if cancel is not None and cancel.is_set():
                on_result(Failed(job, "cancelled", 0, cancelled=True, requests=0))
                continue
            on_result(await self._one(session, job, on_bytes, cancel))

    async def _one(self, session: aiohttp.ClientSession, job: GetJob,
                   on_bytes: Callable[[GetJob, int], None] | None,
                   cancel: threading.Event | None) -> Got | Failed:
        """One job: a Got, or a Failed that says how many bytes and requests it cost."""
        moved = [0]

        def count(n: int) -> None:
            moved[0] += n
            if on_bytes:
                on_bytes(job, n)

        try:
            result = await self._get(session, job, count, cancel)
        except Exception as exc:  # any failure: the caller's ordinary path
            return Failed(job, _reason(exc), moved[0], requests=_requests_spent(exc))
        if isinstance(result, Failed):  # take back whatever was counted
            result = replace(result, moved=moved[0])
        return result

    async def _get(self, session: aiohttp.ClientSession, job: GetJob,
                   count: Callable[[int], None], cancel: threading.Event | None
                   ) -> Got | Failed:
        t = self._target
        path = f"{t.base_path}/{job.key}"
        want = strip_etag(job.etag)
        if want and not valid_etag(want):  # a listing's ETag never goes raw into a header
            return Failed(job, "the listing's ETag is not a hex digest", 0, requests=0)
        headers = t.signer.sign("GET", t.host, path, {}, {"If-Match": f'"{want}"'} if want
                                else {})
        headers["Host"] = t.host  # as signed (aiohttp would add a default port)
        async with session.get(_url(t, path), headers=headers, proxy=t.proxy,
                               proxy_auth=t.proxy_auth, allow_redirects=False) as resp:
            size = resp.content_length
            if resp.status != 200:
                if size is not None and size <= MAX_ERROR_BODY:
                    await resp.read()  # the connection stays usable
                return Failed(job, f"HTTP {resp.status}", 0,
                              retry_after=retry_after(resp.headers.get("Retry-After")))
            if size is None:
                return Failed(job, "no Content-Length (chunked or close-delimited)", 0)
            etag = strip_etag(resp.headers.get("ETag"))
            loop = asyncio.get_running_loop()
            if size <= SMALL:  # the body in memory, the file work on a file thread
                body = await resp.read()
                if len(body) != size:
                    return Failed(job, f"got {len(body)} of {size} bytes", 0)
                count(size)
                if cancel is not None and cancel.is_set():
                    return Failed(job, "cancelled", 0, cancelled=True)
                tmp, got, mtime_ns = await loop.run_in_executor(self._file_pool(), _store,
                                                                job.target, body)
            else:  # stream: create the file off the loop (inode allocation can be slow)
                tmp, fd = await loop.run_in_executor(self._file_pool(), open_temp_for,
                                                     job.target)
                with _owned(tmp, fd):
                    streamed = await self._stream(resp, fd, size, count, cancel,
                                                  self._file_pool())
                    mtime_ns = os.fstat(fd).st_mtime_ns
                if streamed is None:
                    _unlink(tmp)
                    return Failed(job, "cancelled", 0, cancelled=True)
                got = streamed
        if etag and not is_multipart_etag(etag) and got != etag:
            _unlink(tmp)
            return Failed(job, "content does not match its ETag", 0)
        return Got(job, tmp, got, etag or got, size, mtime_ns)

    @staticmethod
    async def _stream(resp: aiohttp.ClientResponse, fd: int, size: int,
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
            block = await resp.content.read(min(CHUNK, left))
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


def _requests_spent(exc: BaseException) -> int:
    """Requests a failed GET may have cost, by the failure's type: none if no connection was
    made; two if the connection dropped (aiohttp resends an idempotent request once on a
    dropped keep-alive connection); else one. The object's retry budget pays for them."""
    if isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        return 0
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        return 2
    return 1


def _url(t: _Target, path: str) -> URL:
    """The URL exactly as signed: the path percent-encoded once, never re-encoded."""
    return URL(f"{t.scheme}://{t.host}{quote(path, safe='/-_.~')}", encoded=True)


def _reason(exc: BaseException) -> str:
    """One short line: the type says what happened; server text is cut and flattened."""
    text = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _store(target: Path, body: bytes) -> tuple[Path, str, int]:
    """``body`` in a new temp file beside ``target``: the file, the MD5 and the mtime."""
    tmp, fd = open_temp_for(target)
    with _owned(tmp, fd):
        _write_all(fd, body)
        mtime_ns = os.fstat(fd).st_mtime_ns
    return tmp, hashlib.md5(body, usedforsecurity=False).hexdigest(), mtime_ns


@contextlib.contextmanager
def _owned(tmp: Path, fd: int) -> Iterator[None]:
    """Writing a new temp file: ``fd`` is closed in any case, and the file removed if the
    writing fails (nothing half-written stays behind)."""
    try:
        yield
    except BaseException:
        _unlink(tmp)
        raise
    finally:
        os.close(fd)


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
