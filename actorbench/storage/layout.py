"""The on-disk layout and S3 key scheme of an actor's data."""

from __future__ import annotations

import contextlib
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ..actors.model import check_actor_name
from ..errors import UnsafePathError


@dataclass(frozen=True)
class Layout:
    """Paths under ``data_dir`` and keys under ``prefix`` for one library.

    Usage::

        lay = Layout(Path("data"), "system_actors/training_data")
        lay.image_path("0002_european_35_female", 3)   # .../training_data/..._3.png
        lay.image_key("0002_european_35_female", 3)    # system_actors/.../..._3.png
    """

    data_dir: Path
    prefix: str

    # -- local ---------------------------------------------------------------------------
    def actor_dir(self, name: str) -> Path:
        return self.data_dir / "actors" / check_actor_name(name)

    def base_image_path(self, name: str) -> Path:
        return self.actor_dir(name) / "base_image" / f"{name}_base.png"

    def training_dir(self, name: str) -> Path:
        return self.actor_dir(name) / "training_data"

    def image_path(self, name: str, index: int) -> Path:
        return self.training_dir(name) / image_filename(name, index)

    def caption_path(self, name: str, index: int) -> Path:
        """``{name}_{i}.txt`` beside the image: the file every LoRA trainer reads."""
        return self.training_dir(name) / caption_filename(name, index)

    def captions_record(self, name: str) -> Path:
        """Who wrote each caption and when (not beside the images: trainers read that folder)."""
        return self.actor_dir(name) / ".captions.json"

    def request_json(self, name: str) -> Path:
        return self.training_dir(name) / "request.json"

    def response_json(self, name: str) -> Path:
        return self.training_dir(name) / "response.json"

    def poster_json(self, name: str) -> Path:
        return self.actor_dir(name) / "poster_frame" / f"{name}_poster_urls.json"

    def manifest_path(self, name: str) -> Path:
        return self.actor_dir(name) / ".sync-manifest.json"

    def hash_cache_path(self, name: str) -> Path:
        return self.actor_dir(name) / ".hash-cache.json"

    def thumbs_dir(self) -> Path:
        return self.data_dir / ".cache" / "thumbs"

    def versions_path(self, actor_id: str | int) -> Path:
        sid = str(actor_id)
        if not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", sid):
            raise UnsafePathError(f"Actor id {sid!r} cannot name a file.")
        return self.data_dir / "actor_training_versions" / f"{sid}.json"

    def local_images(self, name: str) -> dict[int, Path]:
        """Training images on disk, by index: regular files named ``{name}_{i}.png`` only
        (a symlink is never followed)."""
        folder = self.training_dir(name)
        out: dict[int, Path] = {}
        if not folder.is_dir():
            return out
        pat = image_name_re(name)
        for p in folder.iterdir():
            m = pat.match(p.name)
            with contextlib.suppress(FileNotFoundError):
                if m and stat.S_ISREG(p.lstat().st_mode):
                    out[int(m.group(1))] = p
        return out

    # -- remote --------------------------------------------------------------------------
    def actor_prefix(self, name: str) -> str:
        return f"{self.prefix}/{check_actor_name(name)}/"

    def image_key(self, name: str, index: int) -> str:
        return self.actor_prefix(name) + image_filename(name, index)

    def caption_key(self, name: str, index: int) -> str:
        return self.actor_prefix(name) + caption_filename(name, index)

    def parse_image_key(self, key: str) -> tuple[str, int] | None:
        """``(actor, index)`` for a training-image key of this library, else None."""
        if not key.startswith(self.prefix + "/"):
            return None
        rest = key[len(self.prefix) + 1:]
        parts = rest.split("/")
        if len(parts) != 2:
            return None
        actor, fname = parts
        m = image_name_re(actor).match(fname) if _safe(actor) else None
        return (actor, int(m.group(1))) if m else None


def lora_prefix(training_prefix: str) -> str:
    """Trained LoRAs live beside the training data: ``system_actors/loras``."""
    parent = training_prefix.rstrip("/").rsplit("/", 1)[0] if "/" in training_prefix else ""
    return f"{parent}/loras" if parent else "loras"


def _safe(name: str) -> bool:
    try:
        check_actor_name(name)
        return True
    except UnsafePathError:
        return False


def image_filename(name: str, index: int) -> str:
    if not isinstance(index, int) or index < 0 or index > 99999:
        raise UnsafePathError(f"Image index {index!r} must be a whole number from 0 to 99999.")
    return f"{name}_{index}.png"


def image_name_re(name: str) -> re.Pattern[str]:
    """``{name}_{i}.png`` spelt the one way ``image_filename`` spells it.

    ASCII digits without leading zeros: ``_07.png``, or ``_3.png`` with an Arabic-Indic 3,
    would otherwise be taken for image 7 or 3 and synced over it. ``\\Z``, not ``$``, which
    also matches before a trailing newline.
    """
    return re.compile(rf"{re.escape(name)}_(0|[1-9][0-9]{{0,4}})\.png\Z", re.ASCII)


def caption_filename(name: str, index: int) -> str:
    """``{name}_{i}.txt``: the caption of image ``i`` (same index rules as the image)."""
    return image_filename(name, index).removesuffix(".png") + ".txt"


def caption_name_re(name: str) -> re.Pattern[str]:
    """``{name}_{i}.txt`` spelt canonically, like ``image_name_re``."""
    return re.compile(rf"{re.escape(name)}_(0|[1-9][0-9]{{0,4}})\.txt\Z", re.ASCII)
