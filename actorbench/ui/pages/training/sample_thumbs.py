"""Thumbnails of a trained version's sample images, fetched from S3 through the store.

A sample is named in the version's record as ``s3://bucket/key``; the record is a file anyone
may have edited, so a URL of another bucket, or a key with ``..``, is refused by name and never
fetched. Thumbnails are kept on disk (``.cache/thumbs/samples``) and in memory: a worker
writes each sample once, under the version's own id, so a key names one image for good.

Usage::

    thumbs = SampleThumbs(wb.store, wb.layout.thumbs_dir())
    uri, note = thumbs.peek(url)      # (None, "") until make() fetched it (off the UI thread)
    thumbs.make([url])
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from actorbench.errors import ActorbenchError, UnsafePathError, describe_error
from actorbench.fsutil import atomic_write_bytes
from actorbench.storage.base import ObjectStore
from actorbench.storage.urls import check_key, split_s3_url
from actorbench.thumbs import BadImage, thumbnail_bytes
from actorbench.ui.widgets.common import data_uri

#: sample thumbnails: sharp at the preview's 128 CSS pixels, ~4 KB each as JPEG
SAMPLE_PX = 128
#: a sample image is a few hundred KB; anything far larger is not fetched for a thumbnail
MAX_SAMPLE_BYTES = 32 * 2**20


def sample_key(url: object, bucket: str, prefix: str = "") -> str:
    """The key of a sample in ``bucket`` under ``prefix`` (where trained LoRAs and their
    samples live), a PNG, or ``UnsafePathError`` saying why not: a RunPod answer or a
    teammate's ledger must not make the dashboard read the registry or another actor's data."""
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise UnsafePathError("The sample's URL is not an s3:// URL of the library's bucket.")
    got, key = split_s3_url(url)
    if got != bucket:
        raise UnsafePathError(f"The sample is in bucket {got[:63]!r}, not {bucket!r}.")
    key = check_key(key)
    if prefix and not key.startswith(prefix.rstrip("/") + "/"):
        raise UnsafePathError(f"The sample is not under {prefix.rstrip('/')}/.")
    if not key.lower().endswith(".png"):
        raise UnsafePathError("The sample is not a PNG image.")
    return key


class SampleThumbs:
    def __init__(self, store: ObjectStore, thumbs_dir: Path, px: int = SAMPLE_PX,
                 prefix: str = "") -> None:
        self.store, self.px, self.prefix = store, px, prefix
        self.cache_dir = thumbs_dir / "samples"
        self._memo: dict[str, tuple[str, str]] = {}  # url -> (data URI or "", why not)
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        tag = hashlib.sha1(f"{self.store.bucket}/{key}|{self.px}".encode()).hexdigest()
        return self.cache_dir / f"{tag}.jpg"

    def peek(self, url: object) -> tuple[str | None, str]:
        """``(data URI, "")``; ``("", why)`` for a sample that cannot be shown; ``(None, "")``
        until ``make`` has fetched it. No network: safe on the UI thread."""
        memo = self._memo.get(str(url))
        if memo is not None:
            return memo
        try:
            key = sample_key(url, self.store.bucket, self.prefix)
        except ActorbenchError as exc:
            return self._keep(str(url), "", describe_error(exc))
        try:
            data = self._path(key).read_bytes()
        except OSError:
            return None, ""
        return self._keep(str(url), data_uri(data), "")

    def make(self, urls: list[object]) -> bool:
        """Fetch and shrink what ``peek`` could not give yet (blocking: S3); True if any
        sample can now show more."""
        made = False
        for url in urls:
            if self.peek(url)[0] is not None:
                continue
            key = sample_key(url, self.store.bucket, self.prefix)  # peek refused bad ones
            try:
                data = self._fetch(key)
                thumb = thumbnail_bytes(data, self.px, label=key.rsplit("/", 1)[-1])
            except BadImage:
                self._keep(str(url), "", "not a readable image")
            except ActorbenchError as exc:  # not there, refused: said on the sample
                self._keep(str(url), "", describe_error(exc))
            else:
                try:
                    atomic_write_bytes(self._path(key), thumb)
                except OSError:
                    pass  # a read-only data folder: shown, not cached
                self._keep(str(url), data_uri(thumb), "")
            made = True
        return made

    def _fetch(self, key: str) -> bytes:
        body, info = self.store.open_get(key)
        try:
            if info.size > MAX_SAMPLE_BYTES:
                raise ActorbenchError(f"too large for a preview ({info.size:,} bytes)")
            data: bytes = body.read(MAX_SAMPLE_BYTES + 1)
        finally:
            body.close()
        if len(data) > MAX_SAMPLE_BYTES:
            raise ActorbenchError("too large for a preview")
        return data

    def _keep(self, url: str, uri: str, note: str) -> tuple[str, str]:
        with self._lock:
            self._memo[url] = (uri, note)
        return uri, note
