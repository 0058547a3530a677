"""Seeded, reproducible variations of a base image with Pillow; never mirrors a face."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageEnhance, ImageFilter


@dataclass(frozen=True)
class Variation:
    image: Image.Image
    meta: dict[str, Any]


def augment_one(base: Image.Image, seed: int, size: int) -> Variation:
    """One variation: crop and zoom, small rotation, light, colour, contrast, background tint.

    The operations are chosen so that no output is a mirror image: no transpose, no flip, no
    negative scale, rotations limited to ±10°.
    """
    rng = random.Random(seed)
    img = base.convert("RGB")
    w, h = img.size
    zoom = rng.uniform(1.0, 1.35)
    cw, ch = w / zoom, h / zoom
    cx = rng.uniform(cw / 2, w - cw / 2)
    cy = rng.uniform(ch / 2, h - ch / 2)
    box = (int(cx - cw / 2), int(cy - ch / 2), int(cx + cw / 2), int(cy + ch / 2))
    angle = rng.uniform(-10, 10)
    edge = img.getpixel((2, 2))
    img = img.crop(box).rotate(angle, resample=Image.Resampling.BICUBIC, expand=False,
                               fillcolor=edge)
    bright, contrast, color = rng.uniform(0.75, 1.25), rng.uniform(0.8, 1.2), rng.uniform(
        0.75, 1.25)
    img = ImageEnhance.Brightness(img).enhance(bright)
    img = ImageEnhance.Contrast(img).enhance(contrast)
    img = ImageEnhance.Color(img).enhance(color)
    tint = tuple(rng.randint(0, 255) for _ in range(3))
    strength = rng.uniform(0.0, 0.18)
    overlay = Image.new("RGB", img.size, tint)
    img = Image.blend(img, overlay, strength)
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    side = min(img.size)
    img = img.crop(((img.width - side) // 2, (img.height - side) // 2,
                    (img.width + side) // 2, (img.height + side) // 2))
    img = img.resize((size, size), Image.Resampling.LANCZOS)
    meta = {"seed": seed, "zoom": round(zoom, 3), "crop_box": list(box),
            "rotation_deg": round(angle, 2), "brightness": round(bright, 3),
            "contrast": round(contrast, 3), "color": round(color, 3), "tint": list(tint),
            "tint_strength": round(strength, 3), "size": size, "mirrored": False}
    return Variation(img, meta)


class AugmentBackend:
    name = "augment"

    def __init__(self, size: int = 1024) -> None:
        self.size = size

    def generate(self, base: Image.Image, count: int, seed: int,
                 options: dict[str, Any] | None = None) -> list[Variation]:
        size = int((options or {}).get("size", self.size))
        return [augment_one(base, seed * 1000 + k, size) for k in range(count)]
