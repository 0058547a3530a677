"""How like the actor each trained version's samples are (actorbench.faces, below training)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import UnsafePathError
from ..faces import ActorFaces, VersionScore, identities, score_versions, suggest
from ..storage.base import ObjectStore
from ..storage.layout import Layout
from ..storage.urls import split_s3_url
from .validate import Finding
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


# -- dataset validation: who is in the training images ------------------------------------
CONFIRMED_FILE = ".faces-confirmed.json"


def confirmed(layout: Layout, actor: str) -> dict[str, str]:
    """Images the user confirmed despite a blocking finding: file name -> MD5 (a changed
    file is no longer confirmed)."""
    import contextlib
    import json

    with contextlib.suppress(OSError, ValueError):
        raw = json.loads((layout.actor_dir(actor) / CONFIRMED_FILE).read_text())
        if isinstance(raw, dict):
            return {str(k): str(v) for k, v in raw.items()}
    return {}


def confirm(layout: Layout, actor: str, names: Sequence[str]) -> list[str]:
    """Confirm these training images (file names) as the actor's despite their findings."""
    from ..faces.cache import FaceCache, cache_path
    from ..fsutil import atomic_write_json

    cache = FaceCache(cache_path(layout.actor_dir(actor)))
    done = confirmed(layout, actor)
    out = []
    for n in names:
        path = layout.training_dir(actor) / n
        if path.name != n or not path.is_file():
            raise UnsafePathError(f"{n!r} is not a training image of {actor}.")
        done[n] = cache.lookup(path)[0]
        out.append(n)
    atomic_write_json(layout.actor_dir(actor) / CONFIRMED_FILE, done)
    return out


def face_validation(layout: Layout, actor: str, resolution: int) -> list[Finding]:
    """Blockers (another person, no face: unless confirmed) and warnings (small, blurred or
    two faces; what the set never shows). Nothing without the faces extra, and nothing for a
    set with no photographic face (a drawn character: the checks do not apply)."""
    from ..faces import Finding as Face
    from ..faces import available
    from ..faces.service import probe_then_judge

    if not available():
        return []
    ident = probe_then_judge(layout, actor, resolution)  # a painted set: a glance, no scan
    if ident is None or not ident.photographic:
        return []
    ok = confirmed(layout, actor)
    md5 = _md5s(layout, actor)
    out: list[Finding] = []

    def add(level: str, code: str, kinds: set[Face], words: str, skip_confirmed: bool) -> None:
        hit = [r.name for r in ident.images if kinds & set(r.findings)
               and not (skip_confirmed and ok.get(r.name) and ok.get(r.name) == md5.get(r.name))]
        if hit:
            shown = ", ".join(hit[:6]) + (f" and {len(hit) - 6} more" if len(hit) > 6 else "")
            out.append(Finding(level, code, f"{len(hit)} {words}: {shown}.",
                               tuple(i for i in map(_index, hit) if i is not None)))

    add("blocker", "other_person", {Face.OTHER}, "images may show another person (confirm them "
        "as the actor's, or remove them)", True)
    add("blocker", "no_face", {Face.NO_FACE, Face.UNREADABLE}, "images show no face (confirm "
        "them, or remove them)", True)
    add("warning", "two_faces", {Face.FACES}, "images show more than one face", False)
    add("warning", "small_face", {Face.SMALL}, f"images have a face small for {resolution} px",
        False)
    add("warning", "blurred_face", {Face.BLURRED}, "images have a blurred face", False)
    gaps = [g for g in ident.lacks if g in ("no profile", "no full body")]
    if gaps:
        out.append(Finding("warning", "coverage", f"The set has {' and '.join(gaps)} "
                           "(a LoRA learns the views it is shown)."))
    return out


def _md5s(layout: Layout, actor: str) -> dict[str, str]:
    from ..faces.cache import FaceCache, cache_path

    cache = FaceCache(cache_path(layout.actor_dir(actor)))
    return {name: v[2] for name, v in cache.index.items()}


def _index(name: str) -> int | None:
    import re

    m = re.search(r"_(\d+)\.[A-Za-z]+$", name)
    return int(m.group(1)) if m else None
