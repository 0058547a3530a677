"""Demo actors made from real photographs, each with planted pictures for every face finding.

Built from the face_recognition sdist's photographs (``photos.py``): two real people, so each
actor's set is one person's retouched photographs plus, planted, another person (the intruder),
a picture without a face, a face too small for 1024 px training and, for some, a picture of two
people or a blurred face. Without the photographs (offline) the demo goes on without them.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageFilter

from ..fsutil import atomic_write_bytes
from . import photos as ph

LONG_SIDE = 768  # training images of the photo actors: a photograph's PNG stays ~0.6 MB


@dataclass(frozen=True)
class PhotoActor:
    """Who the actor is (a photograph's name) and what is planted at which index."""

    person: str  # "obama" or "biden"
    base: str
    facets: Callable[[str], bool]
    planted: tuple[str, ...]
    own: tuple[str, ...] = field(default=())


def _african_male(n: str) -> bool:
    return "_african_" in n and n.endswith("_male") and 45 <= int(n.split("_")[-2]) <= 65


def _older_european_male(n: str) -> bool:
    return "_european_" in n and n.endswith("_male") and int(n.split("_")[-2]) >= 65


OBAMA = ("obama.jpg", "obama2.jpg", "obama3.jpg", "obama_partial_face.jpg",
         "obama_partial_face2.jpg")
ACTORS = (
    PhotoActor("obama", "obama.jpg", _african_male, ("intruder", "no face", "small face"),
               OBAMA[1:]),
    PhotoActor("biden", "biden.jpg", _older_european_male,
               ("intruder", "no face", "small face", "blurred"), ("biden.jpg",)),
    PhotoActor("obama", "obama2.jpg", _african_male,
               ("two faces", "intruder", "no face", "small face"), (*OBAMA[:1], *OBAMA[2:])),
)
OWN_IMAGES = 11  # retouched photographs of the actor, before the planted ones


def png(img: Image.Image) -> bytes:
    img = img.copy()
    img.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=3)
    return buf.getvalue()


CACHE_VERSION = 1  # the PNGs made are kept beside the photographs: made once per machine


def build_sets(names: list[str]) -> dict[str, tuple[bytes, list[bytes], dict[int, str]]]:
    """For each photo actor, chosen among ``names`` by facets: (base PNG, training PNGs,
    {index: what is planted there}). Raises ``PhotosUnavailable`` offline."""
    files = ph.fetch_photos()
    folder = ph.photos_dir() / f"demo-v{CACHE_VERSION}"
    pics = _Lazy(files)
    out: dict[str, tuple[bytes, list[bytes], dict[int, str]]] = {}
    free = list(names)
    for spec in ACTORS:
        name = next((n for n in free if spec.facets(n)), None)
        if name is None:
            continue
        free.remove(name)
        slot = len(out)
        other = "biden.jpg" if spec.person == "obama" else "obama2.jpg"

        def make(k: int, spec: PhotoActor = spec, slot: int = slot, other: str = other
                 ) -> Image.Image:
            own = [pics[n] for n in spec.own]
            if k < OWN_IMAGES:
                return ph.variant(own[k % len(own)], k + slot * 3)
            return _planted(spec.planted[k - OWN_IMAGES], pics[spec.base], own[0], pics[other])

        images = [_cached(folder / f"{slot}_{k}.png", lambda k=k: make(k))  # type: ignore[misc]
                  for k in range(OWN_IMAGES + len(spec.planted))]
        planted = {OWN_IMAGES + i: what for i, what in enumerate(spec.planted)}
        base = _cached(folder / f"{slot}_base.png", lambda spec=spec: pics[spec.base])  # type: ignore[misc]
        out[name] = (base, images, planted)
    return out


class _Lazy(dict[str, Image.Image]):
    """The photographs, decoded when first needed (a warm cache decodes none)."""

    def __init__(self, files: dict[str, Path]) -> None:
        super().__init__()
        self.files = files

    def __missing__(self, name: str) -> Image.Image:
        self[name] = ph.load_rgb(self.files[name])
        return self[name]


def _cached(path: Path, make: Callable[[], Image.Image]) -> bytes:
    try:
        data = path.read_bytes()
        if data.startswith(b"\x89PNG"):
            return data
    except OSError:
        pass
    data = png(make())
    atomic_write_bytes(path, data, durable=False)
    return data


def _planted(what: str, base: Image.Image, own: Image.Image, other: Image.Image
             ) -> Image.Image:
    if what == "intruder":
        return ph.variant(other, 2)
    if what == "no face":
        return ph.no_face(own)
    if what == "small face":  # the face ~45 px tall once trained at 1024 px
        return ph.shrunk(base, 0.17 if base.height < 1500 else 0.13)
    if what == "two faces":
        return ph.side_by_side(own, other)
    if what == "blurred":
        return own.filter(ImageFilter.GaussianBlur(max(3, own.width // 300)))
    raise ValueError(what)
