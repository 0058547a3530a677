"""How hard a sync works: one value the composition root builds and tests replace."""

from __future__ import annotations

from dataclasses import dataclass

#: what a typical actor holds; sizes the connections opened while a pull is being planned
IMAGES_PER_ACTOR = 20


@dataclass(frozen=True)
class SyncConfig:
    """Tuning of a sync, with the reasons for each default.

    Usage::

        SyncConfig(workers=8)                       # a gentler sync
        SyncConfig(actors_per_page=4)               # tests: many listing ranges on few actors
    """

    #: threads for uploads and for downloads that need care (retries, conflicts)
    workers: int = 32
    #: keep-alive connections of the bulk getter (one event loop) for plain downloads
    connections: int = 128
    #: bytes a pull must leave free on each disk it writes to (``ACTORBENCH_MIN_FREE``)
    min_free: int = 0
    #: up to this many actors, concurrent per-actor listings beat paging the library prefix
    list_concurrent_up_to: int = 64
    #: actors per listing range: about one 1000-key page each
    actors_per_page: int = 1000 // (IMAGES_PER_ACTOR + 4)
    #: verified downloads are made durable together (one syncfs), then renamed into place
    commit_batch: int = 256
    #: ... or as soon as no new download has landed for this long
    commit_idle_s: float = 0.05
