"""Generate new training images under the next free indices, recorded in request.json."""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..actors.registry import read_json
from ..clock import now_iso
from ..errors import ActorbenchError, RegistryError
from ..fsutil import atomic_write_json, dir_lock, fsync_dir, write_temp
from ..thumbs import open_image
from .augment import AugmentBackend
from .img2img import Img2ImgBackend

if TYPE_CHECKING:
    from ..workbench import Workbench  # passed in: the service needs no import of it


@dataclass
class GenerateResult:
    actor: str
    backend: str
    indices: list[int] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"actor": self.actor, "backend": self.backend, "generated": len(self.indices),
                "indices": self.indices, "paths": self.paths, "seconds": round(self.seconds, 2)}


def make_backend(name: str, wb: Workbench) -> Any:
    if name == "augment":
        return AugmentBackend()
    if name == "img2img":
        return Img2ImgBackend(wb.settings.img2img_url)
    raise ActorbenchError(f"Unknown backend {name!r}: use augment or img2img.")


def next_free_index(wb: Workbench, actor: str) -> int:
    """Above every index seen locally, in S3, in the manifest or in response.json, and
    every caption's (a caption left without its image must not caption a new one)."""
    from ..storage.layout import caption_name_re

    plan = wb.engine.plan([actor])[actor]
    captioned = caption_name_re(actor)
    used = {c.index for c in plan.changes} | {
        int(m.group(1)) for u in plan.unrecognised if (m := captioned.match(u.name))}
    return max(used, default=-1) + 1


def write_new(path: Path, data: bytes) -> bool:
    """Write ``data`` at ``path`` only if nothing is there (link is atomic and never clobbers)."""
    tmp = write_temp(path, data)
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        fsync_dir(path.parent)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def generate_images(wb: Workbench, actor_ref: str, count: int, backend: str = "augment",
                    seed: int = 0, options: dict[str, Any] | None = None,
                    progress: Callable[[int, int], None] | None = None,
                    backend_impl: Any = None) -> GenerateResult:
    if not 1 <= count <= 100:
        raise ActorbenchError("count must be between 1 and 100.")
    actor = wb.registry.get(actor_ref)
    name = actor.name
    base_path = wb.layout.base_image_path(name)
    if not base_path.exists():
        raise ActorbenchError(f"{name} has no base image at {base_path}.")
    req_path = wb.layout.request_json(name)
    request: dict[str, Any] = {}
    if req_path.exists():  # refuse a malformed record before doing any work
        request = read_json(req_path)
        if not isinstance(request, dict):
            raise RegistryError(req_path, "must hold a JSON object")
    base = open_image(base_path, base_path.name)
    impl = backend_impl or make_backend(backend, wb)
    t0 = time.perf_counter()
    result = GenerateResult(name, impl.name)
    opts = dict(options or {})
    variations = impl.generate(base, count, seed, opts)
    with dir_lock(wb.layout.actor_dir(name), what=f"actor {name}"):
        index = next_free_index(wb, name)
        wb.layout.training_dir(name).mkdir(parents=True, exist_ok=True)
        records = []
        for k, var in enumerate(variations):
            buf = io.BytesIO()
            var.image.save(buf, format="PNG")
            while not write_new(wb.layout.image_path(name, index), buf.getvalue()):
                index += 1  # someone else took it: never overwrite
            result.indices.append(index)
            result.paths.append(str(wb.layout.image_path(name, index)))
            records.append({"index": index, **var.meta})
            index += 1
            if progress:
                progress(k + 1, count)
        result.seconds = time.perf_counter() - t0
        if req_path.exists():
            request = read_json(req_path)
            if not isinstance(request, dict):
                raise RegistryError(req_path, "must hold a JSON object")
        runs = request.get("generation_runs")
        if not isinstance(runs, list):
            runs = []
        runs.append({"backend": impl.name, "count": count, "seed": seed, "options": opts,
                     "created_at": now_iso(), "seconds": round(result.seconds, 2),
                     "base_image": base_path.name, "images": records})
        request["generation_runs"] = runs
        atomic_write_json(req_path, request)
    return result
