"""The S3 side of a plan: one listing per actor, or the library prefix cut into ranges."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..storage.base import ObjectInfo, ObjectStore
from ..storage.layout import Layout
from .config import SyncConfig


def list_remote(store: ObjectStore, layout: Layout, names: list[str], config: SyncConfig
                ) -> dict[str, list[ObjectInfo]]:
    """Every object under each actor's prefix, never a request per object.

    Up to ``config.list_concurrent_up_to`` actors: one listing per actor, all at once (one round
    trip). More: the library prefix, cut at actor boundaries into ranges of about one page
    each (``start-after``), listed concurrently: the same number of pages as one paginated
    listing, in about one round trip instead of one per page.
    """
    out: dict[str, list[ObjectInfo]] = {n: [] for n in names}

    def pmap(fn: Callable[[Any], list[ObjectInfo]], items: list[Any]) -> list[list[ObjectInfo]]:
        with ThreadPoolExecutor(max(1, min(len(items), config.workers))) as pool:
            return list(pool.map(fn, items))

    if len(names) > config.list_concurrent_up_to:
        wanted = set(names)
        root = layout.prefix + "/"
        for infos in pmap(lambda r: list(_list_range(store, root, *r)),
                          ranges(sorted(wanted), config.actors_per_page)):
            for info in infos:
                actor = info.key[len(root):].split("/", 1)[0]
                if actor in wanted:
                    out[actor].append(info)
    elif len(names) == 1:
        out[names[0]] = list(store.list(layout.actor_prefix(names[0])))
    elif names:
        out.update(zip(names, pmap(lambda n: list(store.list(layout.actor_prefix(n))), names),
                       strict=True))
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
