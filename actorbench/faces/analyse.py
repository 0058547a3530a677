"""Measure the faces in one picture: boxes, 5 landmarks, 128-d descriptors, sharpness.

Only measurements live here (they are what the cache keeps); what they mean (pose, framing,
findings) is judged in ``judge.py``, so a changed threshold never needs a new analysis.
Detection runs on a copy about ``DETECT_SIDE`` px on the long side (the HOG detector's time
grows with the pixel count); landmarks and descriptors are taken at full resolution.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from .models import USE, load

ANALYSIS_VERSION = 3  # a new measurement: caches of another version are analysed again
# The detector sees a copy DETECT_SIDE px on the long side, first as it is (faces from ~80 px,
# 10 % of the side: 0.1-0.2 s), then, only when that finds none, upsampled once (faces from
# ~40 px, 5 %: 3-4x the time). Measured on the portraits of actorbench.demo.photos.
DETECT_SIDE = 800
# A face whose crop is mostly flat (Laplacian below 0.5 on 55-90 % of its pixels) is drawn,
# not photographed: it is counted in ``drawn``, not in ``faces``. Checked: the HOG detector
# finds a "face" in about one painted demo portrait in ten (58 found in 328 tried); their crops
# are 0.55-0.90 flat; the six photographs and their retouched, shrunk copies 0.015-0.05, a
# Gaussian blur of radius 3 px 0.23.
DRAWN_FLAT_MIN = 0.4
SHARPNESS_SIDE = 128  # a larger face crop is shrunk to this before the Laplacian: sizes compare


@dataclass(frozen=True)
class Face:
    """One face: box (left, top, right, bottom) and landmarks in full-resolution pixels."""

    box: tuple[int, int, int, int]
    landmarks: tuple[tuple[float, float], ...]
    descriptor: tuple[float, ...]
    sharpness: float
    score: float = 0.0

    @property
    def side(self) -> int:
        """The box's short side (px): the face's size."""
        left, top, right, bottom = self.box
        return min(right - left, bottom - top)

    def to_json(self) -> dict[str, Any]:
        return {"box": list(self.box), "landmarks": [list(p) for p in self.landmarks],
                # float32 in base64: a library's caches parse in a fraction of the time
                "descriptor": base64.b64encode(
                    np.asarray(self.descriptor, dtype="<f4").tobytes()).decode(),
                "sharpness": round(self.sharpness, 2), "score": round(self.score, 3)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Face:
        box = tuple(int(v) for v in raw["box"])
        marks = tuple((float(p[0]), float(p[1])) for p in raw["landmarks"])
        desc = tuple(np.frombuffer(base64.b64decode(raw["descriptor"], validate=True),
                                   dtype="<f4").tolist())
        if len(box) != 4 or len(marks) != 5 or len(desc) != 128:
            raise ValueError("a cached face has the wrong shape")
        return cls((box[0], box[1], box[2], box[3]), marks, desc, float(raw["sharpness"]),
                   float(raw.get("score", 0.0)))


@dataclass(frozen=True)
class ImageFaces:
    """What one picture holds; ``faces`` largest first."""

    md5: str
    width: int
    height: int
    faces: tuple[Face, ...] = field(default=())
    error: str = ""  # the picture could not be decoded: said, never raised in a scan
    drawn: int = 0  # faces the detector found that are drawn (flat), not in ``faces``

    @property
    def main(self) -> Face | None:
        return self.faces[0] if self.faces else None

    def to_json(self) -> dict[str, Any]:
        return {"v": ANALYSIS_VERSION, "md5": self.md5, "width": self.width,
                "height": self.height, "faces": [f.to_json() for f in self.faces],
                "error": self.error, "drawn": self.drawn}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ImageFaces:
        if raw.get("v") != ANALYSIS_VERSION:
            raise ValueError("cached analysis of another version")
        return cls(str(raw["md5"]), int(raw["width"]), int(raw["height"]),
                   tuple(Face.from_json(f) for f in raw["faces"]), str(raw.get("error", "")),
                   int(raw.get("drawn", 0)))


def md5_of(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def analyse(image: bytes | Path | Image.Image, md5: str = "") -> ImageFaces:
    """Find, landmark and describe every face of ``image`` (bytes, a path or a PIL image)."""
    if isinstance(image, Path):
        image = image.read_bytes()
    if isinstance(image, bytes):
        md5 = md5 or md5_of(image)
        try:
            with Image.open(io.BytesIO(image)) as opened:
                pic = ImageOps.exif_transpose(opened).convert("RGB")
        except (OSError, ValueError, Image.DecompressionBombError,
                Image.DecompressionBombWarning) as e:  # the warning: when warnings are errors
            return ImageFaces(md5, 0, 0, (), f"not a readable picture ({type(e).__name__})")
    else:
        pic = image.convert("RGB")
    return _analyse_rgb(pic, md5)


def _analyse_rgb(pic: Image.Image, md5: str) -> ImageFaces:
    with USE:  # one thread at a time in dlib (see models.USE)
        return _analyse_locked(pic, md5)


def _analyse_locked(pic: Image.Image, md5: str) -> ImageFaces:
    m = load()
    full = np.asarray(pic)
    scale = min(1.0, DETECT_SIDE / max(pic.size))
    small = full if scale == 1.0 else np.asarray(
        pic.resize((max(1, round(pic.width * scale)), max(1, round(pic.height * scale))),
                   Image.Resampling.BILINEAR))
    rects, scores, _ = m.detector.run(small, 0, 0.0)
    if not rects:
        rects, scores, _ = m.detector.run(small, 1, 0.0)
    gray = np.asarray(pic.convert("L"), dtype=np.float32)
    faces = []
    drawn = 0
    for rect, score in zip(rects, scores, strict=True):
        box = (max(0, math.floor(rect.left() / scale)), max(0, math.floor(rect.top() / scale)),
               min(pic.width, math.ceil(rect.right() / scale)),
               min(pic.height, math.ceil(rect.bottom() / scale)))
        if box[2] - box[0] < 4 or box[3] - box[1] < 4:
            continue
        if flatness(gray, box) >= DRAWN_FLAT_MIN:
            drawn += 1
            continue
        shape = m.landmarks(full, m.dlib.rectangle(*box))
        desc = m.descriptor.compute_face_descriptor(full, shape)
        faces.append(Face(box, tuple((float(p.x), float(p.y)) for p in shape.parts()),
                          tuple(float(v) for v in desc), sharpness(gray, box), float(score)))
    faces.sort(key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    return ImageFaces(md5, pic.width, pic.height, tuple(faces), drawn=drawn)


def _laplacian(a: np.ndarray) -> np.ndarray:
    return a[1:-1, :-2] + a[1:-1, 2:] + a[:-2, 1:-1] + a[2:, 1:-1] - 4 * a[1:-1, 1:-1]


def flatness(gray: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """The share of the face crop's pixels where the Laplacian is ~0: flat paint."""
    left, top, right, bottom = box
    lap = _laplacian(gray[top:bottom, left:right])
    return float((np.abs(lap) < 0.5).mean()) if lap.size else 1.0


def sharpness(gray: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Variance of the Laplacian of the face crop, shrunk to at most ``SHARPNESS_SIDE`` px."""
    left, top, right, bottom = box
    side = min(SHARPNESS_SIDE, right - left, bottom - top)  # shrunk, never enlarged: an
    crop = Image.fromarray(gray[top:bottom, left:right]).resize(  # enlarged face looks soft
        (side, side), Image.Resampling.BILINEAR)
    return float(_laplacian(np.asarray(crop, dtype=np.float32)).var())
