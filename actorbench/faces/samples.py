"""Score a trained version's sample images against the actor's reference identity.

Likeness of one sample: ``1 - distance / (2 * SAME_PERSON_MAX)``, clipped to 0-1: 100 % is the
reference itself, 50 % dlib's same-person cut, 0 % a distance of 1.2 or more. A sample where no
face (or more than one) is found scores as its nearest face, and a sample without a face as 0:
a LoRA that stops drawing a face is not like the actor. A checkpoint at step 0 is the
baseline (the base model without the LoRA), when the worker renders one: the gain is measured
from it. Training is above this module: versions come in as plain objects with ``id``,
``name`` and ``samples`` (dicts of step, prompt and url).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..fsutil import atomic_write_bytes
from .analyse import ImageFaces, analyse
from .judge import SAME_PERSON_MAX, closest_face, distance

SAMPLES_CACHE = ".faces-samples.json"
MAX_SAMPLE_BYTES = 40 * 1024 * 1024  # a sample is a render: anything larger is not one


class VersionLike(Protocol):
    id: str
    name: str
    samples: list[dict[str, Any]]


def likeness(d: float | None) -> float:
    return 0.0 if d is None else max(0.0, min(1.0, 1.0 - d / (2 * SAME_PERSON_MAX)))


@dataclass(frozen=True)
class SampleScore:
    step: int
    url: str
    prompt: str
    faces: int
    distance: float | None
    error: str = ""

    @property
    def likeness(self) -> float:
        return likeness(self.distance)


@dataclass(frozen=True)
class CheckpointScore:
    step: int
    likeness: float  # mean over the checkpoint's samples
    one_face: float  # share of its samples with exactly one face
    samples: int


@dataclass(frozen=True)
class VersionScore:
    version_id: str
    name: str
    samples: tuple[SampleScore, ...]
    checkpoints: tuple[CheckpointScore, ...]  # trained ones, step order (baseline apart)
    baseline: CheckpointScore | None = None

    @property
    def likeness(self) -> float | None:
        """The mean over the trained checkpoints' samples; None with no samples."""
        trained = [s for s in self.samples if s.step > 0]
        return sum(s.likeness for s in trained) / len(trained) if trained else None

    @property
    def one_face(self) -> float | None:
        trained = [s for s in self.samples if s.step > 0]
        return sum(s.faces == 1 for s in trained) / len(trained) if trained else None

    @property
    def best(self) -> CheckpointScore | None:
        """The checkpoint most like the actor (ties: more one-face samples, then later)."""
        return max(self.checkpoints, key=lambda c: (round(c.likeness, 3), c.one_face, c.step),
                   default=None)

    @property
    def gain(self) -> float | None:
        """How much more like the actor the best checkpoint is than the base model."""
        best = self.best
        return None if best is None or self.baseline is None else (
            best.likeness - self.baseline.likeness)

    def to_json(self) -> dict[str, Any]:
        best = self.best
        return {"version_id": self.version_id, "name": self.name,
                "likeness": _r(self.likeness), "one_face": _r(self.one_face),
                "best_step": best.step if best else None, "gain": _r(self.gain),
                "baseline": _r(self.baseline.likeness) if self.baseline else None,
                "checkpoints": [{"step": c.step, "likeness": _r(c.likeness),
                                 "one_face": _r(c.one_face), "samples": c.samples}
                                for c in self.checkpoints],
                "samples": [{"step": s.step, "url": s.url, "prompt": s.prompt,
                             "faces": s.faces, "distance": _r(s.distance),
                             "likeness": _r(s.likeness), "error": s.error}
                            for s in self.samples]}


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


class SampleCache:
    """Analyses of sample images by URL (a version's samples never change), one file per actor."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: dict[str, ImageFaces] = {}
        self.dirty = False
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            self.items = {k: ImageFaces.from_json(v)
                          for k, v in json.loads(path.read_text()).items()}

    def save(self) -> None:
        if self.dirty:
            body = {k: v.to_json() for k, v in sorted(self.items.items())}
            atomic_write_bytes(self.path, json.dumps(body, separators=(",", ":")).encode(),
                               durable=False)
            self.dirty = False


Fetch = Callable[[str], bytes]  # a sample's URL -> its bytes (raises OSError when it cannot)


def score_version(version: VersionLike, ref: Sequence[float], fetch: Fetch,
                  cache: SampleCache | None = None) -> VersionScore:
    """Each sample of ``version`` analysed (once: ``cache``) and measured against ``ref``."""
    scores = []
    for s in version.samples:
        url, step = str(s.get("url", "")), int(s.get("step", 0) or 0)
        img = cache.items.get(url) if cache is not None else None
        if img is None:
            try:
                data = fetch(url)
                if len(data) > MAX_SAMPLE_BYTES:
                    raise ValueError(f"{len(data)} bytes is not a sample image")
                img = analyse(data)
            except (OSError, ValueError) as e:
                scores.append(SampleScore(step, url, str(s.get("prompt", "")), 0, None,
                                          f"could not be read: {e}"))
                continue
            if cache is not None:
                cache.items[url] = img
                cache.dirty = True
        face = closest_face(img, ref)
        scores.append(SampleScore(step, url, str(s.get("prompt", "")), len(img.faces),
                                  distance(face.descriptor, ref) if face else None, img.error))
    steps = sorted({s.step for s in scores})
    cps = [_checkpoint(st, [s for s in scores if s.step == st]) for st in steps]
    baseline = next((c for c in cps if c.step == 0), None)
    return VersionScore(version.id, version.name, tuple(scores),
                        tuple(c for c in cps if c.step > 0), baseline)


def _checkpoint(step: int, samples: list[SampleScore]) -> CheckpointScore:
    n = len(samples)
    return CheckpointScore(step, sum(s.likeness for s in samples) / n,
                           sum(s.faces == 1 for s in samples) / n, n)


def suggest(scores: Sequence[VersionScore]) -> tuple[str, int] | None:
    """(version id, step) of the checkpoint most like the actor: a suggestion, never a mark."""
    best = max(((v, v.best) for v in scores if v.best is not None),
               key=lambda vb: (round(vb[1].likeness, 3), vb[1].one_face), default=None)
    return None if best is None or best[1] is None else (best[0].version_id, best[1].step)
