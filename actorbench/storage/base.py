"""The object-store port: what sync needs from S3, free of boto3 so the CLI starts fast."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

ByteCallback = Callable[[int], None]


def content_type_of(key: str) -> str:
    """What an uploaded training file is: a caption (``.txt``) or an image."""
    return "text/plain; charset=utf-8" if key.endswith(".txt") else "image/png"


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    last_modified: datetime | None = None


class BulkGetter(Protocol):
    """Many plain GETs at once into verified temp files (``storage.bulk.BulkGetter``)."""

    def warm(self, n: int) -> None: ...
    def start(self, jobs: Any, on_result: Callable[[Any], None],
              on_bytes: Callable[[Any, int], None] | None = None,
              cancel: Any = None) -> Future[None]: ...


class ObjectStore(Protocol):
    """What sync needs from S3. Capabilities a store may lack have a do-nothing default in
    :class:`StoreDefaults`, so the engine never asks with ``getattr``."""

    bucket: str

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]: ...
    def head(self, key: str) -> ObjectInfo | None: ...
    def open_get(self, key: str, if_match: str | None = None) -> tuple[Any, ObjectInfo]: ...
    def put_file(self, key: str, path: Path, md5_hex: str, if_match: str | None = None,
                 if_none_match: bool = False) -> str: ...
    def put_bytes(self, key: str, data: bytes, content_type: str = "image/png") -> str: ...
    def put_bytes_if(self, key: str, data: bytes, if_match: str | None = None,
                     if_none_match: bool = False,
                     content_type: str = "application/json") -> str: ...
    def get_bytes(self, key: str) -> tuple[bytes, str] | None: ...
    def delete(self, key: str) -> None: ...
    def presign_get(self, key: str, expires: int = 3600) -> str: ...
    def ensure_bucket(self) -> None: ...
    def warm(self, n: int) -> None: ...
    def bulk_getter(self) -> BulkGetter | None: ...


class StoreDefaults:
    """The optional capabilities of :class:`ObjectStore`, doing nothing."""

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (the demo and tests; never on AWS here)."""
        raise NotImplementedError(f"{type(self).__name__} cannot create buckets")

    def warm(self, n: int) -> None:
        """Open ``n`` connections ahead of a sync (a store without a pool has none to open)."""

    def bulk_getter(self) -> BulkGetter | None:
        """The many-GETs path for big pulls; None: every download takes the ordinary path."""
        return None

    def get_bytes(self, key: str) -> tuple[bytes, str] | None:
        """A small object's bytes and ETag; None when there is no such object."""
        store = cast(ObjectStore, self)
        if store.head(key) is None:
            return None
        body, info = store.open_get(key)
        try:
            data = body.read()
        finally:
            body.close()
        return data, info.etag

    def put_bytes_if(self, key: str, data: bytes, if_match: str | None = None,
                     if_none_match: bool = False,
                     content_type: str = "application/json") -> str:
        """Write only over ETag ``if_match`` (or, with ``if_none_match``, only where there is
        no object); ``PreconditionFailed`` otherwise. Returns the new ETag. This default goes
        through ``put_file``'s conditions by way of a temp file."""
        import os
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=".abtmp-put-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
            return cast(ObjectStore, self).put_file(key, Path(tmp), md5, if_match,
                                                    if_none_match)
        finally:
            os.unlink(tmp)


def read_body(body: Any, out: BinaryIO, on_bytes: ByteCallback | None, should_stop:
              Callable[[], bool] | None = None, chunk: int = 256 * 1024) -> str:
    """Copy a streaming body to ``out``; returns the MD5 of what was read."""
    h = hashlib.md5(usedforsecurity=False)
    try:
        while True:
            if should_stop and should_stop():
                from ..errors import Cancelled
                raise Cancelled()
            block = body.read(chunk)
            if not block:
                break
            out.write(block)
            h.update(block)
            if on_bytes:
                on_bytes(len(block))
    finally:
        body.close()
    return h.hexdigest()
