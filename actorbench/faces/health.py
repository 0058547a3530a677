"""An actor's identity health (and identity, and versions' scores) from the cached analyses
only: it never analyses a picture and never reads one (a picture whose size or mtime changed
since it was analysed counts as not analysed yet), so a page may ask it for every card.

Usage::

    health = cached_health(layout, "0002_african_45_male")   # None: nothing analysed yet
    health.words()            # "18 of 20 fit" / "needs attention: 17 of 20 fit"
    health.needs_attention    # another person, no face or two faces in some picture
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..storage.layout import Layout
from .analyse import ImageFaces
from .cache import FaceCache, cache_path
from .identity import NOT_PHOTOGRAPHIC, ActorFaces, judge_actor
from .samples import SAMPLES_CACHE, SampleCache, VersionLike, VersionScore, score_version
from .scan import pictures_of


@dataclass(frozen=True)
class Health:
    """How many of an actor's analysed training images fit (one face, the actor's)."""

    actor: str
    analysed: int  # training images with a cached analysis of their current content
    total: int  # training images on this disk
    fit: int
    photographic: bool

    @property
    def needs_attention(self) -> bool:
        """A photographic set with a picture that does not fit (another person, no face,
        two faces): what the Library's "needs attention" filter keeps."""
        return self.photographic and self.fit < self.analysed

    def words(self) -> str:
        if not self.photographic:
            return NOT_PHOTOGRAPHIC
        line = f"{self.fit} of {self.analysed} fit"
        if self.analysed < self.total:
            line += f" ({self.total - self.analysed} not analysed yet)"
        return f"needs attention: {line}" if self.needs_attention else line


_memo: dict[str, tuple[tuple[object, ...], ActorFaces | None]] = {}
_memo_lock = threading.Lock()


def cached_health(layout: Layout, actor: str, resolution: int = 1024) -> Health | None:
    """The actor's health from ``.faces.json`` (None when nothing of it is analysed yet).
    Stats the files only; the cache file is read again only when it or a picture changed."""
    ident = cached_identity(layout, actor, resolution)
    if ident is None:
        return None
    total = len(pictures_of(layout, actor).images)
    return Health(actor, len(ident.images), total, ident.fit, ident.photographic)


def cached_identity(layout: Layout, actor: str, resolution: int = 1024) -> ActorFaces | None:
    """The actor judged from the analyses its cache holds of its pictures as they are now
    (the training images analysed, the base image if analysed); None when there is none."""
    from .service import chosen_reference

    path = cache_path(layout.actor_dir(actor))
    try:
        st = path.stat()
    except OSError:
        return None
    pics = pictures_of(layout, actor)
    files = dict(pics.images)
    stats = {name: _stat(p) for name, p in files.items()}
    base_stat = _stat(pics.base) if pics.base else None
    chosen = chosen_reference(layout, actor)
    key = (st.st_mtime_ns, st.st_size, tuple(sorted(stats.items())), base_stat, resolution,
           chosen)
    with _memo_lock:
        hit = _memo.get(str(path))
    if hit is not None and hit[0] == key:
        return hit[1]
    cache = FaceCache(path)
    analyses = {n: a for n, s in stats.items() if (a := _known(cache, n, s)) is not None}
    base = _known(cache, pics.base.name, base_stat) if pics.base else None
    ident: ActorFaces | None = None
    if analyses or base is not None:
        try:
            ident = judge_actor(actor, analyses, base, resolution, chosen if chosen in (
                *analyses, f"{actor}_base") else None)
        except ValueError:  # the chosen picture has no face: the automatic reference
            ident = judge_actor(actor, analyses, base, resolution)
    with _memo_lock:
        _memo[str(path)] = (key, ident)
    return ident


def cached_scores(layout: Layout, ident: ActorFaces,
                  versions: Sequence[VersionLike]) -> list[VersionScore]:
    """The versions whose every sample was analysed already (the Training page, `actorbench
    versions`), scored against ``ident``'s reference; nothing is fetched or analysed."""
    if ident.reference is None:
        return []
    cache = SampleCache(layout.actor_dir(ident.actor) / SAMPLES_CACHE)

    def nothing(url: str) -> bytes:
        raise OSError("not analysed")

    return [score_version(v, ident.reference.descriptor, nothing, cache) for v in versions
            if v.samples and all(str(s.get("url", "")) in cache.items for s in v.samples)]


def _stat(p: Path) -> tuple[int, int] | None:
    try:
        s = p.stat()
    except OSError:
        return None
    return s.st_size, s.st_mtime_ns


def _known(cache: FaceCache, name: str, stat: tuple[int, int] | None) -> ImageFaces | None:
    """The cached analysis of ``name`` if the file is as it was when analysed."""
    entry = cache.index.get(name)
    if stat is None or entry is None or entry[:2] != stat:
        return None
    return cache.analyses.get(entry[2])
