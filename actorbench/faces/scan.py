"""Analyse a library's pictures in a process pool, incrementally, with a progress callback."""

from __future__ import annotations

import contextlib
import multiprocessing
import stat
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..storage.layout import Layout
from .analyse import ImageFaces, analyse
from .cache import FaceCache, cache_path
from .identity import ActorFaces, judge_actor

ScanProgress = Callable[[int, int], None]  # (pictures done, pictures to analyse)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def _no_progress(done: int, total: int) -> None:
    """The default: say nothing."""


@dataclass
class ActorPictures:
    """An actor's pictures on disk and their analyses once scanned."""

    actor: str
    images: dict[str, Path]
    base: Path | None
    analyses: dict[str, ImageFaces] = field(default_factory=dict)
    base_analysis: ImageFaces | None = None
    s3_only: frozenset[str] = frozenset()  # names analysed from a cached copy of S3

    def judge(self, resolution: int = 1024, chosen: str | None = None) -> ActorFaces:
        return judge_actor(self.actor, self.analyses, self.base_analysis, resolution, chosen,
                           self.s3_only)


def pictures_of(layout: Layout, actor: str, s3_only: dict[str, Path] | None = None
                ) -> ActorPictures:
    """The training images (regular image files of training_data/) and the base image;
    ``s3_only``: cached copies of images only in S3, by file name (a local file wins)."""
    folder = layout.training_dir(actor)
    images: dict[str, Path] = {}
    if folder.is_dir():
        for p in sorted(folder.iterdir()):
            with contextlib.suppress(FileNotFoundError):
                if p.suffix.lower() in IMAGE_SUFFIXES and stat.S_ISREG(p.lstat().st_mode):
                    images[p.name] = p
    for name, path in (s3_only or {}).items():
        images.setdefault(name, path)
    base = layout.base_image_path(actor)
    return ActorPictures(actor, dict(sorted(images.items())), base if base.is_file() else None,
                         s3_only=frozenset(n for n in (s3_only or {}) if images[n] is
                                           (s3_only or {})[n]))


def _analyse_file(args: tuple[str, str]) -> ImageFaces:
    path, md5 = args
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        return ImageFaces(md5, 0, 0, (), f"could not be read ({e.strerror or e})")
    return analyse(data)


def scan(layout: Layout, actors: Sequence[str], progress: ScanProgress = _no_progress,
         workers: int = 2, s3_only: dict[str, dict[str, Path]] | None = None
         ) -> list[ActorPictures]:
    """Every actor's pictures analysed: cached ones read back, the others in ``workers``
    processes (1: in this process). Each actor's cache is saved as soon as it is complete.
    ``s3_only``: per actor, cached copies of its images only in S3 (``remote.fetch_s3_only``)."""
    found = [pictures_of(layout, a, (s3_only or {}).get(a)) for a in actors]
    caches = {p.actor: FaceCache(cache_path(layout.actor_dir(p.actor))) for p in found}
    todo: list[tuple[str, str, Path, str]] = []  # actor, name ("" = base), path, md5
    for p in found:
        cache = caches[p.actor]
        files = dict(p.images)
        if p.base is not None:
            files[""] = p.base
        for name, path in files.items():
            try:
                md5, hit = cache.lookup(path, name)
            except OSError:
                continue  # gone since the listing: not a picture of the set any more
            if hit is None:
                todo.append((p.actor, name, path, md5))
            else:
                _store(p, name, hit)
        cache.prune({name or path.name for name, path in files.items()})
    remaining = {p.actor: sum(1 for t in todo if t[0] == p.actor) for p in found}
    by_actor = {p.actor: p for p in found}
    total = len(todo)
    progress(0, total)
    for p in found:
        if remaining[p.actor] == 0:
            caches[p.actor].save()
    args = [(str(t[2]), t[3]) for t in todo]
    if workers > 1 and total > 1:
        # a fork of a process with threads (a kernel, a UI worker) can deadlock: forkserver
        # there; a plain fork otherwise (a script needs no `if __name__ == "__main__"`)
        ctx = multiprocessing.get_context("fork" if threading.active_count() == 1
                                          else "forkserver")
        with ProcessPoolExecutor(min(workers, total), mp_context=ctx) as pool:
            results = pool.map(_analyse_file, args, chunksize=1)
            _collect(todo, results, by_actor, caches, remaining, progress)
    else:
        _collect(todo, map(_analyse_file, args), by_actor, caches, remaining, progress)
    return found


def _collect(todo: list[tuple[str, str, Path, str]], results: object,
             by_actor: dict[str, ActorPictures], caches: dict[str, FaceCache],
             remaining: dict[str, int], progress: ScanProgress) -> None:
    for done, (t, result) in enumerate(zip(todo, results, strict=True), 1):  # type: ignore[call-overload]
        actor, name, path, _ = t
        caches[actor].put(path, result, name or path.name)
        _store(by_actor[actor], name, result)
        remaining[actor] -= 1
        if remaining[actor] == 0:
            caches[actor].save()
        progress(done, len(todo))


def _store(p: ActorPictures, name: str, result: ImageFaces) -> None:
    if name:
        p.analyses[name] = result
    else:
        p.base_analysis = result
