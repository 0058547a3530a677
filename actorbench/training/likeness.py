"""How like the actor each trained version's samples are (actorbench.faces, below training)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import UnsafePathError
from ..faces import ActorFaces, VersionScore, identities, score_versions, suggest
from ..storage.base import ObjectStore
from ..storage.layout import Layout
from ..storage.urls import split_s3_url
from .versions import TrainingVersion

if TYPE_CHECKING:
    from ..faces.samples import Fetch


def store_fetch(store: ObjectStore) -> Fetch:
    """A sample URL's bytes from ``store``'s bucket (samples elsewhere are not fetched)."""
    def fetch(url: str) -> bytes:
        try:
            bucket, key = split_s3_url(url)
        except UnsafePathError as e:
            raise OSError(str(e)) from e
        if bucket != store.bucket:
            raise OSError(f"sample in bucket {bucket!r}, not {store.bucket!r}")
        got = store.get_bytes(key)
        if got is None:
            raise OSError(f"no object {key}")
        return got[0]
    return fetch


def version_likeness(layout: Layout, store: ObjectStore, actor: str,
                     versions: Sequence[TrainingVersion], resolution: int = 1024,
                     workers: int = 1) -> tuple[ActorFaces, list[VersionScore],
                                                tuple[str, int] | None]:
    """(the actor's identity, each version's sample scores, the suggested (version, step)).
    Raises ``FacesUnavailable`` without the faces extra."""
    ident = identities(layout, [actor], resolution, workers=workers)[0]
    scores = score_versions(layout, ident, versions, store_fetch(store))
    return ident, scores, suggest(scores)
