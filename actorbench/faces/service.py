"""An actor's identity and its versions' scores, from the files on disk (cached by content)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path

from ..errors import ActorbenchError
from ..fsutil import atomic_write_json
from ..storage.layout import Layout
from .identity import ActorFaces
from .samples import SAMPLES_CACHE, Fetch, SampleCache, VersionLike, VersionScore, score_version
from .scan import ScanProgress, _no_progress, pictures_of, scan

REFERENCE_FILE = ".faces-reference.json"


def chosen_reference(layout: Layout, actor: str) -> str | None:
    """The picture a user picked as the actor's reference, if any."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        name = json.loads((layout.actor_dir(actor) / REFERENCE_FILE).read_text()).get("image")
        return name if isinstance(name, str) and name else None
    return None


def choose_reference(layout: Layout, actor: str, image: str | None) -> None:
    """Pick ``image`` (a training image's file name, or ``{actor}_base``) as the reference;
    None goes back to the automatic one (base image, else the set's medoid)."""
    path = layout.actor_dir(actor) / REFERENCE_FILE
    if image is not None and image != f"{actor}_base" and image not in pictures_of(
            layout, actor).images:
        raise ActorbenchError(f"{image!r} is not a training image of {actor} (nor "
                              f"{actor}_base, its base image).")
    if image is None:
        path.unlink(missing_ok=True)
    else:
        atomic_write_json(path, {"image": image})


def identities(layout: Layout, actors: Sequence[str], resolution: int = 1024,
               progress: ScanProgress = _no_progress, workers: int = 2,
               s3_only: dict[str, dict[str, Path]] | None = None) -> list[ActorFaces]:
    """Every actor's pictures analysed (incrementally) and judged; ``s3_only`` as ``scan``."""
    out = []
    for pics in scan(layout, actors, progress, workers, s3_only):
        chosen = chosen_reference(layout, pics.actor)
        try:
            out.append(pics.judge(resolution, chosen))
        except ValueError:  # the chosen picture is gone or has no face: the automatic one
            out.append(pics.judge(resolution))
    return out


def score_versions(layout: Layout, identity: ActorFaces, versions: Sequence[VersionLike],
                   fetch: Fetch) -> list[VersionScore]:
    """The versions with samples scored against the actor's reference (none without one)."""
    if identity.reference is None:
        return []
    cache = SampleCache(layout.actor_dir(identity.actor) / SAMPLES_CACHE)
    try:
        return [score_version(v, identity.reference.descriptor, fetch, cache)
                for v in versions if v.samples]
    finally:
        cache.save()


def probe_then_judge(layout: Layout, actor: str, resolution: int = 1024, probe: int = 4,
                     workers: int = 2) -> ActorFaces | None:
    """The actor judged, or None when the base image and the first ``probe`` pictures hold no
    photographed face (a painted set: not worth a whole analysis on every visit). The probe's
    analyses are cached like any other."""
    from .analyse import analyse
    from .cache import FaceCache, cache_path

    pics = pictures_of(layout, actor)
    cache = FaceCache(cache_path(layout.actor_dir(actor)))
    files = ([pics.base] if pics.base else []) + list(pics.images.values())[:probe]
    seen = False
    for path in files:
        try:
            md5, hit = cache.lookup(path)
        except OSError:
            continue
        if hit is None:
            hit = analyse(path.read_bytes(), md5)
            cache.put(path, hit)
        seen = seen or bool(hit.faces)
    cache.save()
    if not seen:
        return None
    return identities(layout, [actor], resolution, workers=workers)[0]


class FaceWords:
    """What varies in each picture, in words: its pose and framing from the face analysis
    (captions' ``Describe``: ``words("0002_x_3.png") -> ["three-quarter left", "close-up"]``).

    An actor's pictures are analysed on its first image asked about (incrementally: cached by
    content). A picture without exactly one photographic face gets no words, and so does every
    picture of an actor with no photographic face (a drawing): its draft stays plain.
    """

    def __init__(self, layout: Layout, resolution: int = 1024, workers: int = 1) -> None:
        self.layout, self.resolution, self.workers = layout, resolution, workers
        self._by_actor: dict[str, dict[str, list[str]]] = {}
        self._lock = threading.Lock()

    def __call__(self, image_name: str) -> list[str]:
        actor = image_name.rsplit("_", 1)[0]
        with self._lock:  # one analysis per actor, however many threads ask
            if actor not in self._by_actor:
                found = identities(self.layout, [actor], self.resolution,
                                   workers=self.workers)[0]
                self._by_actor[actor] = {
                    r.name: [x.value for x in (r.pose, r.framing) if x is not None]
                    for r in found.images if r.faces == 1} if found.photographic else {}
        return list(self._by_actor[actor].get(image_name, ()))


def face_words(layout: Layout, resolution: int = 1024) -> FaceWords | None:
    """The describer for draft captions, or None without the faces extra (plain drafts)."""
    from .models import available

    return FaceWords(layout, resolution) if available() else None
