"""Which files count as training images and captions, and which are fit to push.

Only ``{actor}_{i}.png`` spelt canonically is an image (``storage.layout.image_name_re``) and
only ``{actor}_{i}.txt`` its caption; anything else beside the images is reported, never synced
over one and never deleted.
"""

from __future__ import annotations

import os
import re
import stat
import struct
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from ..errors import UnsafePathError
from ..fsutil import TMP_MARK, open_regular

#: files of an actor's folder (and prefix) that are expected beside the images
KNOWN_FILES = frozenset({"request.json", "response.json"})
#: subfolders of an actor's S3 prefix that hold its other assets, not training images
KNOWN_REMOTE_FOLDERS = frozenset({"base_image", "poster_frame"})

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IEND_CHUNK = b"\x00\x00\x00\x00IEND\xaeB`\x82"
#: the IEND chunk is looked for this far from the end (a few tools append a little after it)
TAIL_BYTES = 4096
#: the largest image pushed: 64 MP (8000x8000) is far above any training size (SD1.5 to Flux
#: train at about 1 MP) and is where thumbs.py stops decoding, so whatever is pushed can be
#: shown; a 30000x30000 "PNG" of a few hundred bytes must not reach S3 and the trainer
MAX_PIXELS = 64_000_000
#: the longest caption synced or sent to a trainer (the job contract's limit, in characters)
MAX_CAPTION_CHARS = 1000
#: a caption file larger than this is not read at all (1000 characters of UTF-8 fit in 4000)
MAX_CAPTION_BYTES = 4 * MAX_CAPTION_CHARS


class Side(StrEnum):
    """Where a file was found: on this disk (``training_data/``) or in S3 (the actor's
    prefix). The value is what ``--json`` prints; ``label`` the words the pages use."""

    LOCAL = "local"
    S3 = "s3"

    @property
    def label(self) -> str:
        return "in S3" if self is Side.S3 else "local"


@dataclass(frozen=True)
class Unrecognised:
    """An entry beside the images that is not one: reported, never synced, never deleted."""

    where: Side
    name: str  # relative to training_data/ or to the actor's prefix
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"where": str(self.where), "name": self.name, "reason": self.reason}


def printable(name: str) -> str:
    """A file name safe to print or show: escaped if it holds control or undecodable bytes."""
    return name if name.isprintable() else ascii(name)


def not_regular_reason(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symlink, not followed"
    kind = ("folder" if stat.S_ISDIR(mode) else "fifo" if stat.S_ISFIFO(mode) else
            "socket" if stat.S_ISSOCK(mode) else "device" if stat.S_ISCHR(mode) or
            stat.S_ISBLK(mode) else "special file")
    return f"not a regular file ({kind})"


def is_known_local(actor: str, name: str) -> bool:
    """request.json, response.json, and actorbench's own temp and conflict files."""
    return (name in KNOWN_FILES or name.startswith(TMP_MARK)
            or _conflict_re(actor).match(name) is not None)


def name_problem(actor: str, name: str) -> str:
    """Why a regular file named ``name`` is not taken for a training image or caption."""
    m = re.fullmatch(rf"{re.escape(actor)}_(\d+)\.(png|txt)", name)  # any digits: say which
    try:
        index = int(m.group(1)) if m else None
    except ValueError:
        index = None
    if index is None or m is None:
        return "not a training image name"
    if m.group(2) == "txt":
        return f"not a canonical caption name (image {index}'s is {actor}_{index}.txt)"
    return f"not a canonical image name (image {index} is {actor}_{index}.png)"


def orphan_caption_reason(index: int) -> str:
    """Why a caption is reported and not synced: its image is on neither side."""
    return f"caption of image {index}, which is neither here nor in S3: not synced"


def _open_to_check(path: Path) -> tuple[BinaryIO | None, str]:
    """``path`` opened for a check (a regular file, never through a link), or why not."""
    try:
        return open_regular(path), ""
    except UnsafePathError as exc:
        return None, str(exc).removeprefix(f"{path.name}: ").rstrip(".")
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or type(exc).__name__})"


def caption_problem(path: Path) -> str:
    """Why ``path`` is not a caption fit to push ("" if it is): UTF-8 plain text of at most
    ``MAX_CAPTION_CHARS`` characters, no control characters but newlines and tabs."""
    fh, why = _open_to_check(path)
    if fh is None:
        return why
    with fh:
        raw = fh.read(MAX_CAPTION_BYTES + 1)
    return text_problem(raw)


def text_problem(raw: bytes) -> str:
    """Why ``raw`` is not a caption's text ("" if it is)."""
    if len(raw) > MAX_CAPTION_BYTES:
        return f"caption too long (over {MAX_CAPTION_BYTES:,} bytes)"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "caption is not UTF-8 text"
    if len(text) > MAX_CAPTION_CHARS:
        return f"caption too long ({len(text):,} characters, limit {MAX_CAPTION_CHARS:,})"
    if any(not ch.isprintable() and ch not in "\n\r\t" for ch in text):
        return "caption holds control characters"
    return ""


def remote_problem(actor: str, rest: str) -> str:
    """Why the key ``{actor prefix}{rest}`` is not a training image ("" if it is expected)."""
    folder, _, tail = rest.partition("/")
    if tail:
        return "" if folder in KNOWN_REMOTE_FOLDERS else "in a subfolder"
    return "" if rest in KNOWN_FILES else name_problem(actor, rest)


def image_problem(path: Path) -> str:
    """Why ``path`` is not a PNG fit to push ("" if it is): header, size and chunk checks,
    without decoding the pixels (Pillow's ``verify``)."""
    fh, why = _open_to_check(path)
    if fh is None:
        return why
    with fh:
        head = fh.read(24)
        if not head:
            return "empty file"
        if not head.startswith(PNG_SIGNATURE):
            return "not a PNG file"
        if len(head) < 24 or head[12:16] != b"IHDR":
            return "truncated or damaged PNG (no header)"
        width, height = struct.unpack(">II", head[16:24])
        if width * height > MAX_PIXELS:
            return f"too large: {width}x{height} pixels (limit {MAX_PIXELS:,})"
        size = os.fstat(fh.fileno()).st_size
        fh.seek(max(0, size - TAIL_BYTES))
        if IEND_CHUNK not in fh.read():
            return "truncated PNG (no end chunk)"
        fh.seek(0)
        return _pillow_problem(fh)


def _pillow_problem(fh: object) -> str:
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(fh, formats=["PNG"]) as img:  # type: ignore[arg-type]
                img.verify()  # every chunk read and CRC-checked; pixels not decoded
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return f"too large (over {Image.MAX_IMAGE_PIXELS:,} pixels)"
    except (UnidentifiedImageError, SyntaxError, ValueError, EOFError, OSError,
            struct.error) as exc:
        return f"truncated or damaged PNG ({exc})"
    return ""


def _conflict_re(actor: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(actor)}_(0|[1-9][0-9]{{0,4}})\.conflict-(local|remote)"
                      r"(-[1-9][0-9]{0,5})?\.(png|txt)\Z", re.ASCII)
