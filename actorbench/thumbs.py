"""Small thumbnails cached on disk, so pages never push full-size PNGs over the websocket."""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .errors import ActorbenchError
from .fsutil import atomic_write_bytes
from .sync.files import MAX_PIXELS

THUMB_PX = 256
#: thumbnails made at once: Pillow decodes and resizes without holding the GIL
THUMB_WORKERS = 4
#: refuse decompression bombs early: 64 MP is far beyond any training image (and a push
#: refuses larger ones, so whatever is in S3 from actorbench can be shown)
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class BadImage(ActorbenchError):
    """A file that is not a readable image."""


def open_image(path_or_bytes: Path | bytes, label: str = "") -> Image.Image:
    """Open and fully decode an image, or raise ``BadImage`` with a clear message."""
    label = label or str(path_or_bytes if isinstance(path_or_bytes, Path) else "image")
    try:
        src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
        with warnings.catch_warnings():  # over the limit is refused, not merely warned about
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(src)
            img.load()
        return img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage(f"{label}: image is too large to open safely "
                       f"(over {Image.MAX_IMAGE_PIXELS:,} pixels).") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BadImage(f"{label}: not a readable image ({type(exc).__name__}).") from None


def thumbnail_bytes(data: bytes | Path, px: int = THUMB_PX, label: str = "") -> bytes:
    img = open_image(data, label)
    if img.mode != "RGB":
        img = img.convert("RGB")
    # a box reduction by a whole factor first (cheap, and it averages every pixel), then a
    # short bilinear step to the size: a third of the time of a bilinear resize all the way
    img.thumbnail((px, px), Image.Resampling.BILINEAR, reducing_gap=1.0)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=82)
    return buf.getvalue()


def thumbnail_cache_path(path: Path, cache_dir: Path, px: int = THUMB_PX) -> Path:
    """Where ``cached_thumbnail`` keeps the thumbnail of ``path`` as it is now (by path, size
    and mtime): a page can tell a cache hit (a file read) from a miss (an image decode)."""
    st = path.stat()
    tag = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{px}".encode()
                       ).hexdigest()
    return cache_dir / f"{tag}.jpg"


def read_cached_thumbnail(path: Path, cache_dir: Path, px: int = THUMB_PX) -> bytes | None:
    """The cached thumbnail of ``path`` as it is now; None when there is none (or only part
    of one). OSError if ``path`` itself is gone."""
    cached = thumbnail_cache_path(path, cache_dir, px)
    try:
        data = cached.read_bytes()
    except FileNotFoundError:
        return None
    # the cache is written without fsync (it can always be made again): a file a crash cut
    # short lacks the JPEG's end marker, and is made again rather than shown broken
    return data if data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9" else None


def cached_thumbnail(path: Path, cache_dir: Path, px: int = THUMB_PX) -> bytes:
    """Thumbnail of a local file, cached by path, size and mtime."""
    data = read_cached_thumbnail(path, cache_dir, px)
    if data is None:
        data = thumbnail_bytes(path, px, label=path.name)
        # no fsync: a cache file a crash cut short is made again (above)
        atomic_write_bytes(thumbnail_cache_path(path, cache_dir, px), data, durable=False)
    return data


def cached_thumbnails(paths: Sequence[Path], cache_dir: Path, px: int = THUMB_PX
                      ) -> Iterator[tuple[int, bytes | BadImage]]:
    """``(position in paths, thumbnail)`` for each of ``paths``: cached ones first, then the
    others as each is made (on ``THUMB_WORKERS`` threads). A file that cannot be read, or is
    gone, gives its ``BadImage`` instead of bytes.

    Usage::

        for i, thumb in cached_thumbnails(paths, layout.thumbs_dir()):
            tiles[i].show(..., thumb if isinstance(thumb, bytes) else None)
    """
    todo = []
    for i, path in enumerate(paths):
        try:
            data = read_cached_thumbnail(path, cache_dir, px)
        except OSError as exc:
            yield i, _unreadable(path, exc)
            continue
        if data is None:
            todo.append(i)
        else:
            yield i, data
    if not todo:
        return
    pool = ThreadPoolExecutor(min(THUMB_WORKERS, len(todo)),
                              thread_name_prefix="actorbench-thumbs")
    try:
        made = {pool.submit(_thumbnail_or_why, paths[i], cache_dir, px): i for i in todo}
        for future in as_completed(made):
            yield made[future], future.result()
    finally:  # (a caller that stops early: the ones not started are not made)
        pool.shutdown(wait=True, cancel_futures=True)


def _thumbnail_or_why(path: Path, cache_dir: Path, px: int) -> bytes | BadImage:
    try:
        return cached_thumbnail(path, cache_dir, px)
    except BadImage as exc:
        return exc
    except OSError as exc:  # gone meanwhile (the thumbnail of a missing file: none)
        return _unreadable(path, exc)


def _unreadable(path: Path, exc: OSError) -> BadImage:
    return BadImage(f"{path.name}: cannot be read ({type(exc).__name__}).")

