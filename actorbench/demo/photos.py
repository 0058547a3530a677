"""Real photographs for the face checks, fetched from the package index, never committed.

The ``face_recognition`` 1.3.0 source distribution (MIT) carries, in ``tests/test_images/``,
photographs of Barack Obama and Joe Biden; the portraits among them are official US government
portraits (works of the federal government: public domain in the US), the others come from the
project's tests without a stated source. Their provenance is not verified one by one, so they
are not committed here: ``fetch_photos`` downloads the sdist with pip (pinned by SHA-256),
checks each file's MD5 and keeps them in a cache folder.

Run ``python -m actorbench.demo.photos`` to fetch them (``make`` does).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

from ..errors import ActorbenchError
from ..fsutil import atomic_write_bytes

SDIST = "face-recognition==1.3.0"
SDIST_FILE = "face_recognition-1.3.0.tar.gz"
SDIST_SHA256 = "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec"
MEMBER_DIR = "face_recognition-1.3.0/tests/test_images/"
# name -> MD5 of the file in the sdist: what is stored is what was checked
PHOTOS = {
    "obama.jpg": "1bee11bec6fa8a197b379c7496aad1ec",
    "obama2.jpg": "b7c253ca33e9f91b5332bb7e5f0427fd",
    "obama3.jpg": "392cfef68c91693db917c1c71d6192fb",
    "obama_partial_face.jpg": "f0f6555f1a6d1bfe56783959843e6f0a",
    "obama_partial_face2.jpg": "c05da17667d1233cdfe5b03fa17f1101",
    "biden.jpg": "1795cef31f07af5e48b683abb5f0789c",
}


class PhotosUnavailable(ActorbenchError):
    """The photographs could not be fetched (offline, or the file was not the expected one)."""


def photos_dir() -> Path:
    """``$ACTORBENCH_PHOTOS`` or ``$XDG_CACHE_HOME/actorbench/face-photos``."""
    if os.environ.get("ACTORBENCH_PHOTOS"):
        return Path(os.environ["ACTORBENCH_PHOTOS"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "actorbench" / "face-photos"


def _have(folder: Path) -> bool:
    return all((folder / n).is_file() and
               hashlib.md5((folder / n).read_bytes(), usedforsecurity=False).hexdigest() == h
               for n, h in PHOTOS.items())


def fetch_photos(folder: Path | None = None, timeout: float = 180) -> dict[str, Path]:
    """The photographs by name, downloaded once (``pip download`` of the sdist) and checked."""
    folder = folder or photos_dir()
    if not _have(folder):
        _download(folder, timeout)
    return {n: folder / n for n in PHOTOS}


def _download(folder: Path, timeout: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary",
               ":all:", SDIST, "-d", tmp]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise PhotosUnavailable(f"could not fetch {SDIST} for its photographs: {e}") from e
        sdist = Path(tmp) / SDIST_FILE
        if done.returncode or not sdist.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise PhotosUnavailable(f"could not fetch {SDIST} for its photographs: {last}")
        if hashlib.sha256(sdist.read_bytes()).hexdigest() != SDIST_SHA256:
            raise PhotosUnavailable(f"{SDIST_FILE} is not the expected file (SHA-256 differs)")
        with tarfile.open(sdist) as tar:
            for name, want in PHOTOS.items():
                member = tar.extractfile(MEMBER_DIR + name)
                data = member.read() if member else b""
                if hashlib.md5(data, usedforsecurity=False).hexdigest() != want:
                    raise PhotosUnavailable(f"{name} in {SDIST_FILE} is not the expected file")
                atomic_write_bytes(folder / name, data)




# -- pictures made from the photographs (the demo's and the tests' findings) ---------------
def load_rgb(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return ImageOps.exif_transpose(im).convert("RGB")


def no_face(img: Image.Image) -> Image.Image:
    """The lowest 40 % of a portrait: suit, desk or flag, no face."""
    return img.crop((0, round(img.height * 0.6), img.width, img.height))


def side_by_side(a: Image.Image, b: Image.Image, height: int = 900) -> Image.Image:
    """Two portraits next to each other, the same height: a picture of two people."""
    a = a.resize((round(a.width * height / a.height), height))
    b = b.resize((round(b.width * height / b.height), height))
    out = Image.new("RGB", (a.width + b.width, height), (235, 235, 235))
    out.paste(a, (0, 0))
    out.paste(b, (a.width, 0))
    return out


def shrunk(img: Image.Image, scale: float, canvas: int = 1024) -> Image.Image:
    """``img`` scaled by ``scale`` on a plain square canvas: the same face, small."""
    small = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                       Image.Resampling.LANCZOS)
    out = Image.new("RGB", (canvas, canvas), (128, 132, 140))
    out.paste(small, ((canvas - small.width) // 2, canvas // 8))
    return out


def variant(img: Image.Image, k: int) -> Image.Image:
    """The k-th retouch of a photograph (crop, mirror, light, colour, slight turn):
    the same person, a different file."""
    w, h = img.size
    c = [0.0, 0.04, 0.08, 0.02, 0.06][k % 5]
    out = img.crop((round(w * c), round(h * c / 2), round(w * (1 - c / 2)), round(h * (1 - c))))
    if k % 2:
        out = ImageOps.mirror(out)
    out = ImageEnhance.Brightness(out).enhance(0.85 + 0.06 * (k % 5))
    out = ImageEnhance.Color(out).enhance(0.7 + 0.15 * (k % 4))
    if k % 3 == 1:
        out = out.rotate(4 - 8 * (k % 2), resample=Image.Resampling.BICUBIC, expand=False,
                         fillcolor=(128, 128, 128))
    return out


if __name__ == "__main__":
    try:
        print(f"{len(fetch_photos())} photographs in {photos_dir()}")
    except PhotosUnavailable as e:
        sys.exit(str(e))


# The demo's RunPod stand-in: a checkpoint before this step still draws the base model's face
# (another person), one from it on the actor's; a version trained for fewer steps is a poor one.
LEARNED_STEPS = 600


def stranger_for(img: Image.Image) -> Image.Image | None:
    """A photograph of someone other than the person in ``img`` (the cached photograph whose
    face is farthest from it); None without the photographs or the faces extra."""
    from ..faces import analyse, available
    from ..faces.judge import distance

    folder = photos_dir()
    if not available() or not _have(folder):
        return None
    mine = analyse(img).main
    if mine is None:
        return None
    far = max(("obama.jpg", "biden.jpg"), key=lambda n: distance(
        _descriptor(folder / n), mine.descriptor))
    return load_rgb(folder / far)


_DESCRIPTORS: dict[Path, tuple[float, ...]] = {}


def _descriptor(path: Path) -> tuple[float, ...]:
    from ..faces import analyse

    if path not in _DESCRIPTORS:
        face = analyse(path).main
        _DESCRIPTORS[path] = face.descriptor if face else (0.0,) * 128
    return _DESCRIPTORS[path]
