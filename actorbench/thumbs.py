"""Small thumbnails cached on disk, so pages never push full-size PNGs over the websocket."""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .errors import ActorbenchError
from .fsutil import atomic_write_bytes
from .sync.files import MAX_PIXELS

THUMB_PX = 256
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
    img = open_image(data, label).convert("RGB")
    img.thumbnail((px, px), Image.Resampling.BILINEAR)
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


def cached_thumbnail(path: Path, cache_dir: Path, px: int = THUMB_PX) -> bytes:
    """Thumbnail of a local file, cached by path, size and mtime."""
    cached = thumbnail_cache_path(path, cache_dir, px)
    if cached.exists():
        return cached.read_bytes()
    data = thumbnail_bytes(path, px, label=path.name)
    atomic_write_bytes(cached, data)
    return data
