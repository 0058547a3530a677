"""An img2img backend speaking the AUTOMATIC1111 web UI API (``POST /sdapi/v1/img2img``)."""

from __future__ import annotations

import base64
import io
import random
import time
from typing import Any

import requests
from PIL import Image

from ..errors import ActorbenchError
from ..thumbs import BadImage, open_image
from .augment import Variation

POSES = ["three-quarter view, head turned slightly left", "profile view facing right",
         "looking over the shoulder", "head tilted, looking up", "frontal portrait"]
EXPRESSIONS = ["gentle smile", "neutral expression", "laughing", "serious look",
               "surprised expression"]
LIGHTING = ["soft window light", "golden hour sunlight", "studio softbox lighting",
            "overcast daylight", "warm indoor lamp light"]
NEGATIVE = ("different person, deformed face, extra limbs, blurry, lowres, watermark, text, "
            "mirrored, cartoon")


def prompt_for(k: int, rng: random.Random, trigger: str) -> str:
    return (f"photo of {trigger}, {rng.choice(POSES)}, {rng.choice(EXPRESSIONS)}, "
            f"{rng.choice(LIGHTING)}, same person, detailed skin, sharp focus")


class Img2ImgError(ActorbenchError):
    """The img2img service failed or answered something unusable."""


class Img2ImgBackend:
    """Usage::

        backend = Img2ImgBackend("http://127.0.0.1:7860")
        variations = backend.generate(base_image, count=4, seed=1)
    """

    name = "img2img"

    def __init__(self, url: str | None, session: requests.Session | None = None,
                 timeout: float = 120.0, attempts: int = 3, backoff_s: float = 0.5) -> None:
        if not url:
            raise ActorbenchError("No img2img service: set ACTORBENCH_IMG2IMG_URL (an "
                                  "AUTOMATIC1111 web UI started with --api).")
        self.url = url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout, self.attempts, self.backoff_s = timeout, attempts, backoff_s

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        last = ""
        for attempt in range(self.attempts):
            try:
                r = self.session.post(f"{self.url}/sdapi/v1/img2img", json=payload,
                                      timeout=self.timeout)
            except requests.Timeout:
                last = f"no answer within {self.timeout:.0f} s"
            except requests.ConnectionError:
                last = f"cannot reach {self.url}"
            else:
                if r.status_code < 500:
                    if r.status_code >= 400:
                        raise Img2ImgError(f"img2img service refused the request: HTTP "
                                           f"{r.status_code} {r.text[:200]}")
                    try:
                        data = r.json()
                    except ValueError:
                        raise Img2ImgError("img2img service answered something that is not "
                                           "JSON.") from None
                    images = data.get("images") if isinstance(data, dict) else None
                    # only the first image is used; nothing else of the answer is kept
                    if not isinstance(images, list) or not images:
                        raise Img2ImgError("img2img service answered without images.")
                    if not isinstance(images[0], str):
                        raise Img2ImgError("img2img service answered an image that is not "
                                           "base64 text.")
                    return data
                last = f"HTTP {r.status_code}"
            if attempt + 1 < self.attempts:
                time.sleep(self.backoff_s * 2 ** attempt)
        raise Img2ImgError(f"img2img service failed after {self.attempts} attempts: {last}.")

    def generate(self, base: Image.Image, count: int, seed: int,
                 options: dict[str, Any] | None = None) -> list[Variation]:
        opts = options or {}
        size = int(opts.get("size", 1024))
        trigger = str(opts.get("trigger_word", "a person"))
        strength = float(opts.get("denoising_strength", 0.45))
        buf = io.BytesIO()
        base.convert("RGB").save(buf, format="PNG")
        init = base64.b64encode(buf.getvalue()).decode()
        rng = random.Random(seed)
        out = []
        for k in range(count):
            prompt = str(opts.get("prompt") or prompt_for(k, rng, trigger))
            img_seed = seed * 1000 + k
            payload = {"init_images": [init], "prompt": prompt, "negative_prompt": NEGATIVE,
                       "denoising_strength": strength, "seed": img_seed, "width": size,
                       "height": size, "steps": int(opts.get("steps", 30)),
                       "cfg_scale": float(opts.get("cfg_scale", 6.5)),
                       "sampler_name": str(opts.get("sampler", "DPM++ 2M"))}
            data = self._post(payload)
            try:
                raw = base64.b64decode(data["images"][0], validate=False)
                img = open_image(raw, "img2img result")
            except (BadImage, ValueError, TypeError) as exc:
                raise Img2ImgError(f"img2img service returned an unreadable image ({exc}).") \
                    from None
            out.append(Variation(img.convert("RGB"), {
                "seed": img_seed, "prompt": prompt, "negative_prompt": NEGATIVE,
                "denoising_strength": strength, "size": size, "steps": payload["steps"],
                "cfg_scale": payload["cfg_scale"], "sampler": payload["sampler_name"]}))
        return out
