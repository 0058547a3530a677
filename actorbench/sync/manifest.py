"""The record of the last successful sync, per image: size, mtime_ns, MD5, ETag."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_json


@dataclass(frozen=True)
class ManifestEntry:
    size: int
    mtime_ns: int
    md5: str
    etag: str


@dataclass
class Manifest:
    path: Path
    entries: dict[int, ManifestEntry] = field(default_factory=dict)
    last_sync: str | None = None
    captions: dict[int, ManifestEntry] = field(default_factory=dict)  # by image index

    def of(self, kind: str) -> dict[int, ManifestEntry]:
        """The entries of images (``"image"``) or of captions (``"caption"``)."""
        return self.captions if kind == "caption" else self.entries

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """A missing or unreadable manifest means 'no baseline': hashes decide, nothing is lost."""
        try:
            raw = json.loads(path.read_text())
            def read(section: str) -> dict[int, ManifestEntry]:
                return {int(k): ManifestEntry(int(v["size"]), int(v["mtime_ns"]),
                                              str(v["md5"]), str(v["etag"]))
                        for k, v in raw.get(section, {}).items()}

            return cls(path, read("images"), raw.get("last_sync"), read("captions"))
        except (ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError):
            return cls(path)

    def save(self, write: Callable[[Path, Any], None] = atomic_write_json) -> None:
        """Write atomically; pass ``AtomicBatch().add_json`` to join a batch."""
        write(self.path, {
            "version": 1,
            "last_sync": self.last_sync,
            "images": {str(k): asdict(v) for k, v in sorted(self.entries.items())},
            **({"captions": {str(k): asdict(v) for k, v in sorted(self.captions.items())}}
               if self.captions else {}),
        })
