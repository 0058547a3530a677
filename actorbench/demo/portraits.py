"""Synthetic portraits drawn with Pillow: one identity per actor, many poses and lightings."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

SKIN = {
    "european": (236, 200, 175), "african": (120, 80, 55), "east_asian": (240, 210, 170),
    "south_asian": (180, 130, 95), "latino": (205, 160, 120), "middle_eastern": (200, 155, 120),
    "southeast_asian": (215, 170, 125), "pacific_islander": (170, 120, 85),
}
HAIR = [(30, 20, 15), (90, 60, 30), (160, 120, 60), (200, 170, 110), (120, 40, 20),
        (60, 60, 60), (190, 190, 190)]


@dataclass(frozen=True)
class Identity:
    """What stays the same across all of one actor's images."""

    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    eye: tuple[int, int, int]
    face_w: float
    face_h: float
    long_hair: bool
    shirt: tuple[int, int, int]

    @classmethod
    def for_actor(cls, name: str, ethnicity: str | None, gender: str | None,
                  age: int | None) -> Identity:
        rng = random.Random(name)
        r, g, b = SKIN.get(ethnicity or "", (210, 170, 140))
        skin = (_clamp(r + rng.randint(-12, 12)), _clamp(g + rng.randint(-12, 12)),
                _clamp(b + rng.randint(-12, 12)))
        hair = HAIR[-1] if (age or 0) > 62 else rng.choice(HAIR[:6])
        eye = rng.choice([(60, 40, 20), (40, 90, 140), (60, 110, 70), (30, 30, 30)])
        return cls(skin, hair, eye, rng.uniform(0.26, 0.32), rng.uniform(0.36, 0.42),
                   gender == "female" and rng.random() < 0.8,
                   tuple(rng.randint(30, 220) for _ in range(3)))  # type: ignore[arg-type]


def draw_portrait(ident: Identity, variant: int, size: int = 1024) -> Image.Image:
    """Variant 0 is the base image: frontal, even light. Others shift pose, expression, light."""
    rng = random.Random(variant * 7919 + hash(ident) % 10007)
    w = h = size
    bg_top = tuple(rng.randint(90, 230) for _ in range(3)) if variant else (200, 205, 210)
    bg = Image.new("RGB", (w, h), bg_top)
    d = ImageDraw.Draw(bg)
    for y in range(0, h, 16):  # vertical gradient, cheap
        k = y / h
        col = tuple(int(c * (1 - 0.35 * k)) for c in bg_top)
        d.rectangle([0, y, w, y + 16], fill=col)
    dx = rng.uniform(-0.08, 0.08) * w if variant else 0.0
    dy = rng.uniform(-0.04, 0.05) * h if variant else 0.0
    zoom = rng.uniform(0.85, 1.15) if variant else 1.0
    cx, cy = w / 2 + dx, h * 0.45 + dy
    fw, fh = ident.face_w * w * zoom, ident.face_h * h * zoom
    # shoulders and shirt
    d.ellipse([cx - fw * 1.9, cy + fh * 0.85, cx + fw * 1.9, cy + fh * 2.6], fill=ident.shirt)
    d.rectangle([cx - fw * 0.28, cy + fh * 0.4, cx + fw * 0.28, cy + fh * 1.0], fill=ident.skin)
    # hair behind
    if ident.long_hair:
        d.rounded_rectangle([cx - fw * 0.62, cy - fh * 0.55, cx + fw * 0.62, cy + fh * 0.9],
                            radius=int(fw * 0.4), fill=ident.hair)
    # face
    d.ellipse([cx - fw / 2, cy - fh / 2, cx + fw / 2, cy + fh / 2], fill=ident.skin)
    d.chord([cx - fw * 0.53, cy - fh * 0.58, cx + fw * 0.53, cy + fh * 0.05], 180, 360,
            fill=ident.hair)
    # gaze/pose: eyes and nose move with a yaw that is not symmetric
    yaw = rng.uniform(-0.12, 0.18) * fw if variant else 0.0
    ey = cy - fh * 0.05
    for side in (-1, 1):
        ex = cx + side * fw * 0.2 + yaw
        d.ellipse([ex - fw * 0.08, ey - fh * 0.035, ex + fw * 0.08, ey + fh * 0.035],
                  fill=(250, 250, 250))
        d.ellipse([ex - fw * 0.035, ey - fh * 0.03, ex + fw * 0.035, ey + fh * 0.03],
                  fill=ident.eye)
        d.line([ex - fw * 0.1, ey - fh * 0.09, ex + fw * 0.1, ey - fh * 0.1 - side * 3],
               fill=ident.hair, width=max(2, int(fw * 0.025)))
    d.polygon([(cx + yaw * 1.3, ey + fh * 0.03), (cx + yaw * 1.3 - fw * 0.06, cy + fh * 0.16),
               (cx + yaw * 1.3 + fw * 0.03, cy + fh * 0.17)],
              fill=tuple(int(c * 0.85) for c in ident.skin))
    smile = rng.uniform(-0.04, 0.1) if variant else 0.04
    my = cy + fh * 0.28
    d.arc([cx + yaw - fw * 0.16, my - fh * 0.06 - smile * fh, cx + yaw + fw * 0.16,
           my + fh * 0.06 + smile * fh], 10, 170, fill=(150, 60, 60),
          width=max(2, int(fw * 0.03)))
    # a mole on one cheek makes the face asymmetric: a mirrored image is detectably different
    d.ellipse([cx + fw * 0.22 + yaw, cy + fh * 0.12, cx + fw * 0.25 + yaw, cy + fh * 0.15],
              fill=tuple(int(c * 0.6) for c in ident.skin))
    img = bg
    if variant:
        angle = rng.uniform(-8, 8)
        img = img.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=bg_top)
        img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.75, 1.25))
        img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.85, 1.2))
    return img.filter(ImageFilter.SMOOTH)


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _clamp(c: int) -> int:
    return max(0, min(255, c))
