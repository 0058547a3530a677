"""Dataset checks before launch, as blockers and warnings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ..sync.plan import ActorPlan, ImageStatus, owed_to_s3
from ..sync.plan import in_s3 as is_in_s3
from ..thumbs import BadImage, open_image

MIN_IMAGES, GOOD_IMAGES = 10, 14
NEAR_DUPLICATE_BITS = 6  # of 256 dHash bits: at or below this is "the same picture"


@dataclass(frozen=True)
class Finding:
    level: str  # "blocker" | "warning"
    code: str
    message: str
    indices: tuple[int, ...] = ()


@dataclass
class Validation:
    findings: list[Finding]
    images: int

    @property
    def blockers(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "blocker"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.blockers


def dhash(img: Image.Image, size: int = 16) -> int:
    """Difference hash: robust to scaling and mild brightness change."""
    g = img.convert("L").resize((size + 1, size), Image.Resampling.BILINEAR)
    px = list(g.getdata())
    bits = 0
    for row in range(size):
        for col in range(size):
            left, right = px[row * (size + 1) + col], px[row * (size + 1) + col + 1]
            # a small margin keeps flat regions (equal neighbours) stable under light changes
            bits = (bits << 1) | (left > right + 2)
    return bits


def validate_dataset(plan: ActorPlan, resolution: int) -> Validation:
    """Checks the images the worker will read: all must be in S3; local copies are inspected."""
    findings: list[Finding] = []
    # an invalid image is judged by where its content is (``compared``); it is inspected below
    in_s3 = [c for c in plan.changes if is_in_s3(c)]
    n = len(in_s3)
    if n < MIN_IMAGES:
        findings.append(Finding("blocker", "too_few", f"Only {n} images in S3: at least "
                                f"{MIN_IMAGES} are needed (14-20 recommended)."))
    elif n < GOOD_IMAGES:
        findings.append(Finding("warning", "few", f"{n} images: {GOOD_IMAGES}-20 give a more "
                                "faithful identity."))
    not_in_s3 = [c for c in plan.changes if owed_to_s3(c)]
    if not_in_s3:
        findings.append(Finding("blocker", "not_in_s3",
                                f"{len(not_in_s3)} local images are not in S3 yet (the worker "
                                "reads S3): Sync to S3 first.",
                                tuple(c.index for c in not_in_s3)))
    missing = plan.by_status(ImageStatus.MISSING)
    if missing:
        findings.append(Finding("warning", "missing", f"{len(missing)} images listed in "
                                "response.json exist nowhere.", tuple(c.index for c in missing)))
    unchecked = [c.index for c in in_s3 if c.local is None or c.status is not ImageStatus.SYNCED]
    if unchecked:
        findings.append(Finding("warning", "unchecked", f"{len(unchecked)} images are only in "
                                "S3 and were not inspected: Sync from S3 to check them.",
                                tuple(unchecked)))
    corrupt: list[int] = []
    small: list[int] = []
    ratios: dict[float, list[int]] = {}
    md5s: dict[str, list[int]] = {}
    hashes: list[tuple[int, int]] = []
    for c in plan.changes:
        if c.local is None:
            continue
        path: Path = c.local.path
        try:
            img = open_image(path, path.name)
        except BadImage:
            corrupt.append(c.index)
            continue
        w, h = img.size
        if min(w, h) < resolution:
            small.append(c.index)
        ratios.setdefault(round(w / h, 2), []).append(c.index)
        md5s.setdefault(hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest(),
                        []).append(c.index)
        hashes.append((c.index, dhash(img)))
    if corrupt:
        findings.append(Finding("blocker", "corrupt", f"{len(corrupt)} files cannot be read as "
                                "images.", tuple(corrupt)))
    if small:
        findings.append(Finding("warning", "small", f"{len(small)} images have a short side "
                                f"below the training resolution ({resolution} px): they are "
                                "upscaled or dropped by the trainer.", tuple(small)))
    exact = [tuple(v) for v in md5s.values() if len(v) > 1]
    for group in exact:
        findings.append(Finding("warning", "duplicate", f"Images {', '.join(map(str, group))} "
                                "are identical files.", group))
    exact_pairs = {frozenset(p) for g in exact for p in _pairs(g)}
    near = []
    for i, (ia, ha) in enumerate(hashes):
        for ib, hb in hashes[i + 1:]:
            if bin(ha ^ hb).count("1") <= NEAR_DUPLICATE_BITS and \
                    frozenset((ia, ib)) not in exact_pairs:
                near.append((ia, ib))
    for a, b in near:
        findings.append(Finding("warning", "near_duplicate", f"Images {a} and {b} look almost "
                                "the same (perceptual hash): vary pose, expression or light.",
                                (a, b)))
    if len(ratios) > 1:
        desc = ", ".join(f"{r}:1 ×{len(v)}" for r, v in sorted(ratios.items()))
        findings.append(Finding("warning", "mixed_aspect", f"Mixed aspect ratios ({desc}): "
                                "the trainer buckets them; crop to one ratio for best results."))
    return Validation(findings, n)


def _pairs(group: tuple[int, ...]) -> list[tuple[int, int]]:
    return [(a, b) for i, a in enumerate(group) for b in group[i + 1:]]
