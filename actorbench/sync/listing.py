"""The S3 side of a plan: one listing per actor, or the library prefix cut into ranges."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..errors import AccessRefused, StoreError
from ..storage.base import ObjectInfo, ObjectStore
from ..storage.layout import Layout
from .config import SyncConfig

T = TypeVar("T")
#: objects one actor's prefix may hold before its listing is refused (it would fill memory)
MAX_LISTED = 200_000


def _capped(infos: Iterator[ObjectInfo], prefix: str) -> list[ObjectInfo]:
    out = []
    for info in infos:
        out.append(info)
        if len(out) > MAX_LISTED:
            raise StoreError(f"{prefix} holds more than {MAX_LISTED:,} objects: the listing "
                             "was stopped there (clean the prefix up, or sync another actor).",
                             permanent=True)
    return out


def list_remote(store: ObjectStore, layout: Layout, names: list[str], config: SyncConfig,
                denied: dict[str, AccessRefused] | None = None) -> dict[str, list[ObjectInfo]]:
    """Every object under each actor's prefix, never a request per object.

    With ``denied`` given, an actor whose own listing S3 refuses (``AccessDenied`` on that
    prefix only: an IAM condition on ``s3:prefix``) is put there instead of ending the whole
    listing, and has no entry in the result (it is not "empty in S3": it is unknown). If every
    actor is refused, or the refusal is not about a prefix (an expired token, a skewed
    clock), it is raised as before.

    Up to ``config.list_concurrent_up_to`` actors: one listing per actor, all at once (one round
    trip). More: the library prefix, cut at actor boundaries into ranges of about one page
    each (``start-after``), listed concurrently: the same number of pages as one paginated
    listing, in about one round trip instead of one per page.
    """
    out: dict[str, list[ObjectInfo]] = {n: [] for n in names}

    def pmap(fn: Callable[[Any], T], items: list[Any]) -> list[T]:
        with ThreadPoolExecutor(max(1, min(len(items), config.workers))) as pool:
            return list(pool.map(fn, items))

    if len(names) > config.list_concurrent_up_to:
        wanted = set(names)
        root = layout.prefix + "/"
        for infos in pmap(lambda r: _capped(_list_range(store, root, *r), root),
                          ranges(sorted(wanted), config.actors_per_page)):
            for info in infos:
                actor = info.key[len(root):].split("/", 1)[0]
                if actor in wanted:
                    out[actor].append(info)
    elif len(names) == 1:  # (refused: raised, as when every actor is refused)
        out[names[0]] = _capped(store.list(layout.actor_prefix(names[0])),
                                layout.actor_prefix(names[0]))
    elif names:
        def one(n: str) -> list[ObjectInfo] | AccessRefused:
            try:
                return _capped(store.list(layout.actor_prefix(n)), layout.actor_prefix(n))
            except AccessRefused as exc:
                if denied is None or getattr(exc, "code", "") != "AccessDenied":
                    raise
                return exc

        got = dict(zip(names, pmap(one, names), strict=True))
        refused = [r for r in got.values() if isinstance(r, AccessRefused)]
        if refused and len(refused) == len(names):
            raise refused[0]
        for n, r in got.items():
            if isinstance(r, AccessRefused):
                assert denied is not None
                denied[n] = r
                del out[n]
            else:
                out[n] = r
    return out


def _list_range(store: ObjectStore, root: str, first: str | None, stop: str | None
                ) -> Iterator[ObjectInfo]:
    """Keys of actors ``first`` (None: from the start) up to, not including, ``stop``."""
    end = root + stop if stop is not None else None
    for info in store.list(root, start_after=root + first if first else None):
        if end is not None and info.key >= end:
            return  # the next range's first actor: stop before paging on
        yield info


def ranges(names: list[str], per: int) -> list[tuple[str | None, str | None]]:
    """Sorted actor names cut into (start-after, stop) ranges of ``per`` actors each.

    The first range starts at the beginning of the prefix and the last runs to its end, so
    together they cover every key (objects of actors not asked for are filtered later).
    """
    starts = names[::per]
    out: list[tuple[str | None, str | None]] = []
    for i, first in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else None
        out.append((None if i == 0 else first, stop))  # "root/name" sorts before "root/name/"
    return out
