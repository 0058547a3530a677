"""Dataset checks before launch, as blockers and warnings."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from ..captions import Caption, Carried, carried, fixed_trait_phrases, has_trigger, normalise
from ..captions.overview import SHORTENED
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


@dataclass(frozen=True)
class CaptionInput:
    """What the caption checks read: the captions on disk, the actor's trigger word, the
    drafts used where there is no caption, and the actor's own trait words (its facets)."""

    captions: dict[int, Caption]
    trigger: str
    drafts: dict[int, str] = field(default_factory=dict)
    traits: tuple[str, ...] = ()


@dataclass
class Validation:
    findings: list[Finding]
    images: int
    #: the caption the job carries per image, and its source (empty: captions not checked)
    captions: dict[int, Carried] = field(default_factory=dict)

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


def validate_dataset(plan: ActorPlan, resolution: int, captions: CaptionInput | None = None
                     ) -> Validation:
    """Checks the images the worker will read: all must be in S3; local copies are inspected.
    With ``captions``, the captions the job will carry are checked too (``check_captions``)."""
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
    if captions is None:
        return Validation(findings, n)
    sent = carried([c.index for c in in_s3], captions.captions, captions.drafts,
                   captions.trigger)
    findings += check_captions(sent, captions.captions, captions.trigger, captions.traits)
    stale = [c.index for c in plan.captions if c.index in sent and c.status in (
        ImageStatus.S3_ONLY, ImageStatus.REMOTE_MODIFIED, ImageStatus.CONFLICT)]
    if stale:
        findings.append(Finding("warning", "caption_not_pulled", f"{_n(stale, 'caption')} "
                                f"changed in S3 and are not here ({_images(stale)}): the job "
                                "carries this workstation's: Sync from S3 first.",
                                tuple(stale)))
    return Validation(findings, n, sent)


def _n(indices: list[int] | tuple[int, ...], what: str) -> str:
    return f"{len(indices)} {what}{'s' if len(indices) != 1 else ''}"


def _images(indices: Iterable[int]) -> str:
    ids = sorted(indices)
    return f"image{'s' if len(ids) != 1 else ''} {', '.join(map(str, ids))}"


def check_captions(sent: dict[int, Carried], captions: dict[int, Caption], trigger: str,
                   traits: Iterable[str] = ()) -> list[Finding]:
    """The captions of the images a job carries, in words with the images named: missing
    (their draft is used), unusable, empty, without the trigger, the same as another, or
    naming a fixed trait in most captions (an identity leak: see ``captions.traits``)."""
    out: list[Finding] = []
    missing = [i for i in sent if i not in captions]
    if missing:
        example = sent[missing[0]].text
        out.append(Finding("warning", "captions_missing", f"{_n(missing, 'image')} "
                           f"{'have' if len(missing) != 1 else 'has'} no caption "
                           f"({_images(missing)}): the draft will be used (e.g. "
                           f"\"{example}\").", tuple(missing)))
    unusable = [i for i in sent if i in captions and captions[i].problem]
    for i in unusable:
        out.append(Finding("warning", "caption_unusable", f"The caption of image {i} cannot "
                           f"be used ({captions[i].problem}): the draft is sent instead.", (i,)))
    cut = [i for i, c in sent.items() if c.source.endswith(SHORTENED)]
    if cut:
        out.append(Finding("warning", "caption_shortened", f"{_n(cut, 'caption')} "
                           f"({_images(cut)}) would pass 1000 characters with the trigger "
                           "put first: the last tags are left out of the job.", tuple(cut)))
    written = {i: captions[i].text for i in sent if i in captions and not captions[i].problem}
    empty = [i for i, t in written.items() if not normalise(t)]
    if empty:
        out.append(Finding("warning", "empty_caption", f"{_n(empty, 'caption')} "
                           f"{'are' if len(empty) != 1 else 'is'} empty ({_images(empty)}): "
                           "the image is sent with the trigger word alone.", tuple(empty)))
    texts = {i: normalise(t) for i, t in written.items() if normalise(t)}
    no_trigger = [i for i, t in texts.items() if not has_trigger(t, trigger)]
    if no_trigger:
        out.append(Finding("warning", "trigger_missing", f"The trigger word \"{trigger}\" is "
                           f"missing from {_n(no_trigger, 'caption')} ({_images(no_trigger)}): "
                           "it is put first when the job is sent; write it in to see what "
                           "the trainer reads.", tuple(no_trigger)))
    same: dict[str, list[int]] = {}
    for i, t in texts.items():
        same.setdefault(t.lower(), []).append(i)
    for group in (g for g in same.values() if len(g) > 1):
        out.append(Finding("warning", "duplicate_caption", f"{_images(group).capitalize()} "
                           f"have the same caption (\"{texts[group[0]]}\"): say what differs "
                           "between them (pose, framing, expression, light).", tuple(group)))
    phrases: dict[str, set[int]] = {}
    extra = list(traits)
    for i, t in texts.items():
        for p in fixed_trait_phrases(t, extra):
            phrases.setdefault(p, set()).add(i)
    for phrase, where in sorted(phrases.items()):
        if len(where) >= 3 and len(where) * 2 > len(texts):
            out.append(Finding(
                "warning", "identity_leak", f"\"{phrase}\" names a fixed trait and is in "
                f"{len(where)} of {len(texts)} captions ({_images(where)}): the LoRA learns it "
                "as the caption's words instead of the trigger's, and the bare trigger renders "
                "a generic person. Leave fixed traits out of captions.",
                tuple(sorted(where))))
    return out


def _pairs(group: tuple[int, ...]) -> list[tuple[int, int]]:
    return [(a, b) for i, a in enumerate(group) for b in group[i + 1:]]
