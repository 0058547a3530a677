"""Thumbnails cached on disk: made a few at a time, never shown half-written."""

from __future__ import annotations

import io

from PIL import Image

from actorbench.thumbs import (
    THUMB_PX,
    BadImage,
    cached_thumbnail,
    cached_thumbnails,
    read_cached_thumbnail,
    thumbnail_cache_path,
)
from tests.helpers import png


def size_of(jpeg: bytes) -> tuple[int, int]:
    img = Image.open(io.BytesIO(jpeg))
    assert img.format == "JPEG" and img.mode == "RGB"
    return img.size


def test_thumbnails_are_made_together_and_a_bad_file_says_why(tmp_path):
    cache = tmp_path / "thumbs"
    paths = []
    for i, (mode, size) in enumerate([("RGB", (836, 836)), ("RGBA", (600, 300)),
                                      ("L", (300, 900)), ("P", (100, 80))]):
        buf = io.BytesIO()
        Image.new(mode, size).save(buf, format="PNG")
        paths.append(tmp_path / f"a_{i}.png")
        paths[-1].write_bytes(buf.getvalue())
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG not really")
    paths += [tmp_path / "corrupt.png", tmp_path / "gone.png"]
    made = dict(cached_thumbnails(paths, cache))
    assert sorted(made) == list(range(6))
    assert [size_of(made[i]) for i in range(4)] == [(THUMB_PX, THUMB_PX), (THUMB_PX, 128),
                                                   (85, THUMB_PX), (100, 80)]
    assert isinstance(made[4], BadImage) and "corrupt.png" in str(made[4])
    assert isinstance(made[5], BadImage) and "gone.png" in str(made[5])
    for i in range(4):  # cached: read back as made, with no image decoded
        assert read_cached_thumbnail(paths[i], cache) == made[i]
    assert dict(cached_thumbnails(paths[:4], cache)) == {i: made[i] for i in range(4)}
    assert not [p for p in cache.iterdir() if not p.name.endswith(".jpg")]  # no temp left


def test_a_cache_file_cut_short_is_made_again(tmp_path):
    path = tmp_path / "a_0.png"
    path.write_bytes(png(1, 300))
    cache = tmp_path / "thumbs"
    whole = cached_thumbnail(path, cache)
    cached = thumbnail_cache_path(path, cache)
    cached.write_bytes(whole[:len(whole) // 2])  # what a crash before write-back can leave
    assert read_cached_thumbnail(path, cache) is None
    assert cached_thumbnail(path, cache) == whole and cached.read_bytes() == whole


def test_the_cache_is_written_without_waiting_for_the_disk(tmp_path, monkeypatch):
    import actorbench.fsutil as fsutil

    def no_fsync(fd: int) -> None:
        raise AssertionError("a thumbnail cache file was fsynced")

    monkeypatch.setattr(fsutil.os, "fsync", no_fsync)
    path = tmp_path / "a_0.png"
    path.write_bytes(png(2, 300))
    made = cached_thumbnail(path, tmp_path / "thumbs")
    assert read_cached_thumbnail(path, tmp_path / "thumbs") == made
