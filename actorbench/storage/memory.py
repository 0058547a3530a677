"""An ``ObjectStore`` in memory, honouring the same contract as S3 (conditions, Content-MD5).

For tests and for trying the engine without a server; it runs through the same contract suite
as the boto3 and lean stores (``tests/test_sync_contract.py``).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import PreconditionFailed, StoreError
from ..fsutil import open_regular
from .base import ObjectInfo, StoreDefaults
from .hashing import strip_etag
from .urls import check_key


class MemoryStore(StoreDefaults):
    """One bucket held in a dict: ``{key: (bytes, etag, last_modified)}``."""

    def __init__(self, bucket: str = "memory") -> None:
        self.bucket = bucket
        self._objects: dict[str, tuple[bytes, str, datetime]] = {}
        self._lock = threading.Lock()

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        with self._lock:
            keys = sorted(k for k in self._objects if k.startswith(prefix)
                          and (start_after is None or k > start_after))
            infos = [self._info(k) for k in keys]
        yield from infos

    def _info(self, key: str) -> ObjectInfo:
        data, etag, when = self._objects[key]
        return ObjectInfo(key, len(data), etag, when)

    def head(self, key: str) -> ObjectInfo | None:
        check_key(key)
        with self._lock:
            return self._info(key) if key in self._objects else None

    def open_get(self, key: str, if_match: str | None = None) -> tuple[Any, ObjectInfo]:
        check_key(key)
        with self._lock:
            if key not in self._objects:
                raise StoreError(f"s3://{self.bucket}/{key} does not exist.", permanent=True)
            info = self._info(key)
            data = self._objects[key][0]
        if if_match and strip_etag(if_match) != info.etag:
            raise PreconditionFailed(f"s3://{self.bucket}/{key} changed since it was listed.")
        return io.BytesIO(data), info

    def put_file(self, key: str, path: Path, md5_hex: str, if_match: str | None = None,
                 if_none_match: bool = False) -> str:
        with open_regular(path) as fh:  # a symlink is never uploaded
            data = fh.read()
        return self._put(key, data, md5_hex, if_match, if_none_match)

    def put_bytes(self, key: str, data: bytes, content_type: str = "image/png") -> str:
        return self._put(key, data, hashlib.md5(data, usedforsecurity=False).hexdigest())

    def put_bytes_if(self, key: str, data: bytes, if_match: str | None = None,
                     if_none_match: bool = False,
                     content_type: str = "application/json") -> str:
        return self._put(key, data, hashlib.md5(data, usedforsecurity=False).hexdigest(),
                         if_match, if_none_match)

    def get_bytes(self, key: str) -> tuple[bytes, str] | None:
        check_key(key)
        with self._lock:
            found = self._objects.get(key)
        return (found[0], found[1]) if found else None

    def _put(self, key: str, data: bytes, md5_hex: str, if_match: str | None = None,
             if_none_match: bool = False) -> str:
        check_key(key)
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if etag != md5_hex:
            raise StoreError(f"s3://{self.bucket}/{key}: BadDigest (the body does not match "
                             "its Content-MD5).", permanent=True)
        with self._lock:
            current = self._objects.get(key)
            if if_none_match and current is not None:
                raise PreconditionFailed(f"s3://{self.bucket}/{key} already exists.")
            if if_match and (current is None or current[1] != strip_etag(if_match)):
                raise PreconditionFailed(f"s3://{self.bucket}/{key} changed since it was read.")
            self._objects[key] = (data, etag, datetime.now(UTC))
        return etag

    def delete(self, key: str) -> None:
        check_key(key)
        with self._lock:
            self._objects.pop(key, None)

    def ensure_bucket(self) -> None:
        """A memory store's bucket always exists."""

    def presign_get(self, key: str, expires: int = 3600) -> str:
        check_key(key)
        return f"memory://{self.bucket}/{key}"
