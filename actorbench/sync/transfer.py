"""Move one file, verified, with retries: nothing partial ever sits at a final path."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import Cancelled, PreconditionFailed, StoreError
from ..fsutil import temp_path_for
from ..storage.base import ObjectStore, read_body
from ..storage.hashing import is_multipart_etag, strip_etag
from ..storage.retry import DEFAULT, MAX_ATTEMPTS, caller_retries, is_transient

ATTEMPTS = MAX_ATTEMPTS  # per object, bulk attempt included (``storage.retry``)


class Truncated(StoreError):
    """The body ended early or its hash did not match the ETag."""


@dataclass(frozen=True)
class Fetched:
    """Verified bytes in ``tmp`` beside the target; the committer makes them durable and
    renames them (``sync.apply``): nothing here touches the final path."""

    tmp: Path
    md5: str
    etag: str
    size: int
    mtime_ns: int


def _wait(exc: BaseException, attempt: int) -> float:
    """The server's ``Retry-After`` if the error carries one, else full jitter."""
    return DEFAULT.delay(attempt, getattr(exc, "retry_after", None))


def download(store: ObjectStore, key: str, target: Path, etag: str,
             on_bytes: Callable[[int], None], cancel: threading.Event | None = None,
             attempts: int = ATTEMPTS, wait_first: float | None = None) -> Fetched:
    """GET ``key`` pinned to ``etag`` into a temp file beside ``target`` and verify it.

    Returns the verified temp file; the caller commits it (one path for every download). If
    the object changed since it was listed (412), the new version is fetched instead (the
    caller decided to take the remote side) and its ETag is returned. At most ``attempts``
    GETs (the bulk getter's failed one is not counted here: the caller passes what is left),
    each a single request (``retry.caller_retries``); ``wait_first`` seconds before the first.
    """
    want = strip_etag(etag)
    last: BaseException | None = None
    if wait_first:
        time.sleep(DEFAULT.delay(0, wait_first))
    for attempt in range(max(1, attempts)):
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        tmp = temp_path_for(target)
        moved = 0
        kept = False

        def count(n: int) -> None:
            nonlocal moved
            moved += n
            on_bytes(n)

        try:
            with caller_retries():
                body, info = store.open_get(key, if_match=want)
            with open(tmp, "wb") as fh:
                md5 = read_body(body, fh, count, cancel.is_set if cancel else None)
                fh.flush()
                # durable now, as the careful path should be (the bulk path's temp files are
                # made durable by the committer's syncfs instead): a full disk that allocates
                # late reports here, on this file, not on the batch
                os.fsync(fh.fileno())
                size = fh.tell()
                mtime_ns = os.fstat(fh.fileno()).st_mtime_ns  # a rename keeps it
            if size != info.size:
                raise Truncated(f"s3://{store.bucket}/{key}: got {size} of {info.size} bytes.")
            if not is_multipart_etag(info.etag) and info.etag and md5 != info.etag:
                raise Truncated(f"s3://{store.bucket}/{key}: content does not match its ETag.")
            kept = True
            return Fetched(tmp, md5, info.etag or md5, size, mtime_ns)
        except PreconditionFailed:
            on_bytes(-moved)
            with caller_retries():
                head = store.head(key)
            if head is None:
                raise StoreError(f"s3://{store.bucket}/{key} was deleted during the sync.",
                                 permanent=True) from None
            want = head.etag
            last = None
        except BaseException as exc:
            on_bytes(-moved)
            if not is_transient(exc) or attempt >= attempts - 1:
                raise
            last = exc
            time.sleep(_wait(exc, attempt))
        finally:
            if not kept:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
    raise StoreError(f"s3://{store.bucket}/{key}: gave up after {attempts} attempts ({last}).")


def upload(store: ObjectStore, key: str, path: Path, md5: str, expect_etag: str | None,
           on_bytes: Callable[[int], None], cancel: threading.Event | None = None) -> str:
    """PUT with Content-MD5, conditioned on the remote still being ``expect_etag`` (or absent).

    Servers that ignore If-Match/If-None-Match are covered by a HEAD re-check just before.
    Raises ``PreconditionFailed`` when someone else changed the object: never overwrite it.
    At most ``ATTEMPTS`` HEAD + PUT pairs, each a single request (``retry.caller_retries``).
    """
    size = path.stat().st_size
    for attempt in range(ATTEMPTS):
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        try:
            with caller_retries():
                head = store.head(key)
                current = head.etag if head else None
                if current == md5:
                    return md5  # already there (e.g. a retry after a lost response)
                if current != (strip_etag(expect_etag) if expect_etag else None):
                    raise PreconditionFailed(
                        f"s3://{store.bucket}/{key} changed in S3 since the last sync; "
                        "not overwriting it.")
                etag = store.put_file(key, path, md5, if_match=expect_etag,
                                      if_none_match=expect_etag is None)
            if etag and not is_multipart_etag(etag) and etag != md5:
                raise Truncated(f"s3://{store.bucket}/{key}: the server stored different bytes.")
            on_bytes(size)
            return etag or md5
        except BaseException as exc:
            if not is_transient(exc) or attempt == ATTEMPTS - 1:
                raise
            time.sleep(_wait(exc, attempt))
    raise AssertionError("unreachable")
