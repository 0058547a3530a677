"""The object-store port: what sync needs from S3, free of boto3 so the CLI starts fast."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

ByteCallback = Callable[[int], None]


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    last_modified: datetime | None = None


class ObjectStore(Protocol):
    bucket: str

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]: ...
    def head(self, key: str) -> ObjectInfo | None: ...
    def open_get(self, key: str, if_match: str | None = None) -> tuple[Any, ObjectInfo]: ...
    def put_file(self, key: str, path: Path, md5_hex: str, if_match: str | None = None,
                 if_none_match: bool = False) -> str: ...
    def delete(self, key: str) -> None: ...
    def presign_get(self, key: str, expires: int = 3600) -> str: ...


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
