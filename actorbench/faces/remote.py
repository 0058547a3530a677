"""Pictures only in S3, analysed too: fetched into a cache keyed by ETag (never into
``training_data/``, never counted as synced), so every picture has its finding before anyone
decides to download it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from ..fsutil import atomic_write_bytes
from ..storage.base import ObjectStore
from ..storage.layout import Layout
from ..sync.plan import Change

MAX_BYTES = 50 * 1024 * 1024  # a training image larger than this is not fetched for a look
_SAFE_ETAG = re.compile(r"[^0-9A-Za-z_-]")


def remote_cache_dir(layout: Layout) -> Path:
    return layout.data_dir / ".cache" / "faces-s3"


def fetch_s3_only(layout: Layout, store: ObjectStore, changes: Iterable[Change]
                  ) -> dict[str, Path]:
    """{file name: cached copy} of the images in S3 without a local copy. A copy is fetched
    once per ETag; an object whose ETag changed since the listing is left for the next look."""
    folder = remote_cache_dir(layout)
    out: dict[str, Path] = {}
    for c in changes:
        if c.remote is None or c.local is not None or c.remote.size > MAX_BYTES:
            continue
        etag = _SAFE_ETAG.sub("", c.remote.etag)
        if not etag:
            continue
        path = folder / f"{etag}.img"
        if not path.is_file():
            got = store.get_bytes(c.key)
            if got is None or _SAFE_ETAG.sub("", got[1]) != etag or len(got[0]) > MAX_BYTES:
                continue  # gone or changed since the listing
            atomic_write_bytes(path, got[0], durable=False)
        out[c.key.rsplit("/", 1)[-1]] = path
    return out
