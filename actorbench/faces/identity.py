"""An actor's reference identity, each picture's distances to it, and what the set lacks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .analyse import ImageFaces
from .judge import (
    Finding,
    Framing,
    Pose,
    closest_face,
    distance,
    face_at_resolution,
    findings,
    framing_of,
    pose_of,
)

NOT_PHOTOGRAPHIC = "no photographic faces: identity checks do not apply"
# A set is photographic when photographed faces are found in at least this share of its
# readable pictures (base image included). Drawn faces are set apart in the analysis already
# (analyse.DRAWN_FLAT_MIN); this is the second guard: a real set gives a face in nearly all.
PHOTO_MIN_SHARE = 0.5


@dataclass(frozen=True)
class Reference:
    """The descriptor pictures are measured against, and where it came from."""

    descriptor: tuple[float, ...]
    source: str  # "base", "medoid" or "chosen"
    image: str


def reference(images: Mapping[str, ImageFaces], base: ImageFaces | None = None,
              base_name: str = "base image", chosen: str | None = None) -> Reference | None:
    """The chosen image's face; else the base image's if it has exactly one face; else the
    medoid of the one-face pictures (the one nearest all others). None without any face."""
    if chosen is not None:
        img = images.get(chosen) if chosen != base_name else base
        if img is None or img.main is None:
            raise ValueError(f"{chosen} has no face to be the reference")
        return Reference(img.main.descriptor, "chosen", chosen)
    if base is not None and len(base.faces) == 1:
        return Reference(base.faces[0].descriptor, "base", base_name)
    singles = {n: np.asarray(i.faces[0].descriptor) for n, i in images.items()
               if len(i.faces) == 1}
    if not singles:
        singles = {n: np.asarray(i.faces[0].descriptor) for n, i in images.items() if i.faces}
    if not singles:
        return None
    names = list(singles)
    m = np.stack([singles[n] for n in names])
    d = np.linalg.norm(m[:, None, :] - m[None, :, :], axis=2).sum(axis=1)
    best = names[int(np.argmin(d))]
    return Reference(tuple(float(v) for v in singles[best]), "medoid", best)


@dataclass(frozen=True)
class ImageReport:
    """One picture judged: its findings in words and the numbers behind them."""

    name: str
    faces: int
    findings: tuple[Finding, ...]
    distance: float | None  # to the reference
    loo: float | None  # to the mean of the set's other faces (leave one out)
    pose: Pose | None
    framing: Framing | None
    face_px: int | None  # the face's short side at the training resolution
    sharpness: float | None
    box: tuple[int, int, int, int] | None
    resolution: int = 1024
    s3_only: bool = False  # analysed from a cached copy: the image is not on this disk

    @property
    def finding(self) -> Finding:
        return self.findings[0] if self.findings else Finding.SAME

    @property
    def words(self) -> list[str]:
        return [f.words(self.resolution, self.faces) for f in self.findings]

    @property
    def fits(self) -> bool:
        return not any(f.blocks or f is Finding.FACES for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {"image": self.name, "faces": self.faces, "findings": self.words,
                "finding": self.finding.name.lower(),
                "distance": _r(self.distance), "loo": _r(self.loo),
                "pose": self.pose.value if self.pose else None,
                "framing": self.framing.value if self.framing else None,
                "face_px": self.face_px, "sharpness": _r(self.sharpness),
                "box": list(self.box) if self.box else None, "s3_only": self.s3_only}


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


@dataclass(frozen=True)
class ActorFaces:
    """An actor's set judged against its reference."""

    actor: str
    reference: Reference | None
    images: tuple[ImageReport, ...]
    base: ImageReport | None = None
    resolution: int = 1024
    lacks: tuple[str, ...] = field(default=())

    @property
    def photographic(self) -> bool:
        """False when not one picture (base included) holds a face the detector finds."""
        return self.reference is not None

    @property
    def fit(self) -> int:
        return sum(1 for r in self.images if r.fits)

    @property
    def attention(self) -> list[ImageReport]:
        return [r for r in self.images if r.finding is not Finding.SAME]

    def health(self) -> str:
        """One line: 'n of m fit', the reference and the coverage gaps."""
        if not self.images and self.base is None:
            return "no pictures"
        if not self.photographic:
            return NOT_PHOTOGRAPHIC
        ref = self.reference
        assert ref is not None
        line = f"{self.fit} of {len(self.images)} fit (reference: {ref.image}, {ref.source})"
        return line + (f"; {', '.join(self.lacks)}" if self.lacks else "")

    def to_json(self) -> dict[str, Any]:
        ref = self.reference
        return {"actor": self.actor, "photographic": self.photographic, "health": self.health(),
                "reference": {"image": ref.image, "source": ref.source} if ref else None,
                "fit": self.fit, "total": len(self.images), "lacks": list(self.lacks),
                "base": self.base.to_json() if self.base else None,
                "images": [r.to_json() for r in self.images]}


def judge_actor(actor: str, images: Mapping[str, ImageFaces], base: ImageFaces | None = None,
                resolution: int = 1024, chosen: str | None = None,
                s3_only: frozenset[str] = frozenset()) -> ActorFaces:
    """Each picture against the reference and the rest of the set; the coverage gaps."""
    base_name = f"{actor}_base"
    readable = [i for i in [*images.values(), base] if i is not None and not i.error]
    with_face = sum(1 for i in readable if i.faces)
    photographic = chosen is not None or with_face >= PHOTO_MIN_SHARE * max(1, len(readable))
    ref = reference(images, base, base_name, chosen) if photographic else None
    if ref is None:
        blind = tuple(_report(n, i, None, None, resolution, n in s3_only)
                      for n, i in images.items())
        return ActorFaces(actor, None, blind, None, resolution)
    desc = {n: closest_face(i, ref.descriptor) for n, i in images.items()}
    vecs = {n: np.asarray(f.descriptor) for n, f in desc.items() if f is not None}
    total = sum(vecs.values(), np.zeros(128))
    reports = []
    for n, img in images.items():
        loo = None
        if n in vecs and len(vecs) > 1:
            loo = float(np.linalg.norm(vecs[n] - (total - vecs[n]) / (len(vecs) - 1)))
        reports.append(_report(n, img, ref.descriptor, loo, resolution, n in s3_only))
    base_report = _report(base_name, base, ref.descriptor, None, resolution) if base else None
    return ActorFaces(actor, ref, tuple(reports), base_report, resolution,
                      tuple(coverage_gaps(reports)))


def _report(name: str, img: ImageFaces, ref: Sequence[float] | None, loo: float | None,
            resolution: int, s3_only: bool = False) -> ImageReport:
    face = closest_face(img, ref)
    if face is None:
        return ImageReport(name, 0, tuple(findings(img, ref, resolution)), None, None, None,
                           None, None, None, None, resolution, s3_only)
    return ImageReport(
        name, len(img.faces), tuple(findings(img, ref, resolution)),
        distance(face.descriptor, ref) if ref is not None else None, loo, pose_of(face),
        framing_of(face, img.height), round(face_at_resolution(img, face, resolution)),
        face.sharpness, face.box, resolution, s3_only)


def coverage_gaps(reports: Sequence[ImageReport]) -> list[str]:
    """What the fitting pictures never show: 'no profile', 'no full body', ..."""
    fitting = [r for r in reports if r.fits and r.pose is not None]
    if not fitting:
        return []
    poses = {r.pose for r in fitting}
    frames = {r.framing for r in fitting}
    gaps = []
    if not poses & {Pose.LEFT, Pose.RIGHT}:
        gaps.append("no three-quarter view")
    if Pose.PROFILE not in poses:
        gaps.append("no profile")
    if Framing.CLOSE_UP not in frames:
        gaps.append("no close-up")
    if Framing.HALF_BODY not in frames:
        gaps.append("no half body")
    if Framing.FULL_BODY not in frames:
        gaps.append("no full body")
    return gaps
