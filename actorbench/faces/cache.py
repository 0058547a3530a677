"""Analyses kept by content: an unchanged file is never analysed twice, a changed one always.

One JSON file per actor (``data/actors/{actor}/.faces.json``): the analyses by MD5, and a stat
index (size, mtime_ns -> MD5, as git's index does) so a rescan reads no unchanged file.
A cache that cannot be read is ignored and rebuilt, never trusted in part.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_bytes
from .analyse import ANALYSIS_VERSION, ImageFaces, md5_of

CACHE_NAME = ".faces.json"


class FaceCache:
    """The analyses of one actor's pictures (training images and base image)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.analyses: dict[str, ImageFaces] = {}
        self.index: dict[str, tuple[int, int, str]] = {}
        self.dirty = False
        self._load()

    def _load(self) -> None:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            raw = json.loads(self.path.read_bytes())
            if raw.get("v") != ANALYSIS_VERSION:
                return
            analyses = {k: ImageFaces.from_json(v) for k, v in raw["analyses"].items()}
            index = {k: (int(v[0]), int(v[1]), str(v[2])) for k, v in raw["index"].items()}
            self.analyses, self.index = analyses, index

    def lookup(self, file: Path, name: str = "") -> tuple[str, ImageFaces | None]:
        """(MD5, cached analysis or None). Reads the file only when its stat changed.
        ``name``: the picture's name in the set when the file is a cached copy."""
        name = name or file.name
        st = file.stat()
        known = self.index.get(name)
        if known and known[:2] == (st.st_size, st.st_mtime_ns) and known[2] in self.analyses:
            return known[2], self.analyses[known[2]]
        md5 = md5_of(file.read_bytes())
        if md5 in self.analyses:
            self.index[name] = (st.st_size, st.st_mtime_ns, md5)
            self.dirty = True
        return md5, self.analyses.get(md5)

    def put(self, file: Path, result: ImageFaces, name: str = "") -> None:
        with contextlib.suppress(FileNotFoundError):
            st = file.stat()
            self.index[name or file.name] = (st.st_size, st.st_mtime_ns, result.md5)
        self.analyses[result.md5] = result
        self.dirty = True

    def prune(self, keep: set[str]) -> None:
        """Forget files no longer there (by name) and analyses nothing points at."""
        for name in set(self.index) - keep:
            del self.index[name]
            self.dirty = True
        used = {v[2] for v in self.index.values()}
        for md5 in set(self.analyses) - used:
            del self.analyses[md5]
            self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        body: dict[str, Any] = {
            "v": ANALYSIS_VERSION,
            "index": {k: list(v) for k, v in sorted(self.index.items())},
            "analyses": {k: v.to_json() for k, v in sorted(self.analyses.items())}}
        # a cache: always made again, so no fsync (durable=False)
        atomic_write_bytes(self.path, json.dumps(body, separators=(",", ":")).encode(),
                           durable=False)
        self.dirty = False


def cache_path(actor_dir: Path) -> Path:
    return actor_dir / CACHE_NAME


def cpu_workers(default: int = 2) -> int:
    return max(1, min(default, os.cpu_count() or 1))
