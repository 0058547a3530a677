"""Small helpers shared by tests: images with known bytes, tree snapshots."""

from __future__ import annotations

import hashlib
import io
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from actorbench.workbench import Workbench


def png(seed: int, size: int = 64) -> bytes:
    img = Image.new("RGB", (size, size), (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256))
    img.putpixel((seed % size, 0), (1, 2, 3))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def put_remote(wb: Workbench, actor: str, index: int, data: bytes) -> str:
    return wb.store.put_bytes(wb.layout.image_key(actor, index), data)


def write_local(wb: Workbench, actor: str, index: int, data: bytes) -> Path:
    p = wb.layout.image_path(actor, index)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def remote_bytes(wb: Workbench, actor: str, index: int) -> bytes:
    body, _ = wb.store.open_get(wb.layout.image_key(actor, index))
    try:
        return body.read()
    finally:
        body.close()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def statuses(wb: Workbench, actor: str) -> dict[int, str]:
    plan = wb.engine.plan([actor])[actor]
    return {c.index: c.status.value for c in plan.changes}


def partial_files(root: Path) -> list[Path]:
    """Anything that looks like a temp or partial file anywhere under root."""
    return [p for p in root.rglob("*") if ".abtmp-" in p.name or p.name.endswith(".part")]


_NONCE = itertools.count()


def click(view: Any, action: str, index: int | str) -> None:
    """What the Voila page's script sends when a tile's tick box or Preview button on the
    Training Data page ``view`` is clicked (``untick``: a box being unticked)."""
    view.images.pick.value = f"{action} {index} {next(_NONCE)}"


def ticked(view: Any) -> list[int]:
    """The images whose tick box the Training Data page ``view`` shows ticked."""
    return [t.change.index for t in view.images.shown if 'checked="checked"' in t.value]


def wait_until(check: Callable[[], bool], timeout: float = 30.0, every: float = 0.01) -> None:
    """Poll ``check`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not seen in time"
        time.sleep(every)
