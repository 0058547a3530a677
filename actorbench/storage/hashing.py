"""Content hashes comparable with S3 ETags, cached by (size, mtime_ns)."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_json, open_regular

CHUNK = 1024 * 1024
DEFAULT_PART = 8 * 1024 * 1024


def strip_etag(etag: str | None) -> str:
    return (etag or "").strip().strip('"').lower()


#: what an S3 ETag looks like once unquoted: an MD5 (or other hex digest), "-N" for multipart
_ETAG = re.compile(r"[0-9a-f]{16,64}(-[0-9]{1,5})?")


def valid_etag(etag: str | None) -> bool:
    """A server's ETag is only ever sent back (If-Match) once it has passed this check."""
    return bool(etag) and _ETAG.fullmatch(strip_etag(etag)) is not None


def is_multipart_etag(etag: str) -> bool:
    return "-" in strip_etag(etag)


def md5_file(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open_regular(path) as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def multipart_etag(path: Path, part_size: int) -> str:
    """``md5(concat(md5(part_i))) + "-N"``, as S3 computes it for a multipart upload."""
    digests = []
    with open_regular(path) as fh:
        while True:
            part = fh.read(part_size)
            if not part:
                break
            digests.append(hashlib.md5(part, usedforsecurity=False).digest())
    if not digests:
        digests.append(hashlib.md5(b"", usedforsecurity=False).digest())
    return f"{hashlib.md5(b''.join(digests), usedforsecurity=False).hexdigest()}-{len(digests)}"


def part_size_candidates(size: int, parts: int) -> list[int]:
    """Part sizes that give ``parts`` parts for ``size`` bytes: the default, then whole MiB."""
    mib = 1024 * 1024
    out = [DEFAULT_PART]
    if parts > 0:
        low = -(-size // parts)
        for cand in range(-(-low // mib) * mib, low * 2 + mib, mib):
            if -(-size // cand) == parts:
                out.append(cand)
                break
    return [c for c in dict.fromkeys(out) if -(-size // c) == parts]


class HashCache:
    """Per-actor cache of local MD5s (and image checks) keyed by file name, valid while size
    and mtime_ns hold."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._dirty = False
        self._data: dict[str, dict[str, Any]] = {}
        try:
            import json
            raw = json.loads(path.read_text())
            if isinstance(raw, dict):
                self._data = {k: v for k, v in raw.items() if isinstance(v, dict)}
        except (ValueError, OSError, RecursionError):  # unreadable: only slower, hash again
            self._data = {}

    def md5(self, path: Path, st: os.stat_result | None = None) -> str:
        st = st or path.stat()
        with self._lock:
            hit = self._fresh(path.name, st.st_size, st.st_mtime_ns)
            if hit and "md5" in hit:
                return str(hit["md5"])
        digest = md5_file(path)
        self.remember(path.name, st.st_size, st.st_mtime_ns, digest)
        return digest

    def checked(self, path: Path, size: int, mtime_ns: int, check: Callable[[Path], str]) -> str:
        """``check(path)`` ("" when the file is fine, else why not), cached like the MD5."""
        with self._lock:
            hit = self._fresh(path.name, size, mtime_ns)
            if hit and isinstance(hit.get("check"), str):
                return str(hit["check"])
        problem = check(path)
        with self._lock:
            entry = self._fresh(path.name, size, mtime_ns) or {"size": size, "mtime_ns": mtime_ns}
            self._data[path.name] = {**entry, "check": problem}
            self._dirty = True
        return problem

    def _fresh(self, name: str, size: int, mtime_ns: int) -> dict[str, Any] | None:
        hit = self._data.get(name)
        if hit and hit.get("size") == size and hit.get("mtime_ns") == mtime_ns:
            return hit
        return None

    def remember(self, name: str, size: int, mtime_ns: int, md5: str) -> None:
        with self._lock:
            kept = self._fresh(name, size, mtime_ns) or {}  # the same bytes: keep their check
            self._data[name] = {**kept, "size": size, "mtime_ns": mtime_ns, "md5": md5}
            self._dirty = True

    def etag_matches(self, path: Path, etag: str, st: os.stat_result | None = None) -> bool:
        """Does the local file have the content S3 describes with ``etag``?"""
        etag = strip_etag(etag)
        st = st or path.stat()
        if not is_multipart_etag(etag):
            return self.md5(path, st) == etag
        parts = int(etag.rsplit("-", 1)[1])
        return any(multipart_etag(path, ps) == etag
                   for ps in part_size_candidates(st.st_size, parts))

    def save(self, write: Callable[[Path, Any], None] = atomic_write_json) -> None:
        with self._lock:
            if not self._dirty:
                return
            data = dict(self._data)
            self._dirty = False
        try:
            write(self.path, data)
        except OSError:
            pass  # a cache that cannot be written is only slower next time
